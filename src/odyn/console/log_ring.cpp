#include "odyn/console/log_ring.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace enclaver::odyn {

std::string dropped_marker(std::uint64_t dropped, bool at_line_start) {
  return std::string(at_line_start ? "" : "\n") + "[odyn: " + std::to_string(dropped) + " bytes of log dropped]\n";
}

LogRing::LogRing(std::size_t capacity) : buffer_(capacity) {
  if (capacity == 0) throw std::invalid_argument("the log ring needs a capacity above 0");
}

void LogRing::append(std::span<const char> bytes) {
  const std::size_t cap = buffer_.size();
  // Only the last `cap` bytes can survive; skip the rest without copying.
  if (bytes.size() > cap) {
    end_ += bytes.size() - cap;
    bytes = bytes.subspan(bytes.size() - cap);
  }
  std::size_t at = static_cast<std::size_t>(end_ % cap);
  std::size_t first = std::min(bytes.size(), cap - at);
  std::memcpy(buffer_.data() + at, bytes.data(), first);
  std::memcpy(buffer_.data(), bytes.data() + first, bytes.size() - first);
  end_ += bytes.size();
  size_ = std::min(cap, size_ + bytes.size());
}

LogRing::Chunk LogRing::read(std::uint64_t position, std::size_t max) const {
  Chunk chunk;
  if (position < begin()) {
    chunk.dropped = begin() - position;
    position = begin();
  }
  chunk.from = position;
  if (position >= end_) return chunk;
  const std::size_t cap = buffer_.size();
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(end_ - position, max));
  std::size_t at = static_cast<std::size_t>(position % cap);
  std::size_t first = std::min(want, cap - at);
  chunk.pieces[0] = {buffer_.data() + at, first};
  chunk.pieces[1] = {buffer_.data(), want - first};
  return chunk;
}

std::string LogCursor::next(const LogRing& ring, std::size_t max) {
  auto chunk = ring.read(position_, max);
  std::string out;
  if (chunk.dropped) out = dropped_marker(chunk.dropped, at_line_start_);
  for (auto piece : chunk.pieces) out.append(piece.data(), piece.size());
  position_ = chunk.from + chunk.size();
  if (chunk.size()) at_line_start_ = out.back() == '\n';
  else if (chunk.dropped) at_line_start_ = true;
  return out;
}

}  // namespace enclaver::odyn
