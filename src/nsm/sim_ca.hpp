// The simulated NSM's local certificate chain (simulation.md "Simulated NSM",
// nsm.md §4 "Certificates" for the profile): a P-384 root CA made once per
// machine and kept in a PEM file, a P-384 intermediate, and a P-384 leaf per
// enclave that signs attestation documents. Every subject says "enclaver
// simulator — not a security boundary".
//
// Errors are values (Result); only std::bad_alloc escapes. The functions never
// read the environment: callers pass paths (default_root_path takes HOME).
#pragma once

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace enclaver::nsm::sim {

struct PkeyDeleter {
  void operator()(evp_pkey_st* key) const;
};
using PkeyPtr = std::unique_ptr<evp_pkey_st, PkeyDeleter>;

struct CertAndKey {
  std::vector<std::uint8_t> cert_der;
  PkeyPtr key;  // the certificate's private key (EC P-384)
};

// Lifetimes (nsm.md §4 table): root 30 years like AWS's G1; intermediate 30
// days (AWS's CA levels live 1 day to 3 weeks; one level stands for all of
// them here and must outlive a long simulated run); leaf 3 hours like AWS's.
inline constexpr long kRootValiditySeconds = 30L * 365 * 24 * 3600;
inline constexpr long kIntermediateValiditySeconds = 30L * 24 * 3600;
inline constexpr long kLeafValiditySeconds = 3L * 3600;

// `<home>/.local/share/enclaver/sim-root.pem`.
std::filesystem::path default_root_path(std::string_view home);

// Loads the root CA (certificate + private key, PEM) from `path`, or creates
// it there when the file does not exist: parent directories created with mode
// 0700, the file written with mode 0600 to a temporary file in the same
// directory and renamed into place without replacing a file another process
// created meanwhile (that one is loaded instead). A file that exists but is
// not a usable root (unparsable, key not matching, not a P-384 CA) is an
// error naming the path; the file is left untouched. `created`, if given,
// says whether this call made the file.
Result<CertAndKey> load_or_create_root(const std::filesystem::path& path, bool* created = nullptr);

// A fresh root in memory (what load_or_create_root stores).
Result<CertAndKey> make_root(std::optional<std::time_t> now = std::nullopt);
// A CA certificate issued by `root` (CA:TRUE pathlen 0, keyCertSign).
Result<CertAndKey> make_intermediate(const CertAndKey& root, std::optional<std::time_t> now = std::nullopt);
// The document-signing leaf issued by `intermediate` (CA:FALSE,
// digitalSignature + nonRepudiation), CN = module_id (1..64 characters).
Result<CertAndKey> make_leaf(const CertAndKey& intermediate, std::string_view module_id,
                             std::optional<std::time_t> now = std::nullopt);

// PEM text of a DER certificate (to print the root or write it for verifiers).
Result<std::string> certificate_pem(const std::vector<std::uint8_t>& cert_der);

}  // namespace enclaver::nsm::sim
