// The validating EIF reader (../shared/spec/eif.md), and describe-eif.
//
// read_eif() checks, in this order, and stops at the first failure with a
// message "offset N (field): what is wrong; what it means":
//   1. the magic, the header length, the version (4; 2 and 3 only with
//      ReadOptions::accept_old_versions), the flags (only bit 0, aarch64, is
//      known: §10.8), reserved and unused words (0);
//   2. the section table: 1..32 sections, unused slots zero, the first section
//      at 548, each next one at previous + 12 + previous size (no gap, no
//      overlap), every section inside the file, nothing after the last one;
//   3. each section header: a known type allowed in that version, flags 0,
//      size equal to the table's; exactly one kernel, exactly one cmdline, at
//      least one ramdisk, every ramdisk after the kernel, at most one
//      signature, and in version 4 exactly one metadata section; the size
//      bounds of eif_format.hpp for cmdline, metadata and signature;
//   4. in one sequential pass over the file, in chunks: the CRC-32 and
//      PCR0/1/2, holding only the small sections (cmdline, metadata,
//      signature) in memory; ramdisks and the kernel are given as ranges.
// A size field is never trusted: every range is checked against the actual
// file size before anything is read or allocated.
//
// Results are values (Result<T>); nothing here throws for bad input.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "eif/eif_format.hpp"
#include "eif/pcr.hpp"

namespace enclaver::eif {

// Bytes to read from, by offset.
class RandomAccessSource {
 public:
  virtual ~RandomAccessSource() = default;
  virtual std::uint64_t size() const = 0;
  // Fills `out` with the bytes at `offset`; returns a message if it cannot.
  virtual std::optional<std::string> read_at(std::uint64_t offset, std::span<std::uint8_t> out) = 0;
};

class MemorySource final : public RandomAccessSource {
 public:
  explicit MemorySource(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  std::uint64_t size() const override { return bytes_.size(); }
  std::optional<std::string> read_at(std::uint64_t offset, std::span<std::uint8_t> out) override;

 private:
  std::span<const std::uint8_t> bytes_;
};

// A regular file, read with pread(). The size is taken when it is opened.
class FileSource final : public RandomAccessSource {
 public:
  static Result<std::unique_ptr<FileSource>> open(const std::filesystem::path& path);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  std::uint64_t size() const override { return size_; }
  std::optional<std::string> read_at(std::uint64_t offset, std::span<std::uint8_t> out) override;

 private:
  FileSource(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
  int fd_;
  std::uint64_t size_;
};

struct ReadOptions {
  // A CRC mismatch is an error; with false it is reported in EifInfo::crc_ok
  // instead (describe-eif prints "CheckCRC": false).
  bool require_valid_crc = true;
  // Read versions 2 and 3 too (read-only; we write only version 4).
  bool accept_old_versions = false;
  bool parallel_hashing = true;
  // Given the signature section's bytes, returns the DER of the signing
  // certificate, measured into PCR8. Unset: no PCR8 (the signing layer sets
  // it). Its error fails the read.
  std::function<Result<std::vector<std::uint8_t>>(std::span<const std::uint8_t>)> certificate_der;
};

struct EifInfo {
  Header header;
  Arch arch = Arch::X86_64;
  std::uint64_t file_size = 0;
  std::vector<SectionLocation> sections;  // file order
  std::uint32_t computed_crc = 0;
  bool crc_ok = false;
  Measurements measurements;  // PCR0/1/2; PCR8 when signed and certificate_der was given
  std::string cmdline;
  std::optional<std::string> metadata;                 // JSON text, if the file has a metadata section
  std::optional<std::vector<std::uint8_t>> signature;  // the signature section, if any

  const SectionLocation& kernel() const;                  // the kernel section
  std::vector<SectionLocation> ramdisks() const;          // in file order
  bool is_signed() const { return signature.has_value(); }
};

Result<EifInfo> read_eif(RandomAccessSource& source, const ReadOptions& options = {});
// As read_eif(); errors start with the quoted path.
Result<EifInfo> read_eif_file(const std::filesystem::path& path, const ReadOptions& options = {});

// {"HashAlgorithm": "Sha384 { ... }", "PCR0": .., "PCR1": .., "PCR2": .., "PCR8"?: ..}
// (what build-enclave prints under "Measurements").
nlohmann::ordered_json measurements_json(const Measurements& m);

// What the signing layer adds to describe-eif's output.
struct SignatureDescription {
  std::optional<nlohmann::ordered_json> signing_certificate;  // "SigningCertificate" object
  std::optional<bool> signature_check;                        // "SignatureCheck"
};

// Everything `nitro-cli describe-eif` prints (§6), in its key order:
// EifVersion, Measurements, IsSigned, SigningCertificate?, CheckCRC,
// SignatureCheck?, ImageName?, ImageVersion?, Metadata? {BuildTime,
// BuildTool, BuildToolVersion, OperatingSystem, KernelVersion, DockerInfo,
// then the keys of an object CustomMetadata, merged in}. Fails, as
// describe-eif does, if the metadata section lacks the shape of §5.
Result<nlohmann::ordered_json> describe_eif(const EifInfo& info, const SignatureDescription& signature = {});

}  // namespace enclaver::eif
