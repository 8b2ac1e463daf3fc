// The app's console as odyn keeps it (wire.md, "App log stream"): a ring of
// the last `capacity` bytes of stdout and stderr, merged in the order
// written, addressed by absolute offsets (bytes written since start), so
// that each reader can follow at its own pace and learn exactly how much it
// lost when the ring overwrote bytes it had not read yet. Sans-IO.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace enclaver::odyn {

inline constexpr std::size_t kDefaultLogRingBytes = 128 * 1024;

// "[odyn: N bytes of log dropped]\n", preceded by "\n" when the reader's
// last byte did not end a line, so the marker is always a line of its own.
std::string dropped_marker(std::uint64_t dropped, bool at_line_start);

class LogRing {
 public:
  explicit LogRing(std::size_t capacity = kDefaultLogRingBytes);

  // Appends, overwriting the oldest bytes when full. Never blocks, never fails.
  void append(std::span<const char> bytes);

  std::uint64_t begin() const { return end_ - size_; }  // oldest byte still held
  std::uint64_t end() const { return end_; }            // offset after the newest byte
  std::size_t capacity() const { return buffer_.size(); }

  // What a reader positioned at `position` gets next: how many bytes it
  // lost (position was before begin()), the offset it continues from, and
  // up to `max` bytes as at most two contiguous pieces.
  struct Chunk {
    std::uint64_t dropped = 0;
    std::uint64_t from = 0;
    std::array<std::span<const char>, 2> pieces;
    std::size_t size() const { return pieces[0].size() + pieces[1].size(); }
  };
  Chunk read(std::uint64_t position, std::size_t max) const;

 private:
  std::vector<char> buffer_;
  std::uint64_t end_ = 0;
  std::size_t size_ = 0;
};

// One reader's position, with what it needs for the marker.
class LogCursor {
 public:
  // A new reader starts at the oldest byte still held (the backlog).
  explicit LogCursor(const LogRing& ring) : position_(ring.begin()) {}
  bool caught_up(const LogRing& ring) const { return position_ >= ring.end(); }
  // The next bytes to send, the drop marker first if bytes were lost;
  // advances past them.
  std::string next(const LogRing& ring, std::size_t max);

 private:
  std::uint64_t position_;
  bool at_line_start_ = true;
};

}  // namespace enclaver::odyn
