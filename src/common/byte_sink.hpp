// ByteSink: where streaming producers (cpio writer, EIF writer) put bytes,
// so that they never need to hold a whole archive in memory and can be
// tested against an in-memory sink.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace enclaver {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Writes all of `bytes` or throws std::runtime_error / std::system_error
  // saying what failed.
  virtual void write(std::span<const std::uint8_t> bytes) = 0;
};

// Collects everything in memory (tests, small archives).
class VectorSink final : public ByteSink {
 public:
  void write(std::span<const std::uint8_t> bytes) override { data_.insert(data_.end(), bytes.begin(), bytes.end()); }
  const std::vector<std::uint8_t>& data() const { return data_; }
  std::vector<std::uint8_t>& data() { return data_; }

 private:
  std::vector<std::uint8_t> data_;
};

}  // namespace enclaver
