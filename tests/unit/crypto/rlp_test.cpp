// RLP: the yellow paper / Ethereum wiki examples, round trips, and the
// strict decoder's refusal of every non-canonical, truncated or oversized
// form, with the offset it names.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/quantity.hpp"
#include "crypto/rlp.hpp"
#include "tests/support/bytes.hpp"

namespace enclaver::crypto {
namespace {

using enclaver::testing::bytes;
using enclaver::testing::hex;
using enclaver::testing::pattern;
using enclaver::testing::unhex;

Bytes str(std::string_view s) { return rlp_encode_bytes(bytes(s)); }

RlpItem leaf(Bytes b) { return RlpItem{false, std::move(b), {}}; }
RlpItem list(std::vector<RlpItem> items) { return RlpItem{true, {}, std::move(items)}; }

bool same(const RlpItem& a, const RlpItem& b) {
  if (a.is_list != b.is_list || a.bytes != b.bytes || a.items.size() != b.items.size()) return false;
  for (std::size_t i = 0; i < a.items.size(); ++i)
    if (!same(a.items[i], b.items[i])) return false;
  return true;
}

std::string decode_error(std::string_view hex_input) {
  auto r = rlp_decode(unhex(hex_input));
  return r ? "<decoded>" : r.error().message;
}

// --- the published examples -----------------------------------------------

TEST(Rlp, Dog) { EXPECT_EQ(hex(str("dog")), "83646f67"); }

TEST(Rlp, CatDogList) {
  const Bytes items[] = {str("cat"), str("dog")};
  EXPECT_EQ(hex(rlp_encode_list(items)), "c88363617483646f67");
}

TEST(Rlp, EmptyStringAndList) {
  EXPECT_EQ(hex(str("")), "80");
  EXPECT_EQ(hex(rlp_encode_list(std::span<const Bytes>())), "c0");
}

TEST(Rlp, Integers) {
  EXPECT_EQ(hex(rlp_encode_bytes(quantity_from_u64(0))), "80");
  EXPECT_EQ(hex(rlp_encode_bytes(unhex("00"))), "00");  // the byte string "\x00"
  EXPECT_EQ(hex(rlp_encode_bytes(quantity_from_u64(15))), "0f");
  EXPECT_EQ(hex(rlp_encode_bytes(quantity_from_u64(127))), "7f");
  EXPECT_EQ(hex(rlp_encode_bytes(quantity_from_u64(128))), "8180");
  EXPECT_EQ(hex(rlp_encode_bytes(quantity_from_u64(1024))), "820400");
}

TEST(Rlp, SetTheoreticThree) {
  // [ [], [[]], [ [], [[]] ] ]
  const Bytes empty = rlp_encode_list(std::span<const Bytes>());
  const Bytes one[] = {empty};
  const Bytes wrapped = rlp_encode_list(one);
  const Bytes pair[] = {empty, wrapped};
  const Bytes three[] = {empty, wrapped, rlp_encode_list(pair)};
  EXPECT_EQ(hex(rlp_encode_list(three)), "c7c0c1c0c3c0c1c0");
}

TEST(Rlp, LongString) {
  const std::string lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";
  ASSERT_EQ(lorem.size(), 56u);
  EXPECT_EQ(hex(str(lorem)), "b838" + hex(bytes(lorem)));
  EXPECT_EQ(hex(str(lorem.substr(0, 55))), "b7" + hex(bytes(lorem.substr(0, 55))));
}

TEST(Rlp, LongLengths) {
  EXPECT_EQ(hex(rlp_encode_bytes(Bytes(1024, 0xaa))).substr(0, 6), "b90400");
  EXPECT_EQ(hex(rlp_encode_bytes(Bytes(70000, 0xaa))).substr(0, 8), "ba011170");
  // A list whose payload is 56 bytes takes the long form too.
  const Bytes items[] = {rlp_encode_bytes(Bytes(54, 1))};  // 55 bytes encoded
  EXPECT_EQ(hex(rlp_encode_list(items)).substr(0, 2), "f7");
  const Bytes items56[] = {rlp_encode_bytes(Bytes(55, 1))};  // 56 bytes encoded
  EXPECT_EQ(hex(rlp_encode_list(items56)).substr(0, 4), "f838");
}

// --- decoding -------------------------------------------------------------

TEST(RlpDecode, PublishedExamples) {
  auto dog = rlp_decode(unhex("83646f67"));
  ASSERT_TRUE(dog.ok()) << dog.error().message;
  EXPECT_TRUE(same(*dog, leaf(bytes("dog"))));

  auto catdog = rlp_decode(unhex("c88363617483646f67"));
  ASSERT_TRUE(catdog.ok());
  EXPECT_TRUE(same(*catdog, list({leaf(bytes("cat")), leaf(bytes("dog"))})));

  auto three = rlp_decode(unhex("c7c0c1c0c3c0c1c0"));
  ASSERT_TRUE(three.ok());
  EXPECT_TRUE(same(*three, list({list({}), list({list({})}), list({list({}), list({list({})})})})));

  auto zero_byte = rlp_decode(unhex("00"));
  ASSERT_TRUE(zero_byte.ok());
  EXPECT_TRUE(same(*zero_byte, leaf({0})));

  auto empty = rlp_decode(unhex("80"));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(same(*empty, leaf({})));

  auto x80 = rlp_decode(unhex("8180"));
  ASSERT_TRUE(x80.ok());
  EXPECT_TRUE(same(*x80, leaf({0x80})));
}

TEST(RlpDecode, RoundTripsTrees) {
  const RlpItem trees[] = {
      leaf({}),
      leaf(pattern(55, 1)),
      leaf(pattern(56, 2)),
      leaf(pattern(300, 3)),
      list({}),
      list({leaf({}), leaf({0x7f}), leaf({0x80}), list({leaf(pattern(60, 4))})}),
      list({list({list({list({})})}), leaf(pattern(1000, 5))}),
  };
  for (const RlpItem& tree : trees) {
    const Bytes encoded = rlp_encode(tree);
    auto decoded = rlp_decode(encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_TRUE(same(*decoded, tree)) << hex(encoded);
    EXPECT_EQ(rlp_encode(*decoded), encoded);
  }
}

TEST(RlpDecode, RefusesSingleByteWrappedAsString) {
  EXPECT_EQ(decode_error("8100"), "offset 0: single byte below 0x80 wrapped as a string (must be encoded as itself)");
  EXPECT_NE(decode_error("817f"), "<decoded>");
  EXPECT_EQ(decode_error("8180"), "<decoded>");
  EXPECT_NE(decode_error("c28105"), "<decoded>");  // also inside a list
}

TEST(RlpDecode, RefusesLongFormForShortPayloads) {
  EXPECT_NE(decode_error("b800"), "<decoded>");
  EXPECT_NE(decode_error("b801" "80"), "<decoded>");
  EXPECT_NE(decode_error("b837" + hex(Bytes(55, 0x61))), "<decoded>");
  EXPECT_EQ(decode_error("b838" + hex(Bytes(56, 0x61))), "<decoded>");
  EXPECT_NE(decode_error("f800"), "<decoded>");
  EXPECT_NE(decode_error("f803" "808080"), "<decoded>");
  EXPECT_EQ(decode_error("f800").rfind("offset 0: long-form length", 0), 0u);
}

TEST(RlpDecode, RefusesLengthsWithLeadingZeros) {
  EXPECT_EQ(decode_error("b90038" + hex(Bytes(56, 0x61))), "offset 0: long-form length with a leading zero byte");
  EXPECT_NE(decode_error("f90038" + std::string(112, '8')), "<decoded>");
  EXPECT_EQ(decode_error("b90400" + hex(Bytes(1024, 1))), "<decoded>");  // a zero byte after the first is fine
}

TEST(RlpDecode, RefusesTruncatedInput) {
  EXPECT_EQ(decode_error(""), "offset 0: expected an item, the input ends");
  EXPECT_NE(decode_error("83646f"), "<decoded>");
  EXPECT_NE(decode_error("b8"), "<decoded>");
  EXPECT_NE(decode_error("b9" "04"), "<decoded>");
  EXPECT_NE(decode_error("b838" + hex(Bytes(55, 0x61))), "<decoded>");
  EXPECT_NE(decode_error("c88363617483646f"), "<decoded>");
  // Every proper prefix of a valid encoding fails, none crashes.
  const Bytes full = rlp_encode(list({leaf(pattern(100, 6)), list({leaf({1}), leaf(pattern(60, 7))}), leaf({})}));
  for (std::size_t k = 0; k < full.size(); ++k) EXPECT_FALSE(rlp_decode(std::span(full).first(k)).ok()) << k;
}

TEST(RlpDecode, RefusesChildrenOverrunningTheirList) {
  // The list says 2 bytes, its string says 3.
  EXPECT_EQ(decode_error("c283616263"), "offset 1: string of 3 bytes runs past the end (1 bytes left)");
}

TEST(RlpDecode, RefusesOversizedLengthsWithoutAllocating) {
  EXPECT_NE(decode_error("bfffffffffffffffff"), "<decoded>");
  EXPECT_NE(decode_error("bfffffffffffffffff00"), "<decoded>");
  EXPECT_NE(decode_error("ffffffffffffffffff"), "<decoded>");
  EXPECT_NE(decode_error("bb7fffffff00"), "<decoded>");
  EXPECT_NE(decode_error("f9ffff"), "<decoded>");
  EXPECT_EQ(decode_error("b9ffff00").rfind("offset 0: string of 65535 bytes runs past the end", 0), 0u);
}

TEST(RlpDecode, RefusesTrailingBytes) {
  EXPECT_EQ(decode_error("8000"), "offset 1: 1 trailing bytes after the item");
  EXPECT_EQ(decode_error("c0c0"), "offset 1: 1 trailing bytes after the item");
  EXPECT_EQ(decode_error("83646f6767"), "offset 4: 1 trailing bytes after the item");
}

TEST(RlpDecode, LimitsNesting) {
  auto nested = [](std::size_t depth) {
    RlpItem item = list({});
    for (std::size_t i = 1; i < depth; ++i) item = list({std::move(item)});
    return rlp_encode(item);
  };
  EXPECT_TRUE(rlp_decode(nested(kRlpMaxDepth)).ok());
  auto too_deep = rlp_decode(nested(kRlpMaxDepth + 1));
  ASSERT_FALSE(too_deep.ok());
  EXPECT_NE(too_deep.error().message.find("nested deeper than 64"), std::string::npos) << too_deep.error().message;
  // A hostile depth far beyond the limit is refused without deep recursion.
  Bytes hostile(100000, 0xc1);  // c1 c1 c1 ... (each claims 1 byte)
  EXPECT_FALSE(rlp_decode(hostile).ok());
}

TEST(RlpDecode, ErrorOffsetsPointIntoNestedItems) {
  // [ "dog", 0x81 0x05 ]: the bad item starts at offset 5.
  EXPECT_EQ(decode_error("c683646f678105").rfind("offset 5: ", 0), 0u) << decode_error("c683646f678105");
}

}  // namespace
}  // namespace enclaver::crypto
