// Attestation document verification. See verify.hpp.
#include "nsm/verify.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>

namespace enclaver::nsm {

namespace {

// The AWS Nitro Enclaves root G1, generated from
// ../shared/fixtures/attestation/aws-nitro-root-g1.der (public data).
// SHA-256: 641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b.
constexpr std::uint8_t kAwsNitroRootG1[] = {
    0x30, 0x82, 0x02, 0x11, 0x30, 0x82, 0x01, 0x96, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x11, 0x00,
    0xf9, 0x31, 0x75, 0x68, 0x1b, 0x90, 0xaf, 0xe1, 0x1d, 0x46, 0xcc, 0xb4, 0xe4, 0xe7, 0xf8, 0x56,
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03, 0x30, 0x49, 0x31, 0x0b,
    0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 0x55, 0x53, 0x31, 0x0f, 0x30, 0x0d, 0x06,
    0x03, 0x55, 0x04, 0x0a, 0x0c, 0x06, 0x41, 0x6d, 0x61, 0x7a, 0x6f, 0x6e, 0x31, 0x0c, 0x30, 0x0a,
    0x06, 0x03, 0x55, 0x04, 0x0b, 0x0c, 0x03, 0x41, 0x57, 0x53, 0x31, 0x1b, 0x30, 0x19, 0x06, 0x03,
    0x55, 0x04, 0x03, 0x0c, 0x12, 0x61, 0x77, 0x73, 0x2e, 0x6e, 0x69, 0x74, 0x72, 0x6f, 0x2d, 0x65,
    0x6e, 0x63, 0x6c, 0x61, 0x76, 0x65, 0x73, 0x30, 0x1e, 0x17, 0x0d, 0x31, 0x39, 0x31, 0x30, 0x32,
    0x38, 0x31, 0x33, 0x32, 0x38, 0x30, 0x35, 0x5a, 0x17, 0x0d, 0x34, 0x39, 0x31, 0x30, 0x32, 0x38,
    0x31, 0x34, 0x32, 0x38, 0x30, 0x35, 0x5a, 0x30, 0x49, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55,
    0x04, 0x06, 0x13, 0x02, 0x55, 0x53, 0x31, 0x0f, 0x30, 0x0d, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c,
    0x06, 0x41, 0x6d, 0x61, 0x7a, 0x6f, 0x6e, 0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x0b,
    0x0c, 0x03, 0x41, 0x57, 0x53, 0x31, 0x1b, 0x30, 0x19, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x12,
    0x61, 0x77, 0x73, 0x2e, 0x6e, 0x69, 0x74, 0x72, 0x6f, 0x2d, 0x65, 0x6e, 0x63, 0x6c, 0x61, 0x76,
    0x65, 0x73, 0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
    0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00, 0x04, 0xfc, 0x02, 0x54, 0xeb, 0xa6, 0x08,
    0xc1, 0xf3, 0x68, 0x70, 0xe2, 0x9a, 0xda, 0x90, 0xbe, 0x46, 0x38, 0x32, 0x92, 0x73, 0x6e, 0x89,
    0x4b, 0xff, 0xf6, 0x72, 0xd9, 0x89, 0x44, 0x4b, 0x50, 0x51, 0xe5, 0x34, 0xa4, 0xb1, 0xf6, 0xdb,
    0xe3, 0xc0, 0xbc, 0x58, 0x1a, 0x32, 0xb7, 0xb1, 0x76, 0x07, 0x0e, 0xde, 0x12, 0xd6, 0x9a, 0x3f,
    0xea, 0x21, 0x1b, 0x66, 0xe7, 0x52, 0xcf, 0x7d, 0xd1, 0xdd, 0x09, 0x5f, 0x6f, 0x13, 0x70, 0xf4,
    0x17, 0x08, 0x43, 0xd9, 0xdc, 0x10, 0x01, 0x21, 0xe4, 0xcf, 0x63, 0x01, 0x28, 0x09, 0x66, 0x44,
    0x87, 0xc9, 0x79, 0x62, 0x84, 0x30, 0x4d, 0xc5, 0x3f, 0xf4, 0xa3, 0x42, 0x30, 0x40, 0x30, 0x0f,
    0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0xff, 0x30,
    0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14, 0x90, 0x25, 0xb5, 0x0d, 0xd9, 0x05,
    0x47, 0xe7, 0x96, 0xc3, 0x96, 0xfa, 0x72, 0x9d, 0xcf, 0x99, 0xa9, 0xdf, 0x4b, 0x96, 0x30, 0x0e,
    0x06, 0x03, 0x55, 0x1d, 0x0f, 0x01, 0x01, 0xff, 0x04, 0x04, 0x03, 0x02, 0x01, 0x86, 0x30, 0x0a,
    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03, 0x03, 0x69, 0x00, 0x30, 0x66, 0x02,
    0x31, 0x00, 0xa3, 0x7f, 0x2f, 0x91, 0xa1, 0xc9, 0xbd, 0x5e, 0xe7, 0xb8, 0x62, 0x7c, 0x16, 0x98,
    0xd2, 0x55, 0x03, 0x8e, 0x1f, 0x03, 0x43, 0xf9, 0x5b, 0x63, 0xa9, 0x62, 0x8c, 0x3d, 0x39, 0x80,
    0x95, 0x45, 0xa1, 0x1e, 0xbc, 0xbf, 0x2e, 0x3b, 0x55, 0xd8, 0xae, 0xee, 0x71, 0xb4, 0xc3, 0xd6,
    0xad, 0xf3, 0x02, 0x31, 0x00, 0xa2, 0xf3, 0x9b, 0x16, 0x05, 0xb2, 0x70, 0x28, 0xa5, 0xdd, 0x4b,
    0xa0, 0x69, 0xb5, 0x01, 0x6e, 0x65, 0xb4, 0xfb, 0xde, 0x8f, 0xe0, 0x06, 0x1d, 0x6a, 0x53, 0x19,
    0x7f, 0x9c, 0xda, 0xf5, 0xd9, 0x43, 0xbc, 0x61, 0xfc, 0x2b, 0xeb, 0x03, 0xcb, 0x6f, 0xee, 0x8d,
    0x23, 0x02, 0xf3, 0xdf, 0xf6,
};
static_assert(sizeof kAwsNitroRootG1 == 533);

struct Free {
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(STACK_OF(X509)* p) const { sk_X509_free(p); }
};
template <class T>
using Owned = std::unique_ptr<T, Free>;

Owned<X509> parse_der(std::span<const std::uint8_t> der) {
  const unsigned char* p = der.data();
  Owned<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (cert && p != der.data() + der.size()) cert.reset();  // trailing bytes
  ERR_clear_error();
  return cert;
}

// "CN=..." of the subject, or the whole one-line subject when there is no CN.
std::string subject_name(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  const int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i >= 0) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len >= 0) {
      std::string out = "CN=" + std::string(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
      OPENSSL_free(utf8);
      return out;
    }
  }
  char buf[256];
  X509_NAME_oneline(name, buf, sizeof buf);
  return buf;
}

