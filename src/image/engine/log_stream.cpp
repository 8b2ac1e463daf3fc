#include "image/engine/log_stream.hpp"

#include <algorithm>
#include <cstdio>

namespace enclaver::image::engine {

const char* to_string(OutputStream stream) {
  switch (stream) {
    case OutputStream::stdin_echo: return "stdin";
    case OutputStream::stdout_: return "stdout";
    case OutputStream::stderr_: return "stderr";
    case OutputStream::system_error: return "system error";
  }
  return "unknown stream";
}

std::optional<Error> LogDemuxer::feed(std::span<const std::uint8_t> bytes, const Handler& handler) {
  if (error_) return error_;
  while (!bytes.empty()) {
    if (payload_left_ > 0) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, bytes.size()));
      handler(stream_, bytes.first(n));
      payload_left_ -= n;
      offset_ += n;
      bytes = bytes.subspan(n);
      continue;
    }
    const std::size_t n = std::min(sizeof header_ - header_have_, bytes.size());
    std::copy_n(bytes.begin(), n, header_ + header_have_);
    header_have_ += n;
    bytes = bytes.subspan(n);
    if (header_have_ < sizeof header_) break;
    const std::uint64_t header_offset = offset_;
    offset_ += sizeof header_;
    header_have_ = 0;
    if (header_[0] > 3 || header_[1] != 0 || header_[2] != 0 || header_[3] != 0) {
      char buf[160];
      std::snprintf(buf, sizeof buf,
                    "offset %llu: not a multiplexed stream frame header (%02x %02x %02x %02x ...): "
                    "was the container created with a TTY?",
                    static_cast<unsigned long long>(header_offset), header_[0], header_[1], header_[2], header_[3]);
      error_ = make_error(buf);
      return error_;
    }
    stream_ = static_cast<OutputStream>(header_[0]);
    payload_left_ = (std::uint64_t{header_[4]} << 24) | (std::uint64_t{header_[5]} << 16) |
                    (std::uint64_t{header_[6]} << 8) | std::uint64_t{header_[7]};
  }
  return std::nullopt;
}

std::optional<Error> LogDemuxer::finish() const {
  if (error_) return error_;
  if (header_have_ > 0 || payload_left_ > 0)
    return make_error("offset " + std::to_string(offset_ + header_have_) + ": the stream ended inside a frame");
  return std::nullopt;
}

}  // namespace enclaver::image::engine
