// Every example of RFC 8949 Appendix A ("Examples of Encoded CBOR Data
// Items"), in both directions: the bytes decode to the value; the value
// encodes to the same bytes when they are the preferred serialization, and
// otherwise to the preferred form given here (a float in a wider format than
// it needs, indefinite lengths). Bignums (tags 2 and 3) stay tags.
// Then every not-well-formed example of Appendix F.1, each refused with the
// offset of the first bad byte (or the end of the input).
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

Value u(std::uint64_t v) { return Value::unsigned_integer(v); }
Value i(std::int64_t v) { return Value::integer(v); }
Value f(double v) { return Value::floating(v); }
Value t(const char* s) { return Value::text(s); }
Value b(std::string_view h) { return Value::bytes(unhex(h)); }
Value arr(std::initializer_list<Value> items) { return Value::array(Array(items)); }
Value obj(std::initializer_list<MapEntry> entries) { return Value::map(Map(entries)); }
Value from_bits(std::uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return Value::floating(d);
}

Array one_to_25() {
  Array a;
  for (int k = 1; k <= 25; ++k) a.push_back(u(static_cast<std::uint64_t>(k)));
  return a;
}

struct Example {
  std::string name;
  std::string hex;        // as Appendix A gives it
  Value value;            // what it decodes to
  std::string preferred;  // our encoding of `value`; empty: the same as `hex`
  std::string diag;       // RFC diagnostic notation where ours agrees; empty: not checked
};

