// Docker's multiplexed output stream (attach and logs of a container
// created without a TTY): frames of an 8-byte header
//   [stream type: 0 stdin, 1 stdout, 2 stderr, 3 system error] [0 0 0]
//   [payload size: 4 bytes, big-endian]
// followed by that many payload bytes. Containers with a TTY send their
// output raw instead (one stream, no frames).
//
// LogDemuxer decodes it incrementally: bytes may arrive in chunks cut
// anywhere (inside a header or a payload). Payloads are passed on as they
// arrive, never buffered, so a frame declaring 4 GiB costs no memory: the
// handler may see one frame's payload in several pieces. Sans-IO.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "common/result.hpp"

namespace enclaver::image::engine {

enum class OutputStream : std::uint8_t { stdin_echo = 0, stdout_ = 1, stderr_ = 2, system_error = 3 };

// "stdout", "stderr", ...
const char* to_string(OutputStream stream);

class LogDemuxer {
 public:
  using Handler = std::function<void(OutputStream, std::span<const std::uint8_t>)>;

  // Decodes `bytes`, calling `handler` with each piece of payload (never an
  // empty one). A header that is not one (an unknown stream type, nonzero
  // padding: a raw TTY stream read as multiplexed) is an error, returned
  // now and for every later call: the stream cannot be resynchronised.
  std::optional<Error> feed(std::span<const std::uint8_t> bytes, const Handler& handler);

  // At the end of the stream: an error if it ended inside a frame.
  std::optional<Error> finish() const;

  // Bytes consumed so far (for messages).
  std::uint64_t offset() const { return offset_; }

 private:
  std::uint8_t header_[8] = {};
  std::size_t header_have_ = 0;   // header bytes collected so far
  std::uint64_t payload_left_ = 0;  // of the current frame, once its header is complete
  OutputStream stream_ = OutputStream::stdout_;
  std::uint64_t offset_ = 0;
  std::optional<Error> error_;
};

}  // namespace enclaver::image::engine
