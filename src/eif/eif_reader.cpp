#include "eif/eif_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "common/text.hpp"
#include "eif/metadata.hpp"

namespace enclaver::eif {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kChunkSize = 1 << 20;

// Thrown inside the reader, turned into an Error at the top.
struct ReadFailure {
  std::string message;
};

[[noreturn]] void bad(std::uint64_t offset, const std::string& what) {
  throw ReadFailure{"offset " + std::to_string(offset) + " " + what};
}

std::string hex16(std::uint16_t v) {
  char b[8];
  std::snprintf(b, sizeof b, "0x%04x", v);
  return b;
}

std::string hex32(std::uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08" PRIx32, v);
  return b;
}

std::string n(std::uint64_t v) { return std::to_string(v); }

std::string section_name(std::size_t index, std::uint16_t type) {
  return "section " + n(index) + " (" + section_type_name(type) + ")";
}

void read_exact(RandomAccessSource& src, std::uint64_t offset, std::span<std::uint8_t> out) {
  if (auto err = src.read_at(offset, out)) throw ReadFailure{*err};
}

std::uint64_t offsets_field(std::size_t i) { return field::kSectionOffsets + 8 * i; }
std::uint64_t sizes_field(std::size_t i) { return field::kSectionSizes + 8 * i; }

void check_header_fields(const Header& h, const ReadOptions& opt) {
  if (h.version != kCurrentVersion) {
    const bool old = h.version >= kOldestVersion && h.version < kCurrentVersion;
    if (!old) {
      bad(field::kVersion, "(version): version " + n(h.version) + " is not an EIF version this reader knows (2 to 4)");
    }
    if (!opt.accept_old_versions) {
      bad(field::kVersion, "(version): version " + n(h.version) +
                               " is an old EIF format; this reader expects version 4 (rebuild the EIF, or read it "
                               "with old versions accepted)");
    }
  }
  if ((h.flags & ~kKnownFlags) != 0) {
    bad(field::kFlags, "(flags): " + hex16(h.flags) + " has unknown bits " + hex16(h.flags & ~kKnownFlags) +
                           "; only bit 0 (aarch64) is defined, so this EIF needs a newer reader");
  }
  if (h.reserved != 0) {
    bad(field::kReserved, "(reserved): " + hex16(h.reserved) + " instead of 0; the header is corrupt or from an "
                                                                 "unknown format extension");
  }
  if (h.unused != 0) {
    bad(field::kUnused, "(unused): " + hex32(h.unused) + " instead of 0; the header is corrupt or from an unknown "
                                                            "format extension");
  }
  if (h.num_sections == 0) bad(field::kNumSections, "(num_sections): the EIF declares no sections");
  if (h.num_sections > kMaxSections) {
    bad(field::kNumSections, "(num_sections): " + n(h.num_sections) + " sections declared; at most " +
                                 n(kMaxSections) + " are allowed: the header is corrupt");
  }
}

// Section table: contiguous, inside the file, nothing after it.
void check_table(const Header& h, std::uint64_t file_size) {
  for (std::size_t i = h.num_sections; i < kMaxSections; ++i) {
    if (h.section_offsets[i] != 0) {
      bad(offsets_field(i), "(section_offsets[" + n(i) + "]): " + n(h.section_offsets[i]) +
                                " in an unused slot (num_sections is " + n(h.num_sections) + "); must be 0");
    }
    if (h.section_sizes[i] != 0) {
      bad(sizes_field(i), "(section_sizes[" + n(i) + "]): " + n(h.section_sizes[i]) +
                              " in an unused slot (num_sections is " + n(h.num_sections) + "); must be 0");
    }
  }
  std::uint64_t expected = kHeaderSize;
  for (std::size_t i = 0; i < h.num_sections; ++i) {
    const std::uint64_t off = h.section_offsets[i];
    if (off != expected) {
      if (i == 0) {
        bad(offsets_field(i), "(section_offsets[0]): the first section is at offset " + n(off) +
                                  "; it must follow the header, at " + n(kHeaderSize));
      }
      bad(offsets_field(i), "(section_offsets[" + n(i) + "]): section " + n(i) + " is at offset " + n(off) +
                                ", but section " + n(i - 1) + " ends at " + n(expected) + ": sections must follow " +
                                "each other with no " + (off > expected ? "gap" : "overlap"));
    }
    if (file_size < off || file_size - off < kSectionHeaderSize) {
      bad(off, "(section " + n(i) + " header): the file ends at " + n(file_size) + ", inside or before the " +
                   n(kSectionHeaderSize) + "-byte header of section " + n(i) + " of " + n(h.num_sections) +
                   ": the file is truncated");
    }
    const std::uint64_t data = off + kSectionHeaderSize;
    if (h.section_sizes[i] > file_size - data) {
      bad(data, "(section " + n(i) + " data): section " + n(i) + " declares " + n(h.section_sizes[i]) +
                    " bytes (section_sizes[" + n(i) + "]), but only " + n(file_size - data) +
                    " remain in the file: the file is truncated or the size is corrupt");
    }
    expected = data + h.section_sizes[i];
  }
  if (expected != file_size) {
    bad(expected, "(end of the last section): " + n(file_size - expected) +
                      " trailing bytes follow the last section; an EIF ends with its last section "
                      "(readers disagree on such bytes, so they are refused)");
  }
}

struct Counts {
  int kernel = 0, cmdline = 0, ramdisk = 0, signature = 0, metadata = 0;
};

// The section headers: types, flags, sizes, and the section rules.
std::vector<SectionLocation> check_sections(RandomAccessSource& src, const Header& h) {
  std::vector<SectionLocation> sections;
  Counts count;
  for (std::size_t i = 0; i < h.num_sections; ++i) {
    const std::uint64_t off = h.section_offsets[i];
    SectionHeaderBytes raw{};
    read_exact(src, off, raw);
    const SectionHeader sh = decode_section_header(raw);
    if (!is_known_section_type(sh.type)) {
      bad(off, "(section " + n(i) + " type): " + section_type_name(sh.type) +
                   "; known types are 1 kernel, 2 cmdline, 3 ramdisk, 4 signature, 5 metadata");
    }
    const auto type = static_cast<SectionType>(sh.type);
    if (h.version < min_version_for(type)) {
      bad(off, "(section " + n(i) + " type): a " + section_type_name(sh.type) + " section needs EIF version " +
                   n(min_version_for(type)) + " or later, but the header says version " + n(h.version));
    }
    if (sh.flags != 0) {
      bad(off + 2, "(" + section_name(i, sh.type) + " flags): " + hex16(sh.flags) + " instead of 0");
    }
    if (sh.size != h.section_sizes[i]) {
      bad(off + 4, "(" + section_name(i, sh.type) + " size): the section header says " + n(sh.size) +
                       " bytes, the header's section_sizes[" + n(i) + "] says " + n(h.section_sizes[i]) +
                       ": the file is corrupt");
    }
    auto duplicate = [&](int seen, const char* rule) {
      if (seen > 0) bad(off, "(" + section_name(i, sh.type) + "): " + rule);
    };
    switch (type) {
      case SectionType::Kernel:
        duplicate(count.kernel++, "a second kernel section; an EIF has exactly one");
        break;
      case SectionType::Cmdline:
        duplicate(count.cmdline++, "a second cmdline section; an EIF has exactly one");
        if (sh.size > kMaxCmdlineSize) {
          bad(off + 4, "(" + section_name(i, sh.type) + " size): " + n(sh.size) + " bytes; a kernel command line " +
                           "is at most " + n(kMaxCmdlineSize));
        }
        break;
      case SectionType::Ramdisk:
        if (count.kernel == 0) {
          bad(off, "(" + section_name(i, sh.type) + "): a ramdisk before the kernel section; every ramdisk must "
                                                     "follow the kernel");
        }
        ++count.ramdisk;
        break;
      case SectionType::Signature:
        duplicate(count.signature++, "a second signature section; an EIF has at most one");
        if (sh.size > kMaxSignatureSize) {
          bad(off + 4, "(" + section_name(i, sh.type) + " size): " + n(sh.size) + " bytes; a signature section " +
                           "is at most " + n(kMaxSignatureSize));
        }
        break;
      case SectionType::Metadata:
        duplicate(count.metadata++, "a second metadata section; an EIF has at most one");
        if (sh.size > kMaxMetadataSize) {
          bad(off + 4, "(" + section_name(i, sh.type) + " size): " + n(sh.size) + " bytes; metadata is at most " +
                           n(kMaxMetadataSize));
        }
        break;
      case SectionType::Invalid: break;  // refused above
    }
    sections.push_back({type, off, off + kSectionHeaderSize, sh.size});
  }
  const std::string among = " among the " + n(h.num_sections) + " sections";
  if (count.kernel == 0) bad(kHeaderSize, "(sections): no kernel section" + among + "; an EIF needs one");
  if (count.cmdline == 0) bad(kHeaderSize, "(sections): no cmdline section" + among + "; an EIF needs one");
  if (count.ramdisk == 0) bad(kHeaderSize, "(sections): no ramdisk section" + among + "; an EIF needs at least one");
  if (h.version >= 4 && count.metadata == 0) {
    bad(kHeaderSize, "(sections): no metadata section" + among + "; a version 4 EIF needs one");
  }
  return sections;
}

EifInfo read_impl(RandomAccessSource& src, const ReadOptions& opt) {
  EifInfo info;
  info.file_size = src.size();

  HeaderBytes header_bytes{};
  const std::size_t head = static_cast<std::size_t>(std::min<std::uint64_t>(info.file_size, kHeaderSize));
  read_exact(src, 0, std::span(header_bytes).first(head));
  auto decoded = decode_header(std::span(header_bytes).first(head));
  if (!decoded) throw ReadFailure{decoded.error().message};
  info.header = *decoded;
  const Header& h = info.header;
  info.arch = (h.flags & kFlagAarch64) ? Arch::Aarch64 : Arch::X86_64;

  check_header_fields(h, opt);
  check_table(h, info.file_size);
  info.sections = check_sections(src, h);

  // One sequential pass: CRC, PCRs, and the small sections.
  SectionHasher hasher(opt.parallel_hashing);
  std::vector<std::uint8_t> buffer;
  std::uint32_t crc = 0;  // of everything after the header
  for (const SectionLocation& s : info.sections) {
    SectionHeaderBytes raw{};
    read_exact(src, s.header_offset, raw);
    crc = crc_update(crc, raw);

    std::vector<std::uint8_t>* keep = nullptr;
    std::vector<std::uint8_t> small;
    if (s.type == SectionType::Cmdline || s.type == SectionType::Metadata || s.type == SectionType::Signature) {
      small.reserve(static_cast<std::size_t>(s.size));  // bounded by check_sections()
      keep = &small;
    }
    hasher.begin_section(s.type);
    std::uint64_t remaining = s.size;
    std::uint64_t at = s.data_offset;
    while (remaining > 0) {
      const std::size_t step = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, kChunkSize));
      if (buffer.size() < step) buffer.resize(step);
      const std::span<std::uint8_t> chunk = std::span(buffer).first(step);
      read_exact(src, at, chunk);
      hasher.update(chunk);
      if (keep) keep->insert(keep->end(), chunk.begin(), chunk.end());
      at += step;
      remaining -= step;
    }
    crc = crc_combine(crc, hasher.end_section(), s.size);

