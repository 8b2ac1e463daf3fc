// EIF signing and verification (../shared/spec/eif.md §4): the signature
// section in nitro-cli's exact shape, COSE_Sign1 with ECDSA (OpenSSL 3 EVP),
// the certificate's DER for PCR8, and describe-eif's certificate fields.
#include "eif/eif_sign.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "cbor/cbor.hpp"
#include "nsm/cose.hpp"

namespace enclaver::eif {

namespace {

namespace fs = std::filesystem;
namespace cose = nsm::cose;
using cbor::Value;

// --- OpenSSL handles -------------------------------------------------------------

struct OpenSslFree {
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
template <class T>
using Owned = std::unique_ptr<T, OpenSslFree>;

Owned<BIO> memory_bio(std::span<const std::uint8_t> bytes) {
  return Owned<BIO>(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

// --- curves -------------------------------------------------------------------------

// Digests and signature sizes are nsm::cose's (ecdsa_half_size, sign_ecdsa).
struct Curve {
  CoseAlgorithm algorithm;
  const char* name;  // "P-384"

  std::int64_t cose_algorithm() const { return static_cast<std::int64_t>(algorithm); }
};

constexpr Curve kCurves[] = {
    {CoseAlgorithm::ES256, "P-256"},
    {CoseAlgorithm::ES384, "P-384"},
    {CoseAlgorithm::ES512, "P-521"},
};

const Curve* curve_for(CoseAlgorithm algorithm) {
  for (const Curve& c : kCurves) {
    if (c.algorithm == algorithm) return &c;
  }
  return nullptr;
}

std::string algorithm_name(CoseAlgorithm a) {
  switch (a) {
    case CoseAlgorithm::ES256: return "ES256";
    case CoseAlgorithm::ES384: return "ES384";
    case CoseAlgorithm::ES512: return "ES512";
  }
  return "?";
}

// What a key is, for messages: "EC P-384", "EC secp256k1", "RSA", "ED25519".
std::string key_kind(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
    char group[80] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1) return "EC " + std::string(group, len);
    return "EC (unknown curve)";
  }
  const char* name = EVP_PKEY_get0_type_name(key);
  return name ? name : "unknown";
}

// The curve of an ECDSA key we can sign with, or a message saying why not.
Result<const Curve*> curve_of(EVP_PKEY* key, std::string_view whose) {
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
    char group[80] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1) {
      const int nid = OBJ_txt2nid(group);
      if (nid == NID_X9_62_prime256v1) return &kCurves[0];
      if (nid == NID_secp384r1) return &kCurves[1];
      if (nid == NID_secp521r1) return &kCurves[2];
    }
  }
  return make_error(std::string(whose) + " is " + key_kind(key) +
                    "; EIF signatures are ECDSA on P-384 (secp384r1), which nitro-cli expects; P-256 and P-521 "
                    "are also accepted. Make a key with `openssl ecparam -name secp384r1 -genkey -noout -out key.pem`");
}

// --- time -----------------------------------------------------------------------------

std::string rfc3339(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "(unreadable date)";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// As OpenSSL prints it (ASN1_TIME_print): "May  8 09:35:35 2020 GMT", which
// is what nitro-cli's describe-eif shows.
std::string openssl_time(const ASN1_TIME* t) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || ASN1_TIME_print(bio.get(), t) != 1) return "error";
  return bio_text(bio.get());
}

std::int64_t now_seconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

// Empty if `at` is within the certificate's dates, else why not.
std::string validity_problem(X509* cert, std::int64_t at) {
  const ASN1_TIME* not_before = X509_get0_notBefore(cert);
  const ASN1_TIME* not_after = X509_get0_notAfter(cert);
  const auto when = static_cast<time_t>(at);
  const std::string dates = "valid from " + rfc3339(not_before) + " to " + rfc3339(not_after);
  if (ASN1_TIME_cmp_time_t(not_before, when) > 0) return "the certificate is not valid yet (" + dates + ")";
  if (ASN1_TIME_cmp_time_t(not_after, when) < 0) return "the certificate has expired (" + dates + ")";
  return {};
}

// --- CBOR pieces ------------------------------------------------------------------------

