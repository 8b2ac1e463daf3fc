// The CBOR value type: factories, typed access, equality, diagnostic notation.
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "cbor/cbor.hpp"
#include "common/text.hpp"

namespace enclaver::cbor {

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::Unsigned: return "unsigned integer";
    case Kind::Negative: return "negative integer";
    case Kind::Bytes: return "byte string";
    case Kind::Text: return "text string";
    case Kind::Array: return "array";
    case Kind::Map: return "map";
    case Kind::Tag: return "tag";
    case Kind::Simple: return "simple value";
    case Kind::Float: return "float";
  }
  return "?";
}

bool operator==(const Value::Float& a, const Value::Float& b) {
  std::uint64_t x = 0, y = 0;
  std::memcpy(&x, &a.value, sizeof x);
  std::memcpy(&y, &b.value, sizeof y);
  return x == y;
}

Value::Value() : s_(Simple{kSimpleNull}) {}
Value::Value(Storage s) : s_(std::move(s)) {}
Value::Value(const Value&) = default;
Value::Value(Value&&) noexcept = default;
Value& Value::operator=(const Value&) = default;
Value& Value::operator=(Value&&) noexcept = default;
Value::~Value() = default;

Value Value::unsigned_integer(std::uint64_t value) { return Value(Storage(std::in_place_index<0>, value)); }
Value Value::negative(std::uint64_t argument) { return Value(Storage(NegativeInt{argument})); }
Value Value::integer(std::int64_t value) {
  if (value >= 0) return unsigned_integer(static_cast<std::uint64_t>(value));
  // -1 - value, without overflow for INT64_MIN.
  return negative(static_cast<std::uint64_t>(-(value + 1)));
}
Value Value::bytes(Bytes value) { return Value(Storage(std::move(value))); }
Value Value::bytes(std::span<const std::uint8_t> value) { return bytes(Bytes(value.begin(), value.end())); }
Value Value::text(std::string value) {
  if (auto bad = text::first_invalid_utf8(value)) {
    throw std::invalid_argument("CBOR text string is not UTF-8 (byte " + std::to_string(*bad) + ")");
  }
  return Value(Storage(std::in_place_index<3>, std::move(value)));
}
Value Value::array(Array items) { return Value(Storage(std::move(items))); }
Value Value::array() { return array(Array{}); }
Value Value::map(Map entries) { return Value(Storage(std::move(entries))); }
Value Value::map() { return map(Map{}); }
Value Value::tag(std::uint64_t number, Value content) { return Value(Storage(Tag{number, Box<Value>(std::move(content))})); }
Value Value::simple(std::uint8_t value) {
  if (value >= 24 && value < 32) {
    throw std::invalid_argument("CBOR simple value " + std::to_string(value) + " has no encoding (24..31 are reserved)");
  }
  return Value(Storage(Simple{value}));
}
Value Value::boolean(bool value) { return Value(Storage(Simple{value ? kSimpleTrue : kSimpleFalse})); }
Value Value::null() { return Value(Storage(Simple{kSimpleNull})); }
Value Value::undefined() { return Value(Storage(Simple{kSimpleUndefined})); }
Value Value::floating(double value) { return Value(Storage(Float{value})); }

Kind Value::kind() const { return static_cast<Kind>(s_.index()); }

bool Value::is_null() const {
  const auto* s = std::get_if<Simple>(&s_);
  return s && s->value == kSimpleNull;
}

std::optional<std::uint64_t> Value::as_unsigned() const {
  if (const auto* v = std::get_if<0>(&s_)) return *v;
  return std::nullopt;
}

