// The CBOR encoder: preferred serialization (RFC 8949 §4.2), with map keys in
// insertion order or in core deterministic order (§4.2.1).
#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "cbor/cbor.hpp"

namespace enclaver::cbor {

namespace {

constexpr std::uint64_t kMant52 = (std::uint64_t{1} << 52) - 1;

// The half-precision bit pattern that holds exactly the double `bits`, if any.
std::optional<std::uint16_t> exact_half(std::uint64_t bits) {
  const auto sign = static_cast<std::uint16_t>((bits >> 63) << 15);
  const int exp = static_cast<int>((bits >> 52) & 0x7ff);
  const std::uint64_t mant = bits & kMant52;
  if (exp == 0x7ff) {  // infinity or NaN: the payload must survive
    if (mant & ((std::uint64_t{1} << 42) - 1)) return std::nullopt;
    return static_cast<std::uint16_t>(sign | 0x7c00 | (mant >> 42));
  }
  if (exp == 0) {
    if (mant == 0) return sign;  // +-0
    return std::nullopt;         // double subnormals are far below half's range
  }
  const int e = exp - 1023;
  if (e >= -14 && e <= 15) {
    if (mant & ((std::uint64_t{1} << 42) - 1)) return std::nullopt;
    return static_cast<std::uint16_t>(sign | ((e + 15) << 10) | (mant >> 42));
  }
  if (e >= -24 && e < -14) {  // a half subnormal: m * 2^-24
    const int shift = 28 - e;
    const std::uint64_t full = (std::uint64_t{1} << 52) | mant;
    if (full & ((std::uint64_t{1} << shift) - 1)) return std::nullopt;
    return static_cast<std::uint16_t>(sign | (full >> shift));
  }
  return std::nullopt;
}

// The single-precision bit pattern that holds exactly the double `bits`, if any.
std::optional<std::uint32_t> exact_single(std::uint64_t bits) {
  const auto sign = static_cast<std::uint32_t>((bits >> 63) << 31);
  const int exp = static_cast<int>((bits >> 52) & 0x7ff);
  const std::uint64_t mant = bits & kMant52;
  if (exp == 0x7ff) {
    if (mant & ((std::uint64_t{1} << 29) - 1)) return std::nullopt;
    return static_cast<std::uint32_t>(sign | 0x7f800000u | (mant >> 29));
  }
  if (exp == 0) {
    if (mant == 0) return sign;
    return std::nullopt;
  }
  const int e = exp - 1023;
  if (e >= -126 && e <= 127) {
    if (mant & ((std::uint64_t{1} << 29) - 1)) return std::nullopt;
    return static_cast<std::uint32_t>(sign | (static_cast<std::uint32_t>(e + 127) << 23) | (mant >> 29));
  }
  if (e >= -149 && e < -126) {  // a single subnormal: m * 2^-149
    const int shift = -97 - e;
    const std::uint64_t full = (std::uint64_t{1} << 52) | mant;
    if (full & ((std::uint64_t{1} << shift) - 1)) return std::nullopt;
    return static_cast<std::uint32_t>(sign | (full >> shift));
  }
  return std::nullopt;
}

void put_be(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void encode_float(std::vector<std::uint8_t>& out, double d) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &d, sizeof bits);
  if (auto h = exact_half(bits)) {
    out.push_back(0xf9);
    put_be(out, *h, 2);
  } else if (auto f = exact_single(bits)) {
    out.push_back(0xfa);
    put_be(out, *f, 4);
  } else {
    out.push_back(0xfb);
    put_be(out, bits, 8);
  }
}

void encode_value(std::vector<std::uint8_t>& out, const Value& v, MapOrder order) {
  switch (v.kind()) {
    case Kind::Unsigned: encode_head(out, 0, *v.as_unsigned()); break;
    case Kind::Negative: encode_head(out, 1, *v.negative_argument()); break;
    case Kind::Bytes: {
      const Bytes& b = *v.as_bytes();
      encode_head(out, 2, b.size());
      out.insert(out.end(), b.begin(), b.end());
      break;
    }
    case Kind::Text: {
      const std::string& t = *v.as_text();
      encode_head(out, 3, t.size());
      out.insert(out.end(), t.begin(), t.end());
      break;
    }
    case Kind::Array: {
      const Array& a = *v.as_array();
      encode_head(out, 4, a.size());
      for (const Value& e : a) encode_value(out, e, order);
      break;
    }
    case Kind::Map: {
      const Map& m = *v.as_map();
      encode_head(out, 5, m.size());
      if (order == MapOrder::Insertion || m.size() < 2) {
        for (const MapEntry& e : m) {
          encode_value(out, e.key, order);
          encode_value(out, e.value, order);
        }
      } else {
        // Sort the entries by their keys' encodings (stable: equal keys, which
        // a decoded map never has, keep their order).
        std::vector<std::pair<std::vector<std::uint8_t>, const Value*>> entries;
        entries.reserve(m.size());
        for (const MapEntry& e : m) {
          std::vector<std::uint8_t> key;
          encode_value(key, e.key, order);
          entries.emplace_back(std::move(key), &e.value);
        }
        std::stable_sort(entries.begin(), entries.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        for (const auto& [key, value] : entries) {
          out.insert(out.end(), key.begin(), key.end());
          encode_value(out, *value, order);
        }
      }
      break;
    }
    case Kind::Tag:
      encode_head(out, 6, *v.tag_number());
      encode_value(out, *v.tag_content(), order);
      break;
    case Kind::Simple: {
      const std::uint8_t s = *v.simple_value();
      if (s < 24) {
        out.push_back(static_cast<std::uint8_t>(0xe0 | s));
      } else {  // 32..255: Value::simple() refuses 24..31
        out.push_back(0xf8);
        out.push_back(s);
      }
      break;
    }
    case Kind::Float: encode_float(out, *v.as_float()); break;
  }
}

}  // namespace

void encode_head(std::vector<std::uint8_t>& out, std::uint8_t major_type, std::uint64_t argument) {
  const auto mt = static_cast<std::uint8_t>(major_type << 5);
  if (argument < 24) {
    out.push_back(static_cast<std::uint8_t>(mt | argument));
  } else if (argument <= 0xff) {
    out.push_back(mt | 24);
    put_be(out, argument, 1);
  } else if (argument <= 0xffff) {
    out.push_back(mt | 25);
    put_be(out, argument, 2);
  } else if (argument <= 0xffffffffULL) {
    out.push_back(mt | 26);
    put_be(out, argument, 4);
  } else {
    out.push_back(mt | 27);
    put_be(out, argument, 8);
  }
}

void encode_to(std::vector<std::uint8_t>& out, const Value& value, const EncodeOptions& options) {
  encode_value(out, value, options.map_order);
}

std::vector<std::uint8_t> encode(const Value& value, const EncodeOptions& options) {
  std::vector<std::uint8_t> out;
  encode_value(out, value, options.map_order);
  return out;
}

std::vector<std::uint8_t> encode_canonical(const Value& value) {
  return encode(value, EncodeOptions{MapOrder::Canonical});
}

}  // namespace enclaver::cbor
