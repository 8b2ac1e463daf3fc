#include "eif/eif_format.hpp"

#include <zlib.h>

#include <algorithm>

#include "common/text.hpp"

namespace enclaver::eif {

std::string section_type_name(std::uint16_t raw_type) {
  switch (raw_type) {
    case 0: return "invalid (type 0)";
    case 1: return "kernel";
    case 2: return "cmdline";
    case 3: return "ramdisk";
    case 4: return "signature";
    case 5: return "metadata";
    default: return "unknown type " + std::to_string(raw_type);
  }
}

std::string_view arch_name(Arch arch) { return arch == Arch::Aarch64 ? "aarch64" : "x86_64"; }

std::uint16_t load_be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

std::uint64_t load_be64(const std::uint8_t* p) {
  return (std::uint64_t{load_be32(p)} << 32) | std::uint64_t{load_be32(p + 4)};
}

void store_be16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

void store_be32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

void store_be64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (56 - 8 * i));
}

HeaderBytes encode_header(const Header& h) {
  HeaderBytes b{};
  std::copy(kMagic.begin(), kMagic.end(), b.begin() + field::kMagic);
  store_be16(&b[field::kVersion], h.version);
  store_be16(&b[field::kFlags], h.flags);
  store_be64(&b[field::kDefaultMemory], h.default_memory);
  store_be64(&b[field::kDefaultCpus], h.default_cpus);
  store_be16(&b[field::kReserved], h.reserved);
  store_be16(&b[field::kNumSections], h.num_sections);
  for (std::size_t i = 0; i < kMaxSections; ++i) {
    store_be64(&b[field::kSectionOffsets + 8 * i], h.section_offsets[i]);
    store_be64(&b[field::kSectionSizes + 8 * i], h.section_sizes[i]);
  }
  store_be32(&b[field::kUnused], h.unused);
  store_be32(&b[field::kCrc], h.crc32);
  return b;
}

Result<Header> decode_header(std::span<const std::uint8_t> b) {
  if (b.size() < kMagic.size() || !std::equal(kMagic.begin(), kMagic.end(), b.begin())) {
    std::string seen(reinterpret_cast<const char*>(b.data()), std::min<std::size_t>(b.size(), kMagic.size()));
    return make_error("offset 0 (magic): found " + text::quote(seen) +
                      ", expected \".eif\": this is not an Enclave Image File");
  }
  if (b.size() < kHeaderSize) {
    return make_error("offset 0: the file is " + std::to_string(b.size()) + " bytes long, shorter than the " +
                      std::to_string(kHeaderSize) + "-byte EIF header: it is truncated");
  }
  Header h;
  h.version = load_be16(&b[field::kVersion]);
  h.flags = load_be16(&b[field::kFlags]);
  h.default_memory = load_be64(&b[field::kDefaultMemory]);
  h.default_cpus = load_be64(&b[field::kDefaultCpus]);
  h.reserved = load_be16(&b[field::kReserved]);
  h.num_sections = load_be16(&b[field::kNumSections]);
  for (std::size_t i = 0; i < kMaxSections; ++i) {
    h.section_offsets[i] = load_be64(&b[field::kSectionOffsets + 8 * i]);
    h.section_sizes[i] = load_be64(&b[field::kSectionSizes + 8 * i]);
  }
  h.unused = load_be32(&b[field::kUnused]);
  h.crc32 = load_be32(&b[field::kCrc]);
  return h;
}

SectionHeaderBytes encode_section_header(const SectionHeader& h) {
  SectionHeaderBytes b{};
  store_be16(&b[0], h.type);
  store_be16(&b[2], h.flags);
  store_be64(&b[4], h.size);
  return b;
}

SectionHeader decode_section_header(std::span<const std::uint8_t, kSectionHeaderSize> b) {
  return SectionHeader{load_be16(&b[0]), load_be16(&b[2]), load_be64(&b[4])};
}

std::uint32_t crc_update(std::uint32_t crc, std::span<const std::uint8_t> data) {
  uLong c = crc;
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  while (n > 0) {
    // zlib takes a uInt length: feed at most 1 GiB at a time.
    const uInt step = static_cast<uInt>(std::min<std::size_t>(n, std::size_t{1} << 30));
    c = ::crc32(c, p, step);
    p += step;
    n -= step;
  }
  return static_cast<std::uint32_t>(c);
}

std::uint32_t crc_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t length_b) {
  static_assert(sizeof(z_off_t) >= 8, "crc_combine needs zlib with a 64-bit z_off_t");
  return static_cast<std::uint32_t>(::crc32_combine(crc_a, crc_b, static_cast<z_off_t>(length_b)));
}

std::uint32_t eif_crc(const HeaderBytes& header, std::uint32_t crc_after_header, std::uint64_t length_after_header) {
  const std::uint32_t head = crc_update(0, std::span(header).first(field::kCrc));
  return crc_combine(head, crc_after_header, length_after_header);
}

}  // namespace enclaver::eif
