// The EIF container format, version 4 (../shared/spec/eif.md §1, §2): the
// constants, the 548-byte file header and the 12-byte section header, their
// big-endian encodings, and the CRC-32 helpers. Sans-IO: nothing here reads or
// writes files; eif_writer and eif_reader do, and check the rules of §1 (one
// kernel, contiguity, ...).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace enclaver::eif {

inline constexpr std::array<std::uint8_t, 4> kMagic{0x2e, 0x65, 0x69, 0x66};  // ".eif"
inline constexpr std::uint16_t kCurrentVersion = 4;  // the only version we write
inline constexpr std::uint16_t kOldestVersion = 2;   // oldest the reader accepts (read-only, on request)
inline constexpr std::size_t kHeaderSize = 548;
inline constexpr std::size_t kSectionHeaderSize = 12;
inline constexpr std::size_t kMaxSections = 32;

// Byte offsets of the header fields.
namespace field {
inline constexpr std::size_t kMagic = 0;
inline constexpr std::size_t kVersion = 4;
inline constexpr std::size_t kFlags = 6;
inline constexpr std::size_t kDefaultMemory = 8;
inline constexpr std::size_t kDefaultCpus = 16;
inline constexpr std::size_t kReserved = 24;
inline constexpr std::size_t kNumSections = 26;
inline constexpr std::size_t kSectionOffsets = 28;   // 32 x u64
inline constexpr std::size_t kSectionSizes = 284;    // 32 x u64
inline constexpr std::size_t kUnused = 540;
inline constexpr std::size_t kCrc = 544;
}  // namespace field

// Header flags: bit 0 is the architecture; every other bit is unknown and
// refused by the reader (eif.md §10.1, §10.8).
inline constexpr std::uint16_t kFlagAarch64 = 0x0001;
inline constexpr std::uint16_t kKnownFlags = kFlagAarch64;

// What nitro-cli writes; ignored by every consumer.
inline constexpr std::uint64_t kDefaultMemory = 1ULL << 30;
inline constexpr std::uint64_t kDefaultCpus = 2;

// Upper bounds for the sections that are held in memory. The signature bound
// is the Rust crate's; the others are ours (a kernel command line is at most a
// few KiB, metadata holds `docker image inspect` output) and keep a hostile
// file from making the reader allocate much. The writer refuses to exceed them.
inline constexpr std::uint64_t kMaxCmdlineSize = 64 * 1024;
inline constexpr std::uint64_t kMaxMetadataSize = 16 * 1024 * 1024;
inline constexpr std::uint64_t kMaxSignatureSize = 32 * 1024;

enum class SectionType : std::uint16_t {
  Invalid = 0,
  Kernel = 1,
  Cmdline = 2,
  Ramdisk = 3,
  Signature = 4,  // version 3 and later
  Metadata = 5,   // version 4 and later
};

// "kernel", "cmdline", "ramdisk", "signature", "metadata", "invalid", or
// "unknown type N".
std::string section_type_name(std::uint16_t raw_type);
inline std::string section_type_name(SectionType type) { return section_type_name(static_cast<std::uint16_t>(type)); }

// 1..5.
constexpr bool is_known_section_type(std::uint16_t raw_type) { return raw_type >= 1 && raw_type <= 5; }

// The oldest header version in which a section type may appear.
constexpr std::uint16_t min_version_for(SectionType type) {
  switch (type) {
    case SectionType::Signature: return 3;
    case SectionType::Metadata: return 4;
    default: return 2;
  }
}

enum class Arch { X86_64, Aarch64 };
std::string_view arch_name(Arch arch);  // "x86_64" / "aarch64"
constexpr std::uint16_t arch_flags(Arch arch) { return arch == Arch::Aarch64 ? kFlagAarch64 : 0; }

// The file header, field by field (the magic is implied).
struct Header {
  std::uint16_t version = kCurrentVersion;
  std::uint16_t flags = 0;
  std::uint64_t default_memory = kDefaultMemory;
  std::uint64_t default_cpus = kDefaultCpus;
  std::uint16_t reserved = 0;
  std::uint16_t num_sections = 0;
  std::array<std::uint64_t, kMaxSections> section_offsets{};  // file offset of each section header
  std::array<std::uint64_t, kMaxSections> section_sizes{};    // data size, section header excluded
  std::uint32_t unused = 0;
  std::uint32_t crc32 = 0;
  friend bool operator==(const Header&, const Header&) = default;
};

using HeaderBytes = std::array<std::uint8_t, kHeaderSize>;
HeaderBytes encode_header(const Header& header);

// Decodes the fields of `bytes` (at least kHeaderSize bytes; the rest is
// ignored). Checks the magic and the length only: the version, flags and
// section table are the reader's to judge.
Result<Header> decode_header(std::span<const std::uint8_t> bytes);

struct SectionHeader {
  std::uint16_t type = 0;  // raw, so that unknown types can be reported
  std::uint16_t flags = 0;
  std::uint64_t size = 0;
  friend bool operator==(const SectionHeader&, const SectionHeader&) = default;
};

// Where a section is in a file.
struct SectionLocation {
  SectionType type = SectionType::Invalid;
  std::uint64_t header_offset = 0;  // the 12-byte section header
  std::uint64_t data_offset = 0;    // header_offset + 12
  std::uint64_t size = 0;           // data size
  friend bool operator==(const SectionLocation&, const SectionLocation&) = default;
};

using SectionHeaderBytes = std::array<std::uint8_t, kSectionHeaderSize>;
SectionHeaderBytes encode_section_header(const SectionHeader& header);
SectionHeader decode_section_header(std::span<const std::uint8_t, kSectionHeaderSize> bytes);

// Big-endian integer helpers (exposed for tests and the signature layer).
std::uint16_t load_be16(const std::uint8_t* p);
std::uint32_t load_be32(const std::uint8_t* p);
std::uint64_t load_be64(const std::uint8_t* p);
void store_be16(std::uint8_t* p, std::uint16_t v);
void store_be32(std::uint8_t* p, std::uint32_t v);
void store_be64(std::uint8_t* p, std::uint64_t v);

// CRC-32/ISO-HDLC (zlib's crc32). crc_update(0, data) is the CRC of `data`;
// crc_combine(crc(A), crc(B), |B|) is crc(A || B) without reading A or B.
std::uint32_t crc_update(std::uint32_t crc, std::span<const std::uint8_t> data);
std::uint32_t crc_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t length_b);

// The EIF CRC (§2) from the encoded header (bytes 544..547 are ignored) and
// the CRC and length of everything that follows the header.
std::uint32_t eif_crc(const HeaderBytes& header, std::uint32_t crc_after_header, std::uint64_t length_after_header);

}  // namespace enclaver::eif
