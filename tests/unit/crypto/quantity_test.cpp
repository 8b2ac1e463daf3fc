// Quantities: hex text in and out (JSON-RPC style), u64, and the canonical
// RLP integer rule.
#include <gtest/gtest.h>

#include <string>

#include "crypto/quantity.hpp"
#include "tests/support/bytes.hpp"

namespace enclaver::crypto {
namespace {

using enclaver::testing::hex;
using enclaver::testing::unhex;

std::string parsed(std::string_view text) {
  auto q = quantity_from_hex(text);
  return q ? "=" + hex(*q) : q.error().message;
}

TEST(Quantity, FromHexAcceptsPrefixCaseAndLeadingZeros) {
  EXPECT_EQ(parsed("0x0"), "=");
  EXPECT_EQ(parsed("0"), "=");
  EXPECT_EQ(parsed("0x0000"), "=");
  EXPECT_EQ(parsed("0x1"), "=01");
  EXPECT_EQ(parsed("0X400"), "=0400");
  EXPECT_EQ(parsed("400"), "=0400");
  EXPECT_EQ(parsed("0x000400"), "=0400");
  EXPECT_EQ(parsed("0xDeadBeef"), "=deadbeef");
  EXPECT_EQ(parsed("0x" + std::string(64, 'f')), "=" + std::string(64, 'f'));
  EXPECT_EQ(parsed("0x0000" + std::string(64, 'f')), "=" + std::string(64, 'f'));  // 256 bits after stripping
}

TEST(Quantity, FromHexRefuses) {
  EXPECT_EQ(parsed(""), "quantity has no hex digits (zero is \"0x0\")");
  EXPECT_EQ(parsed("0x"), "quantity has no hex digits (zero is \"0x0\")");
  EXPECT_EQ(parsed("0x1g"), "quantity: not a hex digit at position 1");
  EXPECT_NE(parsed("0x-1"), "=");
  EXPECT_NE(parsed(" 0x1"), "=01");
  EXPECT_NE(parsed("0x 1"), "=01");
  EXPECT_EQ(parsed("0x1" + std::string(64, '0')), "quantity is larger than 2^256-1");
}

TEST(Quantity, ToHexIsMinimal) {
  EXPECT_EQ(quantity_to_hex({}), "0x0");
  EXPECT_EQ(quantity_to_hex(unhex("00")), "0x0");
  EXPECT_EQ(quantity_to_hex(unhex("01")), "0x1");
  EXPECT_EQ(quantity_to_hex(unhex("0400")), "0x400");
  EXPECT_EQ(quantity_to_hex(unhex("000abc")), "0xabc");
  EXPECT_EQ(quantity_to_hex(unhex("ff")), "0xff");
}

TEST(Quantity, FromU64) {
  EXPECT_EQ(hex(quantity_from_u64(0)), "");
  EXPECT_EQ(hex(quantity_from_u64(1)), "01");
  EXPECT_EQ(hex(quantity_from_u64(0x100)), "0100");
  EXPECT_EQ(hex(quantity_from_u64(UINT64_MAX)), "ffffffffffffffff");
  EXPECT_EQ(quantity_to_hex(quantity_from_u64(21000)), "0x5208");
}

TEST(Quantity, FromBigEndianStripsLeadingZeros) {
  EXPECT_EQ(hex(quantity_from_be(unhex("0000ab00"))), "ab00");
  EXPECT_EQ(hex(quantity_from_be(unhex("0000"))), "");
}

TEST(Quantity, RoundTripsThroughHex) {
  for (std::string text : {"0x0", "0x1", "0xf", "0x10", "0x5208", "0xde0b6b3a7640000"}) {
    auto q = quantity_from_hex(text);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(quantity_to_hex(*q), text);
  }
}

TEST(Quantity, RlpQuantityIsCanonical) {
  EXPECT_TRUE(rlp_quantity(RlpItem{false, {}, {}}).ok());
  EXPECT_TRUE(rlp_quantity(RlpItem{false, unhex("0100"), {}}).ok());
  EXPECT_TRUE(rlp_quantity(RlpItem{false, Bytes(32, 0xff), {}}).ok());
  auto leading = rlp_quantity(RlpItem{false, unhex("0001"), {}});
  ASSERT_FALSE(leading.ok());
  EXPECT_EQ(leading.error().message, "integer with a leading zero byte (not canonical)");
  EXPECT_FALSE(rlp_quantity(RlpItem{false, unhex("00"), {}}).ok());  // zero is the empty string
  auto big = rlp_quantity(RlpItem{false, Bytes(33, 1), {}});
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().message, "integer of 33 bytes is larger than 2^256-1");
  auto list = rlp_quantity(RlpItem{true, {}, {}});
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().message, "expected an integer, got a list");
}

}  // namespace
}  // namespace enclaver::crypto
