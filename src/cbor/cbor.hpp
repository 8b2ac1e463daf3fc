// CBOR (RFC 8949): a value type, a decoder with limits and a preferred /
// canonical encoder. Sans-IO: bytes in, bytes out.
//
// Values. Every data item of the generic data model (RFC 8949 §2):
//   unsigned integers 0..2^64-1, negative integers -1..-2^64 (kept as the
//   encoded argument n, value = -1 - n), byte strings, UTF-8 text strings,
//   arrays, maps (a list of entries in decoded / insertion order; keys may be
//   any value), tags (number + one content value; tags 2/3 bignums and the
//   others stay tags, nothing is interpreted), floats (held as a double: every
//   half and single converts to a double exactly, NaN payloads included) and
//   simple values (false, true, null, undefined, and the unassigned ones).
// Equality is structural and exact: floats compare by bit pattern (so NaN
// equals the same NaN, and 0.0 differs from -0.0), maps by their entries in
// order; 1 and 1.0 differ.
//
// Decoding (decode(), decode_prefix()). Accepts every well-formed item,
// whatever argument width it uses, indefinite lengths included (unless
// DecodeOptions::allow_indefinite is false). Rejects, with an error that
// starts "offset N: " (N = the first byte that is wrong, or the input size
// when the input ends too early):
//   - input that ends inside an item (a proper prefix of an item always fails
//     at its own length);
//   - reserved additional information 28..30, additional information 31 on
//     major types 0, 1 and 6, a break outside an indefinite-length item, a
//     two-byte simple value below 32, an indefinite string chunk of another
//     type or itself indefinite, a break where a map value is due;
//   - text that is not UTF-8 (offset of the first bad byte);
//   - duplicate map keys, unless allowed (offset of the repeated key);
//   - anything beyond the limits: nesting depth, item count, string size;
//   - trailing bytes after the item (decode() only).
// Nothing is allocated by a length field beyond what the input can hold: a
// string's length is checked against the bytes left before it is copied, and
// an array or map is reserved for at most one element per remaining byte (and
// at most 1024 elements; longer ones grow as their elements arrive). The
// memory of a decoded value is thus O(input size), and the recursion is
// bounded by max_depth. Errors are values; only std::bad_alloc can escape.
//
// Encoding (encode()). Definite lengths, every argument in its shortest form,
// floats in the shortest of half/single/double that keeps the value bit for
// bit (RFC 8949 §4.2 preferred serialization). Maps are written either in
// insertion order (what serde_cbor does for Rust structs: field declaration
// order) or in the core deterministic order of §4.2.1 (keys sorted bytewise
// by their own deterministic encoding). Encoding cannot fail: every Value is
// encodable by construction (the factories refuse what is not).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.hpp"

namespace enclaver::cbor {

enum class Kind : std::uint8_t { Unsigned, Negative, Bytes, Text, Array, Map, Tag, Simple, Float };
// "unsigned integer", "negative integer", "byte string", "text string",
// "array", "map", "tag", "simple value", "float".
std::string_view kind_name(Kind kind);

class Value;
struct MapEntry;
using Bytes = std::vector<std::uint8_t>;
using Array = std::vector<Value>;
using Map = std::vector<MapEntry>;

// Simple values with a meaning (RFC 8949 §3.3).
inline constexpr std::uint8_t kSimpleFalse = 20;
inline constexpr std::uint8_t kSimpleTrue = 21;
inline constexpr std::uint8_t kSimpleNull = 22;
inline constexpr std::uint8_t kSimpleUndefined = 23;

// A copyable owning pointer (deep copy), for the one recursive member (a tag's
// content).
template <class T>
class Box {
 public:
  explicit Box(T value);
  Box(const Box& other);
  Box(Box&&) noexcept = default;
  Box& operator=(const Box& other);
  Box& operator=(Box&&) noexcept = default;
  ~Box();
  T& operator*() { return *p_; }
  const T& operator*() const { return *p_; }
  T* operator->() { return p_.get(); }
  const T* operator->() const { return p_.get(); }

 private:
  std::unique_ptr<T> p_;
};

class Value {
 public:
  struct NegativeInt {
    std::uint64_t argument;  // the value is -1 - argument
    friend bool operator==(const NegativeInt&, const NegativeInt&) = default;
  };
  struct Tag {
    std::uint64_t number;
    Box<Value> content;
  };
  struct Simple {
    std::uint8_t value;  // 0..19, 20..23 (false/true/null/undefined) or 32..255
    friend bool operator==(const Simple&, const Simple&) = default;
  };
  struct Float {
    double value;
    friend bool operator==(const Float& a, const Float& b);  // bit pattern
  };

  Value();  // null
  Value(const Value&);
  Value(Value&&) noexcept;
  Value& operator=(const Value&);
  Value& operator=(Value&&) noexcept;
  ~Value();