void put_text(std::vector<std::uint8_t>& out, std::string_view s) {
  cbor::encode_head(out, 3, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

// serde_cbor's Vec<u8>: an array of unsigned integers, one per byte.
void put_uint_array(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> bytes) {
  cbor::encode_head(out, 4, bytes.size());
  for (std::uint8_t b : bytes) cbor::encode_head(out, 0, b);
}

// A value in diagnostic notation for a message: at most 60 bytes, cut at a
// UTF-8 character boundary.
std::string short_diagnostic(const Value& v) {
  std::string s = cbor::diagnostic(v);
  if (s.size() <= 60) return s;
  std::size_t cut = 57;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s + "...";
}

// --- certificates -------------------------------------------------------------------------

Result<Owned<X509>> x509_from_pem(std::span<const std::uint8_t> pem, std::string_view what) {
  Owned<BIO> bio = memory_bio(pem);
  Owned<X509> cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) {
    const std::string detail = cose::openssl_errors();
    std::string hint;
    if (!pem.empty() && pem[0] == 0x30) {
      hint = " (it looks like DER; convert it with `openssl x509 -inform DER -in CERT -out CERT.pem`)";
    } else if (const std::string_view text(reinterpret_cast<const char*>(pem.data()), pem.size());
               text.find("-----BEGIN CERTIFICATE-----") == std::string_view::npos) {
      hint = text.find("PRIVATE KEY-----") != std::string_view::npos
                 ? " (it holds a private key: were the certificate and the key swapped?)"
                 : " (there is no \"-----BEGIN CERTIFICATE-----\" line)";
    }
    return make_error(std::string(what) + " is not a PEM certificate" + hint + ": " + detail);
  }
  return cert;
}

Result<std::vector<std::uint8_t>> der_of(X509* cert) {
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  if (len <= 0) return make_error("cannot encode the certificate as DER: " + cose::openssl_errors());
  std::vector<std::uint8_t> out(der, der + len);
  OPENSSL_free(der);
  return out;
}

std::string object_text(const ASN1_OBJECT* obj) {
  char buf[128];
  const int len = OBJ_obj2txt(buf, sizeof buf, obj, 0);
  if (len <= 0) return "error";
  return std::string(buf, std::min<std::size_t>(static_cast<std::size_t>(len), sizeof buf - 1));
}

// Rust's `format!("{:?}", s)` for a str, then every '"' removed: what
// nitro-cli does to each issuer attribute value. ASCII escapes as Rust writes
// them; non-ASCII characters are kept (Rust escapes the non-printable ones).
std::string nitro_cli_attribute(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\n': out += "\\n"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += "\\"; break;  // Rust writes \" and nitro-cli then drops the quote
      case '\0': out += "\\0"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char buf[12];
          std::snprintf(buf, sizeof buf, "\\u{%x}", u);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string colon_hex(std::span<const unsigned char> bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i) out += ':';
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 15];
  }
  return out;
}

// describe-eif's SigningCertificate object (nitro-cli's SignCertificateInfo).
nlohmann::ordered_json certificate_json(X509* cert) {
  std::map<std::string, std::string> issuer;  // a BTreeMap in nitro-cli: sorted, last value wins
  const X509_NAME* name = X509_get_issuer_name(cert);
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    std::string value = "error";
    if (len >= 0) {
      value = nitro_cli_attribute(std::string_view(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len)));
      OPENSSL_free(utf8);
    }
    issuer[object_text(X509_NAME_ENTRY_get_object(e))] = value;
  }
  ERR_clear_error();
  nlohmann::ordered_json issuer_json = nlohmann::ordered_json::object();
  for (const auto& [k, v] : issuer) issuer_json[k] = v;

  const ASN1_BIT_STRING* signature = nullptr;
  const X509_ALGOR* algorithm = nullptr;
  X509_get0_signature(&signature, &algorithm, cert);
  const ASN1_OBJECT* algorithm_obj = nullptr;
  X509_ALGOR_get0(&algorithm_obj, nullptr, nullptr, algorithm);

  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["IssuerName"] = std::move(issuer_json);
  j["Algorithm"] = object_text(algorithm_obj);
  j["NotBefore"] = openssl_time(X509_get0_notBefore(cert));
  j["NotAfter"] = openssl_time(X509_get0_notAfter(cert));
  j["Signature"] = colon_hex(std::span<const unsigned char>(ASN1_STRING_get0_data(signature),
                                                            static_cast<std::size_t>(ASN1_STRING_length(signature))));
  return j;
}

// --- files --------------------------------------------------------------------------------

