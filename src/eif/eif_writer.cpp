#include "eif/eif_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "common/text.hpp"

namespace enclaver::eif {

namespace fs = std::filesystem;

namespace {

// Data moves through the writer in chunks of this size: the only buffers.
constexpr std::size_t kChunkSize = 1 << 20;

std::string errno_text(int err) { return std::strerror(err); }

std::string path_text(const fs::path& p) { return text::quote(p.string(), 200); }

[[noreturn]] void fail(std::string message) { throw std::runtime_error(std::move(message)); }

constexpr bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// The ByteSink a section producer writes into: buffers to kChunkSize, then
// hashes each chunk (SectionHasher) while writing it to the output.
class SectionDataSink final : public ByteSink {
 public:
  SectionDataSink(EifOutput& out, SectionHasher& hasher, std::vector<std::uint8_t>& buffer)
      : out_(out), hasher_(hasher), buffer_(buffer) {
    buffer_.clear();
  }

  void write(std::span<const std::uint8_t> bytes) override {
    while (!bytes.empty()) {
      if (buffer_.empty() && bytes.size() >= kChunkSize) {
        emit(bytes.first(kChunkSize));
        bytes = bytes.subspan(kChunkSize);
        continue;
      }
      const std::size_t n = std::min(kChunkSize - buffer_.size(), bytes.size());
      buffer_.insert(buffer_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
      bytes = bytes.subspan(n);
      if (buffer_.size() == kChunkSize) flush();
    }
  }

  void flush() {
    if (buffer_.empty()) return;
    emit(buffer_);
    buffer_.clear();
  }

  std::uint64_t size() const { return size_; }

 private:
  void emit(std::span<const std::uint8_t> chunk) {
    hasher_.update(chunk, [&] { out_.write(chunk); });
    size_ += chunk.size();
  }

  EifOutput& out_;
  SectionHasher& hasher_;
  std::vector<std::uint8_t>& buffer_;
  std::uint64_t size_ = 0;
};

// Writes one section after another, keeping the CRC of everything after the
// header and the table of offsets and sizes.
class SectionWriter {
 public:
  SectionWriter(EifOutput& out, SectionHasher& hasher) : out_(out), hasher_(hasher) { buffer_.reserve(kChunkSize); }

  // Writes a section whose data `produce` puts into the sink; returns its size.
  template <class Produce>
  std::uint64_t write(SectionType type, Produce&& produce) {
    if (sections_.size() >= kMaxSections) {
      fail("cannot write " + section_type_name(type) + ": an EIF holds at most " + std::to_string(kMaxSections) +
           " sections");
    }
    const std::uint64_t header_offset = position_;
    const SectionHeaderBytes placeholder{};
    out_.write(placeholder);

    hasher_.begin_section(type);
    SectionDataSink sink(out_, hasher_, buffer_);
    produce(static_cast<ByteSink&>(sink));
    sink.flush();
    const std::uint32_t data_crc = hasher_.end_section();
    const std::uint64_t size = sink.size();

    const SectionHeaderBytes header = encode_section_header({static_cast<std::uint16_t>(type), 0, size});
    out_.write_at(header_offset, header);

    const std::uint32_t section_crc = crc_combine(crc_update(0, header), data_crc, size);
    crc_ = crc_combine(crc_, section_crc, kSectionHeaderSize + size);
    position_ += kSectionHeaderSize + size;
    sections_.push_back({type, header_offset, header_offset + kSectionHeaderSize, size});
    return size;
  }

  std::uint64_t write_bytes(SectionType type, std::span<const std::uint8_t> bytes) {
    return write(type, [bytes](ByteSink& sink) { sink.write(bytes); });
  }

  const std::vector<SectionLocation>& sections() const { return sections_; }
  std::uint32_t crc_after_header() const { return crc_; }
  std::uint64_t position() const { return position_; }

