// COSE_Sign1 (RFC 9052) as AWS attestation documents and EIF signatures use
// it: parse (untagged or tag 18), the Sig_structure ("Signature1", empty
// external data), the envelope encoder, and ECDSA with raw r || s signatures
// (COSE's form) converted to and from DER (OpenSSL's form). OpenSSL 3 EVP.
// Errors are values; nothing throws except std::bad_alloc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cbor/cbor.hpp"
#include "common/openssl_errors.hpp"
#include "common/result.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace enclaver::nsm::cose {

using Bytes = std::vector<std::uint8_t>;

inline constexpr std::uint64_t kTagSign1 = 18;
inline constexpr std::int64_t kAlgES256 = -7;
inline constexpr std::int64_t kAlgES384 = -35;
inline constexpr std::int64_t kAlgES512 = -36;

struct Sign1 {
  bool tagged = false;            // wrapped in tag 18
  Bytes protected_bytes;          // the protected header's bytes as received
  cbor::Value protected_header;   // their decoding (a map; empty map when the bytes are empty)
  cbor::Value unprotected;        // a map
  Bytes payload;                  // as received (never re-encoded)
  Bytes signature;
  // The protected header's alg (label 1) when it is an integer.
  std::optional<std::int64_t> algorithm() const;
};

// A COSE_Sign1: [bstr protected, map unprotected, bstr payload, bstr
// signature], optionally inside tag 18 (any other tag is refused). A detached
// (null) payload is refused. Errors name the element that is wrong.
Result<Sign1> parse_sign1(std::span<const std::uint8_t> data);

// The protected header {1: alg}: for ES384 exactly a1 01 38 22.
Bytes protected_header(std::int64_t algorithm);

// The CBOR Sig_structure ["Signature1", protected, h'', payload], definite
// lengths, shortest heads: the bytes that are hashed and signed.
Bytes sig_structure(std::span<const std::uint8_t> protected_bytes, std::span<const std::uint8_t> payload);

// An untagged COSE_Sign1 with an empty unprotected map: 84 <bstr> a0 <bstr> <bstr>.
Bytes encode_sign1(std::span<const std::uint8_t> protected_bytes, std::span<const std::uint8_t> payload,
                   std::span<const std::uint8_t> signature);

// Raw r || s (each `raw.size()/2` bytes, big-endian) to a DER ECDSA-Sig-Value.
Result<Bytes> raw_to_der(std::span<const std::uint8_t> raw);
// A DER ECDSA-Sig-Value to raw r || s with each half `half_size` bytes
// (48 for P-384), left-padded with zeros.
Result<Bytes> der_to_raw(std::span<const std::uint8_t> der, std::size_t half_size);

// The curve size in bytes (32, 48, 66) and digest for a COSE ECDSA algorithm;
// 0 for an unknown algorithm.
std::size_t ecdsa_half_size(std::int64_t algorithm);

// ECDSA over `tbs` hashed with the algorithm's digest (SHA-384 for ES384),
// returning raw r || s. The key must be EC on the algorithm's curve.
Result<Bytes> sign_ecdsa(EVP_PKEY* key, std::int64_t algorithm, std::span<const std::uint8_t> tbs);
// True if `raw` (r || s of the algorithm's size) is a valid signature of `tbs`.
bool verify_ecdsa(EVP_PKEY* key, std::int64_t algorithm, std::span<const std::uint8_t> tbs,
                  std::span<const std::uint8_t> raw);

// Signs `payload` with `key` as a COSE_Sign1 ({1: algorithm} protected header,
// empty unprotected map, untagged).
Result<Bytes> sign1(EVP_PKEY* key, std::int64_t algorithm, std::span<const std::uint8_t> payload);

// The OpenSSL error queue as one line, and the queue emptied.
using ::enclaver::openssl_errors;

}  // namespace enclaver::nsm::cose
