#include "nsm/sim_ca.hpp"

#include "nsm/cose.hpp"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>  // renameat2 (glibc >= 2.28)
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <system_error>

namespace enclaver::nsm::sim {

void PkeyDeleter::operator()(evp_pkey_st* key) const { EVP_PKEY_free(key); }

namespace {

// "enclaver simulator — not a security boundary" (U+2014 em dash, UTF-8).
constexpr const char* kNotABoundary = "enclaver simulator \xE2\x80\x94 not a security boundary";

struct X509Free { void operator()(X509* x) const { X509_free(x); } };
using X509Ptr = std::unique_ptr<X509, X509Free>;
struct BioFree { void operator()(BIO* b) const { BIO_free(b); } };
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct ExtFree { void operator()(X509_EXTENSION* e) const { X509_EXTENSION_free(e); } };
using ExtPtr = std::unique_ptr<X509_EXTENSION, ExtFree>;

using enclaver::nsm::cose::openssl_errors;

Error ossl_error(std::string_view what) {
  return make_error("simulator CA: " + std::string(what) + ": " + openssl_errors());
}

PkeyPtr new_p384_key() { return PkeyPtr(EVP_EC_gen("P-384")); }

bool is_p384(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return false;
  char group[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &len) != 1) return false;
  return std::string_view(group, len) == "secp384r1" || std::string_view(group, len) == "P-384";
}

X509Ptr parse_der(const std::vector<std::uint8_t>& der) {
  const unsigned char* p = der.data();
  return X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
}

Result<std::vector<std::uint8_t>> to_der(X509* cert) {
  int len = i2d_X509(cert, nullptr);
  if (len <= 0) return ossl_error("encoding a certificate");
  std::vector<std::uint8_t> der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  if (i2d_X509(cert, &p) != len) return ossl_error("encoding a certificate");
  return der;
}

bool add_name(X509_NAME* name, std::string_view cn) {
  auto add = [&](const char* field, std::string_view value) {
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.data()),
                                      static_cast<int>(value.size()), -1, 0) == 1;
  };
  return add("O", "enclaver") && add("OU", kNotABoundary) && add("CN", cn);
}

bool add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

struct Profile {
  std::string_view cn;
  long validity_seconds;
  const char* basic_constraints;
  const char* key_usage;
};

// Issues a certificate for a new P-384 key. issuer == nullptr: self-signed.
Result<CertAndKey> issue(const CertAndKey* issuer, const Profile& profile, std::optional<std::time_t> now) {
  PkeyPtr key = new_p384_key();
  if (!key) return ossl_error("generating a P-384 key");
  X509Ptr cert(X509_new());
  if (!cert) return ossl_error("allocating a certificate");
  X509Ptr issuer_cert;
  EVP_PKEY* signing_key = key.get();
  if (issuer) {
    issuer_cert = parse_der(issuer->cert_der);
    if (!issuer_cert || !issuer->key) return ossl_error("reading the issuer certificate");
    signing_key = issuer->key.get();
  }
  // Positive random 128-bit serial (RFC 5280: at most 20 octets).
  unsigned char serial_bytes[16];
  if (RAND_bytes(serial_bytes, sizeof serial_bytes) != 1) return ossl_error("random serial");
  serial_bytes[0] = static_cast<unsigned char>((serial_bytes[0] & 0x7f) | 0x01);
  BIGNUM* bn = BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr);
  bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr;
  BN_free(bn);
  if (!ok) return ossl_error("setting the serial");

  std::time_t t = now ? *now : std::time(nullptr);
  // notBefore one minute back tolerates small clock differences.
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 || !X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, -60, &t) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert.get()), 0, profile.validity_seconds, &t))
    return ossl_error("setting the validity");
  if (!add_name(X509_get_subject_name(cert.get()), profile.cn)) return ossl_error("setting the subject");
  X509_NAME* issuer_name = issuer ? X509_get_subject_name(issuer_cert.get()) : X509_get_subject_name(cert.get());
  if (X509_set_issuer_name(cert.get(), issuer_name) != 1) return ossl_error("setting the issuer");
  if (X509_set_pubkey(cert.get(), key.get()) != 1) return ossl_error("setting the public key");
  X509* issuer_for_ext = issuer ? issuer_cert.get() : cert.get();
  // nsm.md §4: AKI/SKI are harmless on simulator certificates (AWS leaves lack
  // them); they help strict verifiers.
  if (!add_ext(cert.get(), issuer_for_ext, NID_basic_constraints, profile.basic_constraints) ||
      !add_ext(cert.get(), issuer_for_ext, NID_key_usage, profile.key_usage) ||
      !add_ext(cert.get(), issuer_for_ext, NID_subject_key_identifier, "hash") ||
      !add_ext(cert.get(), issuer_for_ext, NID_authority_key_identifier, "keyid:always"))
    return ossl_error("adding extensions");
  if (X509_sign(cert.get(), signing_key, EVP_sha384()) <= 0) return ossl_error("signing the certificate");
  auto der = to_der(cert.get());
  if (!der) return der.error();
  return CertAndKey{std::move(*der), std::move(key)};
}