std::optional<std::int64_t> Value::as_int64() const {
  if (const auto* v = std::get_if<0>(&s_)) {
    if (*v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(*v);
  }
  if (const auto* n = std::get_if<NegativeInt>(&s_)) {
    if (n->argument > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return -1 - static_cast<std::int64_t>(n->argument);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> Value::negative_argument() const {
  if (const auto* n = std::get_if<NegativeInt>(&s_)) return n->argument;
  return std::nullopt;
}

std::optional<bool> Value::as_bool() const {
  if (const auto* s = std::get_if<Simple>(&s_)) {
    if (s->value == kSimpleFalse) return false;
    if (s->value == kSimpleTrue) return true;
  }
  return std::nullopt;
}

std::optional<double> Value::as_float() const {
  if (const auto* f = std::get_if<Float>(&s_)) return f->value;
  return std::nullopt;
}

std::optional<std::uint8_t> Value::simple_value() const {
  if (const auto* s = std::get_if<Simple>(&s_)) return s->value;
  return std::nullopt;
}

const Bytes* Value::as_bytes() const { return std::get_if<Bytes>(&s_); }
const std::string* Value::as_text() const { return std::get_if<std::string>(&s_); }
const Array* Value::as_array() const { return std::get_if<Array>(&s_); }
Array* Value::as_array() { return std::get_if<Array>(&s_); }
const Map* Value::as_map() const { return std::get_if<Map>(&s_); }
Map* Value::as_map() { return std::get_if<Map>(&s_); }

std::optional<std::uint64_t> Value::tag_number() const {
  if (const auto* t = std::get_if<Tag>(&s_)) return t->number;
  return std::nullopt;
}

const Value* Value::tag_content() const {
  if (const auto* t = std::get_if<Tag>(&s_)) return &*t->content;
  return nullptr;
}

const Value* Value::find(std::string_view key) const {
  const Map* m = as_map();
  if (!m) return nullptr;
  for (const MapEntry& e : *m) {
    const std::string* k = e.key.as_text();
    if (k && *k == key) return &e.value;
  }
  return nullptr;
}

const Value* Value::find_integer(std::int64_t key) const {
  const Map* m = as_map();
  if (!m) return nullptr;
  for (const MapEntry& e : *m) {
    if (e.key.is_integer() && e.key.as_int64() == key) return &e.value;
  }
  return nullptr;
}

bool operator==(const Value& a, const Value& b) { return a.s_ == b.s_; }

// --- diagnostic notation -------------------------------------------------------

namespace {

void hex_to(std::string& out, std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
}

void quoted_to(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          static constexpr char kDigits[] = "0123456789abcdef";
          out += "\\u00";
          out += kDigits[u >> 4];
          out += kDigits[u & 15];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void float_to(std::string& out, double d) {
  if (std::isnan(d)) {
    out += "NaN";
    return;
  }
  if (std::isinf(d)) {
    out += d < 0 ? "-Infinity" : "Infinity";
    return;
  }
  // As RFC 8949 writes them: the shortest digits that give the value back,
  // in fixed notation for moderate exponents ("100000.0", "0.00006103515625")
  // and scientific otherwise ("1.0e+300", "5.960464477539063e-8").
  char buf[400];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string s(buf, r.ptr);
  const std::size_t e = s.find('e');
  const int exp10 = std::stoi(s.substr(e + 1));
  if (exp10 >= -5 && exp10 <= 20) {
    r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
    s.assign(buf, r.ptr);
    if (s.find('.') == std::string::npos) s += ".0";
    out += s;
    return;
  }
  std::string mantissa = s.substr(0, e);
  if (mantissa.find('.') == std::string::npos) mantissa += ".0";
  out += mantissa;
  out += 'e';
  out += exp10 < 0 ? '-' : '+';
  out += std::to_string(exp10 < 0 ? -exp10 : exp10);
}

void diagnostic_to(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Kind::Unsigned: out += std::to_string(*v.as_unsigned()); break;
    case Kind::Negative: {
      const std::uint64_t n = *v.negative_argument();
      if (n == std::numeric_limits<std::uint64_t>::max()) {
        out += "-18446744073709551616";
      } else {
        out += '-';
        out += std::to_string(n + 1);
      }
      break;
    }
    case Kind::Bytes:
      out += "h'";
      hex_to(out, *v.as_bytes());
      out += '\'';
      break;
    case Kind::Text: quoted_to(out, *v.as_text()); break;
    case Kind::Array: {
      out += '[';
      bool first = true;
      for (const Value& e : *v.as_array()) {
        if (!first) out += ", ";
        first = false;
        diagnostic_to(out, e);
      }
      out += ']';
      break;
    }
    case Kind::Map: {
      out += '{';
      bool first = true;
      for (const MapEntry& e : *v.as_map()) {
        if (!first) out += ", ";
        first = false;
        diagnostic_to(out, e.key);
        out += ": ";
        diagnostic_to(out, e.value);
      }
      out += '}';
      break;
    }
    case Kind::Tag:
      out += std::to_string(*v.tag_number());
      out += '(';
      diagnostic_to(out, *v.tag_content());
      out += ')';
      break;
    case Kind::Simple:
      switch (*v.simple_value()) {
        case kSimpleFalse: out += "false"; break;
        case kSimpleTrue: out += "true"; break;
        case kSimpleNull: out += "null"; break;
        case kSimpleUndefined: out += "undefined"; break;
        default: out += "simple(" + std::to_string(*v.simple_value()) + ")";
      }
      break;
    case Kind::Float: float_to(out, *v.as_float()); break;
  }
}

}  // namespace

std::string diagnostic(const Value& value) {
  std::string out;
  diagnostic_to(out, value);
  return out;
}

}  // namespace enclaver::cbor
