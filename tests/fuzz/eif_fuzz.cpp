// libFuzzer target for the EIF reader: arbitrary bytes as an EIF file.
// Beyond "does not crash" (run under ASan/UBSan), it checks what the rest of
// the system relies on when a read succeeds:
//  - the sections tile the file exactly: header, then 12 + size per section,
//    nothing left over; the header re-encodes to the file's first 548 bytes;
//  - the rules hold: one kernel, one cmdline, >= 1 ramdisk, <= 1 signature;
//  - PCR0/1/2 equal a direct computation over the section data in file order,
//    and crc_ok says whether the stored CRC equals zlib's over the file;
//  - a strict read (CRC required) succeeds exactly when the lenient read does
//    with crc_ok, and fails otherwise with an "offset N" message;
//  - a file in the writer's layout is rewritten by the writer byte for byte.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "eif/eif_format.hpp"
#include "eif/eif_reader.hpp"
#include "eif/eif_writer.hpp"
#include "eif/pcr.hpp"

namespace {

using namespace enclaver::eif;

void require(bool ok) {
  if (!ok) std::abort();
}

std::vector<std::uint8_t> slice(std::span<const std::uint8_t> file, const SectionLocation& s) {
  const auto begin = file.begin() + static_cast<std::ptrdiff_t>(s.data_offset);
  return {begin, begin + static_cast<std::ptrdiff_t>(s.size)};
}

void check_success(std::span<const std::uint8_t> file, const EifInfo& info) {
  require(info.file_size == file.size());
  const HeaderBytes encoded = encode_header(info.header);
  require(std::equal(encoded.begin(), encoded.end(), file.begin()));
  require(info.sections.size() == info.header.num_sections);

  std::uint64_t at = kHeaderSize;
  int kernels = 0, cmdlines = 0, ramdisks = 0, signatures = 0;
  std::vector<std::uint8_t> m0, m1, m2;
  for (const auto& s : info.sections) {
    require(s.header_offset == at && s.data_offset == at + kSectionHeaderSize);
    at = s.data_offset + s.size;
    require(at <= file.size());
    const auto data = slice(file, s);
    switch (s.type) {
      case SectionType::Kernel:
        ++kernels;
        require(ramdisks == 0);
        [[fallthrough]];
      case SectionType::Cmdline:
        if (s.type == SectionType::Cmdline) {
          ++cmdlines;
          require(std::string(data.begin(), data.end()) == info.cmdline);
        }
        m0.insert(m0.end(), data.begin(), data.end());
        m1.insert(m1.end(), data.begin(), data.end());
        break;
      case SectionType::Ramdisk:
        m0.insert(m0.end(), data.begin(), data.end());
        if (ramdisks == 0) {
          m1.insert(m1.end(), data.begin(), data.end());
        } else {
          m2.insert(m2.end(), data.begin(), data.end());
        }
        ++ramdisks;
        break;
      case SectionType::Signature:
        ++signatures;
        require(info.signature && *info.signature == data);
        break;
      case SectionType::Metadata:
        require(info.metadata && *info.metadata == std::string(data.begin(), data.end()));
        break;
      case SectionType::Invalid: require(false);
    }
  }
  require(at == file.size());
  require(kernels == 1 && cmdlines == 1 && ramdisks >= 1 && signatures <= 1);
  require(info.measurements.pcr0 == pcr_of(m0));
  require(info.measurements.pcr1 == pcr_of(m1));
  require(info.measurements.pcr2 == pcr_of(m2));

  std::vector<std::uint8_t> cut(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(field::kCrc));
  cut.insert(cut.end(), file.begin() + static_cast<std::ptrdiff_t>(kHeaderSize), file.end());
  require(info.computed_crc == crc_update(0, cut));
  require(info.crc_ok == (info.computed_crc == info.header.crc32));
  (void)describe_eif(info);
}

// If the file has the writer's layout, the writer must give it back exactly.
void check_rewrite(std::span<const std::uint8_t> file, const EifInfo& info) {
  if (!info.crc_ok || info.header.version != kCurrentVersion) return;
  const auto& s = info.sections;
  std::size_t i = 0;
  auto is = [&](SectionType t) { return i < s.size() && s[i].type == t; };
  if (!is(SectionType::Kernel) || s[i++].size == 0) return;
  if (!is(SectionType::Cmdline)) return;
  ++i;
  if (!is(SectionType::Metadata) || s[i++].size == 0) return;
  EifContents c;
  c.kernel = SectionSource::from_bytes(slice(file, s[0]), "kernel");
  c.cmdline = info.cmdline;
  c.metadata = *info.metadata;
  while (is(SectionType::Ramdisk)) c.ramdisks.push_back(SectionSource::from_bytes(slice(file, s[i++]), "ramdisk"));
  if (is(SectionType::Signature)) {
    const auto sig = slice(file, s[i++]);
    if (sig.empty()) return;
    c.signature = [sig](const Measurements&) { return SignatureSection{sig, {}}; };
  }
  if (i != s.size() || c.ramdisks.empty()) return;
  c.arch = (info.header.flags & kFlagAarch64) ? Arch::Aarch64 : Arch::X86_64;
  c.default_memory = info.header.default_memory;
  c.default_cpus = info.header.default_cpus;
  c.parallel_hashing = false;
  MemoryOutput out;
  try {
    write_eif(out, c);
  } catch (const std::runtime_error&) {
    return;  // e.g. a cmdline with whitespace at its ends, which the writer refuses
  }
  require(out.data().size() == file.size() && std::equal(file.begin(), file.end(), out.data().begin()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> file(data, size);
  MemorySource source(file);

  ReadOptions lenient;
  lenient.require_valid_crc = false;
  lenient.accept_old_versions = true;
  lenient.parallel_hashing = false;  // libFuzzer runs are short; keep them single-threaded
  auto relaxed = read_eif(source, lenient);

  ReadOptions strict;
  strict.parallel_hashing = false;
  auto checked = read_eif(source, strict);

  if (relaxed) {
    check_success(file, *relaxed);
    check_rewrite(file, *relaxed);
    const bool strict_should_pass = relaxed->crc_ok && relaxed->header.version == kCurrentVersion;
    require(checked.ok() == strict_should_pass);
    if (checked) require(checked->measurements == relaxed->measurements);
  } else {
    require(!checked);
    require(relaxed.error().message.rfind("offset ", 0) == 0);
  }
  if (!checked) require(checked.error().message.rfind("offset ", 0) == 0);
  return 0;
}