Result<std::string> root_pem(const CertAndKey& root) {
  X509Ptr cert = parse_der(root.cert_der);
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!cert || !bio) return ossl_error("encoding the root");
  if (PEM_write_bio_X509(bio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(bio.get(), root.key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return ossl_error("encoding the root as PEM");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

Error corrupt(const std::filesystem::path& path, std::string_view why) {
  ERR_clear_error();
  return make_error("simulator root CA file " + path.string() + " is not usable (" + std::string(why) +
                    "); it was left as it is: fix or remove it to have a new root created");
}

Result<CertAndKey> parse_root(const std::string& text, const std::filesystem::path& path) {
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) return ossl_error("reading the root");
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return corrupt(path, "no PEM certificate at its start");
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return corrupt(path, "no PEM private key after the certificate");
  if (X509_check_private_key(cert.get(), key.get()) != 1) return corrupt(path, "the private key does not match the certificate");
  if (!is_p384(key.get())) return corrupt(path, "the key is not EC P-384");
  if (X509_check_ca(cert.get()) != 1) return corrupt(path, "the certificate is not a CA");
  auto der = to_der(cert.get());
  if (!der) return der.error();
  return CertAndKey{std::move(*der), std::move(key)};
}

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("simulator CA: cannot read " + path.string() + ": " + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return make_error("simulator CA: error reading " + path.string());
  return text;
}

// mkdir -p with mode 0700 for the directories this call creates.
std::optional<std::string> make_dirs(const std::filesystem::path& dir) {
  if (dir.empty()) return std::nullopt;
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return std::nullopt;
  if (dir.has_parent_path() && dir.parent_path() != dir)
    if (auto e = make_dirs(dir.parent_path())) return e;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return "simulator CA: cannot create directory " + dir.string() + ": " + std::strerror(errno);
  return std::nullopt;
}

}  // namespace

std::filesystem::path default_root_path(std::string_view home) {
  return std::filesystem::path(home) / ".local" / "share" / "enclaver" / "sim-root.pem";
}

Result<CertAndKey> make_root(std::optional<std::time_t> now) {
  // nsm.md §4: root = CA (no pathlen, critical), keyUsage digitalSignature,
  // keyCertSign, cRLSign (critical), 30 years.
  return issue(nullptr,
               Profile{"enclaver simulator root CA", kRootValiditySeconds, "critical,CA:TRUE",
                       "critical,digitalSignature,keyCertSign,cRLSign"},
               now);
}

Result<CertAndKey> make_intermediate(const CertAndKey& root, std::optional<std::time_t> now) {
  // nsm.md §4: the last AWS CA level before the leaf has pathlen 0.
  return issue(&root,
               Profile{"enclaver simulator intermediate CA", kIntermediateValiditySeconds, "critical,CA:TRUE,pathlen:0",
                       "critical,digitalSignature,keyCertSign,cRLSign"},
               now);
}

Result<CertAndKey> make_leaf(const CertAndKey& intermediate, std::string_view module_id, std::optional<std::time_t> now) {
  if (module_id.empty() || module_id.size() > 64)
    return make_error("simulator CA: module_id must be 1 to 64 characters to be a certificate CN");
  // nsm.md §4: leaf CA:FALSE critical; digitalSignature, nonRepudiation (not
  // critical); 3 hours.
  return issue(&intermediate,
               Profile{module_id, kLeafValiditySeconds, "critical,CA:FALSE", "digitalSignature,nonRepudiation"}, now);
}

Result<std::string> certificate_pem(const std::vector<std::uint8_t>& cert_der) {
  X509Ptr cert = parse_der(cert_der);
  if (!cert) return ossl_error("parsing a DER certificate");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) return ossl_error("encoding a certificate as PEM");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

Result<CertAndKey> load_or_create_root(const std::filesystem::path& path, bool* created) {
  if (created) *created = false;
  std::error_code ec;
  auto status = std::filesystem::symlink_status(path, ec);
  if (!ec && std::filesystem::exists(status)) {
    auto text = read_file(path);
    if (!text) return text.error();
    return parse_root(*text, path);
  }
  if (auto e = make_dirs(path.parent_path())) return make_error(*e);
  auto root = make_root();
  if (!root) return root.error();
  auto pem = root_pem(*root);
  if (!pem) return pem.error();

  std::string tmp = path.string() + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmp.data());  // mode 0600
  if (fd < 0) return make_error("simulator CA: cannot create a temporary file next to " + path.string() + ": " + std::strerror(errno));
  auto fail = [&](std::string what) -> Error {
    int saved = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return make_error("simulator CA: " + what + " " + tmp + ": " + std::strerror(saved));
  };
  if (::fchmod(fd, 0600) != 0) return fail("cannot set mode 0600 on");
  const char* p = pem->data();
  std::size_t left = pem->size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write");
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot sync");
  if (::close(fd) != 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    return make_error("simulator CA: cannot close " + tmp + ": " + std::strerror(saved));
  }
  // Never replace a root another process created meanwhile.
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0) {
    int saved = errno;
    if (saved == EEXIST) {
      ::unlink(tmp.c_str());
      auto text = read_file(path);
      if (!text) return text.error();
      return parse_root(*text, path);
    }
    if (saved == EINVAL || saved == ENOSYS) {  // file system without RENAME_NOREPLACE
      if (::link(tmp.c_str(), path.c_str()) != 0) {
        int e2 = errno;
        ::unlink(tmp.c_str());
        if (e2 == EEXIST) {
          auto text = read_file(path);
          if (!text) return text.error();
          return parse_root(*text, path);
        }
        return make_error("simulator CA: cannot install " + path.string() + ": " + std::strerror(e2));
      }
      ::unlink(tmp.c_str());
    } else {
      ::unlink(tmp.c_str());
      return make_error("simulator CA: cannot install " + path.string() + ": " + std::strerror(saved));
    }
  }
  if (created) *created = true;
  return std::move(*root);
}

}  // namespace enclaver::nsm::sim
