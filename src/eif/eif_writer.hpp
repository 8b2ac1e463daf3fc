// The EIF writer (../shared/spec/eif.md §1-§3): kernel, cmdline, metadata,
// ramdisk 0 (bootstrap), ramdisk 1.. (application) and optionally a signature
// section, in that order, back to back after the 548-byte header.
//
// Streaming: section data comes from producers that write into a ByteSink, so
// a ramdisk is never held in memory; section sizes are learnt as the data
// passes, and the header and section headers are written as placeholders and
// patched at the end. The CRC-32 (zlib crc32_combine) and PCR0/1/2 are
// computed on the way, so the file is never read back.
//
// write_eif_file() never leaves a partial file: it writes a temporary file in
// the target's directory, fsyncs it, renames it over the target and fsyncs
// the directory; on any error the temporary file is removed and an existing
// target is left as it was.
//
// Errors are thrown as std::runtime_error saying what failed and what to do.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "common/byte_sink.hpp"
#include "common/result.hpp"
#include "eif/eif_format.hpp"
#include "eif/pcr.hpp"

namespace enclaver::eif {

// Where the data of one section comes from. `what` names it in errors
// ("kernel", "ramdisk 1 (application)").
class SectionSource {
 public:
  using Producer = std::function<void(ByteSink&)>;

  // Copies a file in chunks. Errors read "cannot read <what> <path>: <reason>".
  static SectionSource from_file(std::filesystem::path path, std::string what);
  static SectionSource from_bytes(std::vector<std::uint8_t> bytes, std::string what);
  // `producer` writes the data into the sink (e.g. a cpio writer walking a
  // tree); its exceptions abort the build.
  static SectionSource from_producer(Producer producer, std::string what);

  const std::string& what() const { return what_; }
  void produce(ByteSink& sink) const { producer_(sink); }
  // False for from_producer(): the writer puts "cannot write <what>: " in
  // front of its errors.
  bool names_itself_in_errors() const { return names_itself_; }

 private:
  SectionSource(Producer p, std::string what) : producer_(std::move(p)), what_(std::move(what)) {}
  Producer producer_;
  std::string what_;
  bool names_itself_ = true;
};

// The signature section (type 4), produced once PCR0/1/2 are known.
struct SignatureSection {
  std::vector<std::uint8_t> bytes;            // the encoded section (CBOR, §4)
  std::vector<std::uint8_t> certificate_der;  // measured into PCR8; empty: no PCR8
};
using SignatureProducer = std::function<SignatureSection(const Measurements&)>;

struct EifContents {
  SectionSource kernel = SectionSource::from_bytes({}, "kernel");
  // The raw kernel command line: no NUL, no leading or trailing whitespace
  // (nitro-cli trims its blob file, and a stray "\n" changes PCR0 and PCR1).
  // read_cmdline_file() reads a blob file that way.
  std::string cmdline;
  std::string metadata;                 // JSON (§5), from encode_metadata(); not measured
  std::vector<SectionSource> ramdisks;  // [0] bootstrap, [1..] application; at least one
  SignatureProducer signature;          // empty: unsigned EIF
  Arch arch = Arch::X86_64;
  std::uint64_t default_memory = kDefaultMemory;
  std::uint64_t default_cpus = kDefaultCpus;
  bool parallel_hashing = true;  // hash on two threads (see SectionHasher)
};

struct WriteSummary {
  Header header;  // as written, CRC included
  std::vector<SectionLocation> sections;
  Measurements measurements;  // PCR0/1/2, and PCR8 when the signature gave a certificate
  std::uint64_t file_size = 0;
};

// Random-access output: written front to back, then patched.
class EifOutput {
 public:
  virtual ~EifOutput() = default;
  virtual void write(std::span<const std::uint8_t> bytes) = 0;
  virtual void write_at(std::uint64_t offset, std::span<const std::uint8_t> bytes) = 0;
};

class MemoryOutput final : public EifOutput {
 public:
  void write(std::span<const std::uint8_t> bytes) override;
  void write_at(std::uint64_t offset, std::span<const std::uint8_t> bytes) override;
  const std::vector<std::uint8_t>& data() const { return data_; }
  std::vector<std::uint8_t>& data() { return data_; }

 private:
  std::vector<std::uint8_t> data_;
};

// Writes the EIF to `out` (which must be empty). The core of the writer.
WriteSummary write_eif(EifOutput& out, const EifContents& contents);

// Writes the EIF to `target`, atomically (see above).
WriteSummary write_eif_file(const std::filesystem::path& target, const EifContents& contents);

// Reads a kernel command line blob file (nitro-cli's `cmdline`): leading and
// trailing ASCII whitespace, the final newline included, is trimmed as
// nitro-cli does. Refuses NUL bytes and files over kMaxCmdlineSize.
Result<std::string> read_cmdline_file(const std::filesystem::path& path);

}  // namespace enclaver::eif
