// A minimal, deterministic ustar writer to a ByteSink, for image archives and
// their layers: what goes in is exactly what the caller gives (name, mode,
// mtime, uid/gid 0, no user or group names), nothing from the environment.
// Contents are streamed through the sink (never held whole), each member
// zero-padded to 512 bytes, the archive ended by two zero blocks.
//
// Errors: std::invalid_argument for a name ustar cannot hold (longer than
// 255 bytes with no fitting '/' split, or a non-canonical path), a size of
// 8 GiB or more, a body that writes a different number of bytes than
// announced (std::runtime_error); ByteSink errors propagate.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/byte_sink.hpp"

namespace enclaver::image {

class TarWriter {
 public:
  explicit TarWriter(ByteSink& sink) : sink_(sink) {}

  // `name` relative and canonical ("enclave", "usr/local/bin"); directories
  // are written with a trailing '/', as Docker does.
  void directory(const std::string& name, std::uint32_t perms, std::int64_t mtime);
  // `body` must write exactly `size` bytes to the sink it is given.
  void file(const std::string& name, std::uint32_t perms, std::int64_t mtime, std::uint64_t size,
            const std::function<void(ByteSink&)>& body);
  void file(const std::string& name, std::uint32_t perms, std::int64_t mtime, std::string_view bytes);
  // The end-of-archive marker: two 512-byte zero blocks. No member may follow.
  void finish();

  std::uint64_t bytes_written() const { return written_; }

 private:
  void header(const std::string& name, char type, std::uint32_t perms, std::int64_t mtime, std::uint64_t size);
  void put(const std::uint8_t* data, std::size_t size);
  void pad();

  ByteSink& sink_;
  std::uint64_t written_ = 0;
  bool finished_ = false;
};

}  // namespace enclaver::image