std::string asn1_time_text(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "(unreadable date)";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

VerifyCheck pass(std::string name, std::string detail) {
  return {std::move(name), CheckStatus::Pass, std::move(detail)};
}
VerifyCheck fail(std::string name, std::string detail) {
  return {std::move(name), CheckStatus::Fail, std::move(detail)};
}
VerifyCheck skip(std::string name, std::string detail) {
  return {std::move(name), CheckStatus::Skipped, std::move(detail)};
}

// Verifies `target` up to the store's anchor with `untrusted`, dates ignored.
// Empty on success, else OpenSSL's reason with the depth and the subject.
std::string verify_path(X509_STORE* store, X509* target, STACK_OF(X509)* untrusted, std::string* chain_text) {
  Owned<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store, target, untrusted) != 1) {
    return "cannot set up certificate verification: " + cose::openssl_errors();
  }
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME);
  const int rc = X509_verify_cert(ctx.get());
  ERR_clear_error();
  if (rc == 1) {
    if (chain_text) {
      STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
      for (int i = 0; i < sk_X509_num(chain); ++i) {
        X509* c = sk_X509_value(chain, i);
        if (!chain_text->empty()) *chain_text += " <- ";
        *chain_text += subject_name(c);
        if (X509_get_signature_nid(c) != NID_ecdsa_with_SHA384) {
          const char* sn = OBJ_nid2sn(X509_get_signature_nid(c));
          return "certificate " + subject_name(c) + " is signed with " + (sn ? sn : "an unknown algorithm") +
                 ", not ecdsa-with-SHA384";
        }
      }
    }
    return {};
  }
  const int err = X509_STORE_CTX_get_error(ctx.get());
  const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  X509* at = X509_STORE_CTX_get_current_cert(ctx.get());
  std::string out = X509_verify_cert_error_string(err);
  out += " (OpenSSL error " + std::to_string(err) + " at depth " + std::to_string(depth);
  if (at) out += ", " + subject_name(at);
  out += ")";
  return out;
}

