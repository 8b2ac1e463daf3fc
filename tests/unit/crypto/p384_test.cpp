// The api.md encryption scheme against Node's WebCrypto (the fixture's
// client side): the same ECDH secret and HKDF key, decryption of WebCrypto's
// ciphertexts, encryption a WebCrypto-equivalent peer decrypts, and every
// bad input answered with "decryption failed" and nothing more.
#include <gtest/gtest.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "crypto/p384.hpp"
#include "tests/support/bytes.hpp"
#include "tests/unit/crypto/oracle_fixture.hpp"

namespace enclaver::crypto {
namespace {

using enclaver::testing::hex;
using enclaver::testing::unhex;
using testing::fixture_bytes;

static_assert(!std::is_copy_constructible_v<P384Key>);
static_assert(std::is_nothrow_move_constructible_v<P384Key>);

const nlohmann::json& p384() { return testing::oracle().at("p384"); }

P384Key load(const char* field) {
  auto key = P384Key::from_private_pem(p384().at(field).get<std::string>());
  if (!key) throw std::runtime_error(key.error().message);
  return std::move(key).value();
}

// SPKI DER of a fresh key of another type or curve, made by OpenSSL.
Bytes other_spki(const char* type, const char* curve) {
  EVP_PKEY* key = curve ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve) : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  if (!key) throw std::runtime_error("keygen failed");
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  Bytes out(der, der + len);
  OPENSSL_free(der);
  EVP_PKEY_free(key);
  return out;
}

TEST(P384, PublicKeyMatchesWebCryptoExport) {
  EXPECT_EQ(testing::hex0x(load("enclave_private_pem").public_key_spki_der()), p384().at("enclave_public_key_der").get<std::string>());
  EXPECT_EQ(testing::hex0x(load("client_private_pem").public_key_spki_der()), p384().at("client_public_key_der").get<std::string>());
}

TEST(P384, SharedKeyMatchesWebCrypto) {
  const P384Key enclave = load("enclave_private_pem");
  auto key = enclave.shared_key(fixture_bytes(p384().at("client_public_key_der")));
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(testing::hex0x(*key), p384().at("derived_key").get<std::string>());
  // HKDF of WebCrypto's 48-byte ECDH output gives the same key.
  EXPECT_EQ(hkdf_sha256(fixture_bytes(p384().at("shared_secret")), {}, enclaver::testing::bytes("encryption data"), 32), *key);
  // And the client computes it from its side.
  auto back = load("client_private_pem").shared_key(fixture_bytes(p384().at("enclave_public_key_der")));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, *key);
}

TEST(P384, DecryptsWebCryptoCiphertexts) {
  const P384Key enclave = load("enclave_private_pem");
  const Bytes client = fixture_bytes(p384().at("client_public_key_der"));
  ASSERT_GE(p384().at("messages").size(), 4u);
  for (const auto& m : p384().at("messages")) {
    auto plain = enclave.decrypt(client, fixture_bytes(m.at("nonce")), fixture_bytes(m.at("encrypted_data")));
    ASSERT_TRUE(plain.ok()) << plain.error().message;
    EXPECT_EQ(*plain, m.at("plaintext").get<std::string>());
  }
}

TEST(P384, OnlyTheFirstTwelveNonceBytesMatter) {
  const P384Key enclave = load("enclave_private_pem");
  const auto& m = p384().at("messages").at(0);
  Bytes nonce = fixture_bytes(m.at("nonce"));
  nonce.resize(12);
  auto plain = enclave.decrypt(fixture_bytes(p384().at("client_public_key_der")), nonce, fixture_bytes(m.at("encrypted_data")));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, m.at("plaintext").get<std::string>());
}

TEST(P384, RefusesPlaintextThatIsNotUtf8) {
  const P384Key enclave = load("enclave_private_pem");
  const auto& m = p384().at("not_utf8");
  auto plain = enclave.decrypt(fixture_bytes(p384().at("client_public_key_der")), fixture_bytes(m.at("nonce")),
                               fixture_bytes(m.at("encrypted_data")));
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().message, "decryption failed: the plaintext is not UTF-8");
}