  static Value unsigned_integer(std::uint64_t value);
  static Value negative(std::uint64_t argument);  // -1 - argument
  static Value integer(std::int64_t value);       // unsigned or negative as the sign says
  static Value bytes(Bytes value);
  static Value bytes(std::span<const std::uint8_t> value);
  // Throws std::invalid_argument if `value` is not UTF-8.
  static Value text(std::string value);
  static Value text(std::string_view value) { return text(std::string(value)); }
  static Value text(const char* value) { return text(std::string(value)); }
  static Value array(Array items);
  static Value array();  // empty
  static Value map(Map entries);
  static Value map();  // empty
  static Value tag(std::uint64_t number, Value content);
  // Throws std::invalid_argument for 24..31, which have no encoding.
  static Value simple(std::uint8_t value);
  static Value boolean(bool value);
  static Value null();
  static Value undefined();
  static Value floating(double value);

  Kind kind() const;
  bool is(Kind k) const { return kind() == k; }
  bool is_null() const;
  bool is_integer() const { return is(Kind::Unsigned) || is(Kind::Negative); }

  // Typed access: empty / nullptr when the value is of another kind.
  std::optional<std::uint64_t> as_unsigned() const;
  std::optional<std::int64_t> as_int64() const;      // also empty when out of range
  std::optional<std::uint64_t> negative_argument() const;
  std::optional<bool> as_bool() const;
  std::optional<double> as_float() const;
  std::optional<std::uint8_t> simple_value() const;  // includes false/true/null/undefined
  const Bytes* as_bytes() const;
  const std::string* as_text() const;
  const Array* as_array() const;
  Array* as_array();
  const Map* as_map() const;
  Map* as_map();
  std::optional<std::uint64_t> tag_number() const;
  const Value* tag_content() const;

  // Map lookup: the value of the first entry whose key is the text `key`
  // (resp. the integer `key`); nullptr if there is none or this is not a map.
  const Value* find(std::string_view key) const;
  const Value* find_integer(std::int64_t key) const;

  friend bool operator==(const Value& a, const Value& b);

 private:
  using Storage = std::variant<std::uint64_t, NegativeInt, Bytes, std::string, Array, Map, Tag, Simple, Float>;
  explicit Value(Storage s);
  friend struct ValueAccess;  // the decoder builds text without validating twice
  Storage s_;
};

struct MapEntry {
  Value key;
  Value value;
  friend bool operator==(const MapEntry&, const MapEntry&) = default;
};

// RFC 8949 §8 diagnostic notation, for messages and tests: 1, -1, h'0102',
// "text" (JSON-style escapes), [1, 2], {1: 2}, 24(h'..'), 1.5, NaN,
// Infinity, false, null, undefined, simple(16).
std::string diagnostic(const Value& value);

// --- decoding --------------------------------------------------------------

struct DecodeOptions {
  // Nesting: the top-level item is at depth 1, the elements of a top-level
  // array at depth 2, and so on; an item deeper than this is refused.
  std::size_t max_depth = 64;
  // Data items in total (every array element, map key and map value, tag
  // content, and the top item).
  std::size_t max_items = 1u << 20;
  // Bytes in one byte or text string (indefinite strings: all chunks together).
  std::size_t max_string_size = 16u << 20;
  // Indefinite-length strings, arrays and maps (AWS attestation documents
  // from 2025 on use an indefinite-length map).
  bool allow_indefinite = true;
  // RFC 8949 §5.6: a map with two equal keys is not valid.
  bool allow_duplicate_keys = false;
};

struct Decoded {
  Value value;
  std::size_t size = 0;  // bytes the item took
};

// Exactly one item: trailing bytes are an error.
Result<Value> decode(std::span<const std::uint8_t> data, const DecodeOptions& options = {});
// The item at the start of `data`; the rest is left alone (CBOR sequences).
Result<Decoded> decode_prefix(std::span<const std::uint8_t> data, const DecodeOptions& options = {});

// --- encoding --------------------------------------------------------------

enum class MapOrder {
  Insertion,  // as the Map holds them (serde_cbor's struct field order)
  Canonical,  // RFC 8949 §4.2.1: sorted bytewise by the keys' encodings
};

struct EncodeOptions {
  MapOrder map_order = MapOrder::Insertion;
};

std::vector<std::uint8_t> encode(const Value& value, const EncodeOptions& options = {});
// encode() with MapOrder::Canonical: the core deterministic encoding.
std::vector<std::uint8_t> encode_canonical(const Value& value);
// Appends the encoding of `value` to `out`.
void encode_to(std::vector<std::uint8_t>& out, const Value& value, const EncodeOptions& options = {});

// The head of a data item in its shortest form: major type 0..7 and argument
// (RFC 8949 §3.1). For callers that stream an item without building a Value.
void encode_head(std::vector<std::uint8_t>& out, std::uint8_t major_type, std::uint64_t argument);

// --- Box (needs the complete Value) ------------------------------------------

template <class T>
Box<T>::Box(T value) : p_(std::make_unique<T>(std::move(value))) {}
template <class T>
Box<T>::Box(const Box& other) : p_(std::make_unique<T>(*other.p_)) {}
template <class T>
Box<T>& Box<T>::operator=(const Box& other) {
  if (this != &other) p_ = std::make_unique<T>(*other.p_);
  return *this;
}
template <class T>
Box<T>::~Box() = default;

inline bool operator==(const Value::Tag& a, const Value::Tag& b) {
  return a.number == b.number && *a.content == *b.content;
}

}  // namespace enclaver::cbor
