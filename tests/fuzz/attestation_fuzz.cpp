// libFuzzer target for the attestation document parser and verifier
// (nsm/attestation.hpp, nsm/verify.hpp), seeded with the real AWS document.
// Beyond "does not crash" (run under ASan/UBSan), it checks:
//  - a parsed document re-encodes (AWS layout) to a payload that parses to
//    the same fields, and encoding that again gives the same bytes;
//  - the verifier agrees with the parser: "structure" passes exactly when
//    parse_attestation() succeeds; a failed verdict names a failed check;
//    ok only when every check passed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "nsm/attestation.hpp"
#include "nsm/verify.hpp"

namespace {

using namespace enclaver::nsm;

void require(bool ok) {
  if (!ok) std::abort();
}

bool same(const AttestationDocument& a, const AttestationDocument& b) {
  return a.module_id == b.module_id && a.digest == b.digest && a.timestamp_ms == b.timestamp_ms && a.pcrs == b.pcrs &&
         a.certificate == b.certificate && a.cabundle == b.cabundle && a.public_key == b.public_key &&
         a.user_data == b.user_data && a.nonce == b.nonce;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  auto parsed = parse_attestation(input);
  if (parsed) {
    const Bytes payload = encode_attestation_payload(parsed->document);
    auto again = parse_attestation_payload(payload);
    require(again.ok());
    require(same(parsed->document, again.value()));
    require(encode_attestation_payload(again.value()) == payload);
  }
  VerifyOptions options;
  options.time = VerifyTime::Document;
  options.expected_pcrs[0] = Bytes(48, 0);
  options.expected_nonce = Bytes{};
  const VerifyResult result = verify_attestation(input, options);
  require(!result.checks.empty() && result.checks[0].name == "structure");
  require((result.checks[0].status == CheckStatus::Pass) == parsed.ok());
  bool all_pass = true;
  for (const VerifyCheck& c : result.checks) all_pass = all_pass && c.status == CheckStatus::Pass;
  require(result.ok == all_pass);
  require(result.ok || result.first_failure() != nullptr);
  return 0;
}
