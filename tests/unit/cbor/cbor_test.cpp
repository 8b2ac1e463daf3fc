// The CBOR codec beyond Appendix A: argument widths, floats, text, limits,
// hostile lengths, truncation at every offset, error offsets, duplicate keys,
// map order (insertion vs canonical), the NSM wire examples, the value API.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cbor/cbor.hpp"
#include "tests/support/bytes.hpp"

namespace enclaver::cbor {
namespace {

using enclaver::testing::hex;
using enclaver::testing::unhex;
using enclaver::testing::bytes;
using enclaver::testing::pattern;

std::vector<std::uint8_t> text_bytes(std::string_view s) { return {s.begin(), s.end()}; }

// The offset an error message starts with ("offset N: ..."), or -1.
long error_offset(const std::string& message) {
  if (message.rfind("offset ", 0) != 0) return -1;
  return std::stol(message.substr(7));
}

template <class T>
long error_offset(const Result<T>& r) {
  return r ? -1 : error_offset(r.error().message);
}

Value t(const char* s) { return Value::text(s); }
Value u(std::uint64_t v) { return Value::unsigned_integer(v); }

// --- integers -------------------------------------------------------------

TEST(CborIntegers, ShortestArgumentAtEveryBoundary) {
  const std::pair<std::uint64_t, const char*> cases[] = {
      {0, "00"},
      {23, "17"},
      {24, "1818"},
      {255, "18ff"},
      {256, "190100"},
      {65535, "19ffff"},
      {65536, "1a00010000"},
      {0xffffffffULL, "1affffffff"},
      {0x100000000ULL, "1b0000000100000000"},
      {std::numeric_limits<std::uint64_t>::max(), "1bffffffffffffffff"},
  };
  for (const auto& [v, h] : cases) {
    EXPECT_EQ(hex(encode(u(v))), h);
    auto d = decode(unhex(h));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->as_unsigned(), v);
  }
}

TEST(CborIntegers, NegativeRangeDownToMinus2To64) {
  EXPECT_EQ(hex(encode(Value::integer(-1))), "20");
  EXPECT_EQ(hex(encode(Value::integer(-24))), "37");
  EXPECT_EQ(hex(encode(Value::integer(-25))), "3818");
  EXPECT_EQ(hex(encode(Value::integer(-256))), "38ff");
  EXPECT_EQ(hex(encode(Value::integer(-257))), "390100");
  EXPECT_EQ(hex(encode(Value::integer(std::numeric_limits<std::int64_t>::min()))), "3b7fffffffffffffff");
  const Value min = Value::negative(std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(hex(encode(min)), "3bffffffffffffffff");
  EXPECT_EQ(diagnostic(min), "-18446744073709551616");
  EXPECT_FALSE(min.as_int64());
  EXPECT_EQ(Value::integer(std::numeric_limits<std::int64_t>::min()).as_int64(),
            std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(Value::integer(-7).as_int64(), -7);
  EXPECT_FALSE(u(1ULL << 63).as_int64());
  EXPECT_EQ(u((1ULL << 63) - 1).as_int64(), std::numeric_limits<std::int64_t>::max());
}

TEST(CborIntegers, NonPreferredArgumentsDecodeAndReencodeShortest) {
  for (const char* h : {"1800", "190000", "1a00000000", "1b0000000000000000"}) {
    auto d = decode(unhex(h));
    ASSERT_TRUE(d) << h;
    EXPECT_EQ(*d, u(0));
    EXPECT_EQ(hex(encode(*d)), "00");
  }
  auto d = decode(unhex("3b0000000000000063"));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->as_int64(), -100);
  EXPECT_EQ(hex(encode(*d)), "3863");
  // Non-preferred string and container lengths too.
  d = decode(unhex("5800"));
  ASSERT_TRUE(d);
  EXPECT_EQ(hex(encode(*d)), "40");
  d = decode(unhex("99000101"));
  ASSERT_TRUE(d);
  EXPECT_EQ(hex(encode(*d)), "8101");
}

TEST(CborIntegers, EncodeHead) {
  std::vector<std::uint8_t> out;
  encode_head(out, 4, 48);
  encode_head(out, 2, 0x1234);
  encode_head(out, 7, 20);
  EXPECT_EQ(hex(out), "9830591234f4");
}

// --- floats ---------------------------------------------------------------

double from_bits(std::uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}
std::uint64_t bits_of(double d) {
  std::uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}

TEST(CborFloats, ShortestFormThatKeepsTheValue) {
  const std::pair<double, const char*> cases[] = {
      {1.0, "f93c00"},
      {-2.0, "f9c000"},
      {65504.0, "f97bff"},                   // largest half
      {65536.0, "fa47800000"},               // beyond half's exponent range
      {65505.0, "fa477fe100"},               // needs single's mantissa
      {std::ldexp(1.0, -24), "f90001"},      // smallest half subnormal
      {std::ldexp(3.0, -24), "f90003"},      // half subnormal
      {std::ldexp(1.0, -14), "f90400"},      // smallest half normal
      {std::ldexp(1.0, -25), "fa33000000"},  // below half, a single normal
      {std::ldexp(1.0, -149), "fa00000001"}, // smallest single subnormal
      {std::ldexp(1.0, -126), "fa00800000"}, // smallest single normal
      {std::ldexp(1.0, -150), "fb3690000000000000"},
      {std::ldexp(1.0, -1074), "fb0000000000000001"},  // smallest double subnormal
      {0.1, "fb3fb999999999999a"},
      {1.0e300, "fb7e37e43c8800759c"},
      {3.4028234663852886e+38, "fa7f7fffff"},
      {std::numeric_limits<double>::max(), "fb7fefffffffffffff"},
  };
  for (const auto& [v, h] : cases) {
    SCOPED_TRACE(h);
    EXPECT_EQ(hex(encode(Value::floating(v))), h);
    auto d = decode(unhex(h));
    ASSERT_TRUE(d);
    EXPECT_EQ(bits_of(*d->as_float()), bits_of(v));
  }
}

TEST(CborFloats, NanPayloadsAndSignsSurvive) {
  // Signalling NaN in a single: converting with the FPU would quieten it.
  auto d = decode(unhex("fa7f800001"));
  ASSERT_TRUE(d);
  EXPECT_EQ(bits_of(*d->as_float()), 0x7ff0000020000000ULL);
  EXPECT_EQ(hex(encode(*d)), "fa7f800001");
  // A half NaN with a payload, and a negative one.
  for (const char* h : {"f97e01", "f9fe00", "f97c01", "fb7ff8000000000001", "fbfff8000000000000"}) {
    d = decode(unhex(h));
    ASSERT_TRUE(d) << h;
    EXPECT_TRUE(std::isnan(*d->as_float()));
    EXPECT_EQ(hex(encode(*d)), h == std::string("fbfff8000000000000") ? "f9fe00" : h);
  }
  // Half and single subnormals decode exactly.
  d = decode(unhex("f983ff"));  // -(1023 * 2^-24)
  ASSERT_TRUE(d);
  EXPECT_EQ(*d->as_float(), -1023.0 * std::ldexp(1.0, -24));
  EXPECT_EQ(hex(encode(*d)), "f983ff");
  d = decode(unhex("fa807fffff"));  // largest negative single subnormal
  ASSERT_TRUE(d);
  EXPECT_EQ(*d->as_float(), -8388607.0 * std::ldexp(1.0, -149));
  EXPECT_EQ(hex(encode(*d)), "fa807fffff");
}

TEST(CborFloats, EqualityIsBitwise) {
  EXPECT_NE(Value::floating(0.0), Value::floating(-0.0));
  EXPECT_EQ(Value::floating(std::nan("")), Value::floating(std::nan("")));
  EXPECT_NE(Value::floating(from_bits(0x7ff8000000000000ULL)), Value::floating(from_bits(0x7ff8000000000001ULL)));
  EXPECT_NE(Value::floating(1.0), u(1));
  EXPECT_EQ(diagnostic(Value::floating(100.0)), "100.0");
  EXPECT_EQ(diagnostic(Value::floating(1e21)), "1.0e+21");
}

// --- strings --------------------------------------------------------------

TEST(CborText, InvalidUtf8IsRefusedAtTheBadByte) {
  const std::pair<const char*, long> cases[] = {
      {"62c328", 1},        // c3 not followed by a continuation byte
      {"6361c0af", 2},      // overlong "/"
      {"63eda080", 1},      // a surrogate, U+D800
      {"64f4908080", 1},    // above U+10FFFF
      {"6461626380", 4},    // a lone continuation byte
      {"8261616261ff", 5},  // inside an array
      {"7f6161 62c3bc 61ff ff", 7},  // the third chunk
  };
  for (const auto& [h, offset] : cases) {
    auto r = decode(unhex(h));
    ASSERT_FALSE(r) << h;
    EXPECT_EQ(error_offset(r), offset) << r.error().message;
    EXPECT_NE(r.error().message.find("UTF-8"), std::string::npos);
  }
}

TEST(CborText, ACharacterCannotSpanTwoChunks) {
  // "ü" = c3 bc split across two chunks of an indefinite text string.
  auto r = decode(unhex("7f61c361bcff"));
  ASSERT_FALSE(r);
  EXPECT_EQ(error_offset(r), 2);
  // Byte strings may be split anywhere.
  auto ok = decode(unhex("5f41c341bcff"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, Value::bytes(unhex("c3bc")));
}

TEST(CborText, FactoryRefusesInvalidUtf8) {
  EXPECT_THROW(Value::text(std::string("\xc3\x28")), std::invalid_argument);
  EXPECT_NO_THROW(Value::text("\xe6\xb0\xb4"));
}

TEST(CborText, EmbeddedNulAndEscapesInDiagnostic) {
  const Value v = Value::text(std::string("a\0b\n\"", 5));
  EXPECT_EQ(hex(encode(v)), "656100620a22");
  EXPECT_EQ(diagnostic(v), "\"a\\u0000b\\n\\\"\"");
}

// --- limits and hostile lengths ----------------------------------------------

std::vector<std::uint8_t> nested_arrays(std::size_t depth) {
  std::vector<std::uint8_t> out(depth - 1, 0x81);
  out.push_back(0x80);
  return out;
}

TEST(CborLimits, Depth) {
  DecodeOptions o;  // default 64
  EXPECT_TRUE(decode(nested_arrays(64), o));
  auto r = decode(nested_arrays(65), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(error_offset(r), 64);
  EXPECT_NE(r.error().message.find("nested more than 64"), std::string::npos);
  o.max_depth = 3;
  EXPECT_TRUE(decode(unhex("818101"), o));
  EXPECT_EQ(error_offset(decode(unhex("81818101"), o)), 3);
  EXPECT_EQ(error_offset(decode(unhex("c1c1c101"), o)), 3);  // tags nest too
  EXPECT_EQ(error_offset(decode(unhex("a101a101a10101"), o)), 5);
  // A deep hostile input fails quickly, without deep recursion.
  EXPECT_EQ(error_offset(decode(std::vector<std::uint8_t>(100000, 0x9f))), 64);
}

TEST(CborLimits, ItemCount) {
  DecodeOptions o;
  o.max_items = 4;
  EXPECT_TRUE(decode(unhex("83010203"), o));
  EXPECT_EQ(error_offset(decode(unhex("8401020304"), o)), 4);
  EXPECT_EQ(error_offset(decode(unhex("a2010203 04"), o)), 4);  // keys and values count
  EXPECT_EQ(error_offset(decode(unhex("9f01020304ff"), o)), 4);
}

TEST(CborLimits, StringSize) {
  DecodeOptions o;
  o.max_string_size = 3;
  EXPECT_TRUE(decode(unhex("43010203"), o));
  auto r = decode(unhex("4401020304"), o);
  EXPECT_EQ(error_offset(r), 0);
  EXPECT_NE(r.error().message.find("limit"), std::string::npos);
  EXPECT_EQ(error_offset(decode(unhex("8264616263646101"), o)), 1);
  // Indefinite strings: the chunks together.
  EXPECT_TRUE(decode(unhex("5f4101420203ff"), o));
  EXPECT_EQ(error_offset(decode(unhex("5f41014202034104ff"), o)), 0);
}

TEST(CborLimits, IndefiniteLengthsCanBeRefused) {
  DecodeOptions o;
  o.allow_indefinite = false;
  EXPECT_EQ(error_offset(decode(unhex("9fff"), o)), 0);
  EXPECT_EQ(error_offset(decode(unhex("8201bfff"), o)), 2);
  EXPECT_EQ(error_offset(decode(unhex("5fff"), o)), 0);
  EXPECT_EQ(error_offset(decode(unhex("7fff"), o)), 0);
  EXPECT_TRUE(decode(unhex("8201a0"), o));
}

TEST(CborLimits, HugeDeclaredLengthsNeitherAllocateNorHang) {
  // Each declares 2^64-1 (or 2^32-1) elements or bytes but holds almost none.
  for (const char* h : {"9bffffffffffffffff", "bbffffffffffffffff", "5bffffffffffffffff", "7bffffffffffffffff",
                        "9affffffff01", "baffffffff0102", "5affffffff41"}) {
    const auto bytes = unhex(h);
    auto r = decode(bytes);
    ASSERT_FALSE(r) << h;
    EXPECT_EQ(error_offset(r), static_cast<long>(bytes.size())) << r.error().message;
  }
  // A big but honest array of small items is fine.
  std::vector<std::uint8_t> big{0x9a, 0x00, 0x01, 0x00, 0x00};  // 65536 elements
  big.resize(big.size() + 65536, 0x01);
  auto r = decode(big);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->as_array()->size(), 65536u);
}

TEST(CborLimits, TrailingBytes) {
  auto r = decode(unhex("0102"));
  ASSERT_FALSE(r);
  EXPECT_EQ(error_offset(r), 1);
  EXPECT_NE(r.error().message.find("1 bytes after"), std::string::npos);
  auto p = decode_prefix(unhex("83010203 f6 00"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->size, 4u);
  EXPECT_EQ(p->value, Value::array({u(1), u(2), u(3)}));
  EXPECT_EQ(error_offset(decode(std::vector<std::uint8_t>{})), 0);
}

// --- truncation at every offset -----------------------------------------------

TEST(CborTruncation, EveryProperPrefixFailsAtItsLength) {
  const char* items[] = {
      // A map with text keys, bytes, a tag, floats, negatives, nested containers.
      "a5 6161 3903e7 6162 d818 4401020304 6163 83 f93e00 fa47c35000 fb3ff199999999999a"
      " 6164 a2 01 80 20 f5 6165 1bffffffffffffffff",
      // Indefinite items.
      "bf 61 61 9f 01 02 ff 5f 42 0102 41 03 ff 7f 63 616263 ff ff",
      // A COSE_Sign1-like array.
      "84 44 a1013822 a0 58 20 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 40",
      // Long strings (two-byte lengths) and a big integer.
      "82 59 0100 "
      "0000000000000000000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000"
      " c2 49 010000000000000000",
  };
  for (const char* h : items) {
    const auto full = unhex(h);
    ASSERT_TRUE(decode(full)) << h;
    for (std::size_t k = 0; k < full.size(); ++k) {
      const std::vector<std::uint8_t> prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(k));
      auto r = decode(prefix);
      ASSERT_FALSE(r) << "prefix " << k << " of " << h;
      EXPECT_EQ(error_offset(r), static_cast<long>(k)) << r.error().message;
      EXPECT_NE(r.error().message.find("ends"), std::string::npos) << r.error().message;
    }
  }
}

// --- error offsets ------------------------------------------------------------

TEST(CborErrors, OffsetAndReason) {
  struct Case {
    const char* hex;
    long offset;
    const char* words;
  };
  const Case cases[] = {
      {"83 01 1c 03", 2, "additional information 28 is reserved"},
      {"a1 61 61 ff", 3, "break"},
      {"82 01 f8 10", 3, "simple value 16"},
      {"9f 01 3f ff", 2, "cannot have an indefinite length"},
      {"d9 d9f7 ff", 3, "break"},
      {"a2 6161 01 6161 02", 4, "key \"a\" more than once"},
  };
  for (const Case& c : cases) {
    auto r = decode(unhex(c.hex));
    ASSERT_FALSE(r) << c.hex;
    EXPECT_EQ(error_offset(r), c.offset) << r.error().message;
    EXPECT_NE(r.error().message.find(c.words), std::string::npos) << r.error().message;
  }
}

// --- duplicate keys ------------------------------------------------------------

TEST(CborMaps, DuplicateKeysByValue) {
  // 1 written twice, the second time in a longer form: still the same key.
  auto r = decode(unhex("a2 01 00 1801 00"));
  ASSERT_FALSE(r);
  EXPECT_EQ(error_offset(r), 3);
  // Same value with different keys' types: 1, 1.0, "1", h'01' are all distinct.
  EXPECT_TRUE(decode(unhex("a4 01 00 f93c00 00 6131 00 4101 00")));
  // Indefinite text equals definite text.
  EXPECT_EQ(error_offset(decode(unhex("a2 6161 00 7f6161ff 00"))), 4);
  // Nested maps as keys, compared by value.
  EXPECT_EQ(error_offset(decode(unhex("a2 a10102 00 a10102 00"))), 5);
  DecodeOptions o;
  o.allow_duplicate_keys = true;
  auto d = decode(unhex("a2 01 00 01 02"), o);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->as_map()->size(), 2u);
  EXPECT_EQ(d->find_integer(1)->as_unsigned(), 0u);  // the first one
}

TEST(CborMaps, InsertionOrderAndCanonicalOrder) {
  const Value m = Value::map({
      {t("b"), u(1)},
      {t("a"), u(2)},
      {u(100), u(3)},
      {Value::integer(-1), u(4)},
      {t("aa"), u(5)},
      {u(10), u(6)},
      {Value::boolean(false), u(7)},
      {Value::bytes(unhex("00")), u(8)},
      {Value::array({}), u(9)},
  });
  EXPECT_EQ(hex(encode(m)), "a9" "616201" "616102" "186403" "2004" "62616105" "0a06" "f407" "410008" "8009");
  // RFC 8949 §4.2.1: bytewise on the encodings: 0a < 1864 < 20 < 4100 < 6161 <
  // 6162 < 626161 < 80 < f4.
  EXPECT_EQ(hex(encode_canonical(m)), "a9" "0a06" "186403" "2004" "410008" "616102" "616201" "62616105" "8009" "f407");
  // Canonical order reaches nested maps, including inside keys and tags.
  const Value nested = Value::array({Value::tag(7, Value::map({{u(2), u(0)}, {u(1), u(0)}}))});
  EXPECT_EQ(hex(encode_canonical(nested)), "81c7a201000200");
  EXPECT_EQ(hex(encode(nested)), "81c7a202000100");
}

// The NSM wire examples of ../shared/spec/nsm.md §2 (serde_cbor: struct
// fields in declaration order, so insertion order).
TEST(CborMaps, NsmWireExamples) {
  EXPECT_EQ(hex(encode(t("GetRandom"))), "6947657452616e646f6d");
  EXPECT_EQ(hex(encode(Value::map({{t("DescribePCR"), Value::map({{t("index"), u(0)}})}}))),
            "a16b4465736372696265504352a165696e64657800");
  EXPECT_EQ(hex(encode(Value::map(
                {{t("ExtendPCR"), Value::map({{t("index"), u(16)}, {t("data"), Value::bytes(unhex("010203"))}})}}))),
            "a169457874656e64504352a265696e646578106464617461430102" "03");
  const Value attestation = Value::map({{t("Attestation"), Value::map({{t("user_data"), Value::null()},
                                                                      {t("nonce"), Value::null()},
                                                                      {t("public_key"), Value::null()}})}});
  const std::string expected =
      "a16b4174746573746174696f6ea369757365725f64617461f6656e6f6e6365f66a7075626c69635f6b6579f6";
  EXPECT_EQ(hex(encode(attestation)), expected);
  EXPECT_EQ(encode(attestation).size(), 44u);
  // Canonical order would put "nonce" (shorter) first: not what serde writes.
  EXPECT_NE(hex(encode_canonical(attestation)), expected);
  auto d = decode(unhex(expected));
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, attestation);
  EXPECT_TRUE(d->find("Attestation")->find("nonce")->is_null());
}

// --- the value API ----------------------------------------------------------------

TEST(CborValue, TypedAccess) {
  const Value m = Value::map({{t("k"), u(5)}, {Value::integer(-3), t("v")}, {u(1), Value::boolean(true)}});
  EXPECT_EQ(m.kind(), Kind::Map);
  EXPECT_EQ(m.find("k")->as_unsigned(), 5u);
  EXPECT_EQ(*m.find_integer(-3)->as_text(), "v");
  EXPECT_EQ(m.find_integer(1)->as_bool(), true);
  EXPECT_EQ(m.find("missing"), nullptr);
  EXPECT_EQ(u(1).find("k"), nullptr);
  EXPECT_FALSE(t("x").as_unsigned());
  EXPECT_EQ(t("x").as_bytes(), nullptr);
  EXPECT_EQ(t("x").as_array(), nullptr);
  EXPECT_FALSE(u(1).as_bool());
  EXPECT_FALSE(u(1).as_float());
  EXPECT_TRUE(Value().is_null());
  EXPECT_EQ(Value::undefined().simple_value(), kSimpleUndefined);
  EXPECT_FALSE(Value::undefined().is_null());
  const Value tag = Value::tag(18, Value::array({u(1)}));
  EXPECT_EQ(tag.tag_number(), 18u);
  EXPECT_EQ(*tag.tag_content(), Value::array({u(1)}));
  EXPECT_EQ(kind_name(Kind::Bytes), "byte string");
  // Copies are deep.
  Value copy = tag;
  EXPECT_EQ(copy, tag);
  Value arr = Value::array({u(1)});
  Value arr2 = arr;
  arr2.as_array()->push_back(u(2));
  EXPECT_EQ(arr.as_array()->size(), 1u);
  EXPECT_NE(arr, arr2);
}

TEST(CborValue, SimpleValues) {
  EXPECT_EQ(hex(encode(Value::simple(0))), "e0");
  EXPECT_EQ(hex(encode(Value::simple(19))), "f3");
  EXPECT_EQ(hex(encode(Value::simple(32))), "f820");
  EXPECT_EQ(hex(encode(Value::simple(kSimpleTrue))), "f5");
  for (int s = 24; s < 32; ++s) EXPECT_THROW(Value::simple(static_cast<std::uint8_t>(s)), std::invalid_argument);
  auto d = decode(unhex("f3"));
  ASSERT_TRUE(d);
  EXPECT_EQ(diagnostic(*d), "simple(19)");
}

TEST(CborValue, RoundTripOfAMixedValue) {
  const Value v = Value::map({
      {t("bytes"), Value::bytes(text_bytes("hello"))},
      {u(1), Value::array({Value::integer(-1000000), Value::floating(2.5), Value::null(), Value::undefined()})},
      {Value::integer(-2), Value::tag(1234567, t("\xf0\x9f\x99\x82"))},
  });
  for (MapOrder order : {MapOrder::Insertion, MapOrder::Canonical}) {
    const auto bytes = encode(v, EncodeOptions{order});
    auto d = decode(bytes);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(encode(*d, EncodeOptions{order}), bytes);
    if (order == MapOrder::Insertion) {
      EXPECT_EQ(*d, v);
    }
  }
}

}  // namespace
}  // namespace enclaver::cbor
