// `enclaver verify-attestation`: verify an AWS Nitro (or simulated)
// attestation document and print what it says. Wired to CLI11 in main.cpp.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace enclaver::cli {

struct VerifyAttestationOptions {
  std::string document;                        // file with the COSE_Sign1 bytes; "-" = stdin
  std::string root;                            // PEM or DER root certificate file; empty = AWS Nitro root G1
  std::vector<std::string> pcrs;               // "N=HEX" (repeatable)
  std::optional<std::string> nonce_hex;        // "" = an empty nonce is expected
  std::optional<std::string> user_data_json;   // compared as JSON values with the document's user_data
  std::optional<std::string> user_data_hex;    // compared byte for byte
  std::string at = "now";                      // "now", "document" or an RFC 3339 date-time
  std::optional<std::int64_t> max_age;         // seconds
  bool all_pcrs = false;                       // print every PCR, not only the non-zero ones
  bool json = false;
};

// Exit 0 only when every check passes; 1 when the document fails a check or
// cannot be read; 2 for a malformed command line.
int verify_attestation(const VerifyAttestationOptions& options, std::ostream& out, std::ostream& err);

}  // namespace enclaver::cli
