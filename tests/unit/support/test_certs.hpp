// Test certificates made with OpenSSL in the test itself: a CA and the
// certificates it signs, for the TLS tests (ingress termination, the egress
// proxy's TLS origination).
#pragma once

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <memory>

namespace enclaver::testing {

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

inline Key new_key() { return Key(EVP_EC_gen("P-256"), EVP_PKEY_free); }

// A certificate for `cn`, valid from an hour ago for a day: a CA (issuer
// null: self-signed) or a leaf with `subject_alt_name` ("DNS:localhost,IP:127.0.0.1").
inline Cert new_cert(const char* cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, bool ca,
                     const char* subject_alt_name = "DNS:localhost") {
  Cert cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ca ? 1 : 2);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert.get(), key);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  auto add = [&](int nid, const char* value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  };
  add(NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
  if (ca) add(NID_key_usage, "critical,keyCertSign,cRLSign");
  if (!ca) add(NID_subject_alt_name, subject_alt_name);
  X509_sign(cert.get(), issuer_key, EVP_sha256());
  return cert;
}

}  // namespace enclaver::testing
