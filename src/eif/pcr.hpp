// Measurements of an EIF (../shared/spec/eif.md §3): streaming SHA-384
// (OpenSSL EVP), the PCR extend formula, and SectionHasher, which computes
// PCR0/1/2 and each section's CRC-32 while the sections stream past once, in
// file order (the writer as it writes, the reader as it reads).
//
//   PCRn = SHA-384(48 zero bytes || SHA-384(Mn))
//   M0 = kernel || cmdline || every ramdisk   (section data, file order)
//   M1 = kernel || cmdline || first ramdisk
//   M2 = every ramdisk after the first        (empty for a single ramdisk)
//   M8 = DER of the signing certificate       (signed EIFs only)
#pragma once

#include "common/hex.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "eif/eif_format.hpp"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace enclaver::eif {

inline constexpr std::size_t kDigestSize = 48;
using Digest = std::array<std::uint8_t, kDigestSize>;

// What describe-eif prints as Measurements.HashAlgorithm (the Rust Debug form
// of its hasher).
inline constexpr std::string_view kHashAlgorithm = "Sha384 { ... }";

// Streaming SHA-384. Throws std::runtime_error if OpenSSL fails (it does not,
// short of running out of memory).
class Sha384 {
 public:
  Sha384();
  ~Sha384();
  Sha384(Sha384&& other) noexcept;
  Sha384& operator=(Sha384&& other) noexcept;
  Sha384(const Sha384&) = delete;
  Sha384& operator=(const Sha384&) = delete;

  void update(std::span<const std::uint8_t> data);
  // The digest of everything so far; the hasher then starts over, empty.
  Digest finish();
  // The digest of everything so far, leaving the hasher as it is.
  Digest peek() const;
  // An independent hasher in the same state.
  Sha384 clone() const;

 private:
  evp_md_ctx_st* ctx_ = nullptr;
};

Digest sha384(std::span<const std::uint8_t> data);

// One NSM extend: SHA-384(pcr || data).
Digest pcr_extend(const Digest& pcr, std::span<const std::uint8_t> data);
// An EIF PCR from the digest of its content: SHA-384(zeros || content_digest).
Digest pcr_from_content_digest(const Digest& content_digest);
// An EIF PCR from its content: SHA-384(zeros || SHA-384(measured)).
// pcr_of(certificate_der) is PCR8; pcr_of({}) is PCR2 of a single-ramdisk EIF.
Digest pcr_of(std::span<const std::uint8_t> measured);

using enclaver::to_hex;  // lower-case (common/hex.hpp)
std::optional<Digest> digest_from_hex(std::string_view hex);  // 96 hex digits, either case

struct Measurements {
  Digest pcr0{};
  Digest pcr1{};
  Digest pcr2{};
  std::optional<Digest> pcr8;  // signed EIFs only
  friend bool operator==(const Measurements&, const Measurements&) = default;
};

// Computes PCR0/1/2 and per-section CRC-32s from the sections of an EIF given
// in file order: begin_section(type), update(data)..., end_section(), for each
// section. Kernel, cmdline and ramdisk data are measured as §3 says (whatever
// their order); other sections only get a CRC.
//
// Work is shared, not repeated: kernel, cmdline and the first ramdisk go into
// one SHA-384 state that becomes both PCR0 and PCR1 (forked when the two
// diverge). With `parallel`, each large update is split across the calling
// thread (PCR0) and one worker thread (the other digest and the CRC), so that
// the application ramdisk, which feeds two digests, costs about one.
class SectionHasher {
 public:
  explicit SectionHasher(bool parallel = true);
  ~SectionHasher();
  SectionHasher(const SectionHasher&) = delete;
  SectionHasher& operator=(const SectionHasher&) = delete;

  void begin_section(SectionType type);
  // Hashes `data`. `alongside`, if given, runs on the calling thread while the
  // worker hashes (the writer writes the chunk to disk there); it must not
  // modify `data`. Exceptions from it or from hashing propagate, after the
  // worker has let go of `data`.
  void update(std::span<const std::uint8_t> data, const std::function<void()>& alongside = {});
  // Ends the current section; returns the CRC-32 of its data.
  std::uint32_t end_section();

  // PCR0/1/2 of the measured sections so far (pcr8 unset). Does not disturb
  // the stream: sections may follow.
  Measurements measurements() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace enclaver::eif
