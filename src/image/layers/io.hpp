// Small I/O pieces shared by the image archive reader, the flattener and the
// release archive writer: byte ranges of open files (a layer inside a saved
// image, a file's contents inside a layer), exact positional reads, anonymous
// temporary files, SHA-256 while streaming, and a ByteSink over a descriptor.
//
// Errors: std::system_error (errno, naming what was read or written) and
// std::runtime_error (a file shorter than a range says).
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "common/byte_sink.hpp"
#include "common/fd.hpp"

namespace enclaver::image {

// An open file shared by everything that refers to ranges of it (the saved
// image archive, a decompressed layer): it stays open while any range does.
using SharedFd = std::shared_ptr<const Fd>;

// Bytes [offset, offset + size) of `file`. `what` names it in errors.
struct FileRange {
  SharedFd file;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::string what;
};

// Opens `path` read-only (O_CLOEXEC). Throws std::system_error naming it.
SharedFd open_shared(const std::filesystem::path& path);

// Reads exactly out.size() bytes at `offset`; a short file throws, naming `what`.
void pread_exact(int fd, std::uint64_t offset, std::span<std::uint8_t> out, const std::string& what);

// The whole range as a string; refuses ranges above `limit` bytes (JSON
// documents of a saved image, never layers).
std::string read_range(const FileRange& range, std::uint64_t limit);

// Streams the range to `sink` in chunks.
void copy_range(const FileRange& range, ByteSink& sink);

// A new anonymous file in `dir` (O_TMPFILE, or mkstemp + unlink): it
// vanishes when its descriptor is closed, on every exit path.
Fd make_temp_file(const std::filesystem::path& dir);

// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  void update(std::span<const std::uint8_t> bytes);
  std::string hex();  // finishes; lowercase, 64 digits

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};
std::string sha256_hex(std::string_view bytes);

// Writes to a descriptor (all of it, retrying short writes), optionally
// hashing and counting what passes.
class FdSink final : public ByteSink {
 public:
  FdSink(int fd, std::string what) : fd_(fd), what_(std::move(what)) {}
  void write(std::span<const std::uint8_t> bytes) override;
  std::uint64_t bytes_written() const { return written_; }
  std::string digest() { return sha_.hex(); }

 private:
  int fd_;
  std::string what_;
  std::uint64_t written_ = 0;
  Sha256 sha_;
};

// A sink that hashes and counts, then forwards to another sink.
class HashingSink final : public ByteSink {
 public:
  explicit HashingSink(ByteSink& next) : next_(next) {}
  void write(std::span<const std::uint8_t> bytes) override;
  std::uint64_t bytes_written() const { return written_; }
  std::string digest() { return sha_.hex(); }

 private:
  ByteSink& next_;
  std::uint64_t written_ = 0;
  Sha256 sha_;
};

}  // namespace enclaver::image