std::vector<Example> examples() {
  const double inf = std::numeric_limits<double>::infinity();
  return {
      {"zero", "00", u(0), "", "0"},
      {"one", "01", u(1), "", "1"},
      {"ten", "0a", u(10), "", "10"},
      {"twenty_three", "17", u(23), "", "23"},
      {"twenty_four", "1818", u(24), "", "24"},
      {"twenty_five", "1819", u(25), "", "25"},
      {"hundred", "1864", u(100), "", "100"},
      {"thousand", "1903e8", u(1000), "", "1000"},
      {"million", "1a000f4240", u(1000000), "", "1000000"},
      {"trillion", "1b000000e8d4a51000", u(1000000000000), "", "1000000000000"},
      {"u64_max", "1bffffffffffffffff", u(18446744073709551615ULL), "", "18446744073709551615"},
      {"bignum_2_64", "c249010000000000000000", Value::tag(2, b("010000000000000000")), "",
       "2(h'010000000000000000')"},
      {"minus_2_64", "3bffffffffffffffff", Value::negative(18446744073709551615ULL), "", "-18446744073709551616"},
      {"negative_bignum", "c349010000000000000000", Value::tag(3, b("010000000000000000")), "",
       "3(h'010000000000000000')"},
      {"minus_one", "20", i(-1), "", "-1"},
      {"minus_ten", "29", i(-10), "", "-10"},
      {"minus_hundred", "3863", i(-100), "", "-100"},
      {"minus_thousand", "3903e7", i(-1000), "", "-1000"},
      {"float_zero", "f90000", f(0.0), "", "0.0"},
      {"float_minus_zero", "f98000", f(-0.0), "", "-0.0"},
      {"float_one", "f93c00", f(1.0), "", "1.0"},
      {"float_1_1", "fb3ff199999999999a", f(1.1), "", "1.1"},
      {"float_1_5", "f93e00", f(1.5), "", "1.5"},
      {"float_65504", "f97bff", f(65504.0), "", "65504.0"},
      {"float_100000", "fa47c35000", f(100000.0), "", "100000.0"},
      {"float_max_single", "fa7f7fffff", f(3.4028234663852886e+38), "", "3.4028234663852886e+38"},
      {"float_1e300", "fb7e37e43c8800759c", f(1.0e+300), "", "1.0e+300"},
      {"float_min_half_subnormal", "f90001", f(5.960464477539063e-8), "", "5.960464477539063e-8"},
      {"float_min_half_normal", "f90400", f(0.00006103515625), "", "0.00006103515625"},
      {"float_minus_4", "f9c400", f(-4.0), "", "-4.0"},
      {"float_minus_4_1", "fbc010666666666666", f(-4.1), "", "-4.1"},
      {"half_infinity", "f97c00", f(inf), "", "Infinity"},
      {"half_nan", "f97e00", from_bits(0x7ff8000000000000ULL), "", "NaN"},
      {"half_minus_infinity", "f9fc00", f(-inf), "", "-Infinity"},
      {"single_infinity", "fa7f800000", f(inf), "f97c00", "Infinity"},
      {"single_nan", "fa7fc00000", from_bits(0x7ff8000000000000ULL), "f97e00", "NaN"},
      {"single_minus_infinity", "faff800000", f(-inf), "f9fc00", "-Infinity"},
      {"double_infinity", "fb7ff0000000000000", f(inf), "f97c00", "Infinity"},
      {"double_nan", "fb7ff8000000000000", from_bits(0x7ff8000000000000ULL), "f97e00", "NaN"},
      {"double_minus_infinity", "fbfff0000000000000", f(-inf), "f9fc00", "-Infinity"},
      {"false", "f4", Value::boolean(false), "", "false"},
      {"true", "f5", Value::boolean(true), "", "true"},
      {"null", "f6", Value::null(), "", "null"},
      {"undefined", "f7", Value::undefined(), "", "undefined"},
      {"simple_16", "f0", Value::simple(16), "", "simple(16)"},
      {"simple_255", "f8ff", Value::simple(255), "", "simple(255)"},
      {"tag0_datetime", "c074323031332d30332d32315432303a30343a30305a", Value::tag(0, t("2013-03-21T20:04:00Z")), "",
       "0(\"2013-03-21T20:04:00Z\")"},
      {"tag1_epoch", "c11a514b67b0", Value::tag(1, u(1363896240)), "", "1(1363896240)"},
      {"tag1_epoch_float", "c1fb41d452d9ec200000", Value::tag(1, f(1363896240.5)), "", "1(1363896240.5)"},
      {"tag23", "d74401020304", Value::tag(23, b("01020304")), "", "23(h'01020304')"},
      {"tag24", "d818456449455446", Value::tag(24, b("6449455446")), "", "24(h'6449455446')"},
      {"tag32", "d82076687474703a2f2f7777772e6578616d706c652e636f6d", Value::tag(32, t("http://www.example.com")),
       "", "32(\"http://www.example.com\")"},
      {"empty_bytes", "40", b(""), "", "h''"},
      {"bytes", "4401020304", b("01020304"), "", "h'01020304'"},
      {"empty_text", "60", t(""), "", "\"\""},
      {"text_a", "6161", t("a"), "", "\"a\""},
      {"text_ietf", "6449455446", t("IETF"), "", "\"IETF\""},
      {"text_escapes", "62225c", t("\"\\"), "", "\"\\\"\\\\\""},
      {"text_u_umlaut", "62c3bc", t("\xc3\xbc"), "", "\"\xc3\xbc\""},
      {"text_water", "63e6b0b4", t("\xe6\xb0\xb4"), "", "\"\xe6\xb0\xb4\""},
      {"text_aegean", "64f0908591", t("\xf0\x90\x85\x91"), "", "\"\xf0\x90\x85\x91\""},
      {"empty_array", "80", arr({}), "", "[]"},
      {"array_123", "83010203", arr({u(1), u(2), u(3)}), "", "[1, 2, 3]"},
      {"nested_arrays", "8301820203820405", arr({u(1), arr({u(2), u(3)}), arr({u(4), u(5)})}), "",
       "[1, [2, 3], [4, 5]]"},
      {"array_25", "98190102030405060708090a0b0c0d0e0f101112131415161718181819", Value::array(one_to_25()), "", ""},
      {"empty_map", "a0", obj({}), "", "{}"},
      {"int_map", "a201020304", obj({{u(1), u(2)}, {u(3), u(4)}}), "", "{1: 2, 3: 4}"},
      {"text_map", "a26161016162820203", obj({{t("a"), u(1)}, {t("b"), arr({u(2), u(3)})}}), "",
       "{\"a\": 1, \"b\": [2, 3]}"},
      {"array_with_map", "826161a161626163", arr({t("a"), obj({{t("b"), t("c")}})}), "", "[\"a\", {\"b\": \"c\"}]"},
      {"map_5", "a56161614161626142616361436164614461656145",
       obj({{t("a"), t("A")}, {t("b"), t("B")}, {t("c"), t("C")}, {t("d"), t("D")}, {t("e"), t("E")}}), "",
       "{\"a\": \"A\", \"b\": \"B\", \"c\": \"C\", \"d\": \"D\", \"e\": \"E\"}"},
      {"indefinite_bytes", "5f42010243030405ff", b("0102030405"), "450102030405", ""},
      {"indefinite_text", "7f657374726561646d696e67ff", t("streaming"), "6973747265616d696e67", ""},
      {"indefinite_empty_array", "9fff", arr({}), "80", ""},
      {"indefinite_nested_1", "9f018202039f0405ffff", arr({u(1), arr({u(2), u(3)}), arr({u(4), u(5)})}),
       "8301820203820405", ""},
      {"indefinite_nested_2", "9f01820203820405ff", arr({u(1), arr({u(2), u(3)}), arr({u(4), u(5)})}),
       "8301820203820405", ""},
      {"indefinite_nested_3", "83018202039f0405ff", arr({u(1), arr({u(2), u(3)}), arr({u(4), u(5)})}),
       "8301820203820405", ""},
      {"indefinite_nested_4", "83019f0203ff820405", arr({u(1), arr({u(2), u(3)}), arr({u(4), u(5)})}),
       "8301820203820405", ""},
      {"indefinite_array_25", "9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff", Value::array(one_to_25()),
       "98190102030405060708090a0b0c0d0e0f101112131415161718181819", ""},
      {"indefinite_map", "bf61610161629f0203ffff", obj({{t("a"), u(1)}, {t("b"), arr({u(2), u(3)})}}),
       "a26161016162820203", ""},
      {"array_with_indefinite_map", "826161bf61626163ff", arr({t("a"), obj({{t("b"), t("c")}})}), "826161a161626163",
       ""},
      {"indefinite_map_fun", "bf6346756ef563416d7421ff", obj({{t("Fun"), Value::boolean(true)}, {t("Amt"), i(-2)}}),
       "a26346756ef563416d7421", "{\"Fun\": true, \"Amt\": -2}"},
  };
}

