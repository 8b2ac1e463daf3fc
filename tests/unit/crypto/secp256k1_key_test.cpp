// EthKey: keys, addresses and personal_sign signatures byte for byte as
// ethers makes them (RFC 6979 on both sides), recovery, scalar range checks,
// low s, generation from a random source, and the SPKI encoding as OpenSSL
// reads it.
#include <gtest/gtest.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <string>
#include <type_traits>

#include "crypto/eth.hpp"
#include "crypto/keccak.hpp"
#include "crypto/secp256k1_key.hpp"
#include "tests/support/bytes.hpp"
#include "tests/unit/crypto/oracle_fixture.hpp"

namespace enclaver::crypto {
namespace {

using enclaver::testing::hex;
using enclaver::testing::pattern;
using enclaver::testing::unhex;

const std::string kOrder = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
const std::string kHalfOrder = "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0";

static_assert(!std::is_copy_constructible_v<EthKey>);
static_assert(!std::is_copy_assignable_v<EthKey>);
static_assert(std::is_nothrow_move_constructible_v<EthKey>);

EthKey key_from(const std::string& secret_hex) {
  auto key = EthKey::from_secret(unhex(secret_hex.substr(secret_hex.rfind('x') + 1)));
  if (!key) throw std::runtime_error(key.error().message);
  return std::move(key).value();
}

// r || s || v with v = 27 + recovery id, as personal_sign returns it.
std::string personal_signature(const RecoverableSignature& sig) {
  return "0x" + hex(sig.r) + hex(sig.s) + hex(std::vector<std::uint8_t>{static_cast<std::uint8_t>(27 + sig.recovery_id)});
}

TEST(EthKey, PublicKeysAndAddressesMatchEthers) {
  const auto& keys = testing::oracle().at("keys");
  ASSERT_EQ(keys.size(), 4u);
  for (const auto& k : keys) {
    const EthKey key = key_from(k.at("secret").get<std::string>());
    EXPECT_EQ(testing::hex0x(key.public_key()), k.at("public_key").get<std::string>());
    EXPECT_EQ(checksum_address(key.address()), k.at("address").get<std::string>());
  }
}

TEST(EthKey, PersonalSignMatchesEthersByteForByte) {
  const auto& list = testing::oracle().at("personal_sign");
  ASSERT_GE(list.size(), 10u);
  for (const auto& v : list) {
    const EthKey key = key_from(v.at("secret").get<std::string>());
    const auto message = testing::fixture_bytes(v.at("message"));
    const RecoverableSignature sig = key.sign(personal_message_digest(message));
    EXPECT_EQ(personal_signature(sig), v.at("signature").get<std::string>()) << v.at("message");
    auto recovered = recover_address(personal_message_digest(message), sig);
    ASSERT_TRUE(recovered.ok()) << recovered.error().message;
    EXPECT_EQ(checksum_address(*recovered), v.at("address").get<std::string>());
  }
}

TEST(EthKey, SigningIsDeterministic) {
  const EthKey key = key_from("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
  const Hash32 digest = keccak256(std::string_view("digest"));
  const auto a = key.sign(digest);
  const auto b = key.sign(digest);
  EXPECT_EQ(a.r, b.r);
  EXPECT_EQ(a.s, b.s);
  EXPECT_EQ(a.recovery_id, b.recovery_id);
}

TEST(EthKey, SignaturesHaveLowSAndRecover) {
  const EthKey key = key_from("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
  int parity[2] = {0, 0};
  for (std::uint32_t i = 0; i < 200; ++i) {
    Hash32 digest;
    const auto p = pattern(32, i);
    std::copy(p.begin(), p.end(), digest.begin());
    const RecoverableSignature sig = key.sign(digest);
    EXPECT_LE(hex(sig.s), kHalfOrder);  // same-length hex compares as the numbers do
    ASSERT_LE(sig.recovery_id, 1);
    ++parity[sig.recovery_id];
    auto recovered = recover_address(digest, sig);
    ASSERT_TRUE(recovered.ok());
    EXPECT_EQ(*recovered, key.address());
  }
  EXPECT_GT(parity[0], 0);
  EXPECT_GT(parity[1], 0);
}

TEST(RecoverAddress, OtherDigestOrParityGivesAnotherAddress) {
  const EthKey key = key_from("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
  const Hash32 digest = keccak256(std::string_view("one"));
  RecoverableSignature sig = key.sign(digest);
  auto other = recover_address(keccak256(std::string_view("two")), sig);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, key.address());
  sig.recovery_id ^= 1;
  auto flipped = recover_address(digest, sig);
  if (flipped.ok()) {
    EXPECT_NE(*flipped, key.address());
  }
}

TEST(RecoverAddress, RefusesInvalidSignatures) {
  const EthKey key = key_from("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
  const Hash32 digest = keccak256(std::string_view("x"));
  const RecoverableSignature good = key.sign(digest);

  RecoverableSignature bad_id = good;
  bad_id.recovery_id = 4;
  EXPECT_EQ(recover_address(digest, bad_id).error().message, "signature recovery id must be 0..3, got 4");

  RecoverableSignature zero_r = good;
  zero_r.r.fill(0);
  EXPECT_FALSE(recover_address(digest, zero_r).ok());

  RecoverableSignature big_s = good;
  std::copy_n(unhex(kOrder).begin(), 32, big_s.s.begin());  // s = n
  EXPECT_FALSE(recover_address(digest, big_s).ok());
}

TEST(EthKey, FromSecretRefusesInvalidScalars) {
  const std::string expected = "secp256k1 secret key is not a valid scalar (zero or not below the group order)";
  EXPECT_EQ(EthKey::from_secret(Bytes(32, 0)).error().message, expected);
  EXPECT_EQ(EthKey::from_secret(unhex(kOrder)).error().message, expected);
  EXPECT_EQ(EthKey::from_secret(Bytes(32, 0xff)).error().message, expected);
  EXPECT_EQ(EthKey::from_secret(Bytes(31, 1)).error().message, "secp256k1 secret key must be 32 bytes, got 31");
  EXPECT_FALSE(EthKey::from_secret(Bytes(33, 1)).ok());
  // n - 1 and 1 are the ends of the valid range.
  Bytes one(32, 0);
  one[31] = 1;
  EXPECT_TRUE(EthKey::from_secret(one).ok());
  Bytes n_minus_1 = unhex(kOrder);
  n_minus_1[31] -= 1;
  EXPECT_TRUE(EthKey::from_secret(n_minus_1).ok());
}

TEST(EthKey, GenerateDrawsUntilAValidScalar) {
  std::vector<Bytes> draws = {Bytes(32, 0), unhex(kOrder), Bytes(32, 0x11)};
  std::size_t calls = 0;
  auto key = EthKey::generate([&](std::size_t n) -> Result<Bytes> {
    EXPECT_EQ(n, 32u);
    return draws.at(calls++);
  });
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(calls, 3u);
  EXPECT_EQ(key->public_key(), EthKey::from_secret(Bytes(32, 0x11))->public_key());
}

TEST(EthKey, GenerateReportsABrokenSource) {
  auto failing = EthKey::generate([](std::size_t) -> Result<Bytes> { return make_error("NSM GetRandom failed"); });
  ASSERT_FALSE(failing.ok());
  EXPECT_EQ(failing.error().message, "secp256k1 key generation: NSM GetRandom failed");

  auto short_draw = EthKey::generate([](std::size_t) -> Result<Bytes> { return Bytes(16, 1); });
  ASSERT_FALSE(short_draw.ok());
  EXPECT_EQ(short_draw.error().message, "secp256k1 key generation: the random source gave 16 bytes, not 32");

  std::size_t calls = 0;
  auto zeros = EthKey::generate([&](std::size_t) -> Result<Bytes> {
    ++calls;
    return Bytes(32, 0);
  });
  ASSERT_FALSE(zeros.ok());
  EXPECT_EQ(calls, 16u);
  EXPECT_NE(zeros.error().message.find("the random source is broken"), std::string::npos);
}

TEST(EthKey, MovedKeysKeepWorking) {
  EthKey a = key_from("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
  const Address address = a.address();
  EthKey b = std::move(a);
  EXPECT_EQ(b.address(), address);
  auto recovered = recover_address(Hash32{}, b.sign(Hash32{}));
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(*recovered, address);
  EthKey c = key_from("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
  c = std::move(b);
  EXPECT_EQ(c.address(), address);
}

TEST(EthKey, SpkiDerIsWhatOpenSslReads) {
  const EthKey key = key_from("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
  const Bytes der = key.public_key_spki_der();
  ASSERT_EQ(der.size(), 88u);
  const unsigned char* p = der.data();
  EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  ASSERT_NE(pkey, nullptr);
  EXPECT_EQ(p, der.data() + der.size());
  char group[64] = {};
  std::size_t group_len = 0;
  ASSERT_EQ(EVP_PKEY_get_group_name(pkey, group, sizeof group, &group_len), 1);
  EXPECT_EQ(std::string(group, group_len), "secp256k1");
  unsigned char point[65];
  std::size_t point_len = 0;
  ASSERT_EQ(EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &point_len), 1);
  EXPECT_EQ(hex(std::span(point, point_len)), hex(key.public_key()));
  // OpenSSL writes the same DER back.
  unsigned char* again = nullptr;
  const int len = i2d_PUBKEY(pkey, &again);
  ASSERT_GT(len, 0);
  EXPECT_EQ(hex(std::span(again, static_cast<std::size_t>(len))), hex(der));
  OPENSSL_free(again);
  EVP_PKEY_free(pkey);
}

}  // namespace
}  // namespace enclaver::crypto
