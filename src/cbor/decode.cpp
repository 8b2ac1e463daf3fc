// The CBOR decoder: recursive descent over a byte span, with limits.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <string>

#include "cbor/cbor.hpp"
#include "common/text.hpp"

namespace enclaver::cbor {

// Builds values the decoder has already checked (text validated once).
struct ValueAccess {
  static Value text_unchecked(std::string s) { return Value(Value::Storage(std::in_place_index<3>, std::move(s))); }
};

namespace {

// IEEE 754 half / single bit patterns to a double, exactly (NaN payloads and
// signalling NaNs included: no hardware conversion, which would quieten them).
double double_from_bits(std::uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

double from_half(std::uint16_t h) {
  const std::uint64_t sign = static_cast<std::uint64_t>(h >> 15) << 63;
  const unsigned exp = (h >> 10) & 0x1f;
  const std::uint64_t mant = h & 0x3ff;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24, exact in a double
    const double magnitude = std::ldexp(static_cast<double>(mant), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exp == 31) return double_from_bits(sign | (0x7ffULL << 52) | (mant << 42));
  return double_from_bits(sign | (static_cast<std::uint64_t>(exp + 1008) << 52) | (mant << 42));
}

double from_single(std::uint32_t f) {
  const std::uint64_t sign = static_cast<std::uint64_t>(f >> 31) << 63;
  const unsigned exp = (f >> 23) & 0xff;
  const std::uint64_t mant = f & 0x7fffff;
  if (exp == 0) {
    const double magnitude = std::ldexp(static_cast<double>(mant), -149);
    return sign ? -magnitude : magnitude;
  }
  if (exp == 255) return double_from_bits(sign | (0x7ffULL << 52) | (mant << 29));
  return double_from_bits(sign | (static_cast<std::uint64_t>(exp + 896) << 52) | (mant << 29));
}

std::string n(std::uint64_t v) { return std::to_string(v); }

// Diagnostic notation for a message: at most 80 bytes, cut at a UTF-8
// character boundary (diagnostic() escapes control characters already).
std::string shortened(std::string s) {
  if (s.size() <= 80) return s;
  std::size_t cut = 77;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s + "...";
}

// Elements reserved up front for a definite-length array or map; larger ones
// grow as their elements arrive.
constexpr std::uint64_t kMaxReserve = 1024;

struct Failure {
  std::size_t offset;
  std::string what;
};

class Decoder {
 public:
  Decoder(std::span<const std::uint8_t> data, const DecodeOptions& options) : d_(data), opt_(options) {}

  Value item(std::size_t depth) {
    const std::size_t start = pos_;
    const Head h = head();
    if (h.major == 7 && h.indefinite) fail(start, "a break (0xff) outside an indefinite-length item");
    return item_after_head(h, start, depth);
  }

  std::size_t pos() const { return pos_; }

 private:
  struct Head {
    std::uint8_t major;
    std::uint8_t info;  // additional information 0..31
    std::uint64_t argument;
    bool indefinite;  // additional information 31
  };

  [[noreturn]] void fail(std::size_t offset, std::string what) { throw Failure{offset, std::move(what)}; }

  std::size_t remaining() const { return d_.size() - pos_; }

  // The input ends at d_.size(): report there, naming what was being read.
  void need(std::size_t count, std::size_t item_start, const char* what) {
    if (count > remaining()) {
      fail(d_.size(), "the input ends inside " + std::string(what) + " of the item at offset " + n(item_start) +
                          " (" + n(count) + " bytes needed, " + n(remaining()) + " left)");
    }
  }

  Head head() {
    const std::size_t start = pos_;
    if (pos_ >= d_.size()) fail(d_.size(), "the input ends where a data item is expected");
    const std::uint8_t ib = d_[pos_++];
    Head h{static_cast<std::uint8_t>(ib >> 5), static_cast<std::uint8_t>(ib & 0x1f), 0, false};
    if (h.info < 24) {
      h.argument = h.info;
    } else if (h.info <= 27) {
      const std::size_t len = std::size_t{1} << (h.info - 24);
      need(len, start, "the argument");
      for (std::size_t i = 0; i < len; ++i) h.argument = (h.argument << 8) | d_[pos_++];
    } else if (h.info <= 30) {
      fail(start, "initial byte 0x" + hex8(ib) + ": additional information " + n(h.info) +
                      " is reserved (not well-formed)");
    } else {
      h.indefinite = true;
      if (h.major == 0 || h.major == 1 || h.major == 6) {
        fail(start, "initial byte 0x" + hex8(ib) + ": a " + std::string(major_name(h.major)) +
                        " cannot have an indefinite length (additional information 31)");
      }
    }
    return h;
  }

  static std::string hex8(std::uint8_t b) {
    static constexpr char kDigits[] = "0123456789abcdef";
    return {kDigits[b >> 4], kDigits[b & 15]};
  }

  static std::string_view major_name(std::uint8_t major) {
    static constexpr std::string_view kNames[] = {"unsigned integer", "negative integer", "byte string",
                                                  "text string",      "array",            "map",
                                                  "tag",              "simple value or float"};
    return kNames[major];
  }

  void count_item(std::size_t start, std::size_t depth) {
    if (++items_ > opt_.max_items) {
      fail(start, "more than " + n(opt_.max_items) + " data items (the limit)");
    }
    if (depth > opt_.max_depth) {
      fail(start, "items nested more than " + n(opt_.max_depth) + " levels deep (the limit)");
    }
  }

  void check_indefinite_allowed(std::size_t start, const char* what) {
    if (!opt_.allow_indefinite) fail(start, std::string("an indefinite-length ") + what + " (not accepted here)");
  }

  Value item_after_head(const Head& h, std::size_t start, std::size_t depth) {
    count_item(start, depth);
    switch (h.major) {
      case 0: return Value::unsigned_integer(h.argument);
      case 1: return Value::negative(h.argument);
      case 2:
      case 3: return string(h, start);
      case 4: return array(h, start, depth);
      case 5: return map(h, start, depth);
      case 6: return Value::tag(h.argument, item(depth + 1));
      default: return simple_or_float(h, start);
    }
  }

  // Appends `len` bytes of string data; the caller checked they are there.
  void take(std::uint64_t len, std::string& out) {
    out.append(reinterpret_cast<const char*>(d_.data() + pos_), static_cast<std::size_t>(len));
    pos_ += static_cast<std::size_t>(len);
  }

  void check_string_size(std::uint64_t size, std::size_t start) {
    if (size > opt_.max_string_size) {
      fail(start, "a string of " + n(size) + " bytes; the limit is " + n(opt_.max_string_size));
    }
  }

  void check_utf8(std::string_view s, std::size_t at) {
    if (auto bad = text::first_invalid_utf8(s)) fail(at + *bad, "a text string that is not valid UTF-8");
  }

  Value string(const Head& h, std::size_t start) {
    const bool is_text = h.major == 3;
    std::string data;
    if (!h.indefinite) {
      if (h.argument > remaining()) {
        fail(d_.size(), "the input ends inside the " + std::string(major_name(h.major)) + " at offset " + n(start) +
                            " (" + n(h.argument) + " bytes declared, " + n(remaining()) + " left)");
      }
      check_string_size(h.argument, start);
      const std::size_t at = pos_;
      take(h.argument, data);
      if (is_text) check_utf8(data, at);
    } else {
      check_indefinite_allowed(start, is_text ? "text string" : "byte string");
      for (;;) {
        const std::size_t chunk_start = pos_;
        const Head c = head();
        if (c.major == 7 && c.indefinite) break;
        if (c.major != h.major) {
          fail(chunk_start, "a chunk of the indefinite-length " + std::string(major_name(h.major)) + " at offset " +
                                n(start) + " is a " + std::string(major_name(c.major)) + "; chunks must be " +
                                std::string(major_name(h.major)) + "s");
        }
        if (c.indefinite) {
          fail(chunk_start, "a chunk of the indefinite-length " + std::string(major_name(h.major)) + " at offset " +
                                n(start) + " is itself indefinite");
        }
        if (c.argument > remaining()) {
          fail(d_.size(), "the input ends inside a chunk at offset " + n(chunk_start) + " (" + n(c.argument) +
                              " bytes declared, " + n(remaining()) + " left)");
        }
        check_string_size(data.size() + c.argument, start);
        const std::size_t at = pos_;
        const std::size_t before = data.size();
        take(c.argument, data);
        // Each chunk is a text string of its own: no character spans two.
        if (is_text) check_utf8(std::string_view(data).substr(before), at);
      }
    }
    if (is_text) return ValueAccess::text_unchecked(std::move(data));
    return Value::bytes(Bytes(data.begin(), data.end()));
  }

  bool at_break() const { return pos_ < d_.size() && d_[pos_] == 0xff; }

  Value array(const Head& h, std::size_t start, std::size_t depth) {
    Array items;
    if (!h.indefinite) {
      // The count is not trusted (a short input fails where it ends, or at
      // the first misplaced byte): reserve at most one element per byte left
      // and at most kMaxReserve, so that the containers open on the current
      // path cannot together reserve much more than the input holds.
      items.reserve(static_cast<std::size_t>(std::min<std::uint64_t>({h.argument, remaining(), kMaxReserve})));
      for (std::uint64_t i = 0; i < h.argument; ++i) items.push_back(element(start, depth, "array"));
    } else {
      check_indefinite_allowed(start, "array");
      while (!at_break()) items.push_back(element(start, depth, "array"));
      ++pos_;
    }
    return Value::array(std::move(items));
  }

  // An element of a container: a break here is misplaced.
  Value element(std::size_t container, std::size_t depth, const char* what) {
    if (at_break()) {
      fail(pos_, std::string("a break (0xff) inside the definite-length ") + what + " at offset " + n(container));
    }
    return item(depth + 1);
  }

  Value map(const Head& h, std::size_t start, std::size_t depth) {
    Map entries;
    // Keys are equal exactly when their deterministic encodings are.
    std::set<std::vector<std::uint8_t>> seen;
    auto entry = [&] {
      const std::size_t key_at = pos_;
      Value key = item(depth + 1);
      if (!opt_.allow_duplicate_keys && !seen.insert(encode_canonical(key)).second) {
        fail(key_at, "the map at offset " + n(start) + " has the key " + shortened(diagnostic(key)) +
                         " more than once");
      }
      if (h.indefinite && at_break()) {
        fail(pos_, "a break (0xff) where the value of a map entry is expected (map at offset " + n(start) + ")");
      }
      Value value = element(start, depth, "map");
      entries.push_back(MapEntry{std::move(key), std::move(value)});
    };
    if (!h.indefinite) {
      // Every entry takes at least two bytes (see array()).
      entries.reserve(static_cast<std::size_t>(std::min<std::uint64_t>({h.argument, remaining() / 2, kMaxReserve})));
      for (std::uint64_t i = 0; i < h.argument; ++i) {
        if (at_break()) fail(pos_, "a break (0xff) inside the definite-length map at offset " + n(start));
        entry();
      }
    } else {
      check_indefinite_allowed(start, "map");
      while (!at_break()) entry();
      ++pos_;
    }
    return Value::map(std::move(entries));
  }

  Value simple_or_float(const Head& h, std::size_t start) {
    switch (h.info) {
      case 24:
        if (h.argument < 32) {
          fail(start + 1, "simple value " + n(h.argument) + " in the two-byte form (0xf8 takes 32..255 only)");
        }
        return Value::simple(static_cast<std::uint8_t>(h.argument));
      case 25: return Value::floating(from_half(static_cast<std::uint16_t>(h.argument)));
      case 26: return Value::floating(from_single(static_cast<std::uint32_t>(h.argument)));
      case 27: return Value::floating(double_from_bits(h.argument));
      default: return Value::simple(static_cast<std::uint8_t>(h.info));  // 0..23
    }
  }

  std::span<const std::uint8_t> d_;
  const DecodeOptions& opt_;
  std::size_t pos_ = 0;
  std::size_t items_ = 0;
};

}  // namespace

Result<Decoded> decode_prefix(std::span<const std::uint8_t> data, const DecodeOptions& options) {
  Decoder decoder(data, options);
  try {
    Value v = decoder.item(1);
    return Decoded{std::move(v), decoder.pos()};
  } catch (const Failure& f) {
    return make_error("offset " + std::to_string(f.offset) + ": " + f.what);
  }
}

Result<Value> decode(std::span<const std::uint8_t> data, const DecodeOptions& options) {
  auto r = decode_prefix(data, options);
  if (!r) return r.error();
  if (r->size != data.size()) {
    return make_error("offset " + std::to_string(r->size) + ": " + std::to_string(data.size() - r->size) +
                      " bytes after the end of the data item (one item expected)");
  }
  return std::move(r->value);
}

}  // namespace enclaver::cbor