    switch (s.type) {
      case SectionType::Cmdline: info.cmdline.assign(small.begin(), small.end()); break;
      case SectionType::Metadata: info.metadata.emplace(small.begin(), small.end()); break;
      case SectionType::Signature: info.signature = std::move(small); break;
      default: break;
    }
  }

  info.computed_crc = eif_crc(header_bytes, crc, info.file_size - kHeaderSize);
  info.crc_ok = info.computed_crc == h.crc32;
  if (!info.crc_ok && opt.require_valid_crc) {
    bad(field::kCrc, "(eif_crc32): the header says " + hex32(h.crc32) + " but the contents give " +
                         hex32(info.computed_crc) + ": the file is corrupt (changed or damaged after it was built)");
  }

  info.measurements = hasher.measurements();
  if (info.signature && opt.certificate_der) {
    auto der = opt.certificate_der(*info.signature);
    if (!der) {
      const SectionLocation* sig = nullptr;
      for (const auto& s : info.sections) {
        if (s.type == SectionType::Signature) sig = &s;
      }
      bad(sig ? sig->data_offset : 0, "(signature section): " + der.error().message);
    }
    info.measurements.pcr8 = pcr_of(*der);
  }
  return info;
}

}  // namespace

// --- sources ------------------------------------------------------------------

