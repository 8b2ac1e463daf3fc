#include "crypto/symmetric.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <climits>
#include <memory>
#include <stdexcept>
#include <string>

#include "common/openssl_errors.hpp"

namespace enclaver::crypto {
namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

struct KdfFree {
  void operator()(EVP_KDF* k) const { EVP_KDF_free(k); }
};
struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};

// OpenSSL takes non-const pointers in OSSL_PARAM even for inputs it only
// reads; an empty span may also have a null data pointer, which some
// parameters refuse, so empty inputs point at a dummy byte instead.
void* param_bytes(std::span<const std::uint8_t> s) {
  static const std::uint8_t kEmpty = 0;
  return const_cast<std::uint8_t*>(s.empty() ? &kEmpty : s.data());
}

Result<Bytes> check_sizes(std::span<const std::uint8_t> key, std::span<const std::uint8_t> iv) {
  if (key.size() != 32) return make_error("AES-256-GCM key must be 32 bytes, got " + std::to_string(key.size()));
  if (iv.size() != 12) return make_error("AES-256-GCM IV must be 12 bytes, got " + std::to_string(iv.size()));
  return Bytes{};
}

Error decryption_failed() {
  ERR_clear_error();  // the reason stays private, and the queue clean for the next caller
  return make_error("decryption failed");
}

}  // namespace

Bytes hkdf_sha256(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt, std::span<const std::uint8_t> info,
                  std::size_t length) {
  if (length > 255 * 32) throw std::invalid_argument("hkdf_sha256: length " + std::to_string(length) + " exceeds 255 * 32 bytes");
  Bytes out(length);
  if (length == 0) return out;
  std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
  if (!ctx) throw std::runtime_error("hkdf_sha256: " + openssl_errors());
  OSSL_PARAM params[5];
  std::size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, param_bytes(ikm), ikm.size());
  // Left unset, the salt defaults to HashLen zeros, which RFC 5869 says an
  // empty salt means.
  if (!salt.empty()) params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, param_bytes(salt), salt.size());
  if (!info.empty()) params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, param_bytes(info), info.size());
  params[n] = OSSL_PARAM_construct_end();
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) throw std::runtime_error("hkdf_sha256: " + openssl_errors());
  return out;
}

Result<Bytes> aes256gcm_encrypt(std::span<const std::uint8_t> key32, std::span<const std::uint8_t> iv12,
                                std::span<const std::uint8_t> plaintext) {
  if (auto sizes = check_sizes(key32, iv12); !sizes) return sizes;
  if (plaintext.size() > INT_MAX - 64) return make_error("AES-256-GCM plaintext too large");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_EncryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), key32.data(), iv12.data(), nullptr) != 1)
    return make_error("AES-256-GCM setup failed: " + openssl_errors());
  Bytes out(plaintext.size() + kAesGcmTagSize);
  int len = 0;
  if (!plaintext.empty() &&
      EVP_EncryptUpdate(ctx.get(), out.data(), &len, plaintext.data(), static_cast<int>(plaintext.size())) != 1)
    return make_error("AES-256-GCM encryption failed: " + openssl_errors());
  std::uint8_t scratch[16];  // GCM's final step writes no bytes
  int final_len = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), scratch, &final_len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kAesGcmTagSize, out.data() + plaintext.size()) != 1)
    return make_error("AES-256-GCM encryption failed: " + openssl_errors());
  return out;
}

Result<Bytes> aes256gcm_decrypt(std::span<const std::uint8_t> key32, std::span<const std::uint8_t> iv12,
                                std::span<const std::uint8_t> ciphertext_and_tag) {
  if (auto sizes = check_sizes(key32, iv12); !sizes) return sizes;
  if (ciphertext_and_tag.size() < kAesGcmTagSize || ciphertext_and_tag.size() > INT_MAX - 64) return decryption_failed();
  const std::size_t ct_size = ciphertext_and_tag.size() - kAesGcmTagSize;
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_DecryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), key32.data(), iv12.data(), nullptr) != 1)
    return make_error("AES-256-GCM setup failed: " + openssl_errors());
  Bytes out(ct_size);
  int len = 0;
  if (ct_size > 0 && EVP_DecryptUpdate(ctx.get(), out.data(), &len, ciphertext_and_tag.data(), static_cast<int>(ct_size)) != 1)
    return decryption_failed();
  // The tag parameter is taken as non-const but only read.
  auto* tag = const_cast<std::uint8_t*>(ciphertext_and_tag.data() + ct_size);
  std::uint8_t scratch[16];
  int final_len = 0;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kAesGcmTagSize, tag) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), scratch, &final_len) != 1) {
    if (!out.empty()) OPENSSL_cleanse(out.data(), out.size());  // unauthenticated plaintext never leaves
    return decryption_failed();
  }
  return out;
}

}  // namespace enclaver::crypto
