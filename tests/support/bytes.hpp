// Byte helpers shared by the tests: hex in and out, text as bytes, and
// deterministic pseudo-random data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/hex.hpp"

namespace enclaver::testing {

// Lower-case hex of `bytes`.
inline std::string hex(std::span<const std::uint8_t> bytes) { return enclaver::to_hex(bytes); }

// Bytes from hex digits (either case); spaces are ignored so that test
// vectors can be grouped.
inline std::vector<std::uint8_t> unhex(std::string_view text) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
  };
  std::string digits;
  for (char c : text)
    if (c != ' ') digits += c;
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(nibble(digits[i]) * 16 + nibble(digits[i + 1])));
  return out;
}

inline std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

// Deterministic pseudo-random bytes (xorshift).
inline std::vector<std::uint8_t> pattern(std::size_t size, std::uint32_t seed) {
  std::vector<std::uint8_t> out(size);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::uint8_t>(x);
  }
  return out;
}

}  // namespace enclaver::testing
