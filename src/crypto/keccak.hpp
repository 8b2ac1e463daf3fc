// Keccak-256 as Ethereum uses it: the original Keccak submission's padding
// (domain byte 0x01), NOT FIPS 202 SHA3-256 (0x06), which OpenSSL offers but
// which gives different digests. Our own implementation of Keccak-f[1600]
// (rate 136 bytes, capacity 512 bits), incremental and one-shot. Pure
// computation: no allocation, no errors.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "crypto/bytes.hpp"

namespace enclaver::crypto {

class Keccak256 {
 public:
  static constexpr std::size_t kRate = 136;  // bytes absorbed per permutation

  // Absorbs more input; any number of calls, of any sizes.
  void update(std::span<const std::uint8_t> data);
  void update(std::string_view data);
  // Pads, squeezes the digest and resets the object to the empty state, so
  // it can be used again.
  Hash32 finish();

 private:
  std::array<std::uint64_t, 25> state_{};
  std::array<std::uint8_t, kRate> block_{};
  std::size_t filled_ = 0;  // bytes of block_ holding pending input
};

Hash32 keccak256(std::span<const std::uint8_t> data);
Hash32 keccak256(std::string_view data);

}  // namespace enclaver::crypto
