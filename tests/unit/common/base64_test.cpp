#include "common/base64.hpp"

#include <gtest/gtest.h>

namespace enclaver {
namespace {

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

// RFC 4648 §10.
TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},           {"f", "Zg=="},         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},    {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(to_base64(bytes(plain)), encoded);
    auto decoded = from_base64(encoded);
    ASSERT_TRUE(decoded) << encoded << ": " << decoded.error().message;
    EXPECT_EQ(*decoded, bytes(plain));
  }
}

TEST(Base64, PaddingMayBeLeftOut) {
  EXPECT_EQ(*from_base64("Zm9vYg"), bytes("foob"));
  EXPECT_EQ(*from_base64("Zm9vYmE"), bytes("fooba"));
}

TEST(Base64, AllByteValuesRoundTrip) {
  std::vector<std::uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<std::uint8_t>(i);
  EXPECT_EQ(*from_base64(to_base64(all)), all);
}

TEST(Base64, BadInputIsAnErrorThatSaysWhy) {
  for (const char* bad : {"Zm9v!", "Zm9v YmFy", "Zm9-", "Z", "Zm9vY", "Zg===", "Zg=", "=Zg=", "Zh==", "Zm9=Zm9v"}) {
    auto decoded = from_base64(bad);
    ASSERT_FALSE(decoded) << bad;
    EXPECT_NE(decoded.error().message.find("bad base64"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace enclaver