class AppendixA : public ::testing::TestWithParam<std::size_t> {};

TEST_P(AppendixA, DecodesAndEncodes) {
  const std::vector<Example> all = examples();
  const Example& e = all[GetParam()];
  SCOPED_TRACE(e.name + " " + e.hex);
  const auto bytes = unhex(e.hex);
  auto decoded = decode(bytes);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, e.value) << diagnostic(*decoded) << " vs " << diagnostic(e.value);
  const std::string preferred = e.preferred.empty() ? e.hex : e.preferred;
  EXPECT_EQ(hex(encode(e.value)), preferred);
  EXPECT_EQ(hex(encode(*decoded)), preferred);
  // The Appendix A values have no map whose order canonical sorting changes,
  // except {"Fun", "Amt"} (key "Amt" sorts first: same length, "A" < "F").
  if (e.name != "indefinite_map_fun") {
    EXPECT_EQ(hex(encode_canonical(e.value)), preferred);
  }
  if (!e.diag.empty()) {
    EXPECT_EQ(diagnostic(*decoded), e.diag);
  }
  // The preferred form decodes to the same value.
  auto again = decode(unhex(preferred));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, e.value);
}

INSTANTIATE_TEST_SUITE_P(Rfc8949, AppendixA, ::testing::Range<std::size_t>(0, examples().size()));

TEST(AppendixA, AllExamplesPresent) {
  // 82 items in RFC 8949 Appendix A, minus simple(24) (0xf818), which RFC 7049
  // listed but RFC 8949 §3.3 made not well-formed (tested below).
  EXPECT_EQ(examples().size(), 81u);
}

TEST(AppendixA, CanonicalSortsTheFunMap) {
  const Value v = obj({{t("Fun"), Value::boolean(true)}, {t("Amt"), i(-2)}});
  EXPECT_EQ(hex(encode_canonical(v)), "a263416d74216346756ef5");
}

