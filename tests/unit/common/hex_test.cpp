#include <gtest/gtest.h>

#include "common/hex.hpp"

namespace enclaver {
namespace {

TEST(Hex, RoundTripsAndAcceptsEitherCaseAndAPrefix) {
  const std::vector<std::uint8_t> bytes = {0x00, 0x0f, 0xa5, 0xff};
  EXPECT_EQ(to_hex(bytes), "000fa5ff");
  EXPECT_EQ(from_hex("000fa5ff").value(), bytes);
  EXPECT_EQ(from_hex("0x000FA5FF").value(), bytes);
  EXPECT_TRUE(from_hex("").value().empty());
}

TEST(Hex, BadInputSaysWhy) {
  EXPECT_EQ(from_hex("abc").error().message, "hex needs an even number of digits, got 3");
  EXPECT_EQ(from_hex("0g").error().message, "not a hex digit at position 1");
}

}  // namespace
}  // namespace enclaver
