// The symmetric half of the encryption scheme (api.md): HKDF-SHA256 (RFC
// 5869) and AES-256-GCM with a 12-byte IV, no AAD and the 16-byte tag
// appended to the ciphertext. Both through OpenSSL 3's EVP interfaces.
// Included by p384.hpp; usable on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/result.hpp"
#include "crypto/bytes.hpp"

namespace enclaver::crypto {

inline constexpr std::size_t kAesGcmTagSize = 16;

// HKDF-SHA256 extract-and-expand. An empty salt means HashLen zero bytes
// (RFC 5869 §2.2). Precondition: length <= 255 * 32 (the most HKDF-SHA256
// can produce); a larger length is a programming error and throws
// std::invalid_argument. Throws std::runtime_error only if OpenSSL itself
// fails (out of memory).
Bytes hkdf_sha256(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt, std::span<const std::uint8_t> info,
                  std::size_t length);

// ciphertext || tag. Errors only for a key that is not 32 bytes or an IV
// that is not 12 bytes (caller bugs), or an OpenSSL failure.
Result<Bytes> aes256gcm_encrypt(std::span<const std::uint8_t> key32, std::span<const std::uint8_t> iv12,
                                std::span<const std::uint8_t> plaintext);

// The plaintext, or the error "decryption failed" for input shorter than the
// tag or a tag that does not verify (no plaintext is released then). Wrong
// key or IV sizes give a descriptive error instead.
Result<Bytes> aes256gcm_decrypt(std::span<const std::uint8_t> key32, std::span<const std::uint8_t> iv12,
                                std::span<const std::uint8_t> ciphertext_and_tag);

}  // namespace enclaver::crypto
