#include "crypto/quantity.hpp"

#include "common/hex.hpp"

namespace enclaver::crypto {

Result<Quantity> quantity_from_hex(std::string_view hex) {
  if (hex.size() >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex.remove_prefix(2);
  if (hex.empty()) return make_error("quantity has no hex digits (zero is \"0x0\")");
  Quantity out;
  // Digits are read right to left into bytes, then leading zeros dropped, so
  // an odd count needs no special case.
  Bytes le;
  le.reserve(hex.size() / 2 + 1);
  unsigned acc = 0;
  int nibbles = 0;
  for (std::size_t i = hex.size(); i-- > 0;) {
    const char c = hex[i];
    unsigned v;
    if (c >= '0' && c <= '9') v = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') v = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v = static_cast<unsigned>(c - 'A' + 10);
    else return make_error("quantity: not a hex digit at position " + std::to_string(i));
    acc |= v << (4 * nibbles);
    if (++nibbles == 2) {
      le.push_back(static_cast<std::uint8_t>(acc));
      acc = 0;
      nibbles = 0;
    }
  }
  if (nibbles != 0) le.push_back(static_cast<std::uint8_t>(acc));
  while (!le.empty() && le.back() == 0) le.pop_back();
  if (le.size() > 32) return make_error("quantity is larger than 2^256-1");
  out.assign(le.rbegin(), le.rend());
  return out;
}

Quantity quantity_from_u64(std::uint64_t value) {
  Quantity out;
  for (; value != 0; value >>= 8) out.insert(out.begin(), static_cast<std::uint8_t>(value));
  return out;
}

std::string quantity_to_hex(const Quantity& quantity) {
  std::size_t first = 0;
  while (first < quantity.size() && quantity[first] == 0) ++first;  // tolerate non-minimal input
  if (first == quantity.size()) return "0x0";
  std::string digits = to_hex(std::span(quantity).subspan(first));
  if (digits[0] == '0') digits.erase(0, 1);
  return "0x" + digits;
}

Result<Quantity> rlp_quantity(const RlpItem& item) {
  if (item.is_list) return make_error("expected an integer, got a list");
  if (item.bytes.size() > 32) return make_error("integer of " + std::to_string(item.bytes.size()) + " bytes is larger than 2^256-1");
  if (!item.bytes.empty() && item.bytes[0] == 0) return make_error("integer with a leading zero byte (not canonical)");
  return item.bytes;
}

Quantity quantity_from_be(std::span<const std::uint8_t> big_endian) {
  std::size_t first = 0;
  while (first < big_endian.size() && big_endian[first] == 0) ++first;
  return Quantity(big_endian.begin() + static_cast<std::ptrdiff_t>(first), big_endian.end());
}

}  // namespace enclaver::crypto
