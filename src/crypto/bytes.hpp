// The byte types every part of enclaver::crypto speaks: a 32-byte hash, a
// 20-byte Ethereum address and a byte string.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "common/result.hpp"

namespace enclaver::crypto {

using Hash32 = std::array<std::uint8_t, 32>;
using Address = std::array<std::uint8_t, 20>;
using Bytes = std::vector<std::uint8_t>;

}  // namespace enclaver::crypto
