// Shared fixture of the EIF signing tests: keys and certificates made with
// OpenSSL's API, tiny EIFs, an independent serde_cbor-shaped encoder.
#pragma once

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cbor/cbor.hpp"
#include "eif/eif_reader.hpp"
#include "eif/eif_sign.hpp"
#include "eif/eif_writer.hpp"
#include "eif/metadata.hpp"
#include "eif/pcr.hpp"


namespace enclaver::eif::testing {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

inline Bytes bytes(std::string_view s) { return {s.begin(), s.end()}; }

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Runs a shell command; its standard output (exit status must be 0).
inline std::string run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed: " + command);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  if (status != 0) throw std::runtime_error("command failed (" + std::to_string(status) + "): " + command);
  return out;
}

inline Bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const fs::path& p, std::span<const std::uint8_t> data) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// --- keys and certificates made with OpenSSL's API ---------------------------------

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

inline Pkey ec_key(const char* curve) { return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve)); }

struct CertSpec {
  long not_before = -3600;  // seconds from now
  long not_after = 86400;
  std::string common_name = "enclaver test signer";
  std::string organization = "Enclaver Tests";
  const EVP_MD* digest = EVP_sha384();
};

// A self-signed certificate for `key`, as PEM text.
inline std::string self_signed_pem(EVP_PKEY* key, const CertSpec& spec = {}) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
  X509_gmtime_adj(X509_getm_notBefore(x), spec.not_before);
  X509_gmtime_adj(X509_getm_notAfter(x), spec.not_after);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("US"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.organization.c_str()), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_set_pubkey(x, key);
  if (X509_sign(x, key, spec.digest) <= 0) throw std::runtime_error("X509_sign failed");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  X509_free(x);
  return pem;
}

inline std::string key_pem(EVP_PKEY* key, const char* passphrase = nullptr) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (passphrase) {
    PEM_write_bio_PrivateKey(bio, key, EVP_aes_256_cbc(), reinterpret_cast<const unsigned char*>(passphrase),
                             static_cast<int>(std::strlen(passphrase)), nullptr, nullptr);
  } else {
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return pem;
}

// --- the EIF ----------------------------------------------------------------------------

inline EifContents tiny_eif() {
  EifContents c;
  c.kernel = SectionSource::from_bytes(bytes("KERNEL IMAGE"), "kernel");
  c.cmdline = "console=ttyS0";
  MetadataInput m;
  m.image_name = "app";
  m.image_version = "1";
  c.metadata = encode_metadata(m).value();
  c.ramdisks.push_back(SectionSource::from_bytes(bytes("BOOTSTRAP RAMDISK"), "ramdisk 0"));
  c.ramdisks.push_back(SectionSource::from_bytes(bytes("APPLICATION RAMDISK"), "ramdisk 1"));
  c.parallel_hashing = false;
  return c;
}

inline ReadOptions signed_read() {
  ReadOptions o;
  o.certificate_der = certificate_der_from_section;
  o.parallel_hashing = false;
  return o;
}

struct Built {
  Bytes file;
  WriteSummary summary;
};

inline Built build(const SignatureProducer& signer) {
  EifContents c = tiny_eif();
  c.signature = signer;
  MemoryOutput out;
  WriteSummary s = write_eif(out, c);
  return {out.data(), s};
}

// The EIF with its signature section replaced by `section` (the rest as built).
inline Bytes with_section(const Bytes& section) {
  return build([section](const Measurements&) { return SignatureSection{section, {}}; }).file;
}

// --- an independent encoder of nitro-cli's shapes (serde_cbor by hand) --------------------

inline void head(Bytes& out, int major, std::uint64_t n) {
  const auto m = static_cast<std::uint8_t>(major << 5);
  if (n < 24) {
    out.push_back(static_cast<std::uint8_t>(m | n));
  } else if (n < 256) {
    out.insert(out.end(), {static_cast<std::uint8_t>(m | 24), static_cast<std::uint8_t>(n)});
  } else {
    out.insert(out.end(), {static_cast<std::uint8_t>(m | 25), static_cast<std::uint8_t>(n >> 8),
                           static_cast<std::uint8_t>(n)});
  }
}
inline void text(Bytes& out, std::string_view s) {
  head(out, 3, s.size());
  out.insert(out.end(), s.begin(), s.end());
}
inline void uints(Bytes& out, std::span<const std::uint8_t> data) {
  head(out, 4, data.size());
  for (std::uint8_t b : data) head(out, 0, b);
}
inline Bytes expected_payload(const Digest& pcr0) {
  Bytes p;
  head(p, 5, 2);
  text(p, "register_index");
  head(p, 0, 0);
  text(p, "register_value");
  uints(p, pcr0);
  return p;
}

// --- fixture ------------------------------------------------------------------------------

class EifSign : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("enclaver_sign_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    key_ = ec_key("P-384");
    cert_ = dir_ / "cert.pem";
    key_path_ = dir_ / "key.pem";
    write_text(cert_, self_signed_pem(key_.get()));
    write_text(key_path_, key_pem(key_.get()));
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void write_text(const fs::path& p, const std::string& s) {
    write_file(p, std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
  }

  SignatureProducer signer() {
    auto s = make_signer(cert_, key_path_);
    if (!s) throw std::runtime_error(s.error().message);
    return *s;
  }

  std::string signer_error(const fs::path& cert, const fs::path& key, SignerOptions o = {}) {
    auto s = make_signer(cert, key, o);
    if (s) return "(no error)";
    return s.error().message;
  }

  fs::path dir_;
  Pkey key_;
  fs::path cert_;
  fs::path key_path_;
};


}  // namespace enclaver::eif::testing