 private:
  EifOutput& out_;
  SectionHasher& hasher_;
  std::vector<std::uint8_t> buffer_;
  std::vector<SectionLocation> sections_;
  std::uint64_t position_ = kHeaderSize;
  std::uint32_t crc_ = 0;  // CRC of bytes [kHeaderSize, position_)
};

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void check_cmdline(std::string_view cmdline) {
  if (cmdline.size() > kMaxCmdlineSize) {
    fail("the kernel command line is " + std::to_string(cmdline.size()) + " bytes long; at most " +
         std::to_string(kMaxCmdlineSize) + " are allowed");
  }
  if (auto nul = cmdline.find('\0'); nul != std::string_view::npos) {
    fail("the kernel command line contains a NUL byte at offset " + std::to_string(nul) +
         "; remove it (the kernel would stop reading there)");
  }
  if (!cmdline.empty() && (is_ascii_space(cmdline.front()) || is_ascii_space(cmdline.back()))) {
    fail("the kernel command line " + text::quote(cmdline) +
         " starts or ends with whitespace; trim it as nitro-cli does (read_cmdline_file() does), "
         "otherwise PCR0 and PCR1 differ from nitro-cli's");
  }
}

void check_contents(const EifContents& c) {
  check_cmdline(c.cmdline);
  if (c.metadata.empty()) {
    fail("the EIF metadata is empty; a version 4 EIF needs the metadata JSON (build it with encode_metadata())");
  }
  if (c.metadata.size() > kMaxMetadataSize) {
    fail("the EIF metadata is " + std::to_string(c.metadata.size()) + " bytes long; at most " +
         std::to_string(kMaxMetadataSize) + " are allowed");
  }
  if (c.ramdisks.empty()) {
    fail("an EIF needs at least one ramdisk (the bootstrap ramdisk holding init)");
  }
  const std::size_t sections = 3 + c.ramdisks.size() + (c.signature ? 1 : 0);
  if (sections > kMaxSections) {
    fail("an EIF holds at most " + std::to_string(kMaxSections) + " sections; " + std::to_string(c.ramdisks.size()) +
         " ramdisks make " + std::to_string(sections) + "; merge some ramdisks");
  }
}

// Runs a section's producer; the errors of caller-supplied producers get the
// section's name in front.
void run_producer(const SectionSource& source, ByteSink& sink) {
  if (!source.names_itself_in_errors()) {
    try {
      source.produce(sink);
    } catch (const std::exception& e) {
      fail("cannot write " + source.what() + ": " + e.what());
    }
    return;
  }
  source.produce(sink);
}

// Output to a file descriptor; errors name the file.
class FdOutput final : public EifOutput {
 public:
  FdOutput(int fd, fs::path path) : fd_(fd), path_(std::move(path)) {}

  void write(std::span<const std::uint8_t> bytes) override {
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        fail_write(errno);
      }
      bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
  }

  void write_at(std::uint64_t offset, std::span<const std::uint8_t> bytes) override {
    while (!bytes.empty()) {
      const ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        fail_write(errno);
      }
      bytes = bytes.subspan(static_cast<std::size_t>(n));
      offset += static_cast<std::uint64_t>(n);
    }
  }

 private:
  [[noreturn]] void fail_write(int err) {
    fail("cannot write " + path_text(path_) + ": " + errno_text(err) +
         (err == ENOSPC || err == EDQUOT ? "; free some disk space" : ""));
  }
  int fd_;
  fs::path path_;
};

// A temporary file next to the target; removed unless committed.
class TempFile {
 public:
  TempFile(const fs::path& dir, const fs::path& name) {
    std::random_device random;
    for (int attempt = 0; attempt < 100; ++attempt) {
      const std::uint64_t r = (std::uint64_t{random()} << 32) ^ random();
      char suffix[17];
      std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(r));
      std::string leaf = ".";  // built step by step: g++ 12 warns (-Wrestrict) on "." + string
      leaf += name.string();
      leaf += ".tmp-";
      leaf += suffix;
      path_ = dir / leaf;
      fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ >= 0) return;
      if (errno != EEXIST) {
        fail("cannot create a temporary file in " + path_text(dir) + ": " + errno_text(errno) +
             "; check that the directory exists and is writable");
      }
    }
    fail("cannot create a temporary file in " + path_text(dir) + ": too many name collisions");
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  int fd() const { return fd_; }
  const fs::path& path() const { return path_; }

  void sync_and_close() {
    if (::fsync(fd_) != 0) fail("cannot write " + path_text(path_) + ": fsync: " + errno_text(errno));
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) fail("cannot write " + path_text(path_) + ": close: " + errno_text(errno));
  }

  void rename_to(const fs::path& target) {
    if (::rename(path_.c_str(), target.c_str()) != 0) {
      fail("cannot write " + path_text(target) + ": " + errno_text(errno));
    }
    committed_ = true;
  }

 private:
  fs::path path_;
  int fd_ = -1;
  bool committed_ = false;
};

void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("cannot open directory " + path_text(dir) + " to sync it: " + errno_text(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  // Some file systems cannot sync a directory (EINVAL); the rename stands.
  if (rc != 0 && err != EINVAL && err != EROFS) {
    fail("wrote the EIF but cannot sync directory " + path_text(dir) + ": " + errno_text(err));
  }
}

}  // namespace

// --- SectionSource ------------------------------------------------------------

SectionSource SectionSource::from_file(fs::path path, std::string what) {
  std::string label = what;
  return SectionSource(
      [path = std::move(path), label = std::move(label)](ByteSink& sink) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) fail("cannot read " + label + " " + path_text(path) + ": " + errno_text(errno));
        struct Closer {
          int fd;
          ~Closer() { ::close(fd); }
        } closer{fd};
        std::vector<std::uint8_t> buffer(kChunkSize);
        for (;;) {
          const ssize_t n = ::read(fd, buffer.data(), buffer.size());
          if (n < 0) {
            if (errno == EINTR) continue;
            fail("cannot read " + label + " " + path_text(path) + ": " + errno_text(errno));
          }
          if (n == 0) break;
          sink.write(std::span(buffer).first(static_cast<std::size_t>(n)));
        }
      },
      std::move(what));
}

