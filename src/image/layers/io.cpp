#include "image/layers/io.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "common/hex.hpp"

namespace enclaver::image {
namespace {

constexpr std::size_t kChunk = 256 * 1024;

[[noreturn]] void fail_errno(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

}  // namespace

SharedFd open_shared(const std::filesystem::path& path) {
  auto fd = std::make_shared<Fd>(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd->valid()) fail_errno("cannot open " + path.string());
  return fd;
}

void pread_exact(int fd, std::uint64_t offset, std::span<std::uint8_t> out, const std::string& what) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("cannot read " + what);
    }
    if (n == 0)
      throw std::runtime_error("cannot read " + what + ": the file ends " + std::to_string(out.size() - done) +
                               " bytes early (was it changed while the build ran?)");
    done += static_cast<std::size_t>(n);
  }
}

std::string read_range(const FileRange& range, std::uint64_t limit) {
  if (range.size > limit)
    throw std::runtime_error(range.what + " is " + std::to_string(range.size) + " bytes, more than the " +
                             std::to_string(limit) + " a document of a saved image may have");
  std::string out(range.size, '\0');
  pread_exact(range.file->get(), range.offset,
              std::span(reinterpret_cast<std::uint8_t*>(out.data()), out.size()), range.what);
  return out;
}

void copy_range(const FileRange& range, ByteSink& sink) {
  std::vector<std::uint8_t> buf(kChunk);
  std::uint64_t done = 0;
  while (done < range.size) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), range.size - done));
    pread_exact(range.file->get(), range.offset + done, std::span(buf.data(), n), range.what);
    sink.write(std::span(buf.data(), n));
    done += n;
  }
}

Fd make_temp_file(const std::filesystem::path& dir) {
#ifdef O_TMPFILE
  Fd fd(::open(dir.c_str(), O_RDWR | O_TMPFILE | O_CLOEXEC, 0600));
  if (fd.valid()) return fd;
#endif
  std::string pattern = (dir / "enclaver-layer-XXXXXX").string();
  Fd tmp(::mkostemp(pattern.data(), O_CLOEXEC));
  if (!tmp.valid()) fail_errno("cannot create a temporary file in " + dir.string());
  ::unlink(pattern.c_str());
  return tmp;
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256: OpenSSL initialisation failed");
}

void Sha256::update(std::span<const std::uint8_t> bytes) {
  if (EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) != 1) throw std::runtime_error("SHA-256: update failed");
}

std::string Sha256::hex() {
  std::uint8_t md[32];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), md, &len) != 1 || len != 32) throw std::runtime_error("SHA-256: final failed");
  return to_hex(std::span<const std::uint8_t>(md, 32));
}

std::string sha256_hex(std::string_view bytes) {
  Sha256 h;
  h.update(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  return h.hex();
}

void FdSink::write(std::span<const std::uint8_t> bytes) {
  sha_.update(bytes);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("cannot write " + what_);
    }
    done += static_cast<std::size_t>(n);
  }
  written_ += bytes.size();
}

void HashingSink::write(std::span<const std::uint8_t> bytes) {
  sha_.update(bytes);
  next_.write(bytes);
  written_ += bytes.size();
}

}  // namespace enclaver::image