TEST(P384, EncryptionThePeerDecrypts) {
  const P384Key enclave = load("enclave_private_pem");
  const P384Key client = load("client_private_pem");
  const Bytes enclave_der = enclave.public_key_spki_der();
  const Bytes client_der = client.public_key_spki_der();
  for (const std::string& text : std::vector<std::string>{"hello client", "", "h\xc3\xa9llo", std::string(5000, 'z')}) {
    auto sealed = enclave.encrypt(client_der, text);
    ASSERT_TRUE(sealed.ok()) << sealed.error().message;
    EXPECT_EQ(sealed->nonce.size(), 32u);
    EXPECT_EQ(sealed->ciphertext_and_tag.size(), text.size() + 16);
    auto plain = client.decrypt(enclave_der, sealed->nonce, sealed->ciphertext_and_tag);
    ASSERT_TRUE(plain.ok()) << plain.error().message;
    EXPECT_EQ(*plain, text);
    // The AES key is the one WebCrypto derives, and the IV the nonce's head.
    auto direct = aes256gcm_decrypt(fixture_bytes(p384().at("derived_key")), std::span(sealed->nonce).first(12),
                                    sealed->ciphertext_and_tag);
    ASSERT_TRUE(direct.ok());
    EXPECT_EQ(std::string(direct->begin(), direct->end()), text);
  }
}

TEST(P384, EveryEncryptionHasAFreshNonce) {
  const P384Key enclave = load("enclave_private_pem");
  const Bytes client = fixture_bytes(p384().at("client_public_key_der"));
  auto a = enclave.encrypt(client, "same");
  auto b = enclave.encrypt(client, "same");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->nonce, b->nonce);
  EXPECT_NE(a->ciphertext_and_tag, b->ciphertext_and_tag);
}

TEST(P384, GeneratedKeysInteroperate) {
  auto a = P384Key::generate();
  auto b = P384Key::generate();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->public_key_spki_der(), b->public_key_spki_der());
  EXPECT_EQ(a->public_key_spki_der().size(), 120u);
  auto sealed = a->encrypt(b->public_key_spki_der(), "round trip");
  ASSERT_TRUE(sealed.ok());
  auto plain = b->decrypt(a->public_key_spki_der(), sealed->nonce, sealed->ciphertext_and_tag);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, "round trip");
  // A moved key keeps working.
  P384Key moved = std::move(a).value();
  EXPECT_TRUE(moved.shared_key(b->public_key_spki_der()).ok());
}

TEST(P384, PemIsTheSameKey) {
  auto key = P384Key::generate();
  ASSERT_TRUE(key.ok());
  const std::string pem = key->public_key_pem();
  EXPECT_EQ(pem.rfind("-----BEGIN PUBLIC KEY-----\n", 0), 0u);
  EXPECT_EQ(pem.substr(pem.size() - 25), "-----END PUBLIC KEY-----\n");
  auto der = spki_der_from_pem(pem);
  ASSERT_TRUE(der.ok()) << der.error().message;
  EXPECT_EQ(*der, key->public_key_spki_der());
}

TEST(SpkiFromPem, ReadsAnyPublicKeyType) {
  for (auto [type, curve] : {std::pair<const char*, const char*>{"ED25519", nullptr}, {"EC", "P-256"}, {"EC", "secp256k1"}}) {
    EVP_PKEY* key = curve ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve) : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
    ASSERT_NE(key, nullptr);
    BIO* bio = BIO_new(BIO_s_mem());
    ASSERT_EQ(PEM_write_bio_PUBKEY(bio, key), 1);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    const std::string pem(data, static_cast<std::size_t>(len));
    unsigned char* expected = nullptr;
    const int der_len = i2d_PUBKEY(key, &expected);
    auto der = spki_der_from_pem(pem);
    ASSERT_TRUE(der.ok()) << type;
    EXPECT_EQ(hex(*der), hex(std::span(expected, static_cast<std::size_t>(der_len))));
    OPENSSL_free(expected);
    BIO_free(bio);
    EVP_PKEY_free(key);
  }
}

