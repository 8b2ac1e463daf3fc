#include "crypto/eth.hpp"

#include <algorithm>

#include "common/hex.hpp"
#include "crypto/keccak.hpp"

namespace enclaver::crypto {

std::string checksum_address(const Address& address) {
  const std::string lower = to_hex(address);
  const Hash32 h = keccak256(std::string_view(lower));
  std::string out = "0x";
  for (std::size_t i = 0; i < lower.size(); ++i) {
    const unsigned nibble = (i % 2 == 0) ? (h[i / 2] >> 4) : (h[i / 2] & 0x0f);
    const char c = lower[i];
    out += (c >= 'a' && nibble >= 8) ? static_cast<char>(c - 'a' + 'A') : c;
  }
  return out;
}

Result<Address> parse_address(std::string_view text) {
  std::string_view digits = text;
  if (digits.size() >= 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) digits.remove_prefix(2);
  if (digits.size() != 40) return make_error("address must be 40 hex digits, got " + std::to_string(digits.size()) + " characters");
  auto bytes = from_hex(digits);
  if (!bytes) return make_error("address: " + bytes.error().message);
  Address out;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  const bool has_lower = std::any_of(digits.begin(), digits.end(), [](char c) { return c >= 'a' && c <= 'f'; });
  const bool has_upper = std::any_of(digits.begin(), digits.end(), [](char c) { return c >= 'A' && c <= 'F'; });
  if (has_lower && has_upper && std::string_view(checksum_address(out)).substr(2) != digits)
    return make_error("address has mixed case but not a valid EIP-55 checksum");
  return out;
}

Hash32 personal_message_digest(std::span<const std::uint8_t> message) {
  Keccak256 k;
  k.update(std::string_view("\x19" "Ethereum Signed Message:\n"));
  k.update(std::string_view(std::to_string(message.size())));
  k.update(message);
  return k.finish();
}

Address address_of(std::span<const std::uint8_t, 65> uncompressed_public_key) {
  const Hash32 h = keccak256(uncompressed_public_key.subspan<1>());
  Address out;
  std::copy(h.begin() + 12, h.end(), out.begin());
  return out;
}

}  // namespace enclaver::crypto
