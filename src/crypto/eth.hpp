// Ethereum account conventions: EIP-55 checksummed addresses, address text
// parsing, the EIP-191 personal-message digest and the address of a public
// key. Pure functions over Keccak-256.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "crypto/bytes.hpp"

namespace enclaver::crypto {

// EIP-55: "0x" + 40 hex digits, letter digits upper-cased where the
// corresponding nibble of keccak256(lower-case hex) is >= 8.
std::string checksum_address(const Address& address);

// 40 hex digits, with or without "0x"/"0X". All lower case and all upper
// case are accepted as they are (they carry no checksum). Mixed case is
// taken to be EIP-55 and must match its checksum: a mistyped address is
// refused rather than silently used. Errors name a bad character by its
// position among the digits after any "0x".
Result<Address> parse_address(std::string_view text);

// EIP-191 version 0x45 (personal_sign):
// keccak256("\x19Ethereum Signed Message:\n" + decimal byte length + message).
Hash32 personal_message_digest(std::span<const std::uint8_t> message);

// The address of an uncompressed public key (0x04 || X || Y): the last 20
// bytes of keccak256(X || Y). The 0x04 byte is not checked.
Address address_of(std::span<const std::uint8_t, 65> uncompressed_public_key);

}  // namespace enclaver::crypto