constexpr std::uintmax_t kMaxPemFileSize = 1 << 20;

Result<std::vector<std::uint8_t>> read_small_file(const fs::path& path, std::string_view what) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return make_error("cannot read " + std::string(what) + " " + path.string() + ": " + ec.message());
  if (size > kMaxPemFileSize) {
    return make_error(std::string(what) + " " + path.string() + " is " + std::to_string(size) +
                      " bytes long; a PEM file is a few KiB");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read " + std::string(what) + " " + path.string() + ": " + std::strerror(errno));
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (in.gcount() != static_cast<std::streamsize>(bytes.size())) {
    return make_error("cannot read " + std::string(what) + " " + path.string() + ": short read");
  }
  return bytes;
}

int refuse_passphrase(char*, int, int, void* asked) {
  *static_cast<bool*>(asked) = true;
  return -1;
}

// --- the signer -----------------------------------------------------------------------------

struct Signer {
  std::vector<std::uint8_t> certificate_pem;  // the file, as is
  std::vector<std::uint8_t> certificate_der;
  std::shared_ptr<EVP_PKEY> key;
  const Curve* curve;

  // Throws std::runtime_error if OpenSSL cannot sign (SignatureProducer's contract).
  SignatureSection sign(const Measurements& m) const {
    const std::vector<std::uint8_t> protected_bytes = cose::protected_header(curve->cose_algorithm());
    const std::vector<std::uint8_t> payload = pcr_payload(0, m.pcr0);
    auto signature =
        cose::sign_ecdsa(key.get(), curve->cose_algorithm(), cose::sig_structure(protected_bytes, payload));
    if (!signature) throw std::runtime_error("cannot sign the EIF: " + signature.error().message);
    return {encode_signature_section(certificate_pem, cose::encode_sign1(protected_bytes, payload, *signature)),
            certificate_der};
  }
};

}  // namespace

// --- public: encoding -------------------------------------------------------------------------

std::vector<std::uint8_t> pcr_payload(std::uint32_t index, const Digest& value) {
  std::vector<std::uint8_t> out;
  cbor::encode_head(out, 5, 2);
  put_text(out, "register_index");
  cbor::encode_head(out, 0, index);
  put_text(out, "register_value");
  put_uint_array(out, value);
  return out;
}

std::vector<std::uint8_t> encode_signature_section(std::span<const std::uint8_t> certificate_pem,
                                                   std::span<const std::uint8_t> cose) {
  std::vector<std::uint8_t> out;
  out.reserve(8 + 2 * (certificate_pem.size() + cose.size()) + 64);
  cbor::encode_head(out, 4, 1);
  cbor::encode_head(out, 5, 2);
  put_text(out, "signing_certificate");
  put_uint_array(out, certificate_pem);
  put_text(out, "signature");
  put_uint_array(out, cose);
  return out;
}

// --- public: parsing ---------------------------------------------------------------------------

Result<SignatureSectionContents> parse_signature_section(std::span<const std::uint8_t> section) {
  if (section.size() > kMaxSignatureSize) {
    return make_error("the signature section is " + std::to_string(section.size()) + " bytes; at most " +
                      std::to_string(kMaxSignatureSize) + " are allowed");
  }
  cbor::DecodeOptions o;
  o.max_depth = 8;
  auto decoded = cbor::decode(section, o);
  if (!decoded) return make_error("the signature section is not valid CBOR: " + decoded.error().message);
  const cbor::Array* elements = decoded->as_array();
  if (!elements || elements->empty()) {
    return make_error("the signature section must be a non-empty CBOR array of PCR signatures; it is " +
                      (elements ? std::string("an empty array") : "a " + std::string(cbor::kind_name(decoded->kind()))));
  }
  SignatureSectionContents out;
  out.elements = elements->size();
  for (std::size_t i = 0; i < elements->size(); ++i) {
    const std::string where = "the signature section's element " + std::to_string(i);
    const cbor::Map* m = (*elements)[i].as_map();
    if (!m || m->size() != 2) {
      return make_error(where + " must be a map of two entries, \"signing_certificate\" and \"signature\"");
    }
    const char* kKeys[2] = {"signing_certificate", "signature"};
    std::vector<std::uint8_t> fields[2];
    for (int k = 0; k < 2; ++k) {
      const std::string* key = (*m)[k].key.as_text();
      if (!key || *key != kKeys[k]) {
        return make_error(where + ": entry " + std::to_string(k) + " must have the key \"" + kKeys[k] + "\", not " +
                          short_diagnostic((*m)[k].key));
      }
      const Value& v = (*m)[k].value;
      const cbor::Array* bytes = v.as_array();
      if (!bytes) {
        return make_error(where + ": \"" + kKeys[k] + "\" must be an array of unsigned integers (one per byte), " +
                          "not a " + std::string(cbor::kind_name(v.kind())));
      }
      fields[k].reserve(bytes->size());
      for (std::size_t b = 0; b < bytes->size(); ++b) {
        const auto byte = (*bytes)[b].as_unsigned();
        if (!byte || *byte > 255) {
          return make_error(where + ": \"" + kKeys[k] + "\"[" + std::to_string(b) + "] is " +
                            short_diagnostic((*bytes)[b]) + ", not a byte (an unsigned integer 0..255)");
        }
        fields[k].push_back(static_cast<std::uint8_t>(*byte));
      }
    }
    if (i == 0) {
      out.certificate_pem = std::move(fields[0]);
      out.cose_sign1 = std::move(fields[1]);
    }
  }
  return out;
}

