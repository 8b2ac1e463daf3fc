#include "crypto/secp256k1_key.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <algorithm>
#include <string>

#include "crypto/eth.hpp"

namespace enclaver::crypto {
namespace {

// The one libsecp256k1 context. Created on first use (thread-safe static
// initialisation), randomised with fresh bytes before anyone sees it, then
// only read: libsecp256k1 takes it as const for every operation we use.
// Never destroyed: it owns no secrets, and keys may outlive static
// destruction order.
const secp256k1_context* context() {
  static const secp256k1_context* const ctx = [] {
    secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    std::array<std::uint8_t, 32> seed;
    // Blinding only hardens against side channels; signatures are correct
    // without it, so a failing RNG leaves the context unblinded.
    if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) == 1) {
      [[maybe_unused]] const int blinded = secp256k1_context_randomize(c, seed.data());
    }
    OPENSSL_cleanse(seed.data(), seed.size());
    return c;
  }();
  return ctx;
}

}  // namespace

Result<EthKey> EthKey::from_secret(std::span<const std::uint8_t> secret32) {
  if (secret32.size() != 32) return make_error("secp256k1 secret key must be 32 bytes, got " + std::to_string(secret32.size()));
  EthKey key;
  std::copy(secret32.begin(), secret32.end(), key.secret_.begin());
  if (secp256k1_ec_seckey_verify(context(), key.secret_.data()) != 1)
    return make_error("secp256k1 secret key is not a valid scalar (zero or not below the group order)");
  secp256k1_pubkey pub;
  if (secp256k1_ec_pubkey_create(context(), &pub, key.secret_.data()) != 1)
    return make_error("secp256k1: could not derive the public key");
  std::size_t len = key.public_key_.size();
  (void)secp256k1_ec_pubkey_serialize(context(), key.public_key_.data(), &len, &pub, SECP256K1_EC_UNCOMPRESSED);
  return key;
}

Result<EthKey> EthKey::generate(const std::function<Result<Bytes>(std::size_t)>& random) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    auto bytes = random(32);
    if (!bytes) return make_error("secp256k1 key generation: " + bytes.error().message);
    if (bytes->size() != 32) {
      OPENSSL_cleanse(bytes->data(), bytes->size());
      return make_error("secp256k1 key generation: the random source gave " + std::to_string(bytes->size()) + " bytes, not 32");
    }
    auto key = from_secret(*bytes);
    OPENSSL_cleanse(bytes->data(), bytes->size());
    if (key) return key;
  }
  return make_error("secp256k1 key generation: 16 random draws in a row were not valid keys; the random source is broken");
}

EthKey::EthKey(EthKey&& other) noexcept : secret_(other.secret_), public_key_(other.public_key_) {
  OPENSSL_cleanse(other.secret_.data(), other.secret_.size());
}

EthKey& EthKey::operator=(EthKey&& other) noexcept {
  if (this != &other) {
    secret_ = other.secret_;
    public_key_ = other.public_key_;
    OPENSSL_cleanse(other.secret_.data(), other.secret_.size());
  }
  return *this;
}

EthKey::~EthKey() { OPENSSL_cleanse(secret_.data(), secret_.size()); }

Address EthKey::address() const { return address_of(public_key_); }

Bytes EthKey::public_key_spki_der() const {
  // The DER prefix is a constant for every uncompressed secp256k1 point:
  // SEQUENCE(86) { SEQUENCE(16) { OID 1.2.840.10045.2.1, OID 1.3.132.0.10 },
  // BIT STRING(66) { 0 unused bits, point } }.
  static constexpr std::uint8_t kPrefix[] = {0x30, 0x56, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
                                             0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a, 0x03, 0x42, 0x00};
  Bytes out(sizeof kPrefix + public_key_.size());
  std::copy(std::begin(kPrefix), std::end(kPrefix), out.begin());
  std::copy(public_key_.begin(), public_key_.end(), out.begin() + sizeof kPrefix);
  return out;
}

RecoverableSignature EthKey::sign(const Hash32& digest) const {
  secp256k1_ecdsa_recoverable_signature sig;
  // A null nonce function selects RFC 6979; signing fails only for an
  // invalid secret, which from_secret() has excluded.
  (void)secp256k1_ecdsa_sign_recoverable(context(), &sig, digest.data(), secret_.data(), nullptr, nullptr);
  std::array<std::uint8_t, 64> compact;
  int recid = 0;
  (void)secp256k1_ecdsa_recoverable_signature_serialize_compact(context(), compact.data(), &recid, &sig);
  RecoverableSignature out;
  std::copy_n(compact.begin(), 32, out.r.begin());
  std::copy_n(compact.begin() + 32, 32, out.s.begin());
  out.recovery_id = static_cast<std::uint8_t>(recid);
  return out;
}

Result<Address> recover_address(const Hash32& digest, const RecoverableSignature& signature) {
  if (signature.recovery_id > 3) return make_error("signature recovery id must be 0..3, got " + std::to_string(signature.recovery_id));
  std::array<std::uint8_t, 64> compact;
  std::copy(signature.r.begin(), signature.r.end(), compact.begin());
  std::copy(signature.s.begin(), signature.s.end(), compact.begin() + 32);
  secp256k1_ecdsa_recoverable_signature sig;
  if (secp256k1_ecdsa_recoverable_signature_parse_compact(context(), &sig, compact.data(), signature.recovery_id) != 1)
    return make_error("signature r or s is not below the group order");
  secp256k1_pubkey pub;
  if (secp256k1_ecdsa_recover(context(), &pub, &sig, digest.data()) != 1)
    return make_error("no public key recovers from this signature (r or s is zero, or r is not an x coordinate)");
  std::array<std::uint8_t, 65> serialized;
  std::size_t len = serialized.size();
  (void)secp256k1_ec_pubkey_serialize(context(), serialized.data(), &len, &pub, SECP256K1_EC_UNCOMPRESSED);
  return address_of(serialized);
}

}  // namespace enclaver::crypto
