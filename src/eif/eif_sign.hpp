// EIF signing and its verification (../shared/spec/eif.md §3 PCR8, §4 the
// signature section, §6 describe-eif's SigningCertificate and SignatureCheck).
//
// The signature section is what nitro-cli writes (serde_cbor, definite
// lengths, struct fields in declaration order):
//
//   [ { "signing_certificate": [uint, ...],   // the PEM certificate FILE bytes
//       "signature":           [uint, ...] } ] // an untagged COSE_Sign1:
//   COSE_Sign1 = [ bstr(protected {1: alg}), {}, bstr(payload), bstr(r || s) ]
//   payload    = { "register_index": 0, "register_value": [48 uints: PCR0] }
//
// alg follows the key: ES256 (-7) for P-256, ES384 (-35) for P-384 (what
// nitro-cli expects), ES512 (-36) for P-521, each with its SHA-2 hash; the
// signature is over the COSE Sig_structure ["Signature1", protected, h'',
// payload] and is raw r || s, each left-padded to the curve size.
// PCR8 = SHA-384(48 zeros || SHA-384(DER of the certificate)).
//
// Layers: make_signer() reads files (and reports problems as values); the
// rest is sans-IO. Signatures use OpenSSL 3 (EVP); where OpenSSL >= 3.2
// offers it, ECDSA nonces are deterministic (RFC 6979), so signing the same
// EIF twice gives the same bytes; with OpenSSL 3.0/3.1 the signature (and so
// the section bytes and CRC, never the PCRs) differs from run to run.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "eif/eif_reader.hpp"
#include "eif/eif_writer.hpp"
#include "eif/pcr.hpp"

namespace enclaver::eif {

// COSE algorithm identifiers (RFC 9053) for ECDSA.
enum class CoseAlgorithm : std::int64_t { ES256 = -7, ES384 = -35, ES512 = -36 };

struct SignerOptions {
  // When the certificate's validity dates are checked, in seconds since the
  // epoch; unset: now.
  std::optional<std::int64_t> at;
};

// The writer's signing step (EifContents::signature), from a PEM certificate
// file and a PEM private key file. Everything that can be checked is checked
// now, so that a build fails before it starts:
//   - both files readable; the certificate file holds a PEM certificate (its
//     bytes, not the DER, go into the section); the key file an unencrypted
//     PEM private key (never prompts for a passphrase);
//   - the key is ECDSA on P-384 (or P-256 / P-521), not RSA, Ed25519 or
//     another curve;
//   - the key is the private half of the certificate's public key;
//   - the certificate is within its validity dates at `options.at` (nitro-cli
//     run-enclave refuses an EIF signed by an expired or not yet valid
//     certificate; the message gives the dates);
//   - the section will fit the format's 32768-byte limit.
// The producer itself throws std::runtime_error only if OpenSSL fails to sign.
Result<SignatureProducer> make_signer(const std::filesystem::path& cert_pem_path,
                                      const std::filesystem::path& key_pem_path, const SignerOptions& options = {});

// --- the section, sans-IO -------------------------------------------------------

// The COSE payload for one PCR: serde_cbor of nitro-cli's PcrInfo,
// map(2) "register_index" -> index, "register_value" -> array of 48 uints.
std::vector<std::uint8_t> pcr_payload(std::uint32_t index, const Digest& value);

// The section bytes: [ {"signing_certificate": certificate_pem as uints,
// "signature": cose_sign1 as uints} ].
std::vector<std::uint8_t> encode_signature_section(std::span<const std::uint8_t> certificate_pem,
                                                   std::span<const std::uint8_t> cose_sign1);

// Element 0 of a signature section, the one that signs PCR0.
struct SignatureSectionContents {
  std::vector<std::uint8_t> certificate_pem;  // "signing_certificate"
  std::vector<std::uint8_t> cose_sign1;       // "signature"
  std::size_t elements = 1;                   // PcrSignatures in the array (only the first is used)
};

// Parses a section strictly: at most kMaxSignatureSize bytes of CBOR (our
// decoder, its limits); a non-empty array of maps, each of exactly two
// entries, first the text key "signing_certificate", then "signature", each
// an array of unsigned integers 0..255. Errors say which element and which
// byte is wrong.
Result<SignatureSectionContents> parse_signature_section(std::span<const std::uint8_t> section);

// For ReadOptions::certificate_der (PCR8): the DER of the PEM certificate of
// element 0 (PEM only, as both reference readers).
Result<std::vector<std::uint8_t>> certificate_der_from_section(std::span<const std::uint8_t> section);

// --- verification -----------------------------------------------------------------

struct SignatureVerification {
  // describe-eif's "SigningCertificate": {IssuerName: {attribute: value,
  // sorted}, Algorithm: "ecdsa-with-SHA384", NotBefore/NotAfter as OpenSSL
  // prints them ("May  8 09:35:35 2020 GMT"), Signature: "XX:XX:..."}.
  nlohmann::ordered_json signing_certificate;
  std::vector<std::uint8_t> certificate_der;
  std::optional<CoseAlgorithm> algorithm;  // from the protected header, if known
  bool signature_valid = false;            // the COSE signature verifies under the certificate's key
  bool payload_matches = false;            // the payload is exactly pcr_payload(0, PCR0)
  bool certificate_current = false;        // `at` lies within NotBefore..NotAfter
  // Why signature_check() is false (first reason), or else why the certificate
  // is not current; empty when all three hold.
  std::string problem;

  // describe-eif's "SignatureCheck": the signature verifies and signs this
  // EIF's PCR0 (nitro-cli does not look at the dates here; run-enclave does).
  bool signature_check() const { return signature_valid && payload_matches; }
  SignatureDescription description() const { return {signing_certificate, signature_check()}; }
};

// Verifies a section against the EIF's PCR0. A section or certificate that
// cannot be parsed is an error; a COSE structure that is malformed, a wrong
// algorithm, a bad signature or another payload give signature_check() false
// with the reason in `problem`.
Result<SignatureVerification> verify_signature_section(std::span<const std::uint8_t> section, const Digest& pcr0,
                                                       std::optional<std::int64_t> at = std::nullopt);

// What describe_eif() needs for a file read by read_eif(): nothing for an
// unsigned EIF, else the SigningCertificate object and SignatureCheck.
Result<SignatureDescription> describe_signature(const EifInfo& info);

}  // namespace enclaver::eif
