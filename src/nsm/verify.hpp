// Attestation document verification (../shared/spec/nsm.md §4 "Verification
// procedure"). Every check is listed in the result with pass / fail / skipped
// and an exact reason; the verdict is ok only when every check passed.
//
// Checks, in this order (names as in VerifyCheck::name):
//   "structure"  the COSE_Sign1 envelope and the payload map parse (strict)
//   "algorithm"  protected header alg = -35 (ES384) and a 96-byte signature
//   "chain"      leaf = certificate, intermediates = cabundle[1..], anchor =
//                the pinned root (cabundle[0] must equal it byte for byte, or
//                chain to it); CA/pathlen/keyCertSign on issuers,
//                digitalSignature on the leaf, ecdsa-with-SHA384 everywhere;
//                dates are NOT judged here
//   "validity"   every certificate (leaf, intermediates, root) is within
//                notBefore..notAfter (inclusive) at the verification time
//   "signature"  ES384 with the leaf's key over the Sig_structure
//   "digest"     the payload's digest is "SHA384"
//   "freshness"  only with max_age: the timestamp is at most max_age seconds
//                before the verification time and not after it
//   "pcrN"       one per expected PCR
//   "nonce", "user_data", "public_key"   only when expected
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/hex.hpp"
#include "common/result.hpp"
#include "nsm/attestation.hpp"

namespace enclaver::nsm {

// The AWS Nitro Enclaves root G1 (DER, 533 bytes), compiled in.
std::span<const std::uint8_t> aws_nitro_root_g1_der();
// SHA-256 of it that is pinned: 641a0321...79bb5b.
inline constexpr const char* kAwsNitroRootG1Sha256 =
    "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b";
// True when the compiled-in bytes hash to kAwsNitroRootG1Sha256 (computed
// once); the verifier refuses to use a default root that fails this.
bool aws_nitro_root_g1_intact();

// A root certificate given as DER or PEM (the first CERTIFICATE block), as DER.
Result<Bytes> load_root_certificate(std::span<const std::uint8_t> der_or_pem);

enum class VerifyTime { Now, Given, Document };

struct VerifyOptions {
  std::optional<Bytes> root;  // DER or PEM; nullopt = the AWS Nitro root G1
  VerifyTime time = VerifyTime::Now;
  std::int64_t at = 0;        // seconds since the epoch, for VerifyTime::Given
  std::optional<std::int64_t> max_age_seconds;
  std::map<std::uint32_t, Bytes> expected_pcrs;
  std::optional<Bytes> expected_nonce;
  std::optional<Bytes> expected_user_data;
  std::optional<Bytes> expected_public_key;
};

enum class CheckStatus { Pass, Fail, Skipped };

struct VerifyCheck {
  std::string name;
  CheckStatus status = CheckStatus::Skipped;
  std::string detail;  // what was found; for a failure, why
};

struct VerifyResult {
  bool ok = false;
  std::vector<VerifyCheck> checks;
  std::optional<ParsedAttestation> parsed;  // when "structure" passed
  std::int64_t verified_at = 0;             // the verification time, seconds
  // The first failed check, or nullptr.
  const VerifyCheck* first_failure() const;
  const VerifyCheck* find(std::string_view name) const;
};

VerifyResult verify_attestation(std::span<const std::uint8_t> document, const VerifyOptions& options);

// "2025-10-16T02:54:42Z" (UTC, seconds).
std::string format_utc(std::int64_t seconds);
// RFC 3339 date-time ("2025-10-16T02:54:42Z", "...42.5+02:00"; 't'/'z' and a
// space separator accepted), to seconds since the epoch (fraction dropped).
Result<std::int64_t> parse_rfc3339(std::string_view text);

// Hex in and out: the project's one implementation (common/hex.hpp).
using enclaver::from_hex;
using enclaver::to_hex;

}  // namespace enclaver::nsm
