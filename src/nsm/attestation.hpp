// AWS Nitro attestation documents (../shared/spec/nsm.md §4): parse one
// (untagged or tag-18 COSE_Sign1 around the payload map) with strict
// structural checks, and encode one in AWS's exact layout (untagged envelope,
// {1: -35} protected header, indefinite-length payload map in AWS's key
// order, u64 timestamp, null for absent optionals). Cryptographic checks are
// in nsm/verify.hpp. Errors are values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "nsm/cose.hpp"

namespace enclaver::nsm {

using Bytes = std::vector<std::uint8_t>;

struct AttestationDocument {
  std::string module_id;
  std::string digest = "SHA384";
  std::uint64_t timestamp_ms = 0;  // ms since the epoch, UTC
  std::map<std::uint32_t, Bytes> pcrs;
  Bytes certificate;               // DER leaf that signed the document
  std::vector<Bytes> cabundle;     // DER, root first
  std::optional<Bytes> public_key; // null in the document = nullopt
  std::optional<Bytes> user_data;
  std::optional<Bytes> nonce;
};

struct ParsedAttestation {
  cose::Sign1 envelope;  // payload and protected bytes as received
  AttestationDocument document;
};

// Payload structure (nsm.md §4 step 2): module_id non-empty text; digest
// text; timestamp uint > 0; pcrs a map of 1..32 entries, keys 0..31, values
// bstr of 32/48/64 bytes; certificate non-empty bstr; cabundle a non-empty
// array of bstr of 1..1024 bytes; public_key/user_data/nonce bstr (<= 1024
// bytes, empty allowed) or null or absent. Unknown keys are ignored; the
// payload map may be definite or indefinite. The digest's value is not
// checked here (the verifier's "digest" check does).
Result<AttestationDocument> parse_attestation_payload(std::span<const std::uint8_t> payload);

// The COSE_Sign1 (nsm::cose::parse_sign1) and its payload. The algorithm and
// signature are not checked here.
Result<ParsedAttestation> parse_attestation(std::span<const std::uint8_t> document);

// The payload map in AWS's layout: bf, module_id, digest, timestamp (1b + 8
// bytes), pcrs (definite map, ascending keys), certificate, cabundle (definite
// array), public_key, user_data, nonce (bstr or f6), ff.
Bytes encode_attestation_payload(const AttestationDocument& document);

// A signed document: COSE_Sign1 ES384 over encode_attestation_payload(), in
// AWS's exact envelope. `key` must be a P-384 private key (the leaf's).
Result<Bytes> issue_attestation(const AttestationDocument& document, EVP_PKEY* key);

}  // namespace enclaver::nsm
