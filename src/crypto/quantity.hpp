// Unsigned integers of up to 256 bits as RLP carries them: minimal big-endian
// bytes, no leading zero byte, the empty string for zero. Conversions from
// and to Ethereum JSON-RPC "quantity" hex text.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "crypto/bytes.hpp"
#include "crypto/rlp.hpp"

namespace enclaver::crypto {

using Quantity = Bytes;  // minimal big-endian; empty = zero; at most 32 bytes

// Hex digits with or without "0x"/"0X", either case, any count (odd counts
// too); leading zeros are accepted and stripped, so "0", "0x0" and "0x000"
// are zero. Errors: no digits at all ("" and "0x": an empty quantity is not
// zero in JSON-RPC, it is a client bug), a non-hex character (named by its
// position among the digits after any "0x"), or a value above 2^256-1.
Result<Quantity> quantity_from_hex(std::string_view hex);

Quantity quantity_from_u64(std::uint64_t value);

// JSON-RPC style: "0x0" for zero, otherwise "0x" and lower-case digits with
// no leading zero ("0x400").
std::string quantity_to_hex(const Quantity& quantity);

// A quantity from a decoded RLP item: a string (not a list) of at most 32
// bytes with no leading zero byte (zero is the empty string, never 0x00).
Result<Quantity> rlp_quantity(const RlpItem& item);

// A quantity with its leading zero bytes removed (for fixed-width inputs
// such as a signature's r and s).
Quantity quantity_from_be(std::span<const std::uint8_t> big_endian);

}  // namespace enclaver::crypto