std::string validity_problem(X509* cert, std::int64_t at) {
  const ASN1_TIME* nb = X509_get0_notBefore(cert);
  const ASN1_TIME* na = X509_get0_notAfter(cert);
  const auto when = static_cast<time_t>(at);
  const std::string dates = "valid " + asn1_time_text(nb) + " to " + asn1_time_text(na);
  if (ASN1_TIME_cmp_time_t(nb, when) > 0) return subject_name(cert) + " is not valid yet (" + dates + ")";
  if (ASN1_TIME_cmp_time_t(na, when) < 0) return subject_name(cert) + " has expired (" + dates + ")";
  return {};
}

bool equal_bytes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

std::string expectation_text(const std::optional<Bytes>& actual) {
  if (!actual) return "absent (null)";
  if (actual->empty()) return "empty";
  return to_hex(*actual);
}

}  // namespace

std::span<const std::uint8_t> aws_nitro_root_g1_der() { return kAwsNitroRootG1; }

bool aws_nitro_root_g1_intact() {
  static const bool intact = [] {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(kAwsNitroRootG1, sizeof kAwsNitroRootG1, digest);
    return to_hex(digest) == kAwsNitroRootG1Sha256;
  }();
  return intact;
}

Result<Bytes> load_root_certificate(std::span<const std::uint8_t> der_or_pem) {
  if (!der_or_pem.empty() && der_or_pem[0] == 0x30) {
    if (!parse_der(der_or_pem)) return make_error("the root certificate is not a DER X.509 certificate");
    return Bytes(der_or_pem.begin(), der_or_pem.end());
  }
  Owned<BIO> bio(BIO_new_mem_buf(der_or_pem.data(), static_cast<int>(der_or_pem.size())));
  Owned<X509> cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) {
    ERR_clear_error();
    return make_error("the root certificate is neither DER nor PEM (no readable \"-----BEGIN CERTIFICATE-----\" block)");
  }
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert.get(), &der);
  if (len <= 0) return make_error("cannot encode the root certificate as DER: " + cose::openssl_errors());
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

const VerifyCheck* VerifyResult::first_failure() const {
  for (const VerifyCheck& c : checks) {
    if (c.status == CheckStatus::Fail) return &c;
  }
  return nullptr;
}

