// The internal and aux APIs' request bodies (api.md), decoded from JSON into
// typed requests. Sans-IO: the router hands over the parsed body; what comes
// back is either a request every later step can trust or an Error whose
// message is the 400's reason, naming the field ("payload.gas_limit: ...").
//
// Conventions from api.md:
//   - hex is accepted with or without "0x";
//   - for /v1/attestation, an empty string means the field is absent;
//   - quantities are hex strings or JSON integers up to 2^53-1;
//   - fields not listed are ignored (as upstream's serde does).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "crypto/eip1559.hpp"

namespace enclaver::odyn::api {

using Bytes = std::vector<std::uint8_t>;

// The NSM's cap on each attestation input (nsm.md §3: the simulator refuses
// more, and so may the hardware).
inline constexpr std::size_t kMaxAttestationField = 1024;

struct SignRequest {
  std::string message;  // non-empty; signed as its UTF-8 bytes
  bool include_attestation = false;
};

struct SignTxRequest {
  crypto::Eip1559Transaction transaction;
  bool include_attestation = false;
};

// user_data: absent, a JSON object (eth_addr is set in it), or raw bytes.
struct AttestationRequest {
  std::optional<Bytes> nonce;
  std::optional<Bytes> public_key_der;  // from the PEM given
  std::optional<nlohmann::json> user_data_object;
  std::optional<Bytes> user_data_bytes;
};

struct DecryptRequest {
  Bytes nonce;              // >= 12 bytes; the first 12 are the IV
  Bytes client_public_key;  // SPKI DER, checked by the crypto layer
  Bytes encrypted_data;     // ciphertext || 16-byte tag
};

struct EncryptRequest {
  std::string plaintext;
  Bytes client_public_key;
};

Result<SignRequest> decode_sign(const nlohmann::json& body);
Result<SignTxRequest> decode_sign_tx(const nlohmann::json& body);
// `aux`: the aux API honours only `nonce`; public_key and user_data are
// dropped unread (api.md), so nothing a sidecar sends there can matter.
Result<AttestationRequest> decode_attestation(const nlohmann::json& body, bool aux);
Result<DecryptRequest> decode_decrypt(const nlohmann::json& body);
Result<EncryptRequest> decode_encrypt(const nlohmann::json& body);

}  // namespace enclaver::odyn::api
