// HKDF-SHA256 (RFC 5869 appendix A, cases 1-3) and AES-256-GCM (McGrew and
// Viega, "The Galois/Counter Mode of Operation", test cases 13-15), plus
// tampering and size errors.
#include <gtest/gtest.h>

#include <openssl/err.h>

#include <stdexcept>
#include <string>

#include "crypto/symmetric.hpp"
#include "tests/support/bytes.hpp"

namespace enclaver::crypto {
namespace {

using enclaver::testing::hex;
using enclaver::testing::unhex;

Bytes range(std::uint8_t first, std::uint8_t last) {
  Bytes out;
  for (unsigned b = first; b <= last; ++b) out.push_back(static_cast<std::uint8_t>(b));
  return out;
}

TEST(HkdfSha256, Rfc5869Case1) {
  EXPECT_EQ(hex(hkdf_sha256(Bytes(22, 0x0b), range(0x00, 0x0c), range(0xf0, 0xf9), 42)),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(HkdfSha256, Rfc5869Case2LongInputs) {
  EXPECT_EQ(hex(hkdf_sha256(range(0x00, 0x4f), range(0x60, 0xaf), range(0xb0, 0xff), 82)),
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
            "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
            "cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

TEST(HkdfSha256, Rfc5869Case3EmptySaltAndInfo) {
  EXPECT_EQ(hex(hkdf_sha256(Bytes(22, 0x0b), {}, {}, 42)),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(HkdfSha256, EmptySaltEqualsHashLenZeros) {
  EXPECT_EQ(hkdf_sha256(Bytes(48, 1), {}, unhex("01"), 32), hkdf_sha256(Bytes(48, 1), Bytes(32, 0), unhex("01"), 32));
}

TEST(HkdfSha256, LengthLimits) {
  EXPECT_TRUE(hkdf_sha256(Bytes(22, 0x0b), {}, {}, 0).empty());
  EXPECT_EQ(hkdf_sha256(Bytes(22, 0x0b), {}, {}, 255 * 32).size(), 255u * 32);
  EXPECT_THROW(hkdf_sha256(Bytes(22, 0x0b), {}, {}, 255 * 32 + 1), std::invalid_argument);
  EXPECT_EQ(hkdf_sha256({}, {}, {}, 32).size(), 32u);  // an empty IKM is allowed by RFC 5869
}

struct GcmCase {
  const char* key;
  const char* iv;
  const char* plaintext;
  const char* ciphertext;
  const char* tag;
};

const GcmCase kGcmCases[] = {
    // Test case 13: zero key, empty plaintext.
    {"0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", "", "",
     "530f8afbc74536b9a963b4f1c4cb738b"},
    // Test case 14: zero key, one zero block.
    {"0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000",
     "00000000000000000000000000000000", "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    // Test case 15: four blocks.
    {"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
};

TEST(Aes256Gcm, PublishedVectorsEncrypt) {
  for (const GcmCase& c : kGcmCases) {
    auto sealed = aes256gcm_encrypt(unhex(c.key), unhex(c.iv), unhex(c.plaintext));
    ASSERT_TRUE(sealed.ok()) << sealed.error().message;
    EXPECT_EQ(hex(*sealed), std::string(c.ciphertext) + c.tag);
  }
}

TEST(Aes256Gcm, PublishedVectorsDecrypt) {
  for (const GcmCase& c : kGcmCases) {
    auto opened = aes256gcm_decrypt(unhex(c.key), unhex(c.iv), unhex(std::string(c.ciphertext) + c.tag));
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    EXPECT_EQ(hex(*opened), c.plaintext);
  }
}

TEST(Aes256Gcm, TamperingFailsWithOneMessage) {
  const GcmCase& c = kGcmCases[2];
  const Bytes sealed = unhex(std::string(c.ciphertext) + c.tag);
  for (std::size_t i : {std::size_t{0}, std::size_t{63}, sealed.size() - 16, sealed.size() - 1}) {
    Bytes bad = sealed;
    bad[i] ^= 0x01;
    auto opened = aes256gcm_decrypt(unhex(c.key), unhex(c.iv), bad);
    ASSERT_FALSE(opened.ok()) << "flipped byte " << i;
    EXPECT_EQ(opened.error().message, "decryption failed");
  }
  Bytes other_iv = unhex(c.iv);
  other_iv[0] ^= 1;
  EXPECT_EQ(aes256gcm_decrypt(unhex(c.key), other_iv, sealed).error().message, "decryption failed");
  Bytes truncated(sealed.begin(), sealed.end() - 1);
  EXPECT_EQ(aes256gcm_decrypt(unhex(c.key), unhex(c.iv), truncated).error().message, "decryption failed");
  EXPECT_EQ(aes256gcm_decrypt(unhex(c.key), unhex(c.iv), Bytes(15, 0)).error().message, "decryption failed");
  EXPECT_EQ(aes256gcm_decrypt(unhex(c.key), unhex(c.iv), Bytes{}).error().message, "decryption failed");
  EXPECT_EQ(ERR_peek_error(), 0u);  // nothing left on OpenSSL's error queue
}

TEST(Aes256Gcm, WrongKeyOrIvSizesAreNamed) {
  EXPECT_EQ(aes256gcm_encrypt(Bytes(16, 0), Bytes(12, 0), Bytes(1, 0)).error().message, "AES-256-GCM key must be 32 bytes, got 16");
  EXPECT_EQ(aes256gcm_encrypt(Bytes(32, 0), Bytes(16, 0), Bytes(1, 0)).error().message, "AES-256-GCM IV must be 12 bytes, got 16");
  EXPECT_EQ(aes256gcm_decrypt(Bytes(31, 0), Bytes(12, 0), Bytes(16, 0)).error().message, "AES-256-GCM key must be 32 bytes, got 31");
}

TEST(Aes256Gcm, RoundTripsAnyLength) {
  const Bytes key(32, 0x42), iv(12, 0x24);
  for (std::size_t n : {0u, 1u, 15u, 16u, 17u, 1000u}) {
    const Bytes plain = enclaver::testing::pattern(n, static_cast<std::uint32_t>(n));
    auto sealed = aes256gcm_encrypt(key, iv, plain);
    ASSERT_TRUE(sealed.ok());
    ASSERT_EQ(sealed->size(), n + 16);
    auto opened = aes256gcm_decrypt(key, iv, *sealed);
    ASSERT_TRUE(opened.ok());
    EXPECT_EQ(*opened, plain);
  }
}

}  // namespace
}  // namespace enclaver::crypto