Result<std::vector<std::uint8_t>> certificate_der_from_section(std::span<const std::uint8_t> section) {
  auto parsed = parse_signature_section(section);
  if (!parsed) return parsed.error();
  auto cert = x509_from_pem(parsed->certificate_pem, "the signing certificate in the signature section");
  if (!cert) return cert.error();
  return der_of(cert->get());
}

// --- public: signing ----------------------------------------------------------------------------

Result<SignatureProducer> make_signer(const fs::path& cert_pem_path, const fs::path& key_pem_path,
                                      const SignerOptions& options) {
  ERR_clear_error();
  auto pem = read_small_file(cert_pem_path, "the signing certificate");
  if (!pem) return pem.error();
  auto key_file = read_small_file(key_pem_path, "the signing key");
  if (!key_file) return key_file.error();

  const std::string cert_name = "the signing certificate " + cert_pem_path.string();
  const std::string key_name = "the signing key " + key_pem_path.string();
  auto cert = x509_from_pem(*pem, cert_name);
  if (!cert) return cert.error();
  // The file goes into the EIF as it is: never a private key with it.
  if (std::string_view(reinterpret_cast<const char*>(pem->data()), pem->size()).find("PRIVATE KEY-----") !=
      std::string_view::npos) {
    return make_error(cert_name + " also holds a private key, and the certificate file is copied into the EIF as it "
                      "is: give a file with just the certificate (`openssl x509 -in FILE -out cert.pem`)");
  }

  bool asked_passphrase = false;
  Owned<BIO> key_bio = memory_bio(*key_file);
  std::shared_ptr<EVP_PKEY> key(
      key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, refuse_passphrase, &asked_passphrase) : nullptr,
      EVP_PKEY_free);
  if (!key) {
    const std::string detail = cose::openssl_errors();
    if (asked_passphrase) {
      return make_error(key_name + " is encrypted; give an unencrypted PEM key (e.g. `openssl ec -in KEY -out " +
                        "KEY.plain`): the builder never asks for a passphrase");
    }
    const std::string_view text(reinterpret_cast<const char*>(key_file->data()), key_file->size());
    if (text.find("PRIVATE KEY-----") == std::string_view::npos) {
      return make_error(key_name + " holds no PEM private key (no \"-----BEGIN ... PRIVATE KEY-----\" line)" +
                        (text.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos
                             ? std::string("; it is a certificate: were the two files swapped?")
                             : std::string()));
    }
    return make_error(key_name + " is not a readable PEM private key: " + detail);
  }
  auto curve = curve_of(key.get(), key_name);
  if (!curve) return curve.error();

  EVP_PKEY* cert_key = X509_get0_pubkey(cert->get());
  if (!cert_key || EVP_PKEY_eq(cert_key, key.get()) != 1) {
    ERR_clear_error();
    return make_error(key_name + " does not belong to " + cert_name + " (the certificate's public key is " +
                      (cert_key ? key_kind(cert_key) : std::string("unreadable")) +
                      " and is not this key's): give the key the certificate was issued for");
  }

  const std::string dates = validity_problem(cert->get(), options.at.value_or(now_seconds()));
  if (!dates.empty()) {
    return make_error(cert_name + ": " + dates +
                      "; nitro-cli run-enclave refuses an EIF signed outside its certificate's validity dates");
  }

  auto der = der_of(cert->get());
  if (!der) return der.error();

  auto signer = std::make_shared<const Signer>(Signer{std::move(*pem), std::move(*der), key, *curve});

  // The section must fit the format's limit: measure it with the largest
  // payload and signature this curve can give.
  Digest widest;
  widest.fill(0xff);
  const std::vector<std::uint8_t> widest_signature(2 * cose::ecdsa_half_size((*curve)->cose_algorithm()), 0xff);
  const std::vector<std::uint8_t> protected_bytes = cose::protected_header((*curve)->cose_algorithm());
  const std::size_t bound =
      encode_signature_section(signer->certificate_pem,
                               cose::encode_sign1(protected_bytes, pcr_payload(0, widest), widest_signature))
          .size();
  if (bound > kMaxSignatureSize) {
    return make_error(cert_name + " is too large: the signature section would take up to " + std::to_string(bound) +
                      " bytes and the EIF format allows " + std::to_string(kMaxSignatureSize) +
                      " (each byte of the PEM file takes one or two bytes in the section); give a file with just the "
                      "signing certificate");
  }
  return SignatureProducer([signer](const Measurements& m) { return signer->sign(m); });
}

