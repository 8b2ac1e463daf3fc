// The Ethereum identity key: a secp256k1 private key with recoverable,
// deterministic (RFC 6979) ECDSA signatures, via libsecp256k1.
//
// EthKey is move-only so that the secret is never copied by accident, and it
// wipes the secret (OPENSSL_cleanse) when destroyed or moved from. It is
// immutable after construction: const methods may run concurrently. All
// keys share one process-wide libsecp256k1 context, created on first use,
// randomised once (side-channel blinding) and never modified afterwards.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "common/result.hpp"
#include "crypto/bytes.hpp"

namespace enclaver::crypto {

// r || s || recovery_id. libsecp256k1 always produces a low s (s <= n/2,
// EIP-2). recovery_id is 0 or 1 for every signature sign() makes (2 and 3
// need r >= n, which has probability about 2^-127); Ethereum's y_parity and
// personal_sign's v - 27 are this value.
struct RecoverableSignature {
  std::array<std::uint8_t, 32> r{};
  std::array<std::uint8_t, 32> s{};
  std::uint8_t recovery_id = 0;
};

class EthKey {
 public:
  // Errors when `secret32` is not 32 bytes or not a valid scalar (0 or >= n).
  static Result<EthKey> from_secret(std::span<const std::uint8_t> secret32);
  // Asks `random` for 32 bytes until they form a valid scalar (at most 16
  // tries: each fails with probability about 2^-128, so a failure means the
  // source is broken). Errors from `random` are passed on.
  static Result<EthKey> generate(const std::function<Result<Bytes>(std::size_t)>& random);

  EthKey(EthKey&& other) noexcept;
  EthKey& operator=(EthKey&& other) noexcept;
  EthKey(const EthKey&) = delete;
  EthKey& operator=(const EthKey&) = delete;
  ~EthKey();

  std::array<std::uint8_t, 65> public_key() const { return public_key_; }  // 0x04 || X || Y
  Address address() const;
  // SubjectPublicKeyInfo DER (88 bytes): id-ecPublicKey, namedCurve
  // secp256k1 (1.3.132.0.10), uncompressed point.
  Bytes public_key_spki_der() const;
  // Deterministic (RFC 6979) recoverable ECDSA over a 32-byte digest.
  RecoverableSignature sign(const Hash32& digest) const;

 private:
  EthKey() = default;
  std::array<std::uint8_t, 32> secret_{};
  std::array<std::uint8_t, 65> public_key_{};
};

// The address whose key made `signature` over `digest`. Errors when r or s is
// not in [1, n-1], recovery_id > 3, or no point recovers. High s is accepted
// (as ecrecover does); callers that need EIP-2 must check s themselves.
Result<Address> recover_address(const Hash32& digest, const RecoverableSignature& signature);

}  // namespace enclaver::crypto