const VerifyCheck* VerifyResult::find(std::string_view name) const {
  for (const VerifyCheck& c : checks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

VerifyResult verify_attestation(std::span<const std::uint8_t> document, const VerifyOptions& options) {
  VerifyResult result;
  auto& checks = result.checks;

  // 1. structure
  auto parsed = parse_attestation(document);
  if (!parsed) {
    checks.push_back(fail("structure", parsed.error().message));
    for (const char* name : {"algorithm", "chain", "validity", "signature", "digest"}) {
      checks.push_back(skip(name, "the document could not be parsed"));
    }
    result.ok = false;
    return result;
  }
  const cose::Sign1& env = parsed->envelope;
  const AttestationDocument& doc = parsed->document;
  checks.push_back(pass("structure", std::string(env.tagged ? "tag-18" : "untagged") + " COSE_Sign1, payload of " +
                                         std::to_string(env.payload.size()) + " bytes, " +
                                         std::to_string(doc.pcrs.size()) + " PCRs, cabundle of " +
                                         std::to_string(doc.cabundle.size())));

  // Verification time.
  switch (options.time) {
    case VerifyTime::Now: result.verified_at = static_cast<std::int64_t>(std::time(nullptr)); break;
    case VerifyTime::Given: result.verified_at = options.at; break;
    case VerifyTime::Document: result.verified_at = static_cast<std::int64_t>(doc.timestamp_ms / 1000); break;
  }
  const std::int64_t at = result.verified_at;

  // 2. algorithm
  const auto alg = env.algorithm();
  if (!alg) {
    checks.push_back(fail("algorithm", "the protected header has no integer alg (label 1): " +
                                           cbor::diagnostic(env.protected_header)));
  } else if (*alg != cose::kAlgES384) {
    checks.push_back(fail("algorithm", "alg is " + std::to_string(*alg) + ", expected -35 (ES384)"));
  } else if (env.signature.size() != 96) {
    checks.push_back(fail("algorithm", "the ES384 signature has " + std::to_string(env.signature.size()) +
                                           " bytes, expected 96 (r || s)"));
  } else {
    checks.push_back(pass("algorithm", "ES384 (-35), 96-byte signature"));
  }
  const bool alg_ok = checks.back().status == CheckStatus::Pass;

  // Certificates.
  Bytes root_der;
  std::string root_problem;
  if (options.root) {
    auto loaded = load_root_certificate(*options.root);
    if (loaded) root_der = std::move(loaded.value());
    else root_problem = loaded.error().message;
  } else if (!aws_nitro_root_g1_intact()) {
    root_problem = "the compiled-in AWS Nitro root G1 does not match its pinned SHA-256 " +
                   std::string(kAwsNitroRootG1Sha256);
  } else {
    root_der.assign(kAwsNitroRootG1, kAwsNitroRootG1 + sizeof kAwsNitroRootG1);
  }
  Owned<X509> root = root_problem.empty() ? parse_der(root_der) : nullptr;
  if (root_problem.empty() && !root) root_problem = "the root certificate is not a DER X.509 certificate";
  Owned<X509> leaf = parse_der(doc.certificate);
  std::vector<Owned<X509>> bundle;  // parsed cabundle, same indexes
  std::string bundle_problem;
  for (std::size_t i = 0; i < doc.cabundle.size(); ++i) {
    bundle.push_back(parse_der(doc.cabundle[i]));
    if (!bundle.back() && bundle_problem.empty()) {
      bundle_problem = "cabundle[" + std::to_string(i) + "] is not a DER X.509 certificate";
    }
  }

  // 3. chain
  const bool bundle0_is_root = root && equal_bytes(doc.cabundle[0], root_der);
  if (!root) {
    checks.push_back(fail("chain", root_problem));
  } else if (!leaf) {
    checks.push_back(fail("chain", "the document's certificate is not a DER X.509 certificate"));
  } else if (!bundle_problem.empty()) {
    checks.push_back(fail("chain", bundle_problem));
  } else {
    Owned<X509_STORE> store(X509_STORE_new());
    Owned<STACK_OF(X509)> untrusted(sk_X509_new_null());
    std::string problem;
    if (!store || !untrusted || X509_STORE_add_cert(store.get(), root.get()) != 1) {
      problem = "cannot set up certificate verification: " + cose::openssl_errors();
    } else {
      for (std::size_t i = doc.cabundle.size(); i-- > 0;) {  // leaf-most first
        if (i == 0 && bundle0_is_root) continue;
        sk_X509_push(untrusted.get(), bundle[i].get());
      }
      std::string chain_text;
      problem = verify_path(store.get(), leaf.get(), untrusted.get(), &chain_text);
      if (problem.empty() && !bundle0_is_root) {
        const std::string p0 = verify_path(store.get(), bundle[0].get(), untrusted.get(), nullptr);
        if (!p0.empty()) problem = "cabundle[0] is not the pinned root and does not chain to it: " + p0;
      }
      if (problem.empty()) {
        const std::uint32_t ku = X509_get_key_usage(leaf.get());
        if (!(ku & KU_DIGITAL_SIGNATURE)) problem = "the leaf certificate's keyUsage lacks digitalSignature";
      }
      if (problem.empty()) {
        checks.push_back(pass("chain", chain_text + (bundle0_is_root ? "" : " (cabundle[0] chains to the root)")));
      }
    }
    if (!problem.empty()) checks.push_back(fail("chain", problem));
  }

  // 4. validity
  if (!root || !leaf || !bundle_problem.empty()) {
    checks.push_back(skip("validity", "the certificates could not be read"));
  } else {
    std::vector<X509*> all{leaf.get()};
    for (std::size_t i = doc.cabundle.size(); i-- > 0;) {
      if (i == 0 && bundle0_is_root) continue;
      all.push_back(bundle[i].get());
    }
    all.push_back(root.get());
    std::string problems;
    for (X509* c : all) {
      const std::string p = validity_problem(c, at);
      if (!p.empty()) problems += (problems.empty() ? "" : "; ") + p;
    }
    const std::string when = " at " + format_utc(at);
    if (problems.empty()) {
      checks.push_back(pass("validity", "all " + std::to_string(all.size()) + " certificates are valid" + when));
    } else {
      checks.push_back(fail("validity", "certificate not valid" + when + ": " + problems));
    }
  }

  // 5. signature
  if (!leaf) {
    checks.push_back(skip("signature", "the document's certificate could not be read"));
  } else if (!alg_ok) {
    checks.push_back(skip("signature", "the algorithm is not ES384"));
  } else {
    EVP_PKEY* key = X509_get0_pubkey(leaf.get());
    char group[80] = {};
    std::size_t len = 0;
    const bool p384 = key && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
                      EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1 &&
                      OBJ_txt2nid(group) == NID_secp384r1;
    ERR_clear_error();
    if (!p384) {
      checks.push_back(fail("signature", "the leaf certificate's key is not EC P-384"));
    } else if (cose::verify_ecdsa(key, cose::kAlgES384, cose::sig_structure(env.protected_bytes, env.payload),
                                  env.signature)) {
      checks.push_back(pass("signature", "ES384 signature by " + subject_name(leaf.get()) + " is valid"));
    } else {
      checks.push_back(fail("signature", "the ES384 signature does not verify with the key of " +
                                             subject_name(leaf.get()) + " over the Sig_structure"));
    }
  }

  // 6. digest
  if (doc.digest == "SHA384") {
    checks.push_back(pass("digest", "SHA384"));
  } else {
    checks.push_back(fail("digest", "digest is \"" + doc.digest + "\", expected \"SHA384\""));
  }

  // 7. expectations
  if (options.max_age_seconds) {
    const std::int64_t ts = static_cast<std::int64_t>(doc.timestamp_ms / 1000);
    const std::int64_t age = at - ts;
    if (age < 0) {
      checks.push_back(fail("freshness", "the document's timestamp " + format_utc(ts) + " is " + std::to_string(-age) +
                                             " s after the verification time " + format_utc(at)));
    } else if (age > *options.max_age_seconds) {
      checks.push_back(fail("freshness", "the document is " + std::to_string(age) + " s old (timestamp " +
                                             format_utc(ts) + "), more than the maximum age of " +
                                             std::to_string(*options.max_age_seconds) + " s"));
    } else {
      checks.push_back(pass("freshness", "the document is " + std::to_string(age) + " s old"));
    }
  }
  for (const auto& [index, expected] : options.expected_pcrs) {
    const std::string name = "pcr" + std::to_string(index);
    auto it = doc.pcrs.find(index);
    if (it == doc.pcrs.end()) {
      checks.push_back(fail(name, "PCR" + std::to_string(index) + " is not in the document"));
    } else if (!equal_bytes(it->second, expected)) {
      checks.push_back(fail(name, "PCR" + std::to_string(index) + " is " + to_hex(it->second) + ", expected " +
                                      to_hex(expected)));
    } else {
      checks.push_back(pass(name, "PCR" + std::to_string(index) + " matches"));
    }
  }
  auto expect = [&](const char* name, const std::optional<Bytes>& expected, const std::optional<Bytes>& actual) {
    if (!expected) return;
    if (actual && equal_bytes(*actual, *expected)) {
      checks.push_back(pass(name, std::string(name) + " matches"));
    } else {
      checks.push_back(fail(name, std::string(name) + " is " + expectation_text(actual) + ", expected " +
                                      (expected->empty() ? std::string("empty") : to_hex(*expected))));
    }
  };
  expect("nonce", options.expected_nonce, doc.nonce);
  expect("user_data", options.expected_user_data, doc.user_data);
  expect("public_key", options.expected_public_key, doc.public_key);

  result.ok = std::all_of(checks.begin(), checks.end(),
                          [](const VerifyCheck& c) { return c.status == CheckStatus::Pass; });
  result.parsed = std::move(parsed.value());
  return result;
}

std::string format_utc(std::int64_t seconds) {
  const auto t = static_cast<time_t>(seconds);
  struct tm tm {};
  if (!gmtime_r(&t, &tm)) return std::to_string(seconds);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<std::int64_t> parse_rfc3339(std::string_view s) {
  auto bad = [&] {
    return make_error("not an RFC 3339 date-time (like 2025-10-16T02:54:42Z): \"" + std::string(s) + "\"");
  };
  auto digits = [&](std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!digits(0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(5, 2, month) || s[7] != '-' ||
      !digits(8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(11, 2, hour) ||
      s[13] != ':' || !digits(14, 2, minute) || s[16] != ':' || !digits(17, 2, second)) {
    return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return bad();
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return bad();
  }
  std::int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(pos + 4, 2, om) ||
        oh > 23 || om > 59) {
      return bad();
    }
    offset = (s[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  struct tm tm {};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second == 60 ? 59 : second;
  const time_t t = timegm(&tm);
  return static_cast<std::int64_t>(t) - offset;
}

}  // namespace enclaver::nsm