// --- public: verification -----------------------------------------------------------------------

Result<SignatureVerification> verify_signature_section(std::span<const std::uint8_t> section, const Digest& pcr0,
                                                       std::optional<std::int64_t> at) {
  ERR_clear_error();
  auto parsed = parse_signature_section(section);
  if (!parsed) return parsed.error();
  auto cert = x509_from_pem(parsed->certificate_pem, "the signing certificate in the signature section");
  if (!cert) return cert.error();
  auto der = der_of(cert->get());
  if (!der) return der.error();

  SignatureVerification v;
  v.signing_certificate = certificate_json(cert->get());
  v.certificate_der = std::move(*der);
  const std::string dates = validity_problem(cert->get(), at.value_or(now_seconds()));
  v.certificate_current = dates.empty();

  auto problem = [&]() -> std::string {
    auto sign1 = cose::parse_sign1(parsed->cose_sign1);
    if (!sign1) return sign1.error().message;
    const std::optional<std::int64_t> algorithm = sign1->algorithm();
    if (!algorithm) return "the COSE protected header has no algorithm (key 1)";
    const Curve* curve = curve_for(static_cast<CoseAlgorithm>(*algorithm));
    if (!curve) {
      return "the COSE algorithm " + std::to_string(*algorithm) +
             " is not ECDSA ES256 (-7), ES384 (-35) or ES512 (-36)";
    }
    v.algorithm = curve->algorithm;
    EVP_PKEY* key = X509_get0_pubkey(cert->get());
    if (!key) return "the certificate's public key cannot be read: " + cose::openssl_errors();
    auto key_curve = curve_of(key, "the certificate's public key");
    if (!key_curve) return key_curve.error().message;
    if (*key_curve != curve) {
      return "the COSE algorithm is " + algorithm_name(curve->algorithm) + " but the certificate's key is on " +
             (*key_curve)->name;
    }
    v.signature_valid = cose::verify_ecdsa(key, curve->cose_algorithm(),
                                           cose::sig_structure(sign1->protected_bytes, sign1->payload),
                                           sign1->signature);
    v.payload_matches = sign1->payload == pcr_payload(0, pcr0);
    if (!v.signature_valid) {
      return "the COSE signature does not verify with the certificate's public key (the section was changed, or "
             "signed with another key)";
    }
    if (!v.payload_matches) {
      auto payload = cbor::decode(sign1->payload);
      const Value* index = payload ? payload->find("register_index") : nullptr;
      if (index && index->as_unsigned() != 0u) {
        return "the signed payload is for PCR " + short_diagnostic(*index) + ", not PCR0";
      }
      return "the signed payload is not this EIF's PCR0 (the signature was made for another image)";
    }
    return {};
  }();
  v.problem = !problem.empty() ? problem : dates;
  return v;
}

Result<SignatureDescription> describe_signature(const EifInfo& info) {
  if (!info.signature) return SignatureDescription{};
  auto v = verify_signature_section(*info.signature, info.measurements.pcr0);
  if (!v) return v.error();
  return v->description();
}

}  // namespace enclaver::eif
