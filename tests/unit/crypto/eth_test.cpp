// EIP-55 checksums (the examples of the EIP text and ethers' getAddress),
// address parsing, the EIP-191 personal-message digest and address_of.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "crypto/eth.hpp"
#include "crypto/keccak.hpp"
#include "tests/support/bytes.hpp"
#include "tests/unit/crypto/oracle_fixture.hpp"

namespace enclaver::crypto {
namespace {

using enclaver::testing::bytes;
using enclaver::testing::hex;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string upper_digits(std::string s) {
  std::transform(s.begin() + 2, s.end(), s.begin() + 2, [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

// The examples of EIP-55, grouped as in its text.
const char* const kAllCaps[] = {"0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D"};
const char* const kAllLower[] = {"0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26"};
const char* const kNormal[] = {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                               "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"};

void expect_checksum(const std::string& expected) {
  auto parsed = parse_address(lower(expected));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(checksum_address(*parsed), expected);
  auto again = parse_address(expected);  // the checksummed form parses back
  ASSERT_TRUE(again.ok()) << expected << ": " << again.error().message;
  EXPECT_EQ(*again, *parsed);
}

TEST(Eip55, AllCapsExamples) {
  for (const char* a : kAllCaps) expect_checksum(a);
}

TEST(Eip55, AllLowerExamples) {
  for (const char* a : kAllLower) expect_checksum(a);
}

TEST(Eip55, NormalExamples) {
  for (const char* a : kNormal) expect_checksum(a);
}

TEST(Eip55, MatchesEthersGetAddress) {
  const auto& list = testing::oracle().at("checksummed_addresses");
  ASSERT_GE(list.size(), 10u);
  for (const auto& a : list) expect_checksum(a.get<std::string>());
}

TEST(ParseAddress, AcceptsPrefixesAndSingleCase) {
  const std::string normal = kNormal[0];
  for (const std::string& text : {normal, normal.substr(2), lower(normal), lower(normal).substr(2), upper_digits(normal),
                                  "0X" + normal.substr(2)}) {
    auto a = parse_address(text);
    ASSERT_TRUE(a.ok()) << text << ": " << a.error().message;
    EXPECT_EQ(checksum_address(*a), normal);
  }
}

TEST(ParseAddress, RefusesABadChecksum) {
  std::string wrong = kNormal[0];  // 0x5aAeb...: lower-case the 'A' at index 4
  wrong[4] = 'a';
  auto a = parse_address(wrong);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().message, "address has mixed case but not a valid EIP-55 checksum");
}

TEST(ParseAddress, RefusesWrongLengthsAndCharacters) {
  EXPECT_EQ(parse_address("0x" + std::string(39, 'a')).error().message, "address must be 40 hex digits, got 39 characters");
  EXPECT_FALSE(parse_address("0x" + std::string(41, 'a')).ok());
  EXPECT_FALSE(parse_address("").ok());
  EXPECT_FALSE(parse_address("0x").ok());
  auto bad = parse_address("0x" + std::string(39, 'a') + "g");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "address: not a hex digit at position 39");
}

// EIP-191 personal_sign digests, as ethers' hashMessage computes them.
TEST(PersonalMessage, DigestMatchesEthers) {
  const auto& list = testing::oracle().at("personal_sign");
  ASSERT_GE(list.size(), 5u);
  for (const auto& v : list) {
    const auto message = testing::fixture_bytes(v.at("message"));
    EXPECT_EQ(testing::hex0x(personal_message_digest(message)), v.at("digest").get<std::string>());
  }
}

// The prefix written out by hand, for a message whose length has two digits.
TEST(PersonalMessage, DigestIsKeccakOfThePrefixedMessage) {
  const std::string prefixed = std::string("\x19") + "Ethereum Signed Message:\n13hello enclave";
  EXPECT_EQ(personal_message_digest(bytes("hello enclave")), keccak256(std::string_view(prefixed)));
}

TEST(AddressOf, MatchesEthers) {
  for (const auto& k : testing::oracle().at("keys")) {
    const auto pub = testing::fixture_array<65>(k.at("public_key"));
    EXPECT_EQ(checksum_address(address_of(pub)), k.at("address").get<std::string>());
  }
}

}  // namespace
}  // namespace enclaver::crypto