TEST(AppendixA, TwoByteSimpleBelow32IsNotWellFormed) {
  auto r = decode(unhex("f818"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind("offset 1: ", 0), 0u) << r.error().message;
  EXPECT_THROW(Value::simple(24), std::invalid_argument);
}

// RFC 8949 Appendix F.1: examples of CBOR data items that are not
// well-formed, with the offset each must be refused at.
struct Bad {
  std::string hex;
  std::size_t offset;
  std::string reason;  // part of the message
};

std::vector<Bad> not_well_formed() {
  return {
      // End of input in a head.
      {"18", 1, "ends"},
      {"19", 1, "ends"},
      {"1a", 1, "ends"},
      {"1b", 1, "ends"},
      {"1901", 2, "ends"},
      {"1a0102", 3, "ends"},
      {"1b01020304050607", 8, "ends"},
      {"38", 1, "ends"},
      {"58", 1, "ends"},
      {"78", 1, "ends"},
      {"98", 1, "ends"},
      {"9a01ff00", 4, "ends"},
      {"b8", 1, "ends"},
      {"d8", 1, "ends"},
      {"f8", 1, "ends"},
      {"f900", 2, "ends"},
      {"fa0000", 3, "ends"},
      {"fb000000", 4, "ends"},
      // Definite-length strings with short data.
      {"41", 1, "ends"},
      {"61", 1, "ends"},
      {"5affffffff00", 6, "ends"},
      {"5bffffffffffffffff010203", 12, "ends"},
      {"7affffffff00", 6, "ends"},
      {"7b7fffffffffffffff010203", 12, "ends"},
      // Definite-length maps and arrays not closed with enough items.
      {"81", 1, "ends"},
      {"818181818181818181", 9, "ends"},
      {"8200", 2, "ends"},
      {"a1", 1, "ends"},
      {"a20102", 3, "ends"},
      {"a100", 2, "ends"},
      {"a2000000", 4, "ends"},
      // Tag number not followed by tag content.
      {"c0", 1, "ends"},
      // Indefinite-length strings not closed by a break.
      {"5f4100", 3, "ends"},
      {"7f6100", 3, "ends"},
      // Indefinite-length maps and arrays not closed by a break.
      {"9f", 1, "ends"},
      {"9f0102", 3, "ends"},
      {"bf", 1, "ends"},
      {"bf01020102", 5, "ends"},
      {"819f", 2, "ends"},
      {"9f8000", 3, "ends"},
      {"9f9f9f9f9fffffffff", 9, "ends"},
      {"9f819f819f9fffffff", 9, "ends"},
      // Reserved additional information values.
      {"1c", 0, "reserved"},
      {"1d", 0, "reserved"},
      {"1e", 0, "reserved"},
      {"3c", 0, "reserved"},
      {"3d", 0, "reserved"},
      {"3e", 0, "reserved"},
      {"5c", 0, "reserved"},
      {"5d", 0, "reserved"},
      {"5e", 0, "reserved"},
      {"7c", 0, "reserved"},
      {"7d", 0, "reserved"},
      {"7e", 0, "reserved"},
      {"9c", 0, "reserved"},
      {"9d", 0, "reserved"},
      {"9e", 0, "reserved"},
      {"bc", 0, "reserved"},
      {"bd", 0, "reserved"},
      {"be", 0, "reserved"},
      {"dc", 0, "reserved"},
      {"dd", 0, "reserved"},
      {"de", 0, "reserved"},
      {"fc", 0, "reserved"},
      {"fd", 0, "reserved"},
      {"fe", 0, "reserved"},
      // Reserved two-byte encodings of simple values.
      {"f800", 1, "two-byte form"},
      {"f801", 1, "two-byte form"},
      {"f818", 1, "two-byte form"},
      {"f81f", 1, "two-byte form"},
      // Indefinite-length string chunks not of the correct type.
      {"5f00ff", 1, "chunk"},
      {"5f21ff", 1, "chunk"},
      {"5f6100ff", 1, "chunk"},
      {"5f80ff", 1, "chunk"},
      {"5fa0ff", 1, "chunk"},
      {"5fc000ff", 1, "chunk"},
      {"5fe0ff", 1, "chunk"},
      {"7f4100ff", 1, "chunk"},
      // Indefinite-length string chunks not definite length.
      {"5f5f4100ffff", 1, "itself indefinite"},
      {"7f7f6100ffff", 1, "itself indefinite"},
      // Break occurring on its own outside of an indefinite-length item.
      {"ff", 0, "break"},
      // Break in a definite-length array or map or a tag.
      {"81ff", 1, "break"},
      {"8200ff", 2, "break"},
      {"a1ff", 1, "break"},
      {"a1ff00", 1, "break"},
      {"a100ff", 2, "break"},
      {"a20000ff", 3, "break"},
      {"9f81ff", 2, "break"},
      {"9f829f819f9fffffffff", 9, "break"},
      // Break in an indefinite-length map in a value position.
      {"bf00ff", 2, "break"},
      {"bf000000ff", 4, "break"},
      // Major types 0, 1, 6 with additional information 31.
      {"1f", 0, "indefinite"},
      {"3f", 0, "indefinite"},
      {"df", 0, "indefinite"},
  };
}

class NotWellFormed : public ::testing::TestWithParam<std::size_t> {};

TEST_P(NotWellFormed, RefusedAtTheFirstBadByte) {
  const std::vector<Bad> all = not_well_formed();
  const Bad& bad = all[GetParam()];
  SCOPED_TRACE(bad.hex);
  // Well-formedness only: "bf000000ff" repeats the key 0 before its break.
  DecodeOptions options;
  options.allow_duplicate_keys = true;
  auto r = decode(unhex(bad.hex), options);
  ASSERT_FALSE(r) << diagnostic(*r);
  const std::string& m = r.error().message;
  EXPECT_EQ(m.rfind("offset " + std::to_string(bad.offset) + ": ", 0), 0u) << m;
  EXPECT_NE(m.find(bad.reason), std::string::npos) << m;
}

INSTANTIATE_TEST_SUITE_P(Rfc8949AppendixF, NotWellFormed, ::testing::Range<std::size_t>(0, not_well_formed().size()));

}  // namespace
}  // namespace enclaver::cbor
