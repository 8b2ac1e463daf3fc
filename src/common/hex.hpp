// Hex text for bytes: the one encoder and decoder every component uses.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace enclaver {

// Lower-case hex digits, two per byte.
std::string to_hex(std::span<const std::uint8_t> bytes);

// Bytes from hex digits of either case, with an optional "0x" prefix. The
// error says what is wrong and where.
Result<std::vector<std::uint8_t>> from_hex(std::string_view hex);

}  // namespace enclaver
