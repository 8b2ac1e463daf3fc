// RLP (Recursive Length Prefix, Ethereum yellow paper appendix B), sans-IO.
//
// Encoding: rlp_encode_bytes() gives a string item, rlp_encode_list() wraps
// items that are already encoded, rlp_encode() writes a decoded tree back.
// Every encoding is the canonical (shortest) one.
//
// Decoding (rlp_decode()) is strict, so that one value has exactly one
// accepted encoding and re-encoding a decoded item gives the input back:
//   - exactly one item, no trailing bytes;
//   - a single byte below 0x80 must be itself, not wrapped as 0x81 0xNN;
//   - lengths 0..55 must use the short form; long-form lengths have no
//     leading zero byte, and long form for a length below 56 is refused;
//   - every length is checked against the bytes left (no overflow, nothing
//     allocated beyond the input), and a list's items must fill it exactly;
//   - nesting deeper than kRlpMaxDepth lists is refused (bounded recursion).
// Errors say what is wrong and start "offset N: ", N being the offset of the
// offending item's first byte (its header) or of the first trailing byte.
// An item that overruns its enclosing list counts as running past the end.
// The decoded tree takes O(input size) memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/result.hpp"
#include "crypto/bytes.hpp"

namespace enclaver::crypto {

inline constexpr std::size_t kRlpMaxDepth = 64;

struct RlpItem {
  bool is_list = false;
  Bytes bytes;                 // a string item's payload (empty for lists)
  std::vector<RlpItem> items;  // a list item's elements (empty for strings)
};

Bytes rlp_encode_bytes(std::span<const std::uint8_t> bytes);
Bytes rlp_encode_list(std::span<const Bytes> encoded_items);  // items already encoded
Bytes rlp_encode(const RlpItem& item);                         // canonical encoding of a tree

Result<RlpItem> rlp_decode(std::span<const std::uint8_t> input);

}  // namespace enclaver::crypto
