// Base64 (RFC 4648 §4, the standard alphabet) for the APIs' JSON fields: the
// one encoder and decoder every component uses.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace enclaver {

// Standard alphabet, padded with '='.
std::string to_base64(std::span<const std::uint8_t> bytes);

// Standard alphabet; the padding may be left out (JavaScript's btoa pads,
// many other encoders do not). Whitespace, the URL-safe alphabet, bits
// left over in the last character and misplaced '=' are errors that say
// where.
Result<std::vector<std::uint8_t>> from_base64(std::string_view text);

}  // namespace enclaver