TEST(SpkiFromPem, RefusesOtherText) {
  const std::string expected =
      "not a PEM public key (expected \"-----BEGIN PUBLIC KEY-----\" with a SubjectPublicKeyInfo OpenSSL can read)";
  EXPECT_EQ(spki_der_from_pem("").error().message, expected);
  EXPECT_EQ(spki_der_from_pem("hello").error().message, expected);
  EXPECT_EQ(spki_der_from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").error().message, expected);
  EXPECT_EQ(spki_der_from_pem(p384().at("enclave_private_pem").get<std::string>()).error().message, expected);
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(P384FromPem, RefusesOtherKeys) {
  EXPECT_FALSE(P384Key::from_private_pem("nonsense").ok());
  EVP_PKEY* p256 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio, p256, nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  auto key = P384Key::from_private_pem(std::string(data, static_cast<std::size_t>(len)));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().message, "the private key is not on P-384 (secp384r1)");
  BIO_free(bio);
  EVP_PKEY_free(p256);
}

// --- hostile inputs --------------------------------------------------------

// Peer keys that must all be refused.
std::vector<std::pair<std::string, Bytes>> bad_peers() {
  const Bytes good = fixture_bytes(p384().at("client_public_key_der"));
  std::vector<std::pair<std::string, Bytes>> out;
  Bytes off_curve = good;
  off_curve.back() ^= 0x01;  // y changed: (x, y') is not on the curve
  out.emplace_back("point off the curve", off_curve);
  Bytes big_x = good;
  std::fill(big_x.end() - 96, big_x.end() - 48, 0xff);  // x >= p
  out.emplace_back("x not below p", big_x);
  out.emplace_back("P-256 key", other_spki("EC", "P-256"));
  out.emplace_back("secp256k1 key", other_spki("EC", "secp256k1"));
  out.emplace_back("Ed25519 key", other_spki("ED25519", nullptr));
  out.emplace_back("X25519 key", other_spki("X25519", nullptr));
  out.emplace_back("garbage", unhex("deadbeef"));
  out.emplace_back("empty", Bytes{});
  out.emplace_back("truncated", Bytes(good.begin(), good.end() - 1));
  Bytes trailing = good;
  trailing.push_back(0);
  out.emplace_back("trailing byte", trailing);
  // The point at infinity (a single 0x00 byte) under the P-384 OIDs.
  out.emplace_back("point at infinity", unhex("3016301006072a8648ce3d020106052b81040022030200" "00"));
  Bytes random = enclaver::testing::pattern(120, 5);
  out.emplace_back("random bytes", random);
  return out;
}

TEST(P384Decrypt, EveryBadInputIsJustDecryptionFailed) {
  const P384Key enclave = load("enclave_private_pem");
  const Bytes client = fixture_bytes(p384().at("client_public_key_der"));
  const auto& m = p384().at("messages").at(0);
  const Bytes nonce = fixture_bytes(m.at("nonce"));
  const Bytes sealed = fixture_bytes(m.at("encrypted_data"));
  ASSERT_TRUE(enclave.decrypt(client, nonce, sealed).ok());

  auto expect_failed = [&](const std::string& what, std::span<const std::uint8_t> peer, std::span<const std::uint8_t> n,
                           std::span<const std::uint8_t> c) {
    auto r = enclave.decrypt(peer, n, c);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().message, "decryption failed") << what;
    EXPECT_EQ(ERR_peek_error(), 0u) << what;
  };
  for (const auto& [what, peer] : bad_peers()) expect_failed(what, peer, nonce, sealed);

  Bytes bad_tag = sealed;
  bad_tag.back() ^= 0x80;
  expect_failed("bad tag", client, nonce, bad_tag);
  Bytes bad_ct = sealed;
  bad_ct.front() ^= 0x01;
  expect_failed("bad ciphertext", client, nonce, bad_ct);
  expect_failed("short ciphertext", client, nonce, std::span(sealed).first(15));
  expect_failed("empty ciphertext", client, nonce, Bytes{});
  expect_failed("nonce of 11 bytes", client, std::span(nonce).first(11), sealed);
  expect_failed("empty nonce", client, Bytes{}, sealed);
  Bytes other_nonce = nonce;
  other_nonce[11] ^= 1;
  expect_failed("other nonce", client, other_nonce, sealed);
  // The right ciphertext from another sender's key.
  auto stranger = P384Key::generate();
  ASSERT_TRUE(stranger.ok());
  expect_failed("wrong peer key", stranger->public_key_spki_der(), nonce, sealed);
  // Our own key as the peer: a valid point, the wrong secret.
  expect_failed("own key as peer", enclave.public_key_spki_der(), nonce, sealed);
}

TEST(P384Encrypt, BadPeerKeysAreNamed) {
  const P384Key enclave = load("enclave_private_pem");
  for (const auto& [what, peer] : bad_peers()) {
    auto r = enclave.encrypt(peer, "secret");
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().message, "client_public_key: not a P-384 public key") << what;
    EXPECT_EQ(ERR_peek_error(), 0u) << what;
  }
}

TEST(P384SharedKey, SaysWhatIsWrongWithThePeer) {
  const P384Key enclave = load("enclave_private_pem");
  EXPECT_EQ(enclave.shared_key(other_spki("EC", "P-256")).error().message, "peer public key: not a P-384 (secp384r1) EC key");
  EXPECT_EQ(enclave.shared_key(unhex("deadbeef")).error().message, "peer public key: not a SubjectPublicKeyInfo DER public key");
  Bytes trailing = fixture_bytes(p384().at("client_public_key_der"));
  trailing.push_back(0);
  EXPECT_EQ(enclave.shared_key(trailing).error().message, "peer public key: trailing bytes after the SubjectPublicKeyInfo");
}

}  // namespace
}  // namespace enclaver::crypto
