// Keccak-256: published vectors (original Keccak padding, as Ethereum),
// incremental hashing across the 136-byte block boundary, and ethers'
// digests (an independent implementation) from the oracle fixture.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/keccak.hpp"
#include "tests/support/bytes.hpp"
#include "tests/unit/crypto/oracle_fixture.hpp"

namespace enclaver::crypto {
namespace {

using enclaver::testing::bytes;
using enclaver::testing::hex;
using enclaver::testing::pattern;

TEST(Keccak256, EmptyInput) {
  EXPECT_EQ(hex(keccak256(std::string_view(""))), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
}

TEST(Keccak256, Abc) {
  EXPECT_EQ(hex(keccak256(std::string_view("abc"))), "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
}

TEST(Keccak256, QuickBrownFox) {
  EXPECT_EQ(hex(keccak256(std::string_view("The quick brown fox jumps over the lazy dog"))),
            "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");
}

// The 1600-bit message of 0xa3 bytes from the Keccak team's test vectors:
// 200 bytes, so it spans two blocks at rate 136.
TEST(Keccak256, TwoHundredA3Bytes) {
  const std::vector<std::uint8_t> input(200, 0xa3);
  EXPECT_EQ(hex(keccak256(input)), "3a57666b048777f2c953dc4456f45a2588e1cb6f2da760122d530ac2ce607d4a");
}

// Not SHA3-256: the same input under FIPS 202 padding gives another digest.
TEST(Keccak256, DiffersFromSha3) {
  EXPECT_NE(hex(keccak256(std::string_view(""))), "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
}

TEST(Keccak256, SpanAndStringViewAgree) {
  EXPECT_EQ(keccak256(std::string_view("hello")), keccak256(bytes("hello")));
}

TEST(Keccak256, IncrementalEqualsOneShotAcrossBlockBoundaries) {
  const auto data = pattern(1000, 42);
  for (std::size_t length : {0u, 1u, 135u, 136u, 137u, 271u, 272u, 273u, 1000u}) {
    const std::span<const std::uint8_t> input(data.data(), length);
    const Hash32 expected = keccak256(input);
    for (std::size_t chunk : {1u, 2u, 7u, 64u, 135u, 136u, 137u, 500u}) {
      Keccak256 k;
      for (std::size_t off = 0; off < length; off += chunk) k.update(input.subspan(off, std::min(chunk, length - off)));
      EXPECT_EQ(k.finish(), expected) << "length " << length << " chunk " << chunk;
    }
  }
}

TEST(Keccak256, FinishResetsForReuse) {
  Keccak256 k;
  k.update(std::string_view("something else"));
  (void)k.finish();
  k.update(std::string_view("abc"));
  EXPECT_EQ(k.finish(), keccak256(std::string_view("abc")));
  EXPECT_EQ(k.finish(), keccak256(std::string_view("")));
}

TEST(Keccak256, EmptyUpdatesChangeNothing) {
  Keccak256 k;
  k.update(std::span<const std::uint8_t>());
  k.update(std::string_view("ab"));
  k.update(std::span<const std::uint8_t>());
  k.update(std::string_view("c"));
  EXPECT_EQ(k.finish(), keccak256(std::string_view("abc")));
}

TEST(Keccak256, MatchesEthers) {
  const auto& vectors = testing::oracle().at("keccak256");
  ASSERT_GE(vectors.size(), 10u);
  for (const auto& v : vectors) {
    const auto input = testing::fixture_bytes(v.at("input"));
    EXPECT_EQ(testing::hex0x(keccak256(input)), v.at("digest").get<std::string>()) << "input of " << input.size() << " bytes";
  }
}

}  // namespace
}  // namespace enclaver::crypto
