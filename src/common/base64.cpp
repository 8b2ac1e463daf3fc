#include "common/base64.hpp"

#include <array>

namespace enclaver {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_values() {
  std::array<std::int8_t, 256> values{};
  values.fill(-1);
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) values[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return values;
}
constexpr auto kValues = make_values();

}  // namespace

std::string to_base64(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group = bytes[i] << 16 | bytes[i + 1] << 8 | bytes[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(group >> shift) & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    const std::uint32_t group = bytes[i] << 16 | (rest == 2 ? bytes[i + 1] << 8 : 0);
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += rest == 2 ? kAlphabet[(group >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::vector<std::uint8_t>> from_base64(std::string_view text) {
  std::size_t data = text.size();
  while (data > 0 && text[data - 1] == '=') --data;
  const std::size_t padding = text.size() - data;
  if (padding > 2 || (padding > 0 && text.size() % 4 != 0))
    return make_error("bad base64: the '=' padding at offset " + std::to_string(data) + " does not complete a 4-character group");
  if (data % 4 == 1) return make_error("bad base64: " + std::to_string(data) + " characters cannot encode whole bytes");
  std::vector<std::uint8_t> out;
  out.reserve(data / 4 * 3 + 2);
  std::uint32_t bits = 0;
  int held = 0;
  for (std::size_t i = 0; i < data; ++i) {
    const auto value = kValues[static_cast<unsigned char>(text[i])];
    if (value < 0) return make_error("bad base64: unexpected character at offset " + std::to_string(i) + " (standard alphabet A-Z a-z 0-9 + /)");
    bits = bits << 6 | static_cast<std::uint32_t>(value);
    held += 6;
    if (held >= 8) {
      held -= 8;
      out.push_back(static_cast<std::uint8_t>(bits >> held));
      bits &= (1u << held) - 1;
    }
  }
  if (bits != 0) return make_error("bad base64: the last character carries bits beyond the data (not canonical)");
  return out;
}

}  // namespace enclaver
