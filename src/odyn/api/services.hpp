// What the internal and aux APIs do, behind their routers (api.md): the
// enclave's two keys, made at start and kept in memory only, and the NSM.
// One object serves both routers; each router exposes only its endpoints.
//
// Results are JSON values (or the attestation document's bytes); failures
// are Errors whose message is the response's reason. Which status a
// failure gets is the route's business (api.md): decryption and key
// problems are the client's (400), the NSM's are 503.
//
// The NSM is called synchronously on the event loop: a call is a ioctl (or,
// in the simulator, one datagram each way) taking about a millisecond, and
// the driver serialises calls anyway (nsm.md §1).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "crypto/p384.hpp"
#include "crypto/secp256k1_key.hpp"
#include "nsm/client.hpp"
#include "odyn/api/requests.hpp"

namespace enclaver::odyn::api {

// The NSM, or why there is none (then attestation and randomness fail
// with that reason and the keys come from the kernel's RNG alone).
struct NsmHandle {
  std::unique_ptr<nsm::Client> client;
  std::string unavailable;  // when client is null
};

class Services {
 public:
  // Makes the keys: the secp256k1 secret from NSM GetRandom XORed with the
  // kernel's getrandom (each alone would do; either failing would not make
  // the key guessable), the P-384 key from OpenSSL's RNG, which the kernel
  // seeds and the kernel was seeded from the NSM at bootstrap.
  static Result<std::shared_ptr<Services>> create(NsmHandle nsm);

  // GET /v1/eth/address
  nlohmann::json address() const;
  // GET /v1/encryption/public_key
  nlohmann::json encryption_public_key() const;
  // GET /v1/random: 32 bytes from NSM GetRandom.
  Result<nlohmann::json> random();
  // POST /v1/attestation: the COSE_Sign1 document.
  Result<Bytes> attestation(const AttestationRequest& request);
  // POST /v1/eth/sign: EIP-191 personal_sign, v = 27/28.
  Result<nlohmann::json> sign(const SignRequest& request);
  // POST /v1/eth/sign-tx: a signed EIP-1559 transaction.
  Result<nlohmann::json> sign_transaction(const SignTxRequest& request);
  // POST /v1/encryption/decrypt; the error is always "decryption failed".
  Result<nlohmann::json> decrypt(const DecryptRequest& request) const;
  // POST /v1/encryption/encrypt; the error names client_public_key.
  Result<nlohmann::json> encrypt(const EncryptRequest& request) const;

  const crypto::EthKey& eth_key() const { return eth_; }

 private:
  Services(NsmHandle nsm, crypto::EthKey eth, crypto::P384Key encryption);
  Result<Bytes> nsm_attestation(const std::optional<Bytes>& user_data, const std::optional<Bytes>& nonce,
                                const std::optional<Bytes>& public_key);
  // include_attestation (api.md): nonce = what was signed, public_key = the
  // secp256k1 key's SPKI, user_data = {"eth_addr": ...}; base64 or null.
  Result<nlohmann::json> binding_attestation(bool wanted, const crypto::Hash32& nonce);

  NsmHandle nsm_;
  crypto::EthKey eth_;
  crypto::P384Key encryption_;
  // Derived once: every answer carries them.
  std::string address_;        // EIP-55
  Bytes eth_addr_user_data_;   // {"eth_addr":"0x..."}
  Bytes encryption_spki_;
};

}  // namespace enclaver::odyn::api