SectionSource SectionSource::from_bytes(std::vector<std::uint8_t> bytes, std::string what) {
  return SectionSource([bytes = std::move(bytes)](ByteSink& sink) { sink.write(bytes); }, std::move(what));
}

SectionSource SectionSource::from_producer(Producer producer, std::string what) {
  SectionSource source(std::move(producer), std::move(what));
  source.names_itself_ = false;
  return source;
}

// --- MemoryOutput -------------------------------------------------------------

void MemoryOutput::write(std::span<const std::uint8_t> bytes) { data_.insert(data_.end(), bytes.begin(), bytes.end()); }

void MemoryOutput::write_at(std::uint64_t offset, std::span<const std::uint8_t> bytes) {
  if (offset > data_.size() || bytes.size() > data_.size() - offset) {
    throw std::logic_error("MemoryOutput::write_at past the end");
  }
  std::copy(bytes.begin(), bytes.end(), data_.begin() + static_cast<std::ptrdiff_t>(offset));
}

// --- write_eif ----------------------------------------------------------------

WriteSummary write_eif(EifOutput& out, const EifContents& c) {
  check_contents(c);

  SectionHasher hasher(c.parallel_hashing);
  const HeaderBytes placeholder{};
  out.write(placeholder);
  SectionWriter sections(out, hasher);

  const std::uint64_t kernel_size =
      sections.write(SectionType::Kernel, [&](ByteSink& sink) { run_producer(c.kernel, sink); });
  if (kernel_size == 0) fail("the " + c.kernel.what() + " is empty; give a kernel image (bzImage or Image)");
  sections.write_bytes(SectionType::Cmdline, as_bytes(c.cmdline));
  sections.write_bytes(SectionType::Metadata, as_bytes(c.metadata));
  for (const SectionSource& ramdisk : c.ramdisks) {
    sections.write(SectionType::Ramdisk, [&](ByteSink& sink) { run_producer(ramdisk, sink); });
  }

  WriteSummary summary;
  summary.measurements = hasher.measurements();
  if (c.signature) {
    SignatureSection signature = c.signature(summary.measurements);
    if (signature.bytes.empty() || signature.bytes.size() > kMaxSignatureSize) {
      fail("the signature section is " + std::to_string(signature.bytes.size()) + " bytes long; it must hold 1 to " +
           std::to_string(kMaxSignatureSize) + " bytes");
    }
    sections.write_bytes(SectionType::Signature, signature.bytes);
    if (!signature.certificate_der.empty()) summary.measurements.pcr8 = pcr_of(signature.certificate_der);
  }

  Header& h = summary.header;
  h.version = kCurrentVersion;
  h.flags = arch_flags(c.arch);
  h.default_memory = c.default_memory;
  h.default_cpus = c.default_cpus;
  h.num_sections = static_cast<std::uint16_t>(sections.sections().size());
  for (std::size_t i = 0; i < sections.sections().size(); ++i) {
    h.section_offsets[i] = sections.sections()[i].header_offset;
    h.section_sizes[i] = sections.sections()[i].size;
  }
  HeaderBytes bytes = encode_header(h);
  h.crc32 = eif_crc(bytes, sections.crc_after_header(), sections.position() - kHeaderSize);
  store_be32(&bytes[field::kCrc], h.crc32);
  out.write_at(0, bytes);

  summary.sections = sections.sections();
  summary.file_size = sections.position();
  return summary;
}

WriteSummary write_eif_file(const fs::path& target, const EifContents& contents) {
  if (!target.has_filename()) fail("the EIF output path " + path_text(target) + " does not name a file");
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";

  TempFile temp(dir, target.filename());
  FdOutput out(temp.fd(), temp.path());
  WriteSummary summary = write_eif(out, contents);
  temp.sync_and_close();
  temp.rename_to(target);
  sync_directory(dir);
  return summary;
}

Result<std::string> read_cmdline_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error("cannot read kernel command line " + path_text(path) + ": " + errno_text(errno));
  std::string data;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return make_error("cannot read kernel command line " + path_text(path) + ": " + errno_text(err));
    }
    if (n == 0) break;
    data.append(buffer, static_cast<std::size_t>(n));
    if (data.size() > kMaxCmdlineSize) {
      ::close(fd);
      return make_error("kernel command line " + path_text(path) + " is larger than " +
                        std::to_string(kMaxCmdlineSize) + " bytes; is it the right file?");
    }
  }
  ::close(fd);
  std::size_t begin = 0;
  std::size_t end = data.size();
  while (begin < end && is_ascii_space(data[begin])) ++begin;
  while (end > begin && is_ascii_space(data[end - 1])) --end;
  data = data.substr(begin, end - begin);
  if (auto nul = data.find('\0'); nul != std::string::npos) {
    return make_error("kernel command line " + path_text(path) + " contains a NUL byte; it must be plain text");
  }
  return data;
}

}  // namespace enclaver::eif
