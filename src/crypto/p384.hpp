// The enclave's encryption key and the scheme of api.md, interoperable with
// WebCrypto clients:
//   ECDH P-384 (shared secret = the 48-byte x coordinate)
//   -> HKDF-SHA256 (salt empty, info "encryption data", 32 bytes)
//   -> AES-256-GCM (IV = the first 12 bytes of the nonce, no AAD, 16-byte tag
//      appended to the ciphertext).
// Peer keys travel as SubjectPublicKeyInfo DER. A peer key is accepted only
// if it is EC on P-384 (secp384r1) with a point on the curve, and the DER has
// no trailing bytes.
//
// Errors. decrypt() answers every failure that depends on its inputs (bad
// DER, wrong curve, point off the curve, short nonce, short input, bad tag)
// with the one message "decryption failed", so that it is no oracle; the only
// other message is "decryption failed: the plaintext is not UTF-8", given
// after the tag has verified. encrypt() names a bad peer key
// ("client_public_key: not a P-384 public key"). The OpenSSL error queue is
// left empty after every failure.
//
// P384Key is move-only and immutable: const methods may run concurrently. A
// moved-from key must not be used. OpenSSL clears the private scalar when
// the key is freed.
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "crypto/bytes.hpp"
#include "crypto/symmetric.hpp"

namespace enclaver::crypto {

// The SubjectPublicKeyInfo DER of the first "-----BEGIN PUBLIC KEY-----"
// block in `pem`, of any key type OpenSSL reads (RSA, EC, Ed25519, ...).
Result<Bytes> spki_der_from_pem(std::string_view pem);

class P384Key {
 public:
  // A fresh key from OpenSSL's RNG (seeded from the kernel, which odyn seeds
  // from the NSM).
  static Result<P384Key> generate();
  // A P-384 private key from PEM (PKCS#8 "PRIVATE KEY" or SEC1 "EC PRIVATE
  // KEY"). For tests and fixtures; errors if it is not a P-384 key.
  static Result<P384Key> from_private_pem(std::string_view pem);

  Bytes public_key_spki_der() const;
  std::string public_key_pem() const;  // "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n"

  // ECDH with the peer, then HKDF: the 32-byte AES key. Errors say what is
  // wrong with the peer key.
  Result<Bytes> shared_key(std::span<const std::uint8_t> peer_spki_der) const;

  // The plaintext (UTF-8) of ciphertext_and_tag, sent by the peer with
  // `nonce` (at least 12 bytes; only the first 12 are the IV).
  Result<std::string> decrypt(std::span<const std::uint8_t> peer_spki_der, std::span<const std::uint8_t> nonce,
                              std::span<const std::uint8_t> ciphertext_and_tag) const;

  struct Encrypted {
    Bytes ciphertext_and_tag;
    Bytes nonce;  // 32 fresh random bytes (RAND_bytes); the IV is the first 12
  };
  Result<Encrypted> encrypt(std::span<const std::uint8_t> peer_spki_der, std::string_view plaintext) const;

 private:
  struct PkeyFree {
    void operator()(EVP_PKEY* k) const;
  };
  explicit P384Key(EVP_PKEY* key) : key_(key) {}
  std::unique_ptr<EVP_PKEY, PkeyFree> key_;
};

}  // namespace enclaver::crypto