std::optional<std::string> MemorySource::read_at(std::uint64_t offset, std::span<std::uint8_t> out) {
  if (offset > bytes_.size() || out.size() > bytes_.size() - offset) {
    return "offset " + n(offset) + ": reading " + n(out.size()) + " bytes runs past the end of the data (" +
           n(bytes_.size()) + " bytes)";
  }
  std::copy_n(bytes_.begin() + static_cast<std::ptrdiff_t>(offset), out.size(), out.begin());
  return std::nullopt;
}

Result<std::unique_ptr<FileSource>> FileSource::open(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error("cannot open " + text::quote(path.string(), 200) + ": " + std::strerror(errno));
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return make_error("cannot stat " + text::quote(path.string(), 200) + ": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(text::quote(path.string(), 200) + " is not a regular file; give the path of an .eif file");
  }
  return std::unique_ptr<FileSource>(new FileSource(fd, static_cast<std::uint64_t>(st.st_size)));
}

FileSource::~FileSource() { ::close(fd_); }

std::optional<std::string> FileSource::read_at(std::uint64_t offset, std::span<std::uint8_t> out) {
  while (!out.empty()) {
    const ssize_t got = ::pread(fd_, out.data(), out.size(), static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      return "offset " + n(offset) + ": read error: " + std::strerror(errno);
    }
    if (got == 0) {
      return "offset " + n(offset) + ": the file ended before its size when opened (" + n(size_) +
             " bytes); did it change while being read?";
    }
    out = out.subspan(static_cast<std::size_t>(got));
    offset += static_cast<std::uint64_t>(got);
  }
  return std::nullopt;
}

