#include "crypto/p384.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <array>
#include <climits>
#include <cstring>
#include <stdexcept>

#include "common/openssl_errors.hpp"
#include "common/text.hpp"

namespace enclaver::crypto {
namespace {

constexpr std::size_t kSharedSecretSize = 48;  // P-384 x coordinate
constexpr std::size_t kIvSize = 12;
constexpr std::size_t kNonceSize = 32;
constexpr std::string_view kHkdfInfo = "encryption data";

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using Bio = std::unique_ptr<BIO, BioFree>;

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

Bio read_bio(std::string_view text) {
  if (text.size() > INT_MAX) return nullptr;
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

bool is_p384(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "EC") != 1) return false;
  char group[64] = {};
  std::size_t len = 0;
  return EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1 && std::string_view(group, len) == "secp384r1";
}

// The peer's key from SPKI DER: whole input consumed, EC on P-384, and the
// point valid (decoding already refuses points off the curve; the public
// check also refuses the point at infinity).
Result<Pkey> peer_key(std::span<const std::uint8_t> der) {
  if (der.empty() || der.size() > INT_MAX) return make_error("not a SubjectPublicKeyInfo");
  const unsigned char* p = der.data();
  Pkey key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!key) return make_error("not a SubjectPublicKeyInfo DER public key");
  if (p != der.data() + der.size()) return make_error("trailing bytes after the SubjectPublicKeyInfo");
  if (!is_p384(key.get())) return make_error("not a P-384 (secp384r1) EC key");
  PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return make_error("the P-384 point is not valid");
  return key;
}

Bytes spki_der(const EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  if (len <= 0) throw std::runtime_error("encoding a public key failed: " + openssl_errors());
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

}  // namespace

void P384Key::PkeyFree::operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }

Result<Bytes> spki_der_from_pem(std::string_view pem) {
  Bio bio = read_bio(pem);
  if (!bio) return make_error("PEM public key: input too large or out of memory");
  Pkey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();
    return make_error("not a PEM public key (expected \"-----BEGIN PUBLIC KEY-----\" with a SubjectPublicKeyInfo OpenSSL can read)");
  }
  return spki_der(key.get());
}

Result<P384Key> P384Key::generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  if (!key) return make_error("P-384 key generation failed: " + openssl_errors());
  return P384Key(key);
}

Result<P384Key> P384Key::from_private_pem(std::string_view pem) {
  Bio bio = read_bio(pem);
  if (!bio) return make_error("PEM private key: input too large or out of memory");
  Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();
    return make_error("not a PEM private key (PKCS#8 \"PRIVATE KEY\" or \"EC PRIVATE KEY\")");
  }
  if (!is_p384(key.get())) return make_error("the private key is not on P-384 (secp384r1)");
  return P384Key(key.release());
}

Bytes P384Key::public_key_spki_der() const { return spki_der(key_.get()); }

std::string P384Key::public_key_pem() const {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1)
    throw std::runtime_error("writing the P-384 public key as PEM failed: " + openssl_errors());
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

Result<Bytes> P384Key::shared_key(std::span<const std::uint8_t> peer_spki_der) const {
  auto peer = peer_key(peer_spki_der);
  if (!peer) {
    ERR_clear_error();
    return make_error("peer public key: " + peer.error().message);
  }
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
  std::array<std::uint8_t, kSharedSecretSize> secret{};
  std::size_t len = secret.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer_ex(ctx.get(), peer->get(), 1) != 1 ||
      EVP_PKEY_derive(ctx.get(), secret.data(), &len) != 1 || len != secret.size()) {
    OPENSSL_cleanse(secret.data(), secret.size());
    return make_error("ECDH with the peer key failed: " + openssl_errors());
  }
  Bytes key = hkdf_sha256(secret, {}, as_bytes(kHkdfInfo), 32);
  OPENSSL_cleanse(secret.data(), secret.size());
  return key;
}

Result<std::string> P384Key::decrypt(std::span<const std::uint8_t> peer_spki_der, std::span<const std::uint8_t> nonce,
                                     std::span<const std::uint8_t> ciphertext_and_tag) const {
  const Error failed = make_error("decryption failed");
  if (nonce.size() < kIvSize) return failed;
  auto key = shared_key(peer_spki_der);
  if (!key) return failed;
  auto plain = aes256gcm_decrypt(*key, nonce.first(kIvSize), ciphertext_and_tag);
  OPENSSL_cleanse(key->data(), key->size());
  ERR_clear_error();
  if (!plain) return failed;
  std::string text(plain->begin(), plain->end());
  if (!plain->empty()) OPENSSL_cleanse(plain->data(), plain->size());
  if (text::first_invalid_utf8(text)) return make_error("decryption failed: the plaintext is not UTF-8");
  return text;
}

Result<P384Key::Encrypted> P384Key::encrypt(std::span<const std::uint8_t> peer_spki_der, std::string_view plaintext) const {
  auto key = shared_key(peer_spki_der);
  if (!key) return make_error("client_public_key: not a P-384 public key");
  Encrypted out;
  out.nonce.resize(kNonceSize);
  if (RAND_bytes(out.nonce.data(), static_cast<int>(out.nonce.size())) != 1) {
    OPENSSL_cleanse(key->data(), key->size());
    return make_error("the random number generator failed: " + openssl_errors());
  }
  auto sealed = aes256gcm_encrypt(*key, std::span(out.nonce).first(kIvSize), as_bytes(plaintext));
  OPENSSL_cleanse(key->data(), key->size());
  if (!sealed) return sealed.error();
  out.ciphertext_and_tag = std::move(sealed).value();
  return out;
}

}  // namespace enclaver::crypto