// --- read_eif -----------------------------------------------------------------

const SectionLocation& EifInfo::kernel() const {
  for (const auto& s : sections) {
    if (s.type == SectionType::Kernel) return s;
  }
  throw std::logic_error("EifInfo without a kernel section");
}

std::vector<SectionLocation> EifInfo::ramdisks() const {
  std::vector<SectionLocation> out;
  for (const auto& s : sections) {
    if (s.type == SectionType::Ramdisk) out.push_back(s);
  }
  return out;
}

Result<EifInfo> read_eif(RandomAccessSource& source, const ReadOptions& options) {
  try {
    return read_impl(source, options);
  } catch (const ReadFailure& f) {
    return make_error(f.message);
  } catch (const std::exception& e) {
    return make_error(std::string("cannot read the EIF: ") + e.what());
  }
}

Result<EifInfo> read_eif_file(const fs::path& path, const ReadOptions& options) {
  auto source = FileSource::open(path);
  if (!source) return source.error();
  auto info = read_eif(**source, options);
  if (!info) return make_error(text::quote(path.string(), 200) + ": " + info.error().message);
  return info;
}

// --- describe -----------------------------------------------------------------

nlohmann::ordered_json measurements_json(const Measurements& m) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["HashAlgorithm"] = std::string(kHashAlgorithm);
  j["PCR0"] = to_hex(m.pcr0);
  j["PCR1"] = to_hex(m.pcr1);
  j["PCR2"] = to_hex(m.pcr2);
  if (m.pcr8) j["PCR8"] = to_hex(*m.pcr8);
  return j;
}

Result<nlohmann::ordered_json> describe_eif(const EifInfo& info, const SignatureDescription& signature) {
  std::optional<Metadata> metadata;
  if (info.metadata) {
    auto parsed = parse_metadata(*info.metadata);
    if (!parsed) return parsed.error();
    metadata = std::move(*parsed);
  }
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["EifVersion"] = info.header.version;
  j["Measurements"] = measurements_json(info.measurements);
  j["IsSigned"] = info.is_signed();
  if (signature.signing_certificate) j["SigningCertificate"] = *signature.signing_certificate;
  j["CheckCRC"] = info.crc_ok;
  if (signature.signature_check) j["SignatureCheck"] = *signature.signature_check;
  if (metadata) {
    j["ImageName"] = metadata->image_name;
    j["ImageVersion"] = metadata->image_version;
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    m["BuildTime"] = metadata->build_time;
    m["BuildTool"] = metadata->build_tool;
    m["BuildToolVersion"] = metadata->build_tool_version;
    m["OperatingSystem"] = metadata->operating_system;
    m["KernelVersion"] = metadata->kernel_version;
    m["DockerInfo"] = metadata->docker_info;
    // nitro-cli flattens CustomMetadata into Metadata; our own keys win a
    // clash (so custom metadata cannot pose as BuildTool), and a value that
    // is not an object, which nitro-cli cannot print, stays under its name.
    if (metadata->custom_metadata.is_object()) {
      for (const auto& [key, value] : metadata->custom_metadata.items()) {
        if (!m.contains(key)) m[key] = value;
      }
    } else if (!metadata->custom_metadata.is_null()) {
      m["CustomMetadata"] = metadata->custom_metadata;
    }
    j["Metadata"] = std::move(m);
  }
  return j;
}

}  // namespace enclaver::eif
