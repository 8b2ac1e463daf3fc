// EIF signing (eif.md §3 PCR8, §4, §6): a signed EIF built by the writer and
// read back; PCR8 and the COSE signature checked independently with the
// `openssl` command line; the section's exact bytes against a hand-written
// encoding of nitro-cli's shape; tampering; the signer's refusals (wrong key,
// dates, key types, encrypted keys, unreadable or non-PEM files).
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

namespace enclaver::eif {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

Bytes bytes(std::string_view s) { return {s.begin(), s.end()}; }

std::string shell_quote(const std::string& s) {
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
std::string run(const std::string& command) {
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

Bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_file(const fs::path& p, std::span<const std::uint8_t> data) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// --- keys and certificates made with OpenSSL's API ---------------------------------

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey ec_key(const char* curve) { return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve)); }

struct CertSpec {
  long not_before = -3600;  // seconds from now
  long not_after = 86400;
  std::string common_name = "enclaver test signer";
  std::string organization = "Enclaver Tests";
  const EVP_MD* digest = EVP_sha384();
};

// A self-signed certificate for `key`, as PEM text.
std::string self_signed_pem(EVP_PKEY* key, const CertSpec& spec = {}) {
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

std::string key_pem(EVP_PKEY* key, const char* passphrase = nullptr) {
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

EifContents tiny_eif() {
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

ReadOptions signed_read() {
  ReadOptions o;
  o.certificate_der = certificate_der_from_section;
  o.parallel_hashing = false;
  return o;
}

struct Built {
  Bytes file;
  WriteSummary summary;
};

Built build(const SignatureProducer& signer) {
  EifContents c = tiny_eif();
  c.signature = signer;
  MemoryOutput out;
  WriteSummary s = write_eif(out, c);
  return {out.data(), s};
}

// The EIF with its signature section replaced by `section` (the rest as built).
Bytes with_section(const Bytes& section) {
  return build([section](const Measurements&) { return SignatureSection{section, {}}; }).file;
}

// --- an independent encoder of nitro-cli's shapes (serde_cbor by hand) --------------------

void head(Bytes& out, int major, std::uint64_t n) {
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
void text(Bytes& out, std::string_view s) {
  head(out, 3, s.size());
  out.insert(out.end(), s.begin(), s.end());
}
void uints(Bytes& out, std::span<const std::uint8_t> data) {
  head(out, 4, data.size());
  for (std::uint8_t b : data) head(out, 0, b);
}
Bytes expected_payload(const Digest& pcr0) {
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

// --- the signed EIF ------------------------------------------------------------------------

TEST_F(EifSign, SignedEifReadsBackWithPcr8AndAValidSignature) {
  const Built b = build(signer());
  ASSERT_EQ(b.summary.sections.size(), 6u);
  EXPECT_EQ(b.summary.sections.back().type, SectionType::Signature);
  ASSERT_TRUE(b.summary.measurements.pcr8);

  MemorySource src(b.file);
  auto info = read_eif(src, signed_read());
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_TRUE(info->is_signed());
  EXPECT_EQ(info->measurements, b.summary.measurements);

  // PCR8 = SHA-384(48 zeros || SHA-384(DER)), computed by the openssl CLI alone.
  const std::string out = run("(head -c 48 /dev/zero; openssl x509 -in " + shell_quote(cert_.string()) +
                              " -outform DER | openssl dgst -sha384 -binary) | openssl dgst -sha384 -hex");
  const std::string expected = out.substr(out.find("= ") + 2, 96);
  EXPECT_EQ(to_hex(*info->measurements.pcr8), expected);

  auto v = verify_signature_section(*info->signature, info->measurements.pcr0);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_TRUE(v->signature_valid);
  EXPECT_TRUE(v->payload_matches);
  EXPECT_TRUE(v->certificate_current);
  EXPECT_TRUE(v->signature_check());
  EXPECT_EQ(v->problem, "");
  EXPECT_EQ(v->algorithm, CoseAlgorithm::ES384);
  EXPECT_EQ(pcr_of(v->certificate_der), *info->measurements.pcr8);

  auto d = describe_signature(*info);
  ASSERT_TRUE(d) << d.error().message;
  auto j = describe_eif(*info, *d);
  ASSERT_TRUE(j) << j.error().message;
  std::vector<std::string> keys;
  for (const auto& [k, _] : j->items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"EifVersion", "Measurements", "IsSigned", "SigningCertificate", "CheckCRC",
                                            "SignatureCheck", "ImageName", "ImageVersion", "Metadata"}));
  EXPECT_EQ((*j)["SignatureCheck"], true);
  EXPECT_EQ((*j)["IsSigned"], true);
  EXPECT_EQ((*j)["Measurements"]["PCR8"], expected);
}

TEST_F(EifSign, SectionHasNitroCliExactShape) {
  const Built b = build(signer());
  MemorySource src(b.file);
  auto info = read_eif(src, signed_read());
  ASSERT_TRUE(info) << info.error().message;
  const Bytes& section = *info->signature;
  const Bytes pem = read_file(cert_);

  // Decoded with our codec: [ {"signing_certificate": [..], "signature": [..]} ].
  auto v = cbor::decode(section);
  ASSERT_TRUE(v) << v.error().message;
  ASSERT_TRUE(v->as_array());
  ASSERT_EQ(v->as_array()->size(), 1u);
  const cbor::Map* m = (*v->as_array())[0].as_map();
  ASSERT_TRUE(m);
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ(*(*m)[0].key.as_text(), "signing_certificate");
  EXPECT_EQ(*(*m)[1].key.as_text(), "signature");
  Bytes cose;
  for (const cbor::Value& e : *(*m)[1].value.as_array()) cose.push_back(static_cast<std::uint8_t>(*e.as_unsigned()));

  // The whole section against a hand-made encoding of the same parts.
  Bytes expected;
  head(expected, 4, 1);
  head(expected, 5, 2);
  text(expected, "signing_certificate");
  uints(expected, pem);
  text(expected, "signature");
  uints(expected, cose);
  EXPECT_EQ(section, expected);

  // The first bytes, spelled out: array(1), map(2), text(19), array(pem size)
  // with a 2-byte length, then '-' (0x2d >= 24) as 18 2d.
  ASSERT_GT(pem.size(), 255u);
  const Bytes start{0x81, 0xa2, 0x73, 's',  'i',  'g',  'n',  'i',  'n',  'g',  '_',
                    'c',  'e',  'r',  't',  'i',  'f',  'i',  'c',  'a',  't',  'e',
                    0x99, static_cast<std::uint8_t>(pem.size() >> 8), static_cast<std::uint8_t>(pem.size()),
                    0x18, 0x2d, 0x18, 0x2d};
  EXPECT_TRUE(std::equal(start.begin(), start.end(), section.begin()));
  // '\n' (< 24) takes one byte: "-----BEGIN CERTIFICATE-----\n" is 27 x `18 nn` then 0a.
  EXPECT_EQ(section[start.size() - 4 + 27 * 2], 0x0a);

  // The COSE_Sign1: untagged array(4) [h'a1013822', {}, payload, 96-byte signature].
  auto c = cbor::decode(cose);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(cose[0], 0x84);
  const cbor::Array& a = *c->as_array();
  EXPECT_EQ(*a[0].as_bytes(), (Bytes{0xa1, 0x01, 0x38, 0x22}));
  EXPECT_EQ(a[1], cbor::Value::map());
  EXPECT_EQ(*a[2].as_bytes(), expected_payload(info->measurements.pcr0));
  EXPECT_EQ(a[3].as_bytes()->size(), 96u);
  // The cose bytes start 84 44 a1013822 a0 58 <payload length>.
  const Bytes cose_start{0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0, 0x58};
  EXPECT_TRUE(std::equal(cose_start.begin(), cose_start.end(), cose.begin()));
  // And in the section each of those bytes is a uint: 18 84, 18 44, 18 a1, 01, 18 38, 18 22, 18 a0, 18 58.
  const Bytes sig_key{0x69, 's', 'i', 'g', 'n', 'a', 't', 'u', 'r', 'e'};
  auto at = std::search(section.begin(), section.end(), sig_key.begin(), sig_key.end());
  ASSERT_NE(at, section.end());
  at += static_cast<std::ptrdiff_t>(sig_key.size());
  // The array head: 98 nn or 99 nnnn (the COSE_Sign1 is about 240 to 290
  // bytes, depending on how many PCR0 bytes are >= 24).
  std::size_t length = 0;
  if (cose.size() < 256) {
    ASSERT_EQ(at[0], 0x98);
    length = at[1];
    at += 2;
  } else {
    ASSERT_EQ(at[0], 0x99);
    length = static_cast<std::size_t>((at[1] << 8) | at[2]);
    at += 3;
  }
  EXPECT_EQ(length, cose.size());
  const Bytes encoded_start{0x18, 0x84, 0x18, 0x44, 0x18, 0xa1, 0x01, 0x18, 0x38, 0x18, 0x22, 0x18, 0xa0, 0x18, 0x58};
  EXPECT_TRUE(std::equal(encoded_start.begin(), encoded_start.end(), at));
}

TEST_F(EifSign, CoseSignatureVerifiesWithTheOpensslCommandLine) {
  const Built b = build(signer());
  MemorySource src(b.file);
  auto info = read_eif(src, signed_read());
  ASSERT_TRUE(info) << info.error().message;
  auto parsed = parse_signature_section(*info->signature);
  ASSERT_TRUE(parsed) << parsed.error().message;
  auto c = cbor::decode(parsed->cose_sign1);
  ASSERT_TRUE(c);
  const Bytes& payload = *(*c->as_array())[2].as_bytes();
  const Bytes& raw = *(*c->as_array())[3].as_bytes();

  // Sig_structure by hand: 84, text(10) "Signature1", bstr(4) protected,
  // bstr(0), bstr(payload).
  Bytes tbs{0x84, 0x6a, 'S', 'i', 'g', 'n', 'a', 't', 'u', 'r', 'e', '1', 0x44, 0xa1, 0x01, 0x38, 0x22, 0x40};
  head(tbs, 2, payload.size());
  tbs.insert(tbs.end(), payload.begin(), payload.end());
  // r || s to an ASN.1 ECDSA-Sig-Value (SEQUENCE of two INTEGERs) by hand.
  auto integer = [](std::span<const std::uint8_t> v) {
    std::size_t i = 0;
    while (i + 1 < v.size() && v[i] == 0) ++i;
    Bytes out{0x02};
    Bytes body(v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
    if (body[0] & 0x80) body.insert(body.begin(), 0x00);
    out.push_back(static_cast<std::uint8_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
    return out;
  };
  Bytes seq = integer(std::span(raw).first(48));
  const Bytes s = integer(std::span(raw).subspan(48));
  seq.insert(seq.end(), s.begin(), s.end());
  Bytes der{0x30, static_cast<std::uint8_t>(seq.size())};
  der.insert(der.end(), seq.begin(), seq.end());

  write_file(dir_ / "tbs.bin", tbs);
  write_file(dir_ / "sig.der", der);
  run("openssl x509 -in " + shell_quote(cert_.string()) + " -pubkey -noout > " + shell_quote((dir_ / "pub.pem").string()));
  const std::string verdict = run("openssl dgst -sha384 -verify " + shell_quote((dir_ / "pub.pem").string()) +
                                  " -signature " + shell_quote((dir_ / "sig.der").string()) + " " +
                                  shell_quote((dir_ / "tbs.bin").string()));
  EXPECT_NE(verdict.find("Verified OK"), std::string::npos) << verdict;
}

TEST_F(EifSign, SigningCertificateDescription) {
  const Built b = build(signer());
  MemorySource src(b.file);
  auto info = read_eif(src, signed_read());
  ASSERT_TRUE(info);
  auto v = verify_signature_section(*info->signature, info->measurements.pcr0);
  ASSERT_TRUE(v);
  const auto& j = v->signing_certificate;
  std::vector<std::string> keys;
  for (const auto& [k, _] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"IssuerName", "Algorithm", "NotBefore", "NotAfter", "Signature"}));
  EXPECT_EQ(j["IssuerName"].dump(),
            R"({"commonName":"enclaver test signer","countryName":"US","organizationName":"Enclaver Tests"})");
  EXPECT_EQ(j["Algorithm"], "ecdsa-with-SHA384");

  // Dates as `openssl x509 -startdate/-enddate` prints them.
  const std::string q = shell_quote(cert_.string());
  std::string start = run("openssl x509 -in " + q + " -noout -startdate");
  std::string end = run("openssl x509 -in " + q + " -noout -enddate");
  EXPECT_EQ(j["NotBefore"], start.substr(start.find('=') + 1, start.find('\n') - start.find('=') - 1));
  EXPECT_EQ(j["NotAfter"], end.substr(end.find('=') + 1, end.find('\n') - end.find('=') - 1));

  // The certificate's signature, as the CLI's text dump shows it (lower case,
  // colon separated, over several lines).
  const std::string dump = run("openssl x509 -in " + q + " -noout -text");
  const std::size_t sv = dump.rfind("Signature Value:");
  ASSERT_NE(sv, std::string::npos);
  std::string hex;
  for (char c : dump.substr(sv + 16)) {
    if (std::isxdigit(static_cast<unsigned char>(c)) || c == ':') hex += static_cast<char>(std::toupper(c));
  }
  if (!hex.empty() && hex.back() == ':') hex.pop_back();
  EXPECT_EQ(j["Signature"], hex);
  EXPECT_EQ(j["Signature"].get<std::string>().find(':'), 2u);
}

TEST_F(EifSign, OtherCurvesUseTheirAlgorithm) {
  struct Case {
    const char* curve;
    std::uint8_t alg_byte;  // -7 is 0x26, -36 is 0x38 0x23
    std::size_t signature_size;
    CoseAlgorithm alg;
  };
  for (const Case& c : {Case{"P-256", 0x26, 64, CoseAlgorithm::ES256}, Case{"P-521", 0x38, 132, CoseAlgorithm::ES512}}) {
    SCOPED_TRACE(c.curve);
    Pkey k = ec_key(c.curve);
    write_text(dir_ / "c.pem", self_signed_pem(k.get()));
    write_text(dir_ / "k.pem", key_pem(k.get()));
    auto s = make_signer(dir_ / "c.pem", dir_ / "k.pem");
    ASSERT_TRUE(s) << s.error().message;
    const Built b = build(*s);
    MemorySource src(b.file);
    auto info = read_eif(src, signed_read());
    ASSERT_TRUE(info) << info.error().message;
    auto v = verify_signature_section(*info->signature, info->measurements.pcr0);
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_TRUE(v->signature_check()) << v->problem;
    EXPECT_EQ(v->algorithm, c.alg);
    auto cose = cbor::decode(parse_signature_section(*info->signature)->cose_sign1);
    ASSERT_TRUE(cose);
    EXPECT_EQ((*(*cose->as_array())[0].as_bytes())[2], c.alg_byte);
    EXPECT_EQ((*cose->as_array())[3].as_bytes()->size(), c.signature_size);
  }
}

TEST_F(EifSign, FilesMadeByTheOpensslCommandLineWork) {
  const std::string d = shell_quote(dir_.string());
  // `ecparam -genkey` writes an EC PARAMETERS block before the key.
  run("cd " + d + " && openssl ecparam -name secp384r1 -genkey -out cli_key.pem 2>/dev/null && "
      "openssl req -new -x509 -key cli_key.pem -out cli_cert.pem -days 2 -subj '/CN=cli/O=Org/C=DE' 2>/dev/null");
  auto s = make_signer(dir_ / "cli_cert.pem", dir_ / "cli_key.pem");
  ASSERT_TRUE(s) << s.error().message;
  const Built b = build(*s);
  MemorySource src(b.file);
  auto info = read_eif(src, signed_read());
  ASSERT_TRUE(info) << info.error().message;
  auto desc = describe_signature(*info);
  ASSERT_TRUE(desc);
  EXPECT_EQ(desc->signature_check, true);
  EXPECT_EQ(desc->signing_certificate->at("IssuerName").dump(),
            R"({"commonName":"cli","countryName":"DE","organizationName":"Org"})");
  // PKCS#8 from `req -newkey`.
  run("cd " + d + " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp384r1 -nodes -keyout k8.pem "
      "-out c8.pem -days 1 -subj '/CN=pkcs8' 2>/dev/null");
  EXPECT_TRUE(make_signer(dir_ / "c8.pem", dir_ / "k8.pem"));
}

TEST_F(EifSign, SigningTwice) {
  const Built a = build(signer());
  const Built b = build(signer());
  EXPECT_EQ(a.summary.measurements, b.summary.measurements);
  if (OpenSSL_version_num() >= 0x30200000UL) {
    EXPECT_EQ(a.file, b.file);  // RFC 6979 nonces: the same bytes
    return;
  }
  // Random nonces (OpenSSL 3.0/3.1): everything up to the signature section
  // is the same; the section (and so the header's size slot and CRC) differs.
  const SectionLocation& sig = a.summary.sections.back();
  ASSERT_EQ(sig.type, SectionType::Signature);
  ASSERT_EQ(b.summary.sections.back().header_offset, sig.header_offset);
  EXPECT_TRUE(std::equal(a.file.begin() + kHeaderSize, a.file.begin() + static_cast<std::ptrdiff_t>(sig.header_offset),
                         b.file.begin() + kHeaderSize));
  EXPECT_NE(a.file, b.file);
}

// --- tampering --------------------------------------------------------------------------------

class Tamper : public EifSign {
 protected:
  void SetUp() override {
    EifSign::SetUp();
    const Built b = build(signer());
    MemorySource src(b.file);
    auto info = read_eif(src, signed_read());
    ASSERT_TRUE(info);
    pcr0_ = info->measurements.pcr0;
    auto parsed = parse_signature_section(*info->signature);
    ASSERT_TRUE(parsed);
    pem_ = parsed->certificate_pem;
    cose_ = parsed->cose_sign1;
  }

  // Reads the EIF holding `section`; its SignatureVerification.
  SignatureVerification verify_in_eif(const Bytes& section) {
    const Bytes file = with_section(section);
    MemorySource src(file);
    auto info = read_eif(src, signed_read());
    if (!info) throw std::runtime_error(info.error().message);
    EXPECT_EQ(info->measurements.pcr0, pcr0_);
    auto v = verify_signature_section(*info->signature, info->measurements.pcr0);
    if (!v) throw std::runtime_error(v.error().message);
    auto d = describe_signature(*info);
    EXPECT_TRUE(d);
    EXPECT_EQ(d->signature_check, v->signature_check());
    return *v;
  }

  Digest pcr0_{};
  Bytes pem_;
  Bytes cose_;
};

TEST_F(Tamper, UntouchedSectionVerifies) {
  EXPECT_TRUE(verify_in_eif(encode_signature_section(pem_, cose_)).signature_check());
}

TEST_F(Tamper, FlippedSignatureByte) {
  Bytes cose = cose_;
  cose.back() ^= 0x01;
  const auto v = verify_in_eif(encode_signature_section(pem_, cose));
  EXPECT_FALSE(v.signature_check());
  EXPECT_FALSE(v.signature_valid);
  EXPECT_NE(v.problem.find("does not verify"), std::string::npos) << v.problem;
}

TEST_F(Tamper, FlippedPayloadByte) {
  // The last byte of PCR0 inside the payload: it sits just before the
  // signature's bstr head (58 60) and 96 bytes.
  Bytes cose = cose_;
  const std::size_t last_pcr_byte = cose.size() - 96 - 2 - 1;
  cose[last_pcr_byte] ^= 0x01;  // a value < 24 stays < 24, one >= 24 stays >= 24: still valid CBOR
  auto decoded = cbor::decode(cose);
  ASSERT_TRUE(decoded) << decoded.error().message;
  const auto v = verify_in_eif(encode_signature_section(pem_, cose));
  EXPECT_FALSE(v.signature_check());
  EXPECT_FALSE(v.signature_valid);
}

TEST_F(Tamper, ValidSignatureOverAnotherPcr0) {
  Measurements other;
  other.pcr0.fill(0x42);
  const SignatureSection s = signer()(other);
  const auto v = verify_in_eif(s.bytes);
  EXPECT_TRUE(v.signature_valid);
  EXPECT_FALSE(v.payload_matches);
  EXPECT_FALSE(v.signature_check());
  EXPECT_NE(v.problem.find("not this EIF's PCR0"), std::string::npos) << v.problem;
}

TEST_F(Tamper, SignatureByAnotherKey) {
  Pkey other = ec_key("P-384");
  write_text(dir_ / "other_cert.pem", self_signed_pem(other.get()));
  write_text(dir_ / "other_key.pem", key_pem(other.get()));
  auto s = make_signer(dir_ / "other_cert.pem", dir_ / "other_key.pem");
  ASSERT_TRUE(s);
  Measurements m;
  m.pcr0 = pcr0_;
  auto parsed = parse_signature_section((*s)(m).bytes);
  ASSERT_TRUE(parsed);
  // Our certificate, the other key's COSE_Sign1.
  const auto v = verify_in_eif(encode_signature_section(pem_, parsed->cose_sign1));
  EXPECT_FALSE(v.signature_valid);
  EXPECT_TRUE(v.payload_matches);
  EXPECT_FALSE(v.signature_check());
}

TEST_F(Tamper, MalformedCoseIsAFalseCheckWithAReason) {
  const auto v = verify_in_eif(encode_signature_section(pem_, Bytes{0x83, 0x01, 0x02, 0x03}));
  EXPECT_FALSE(v.signature_check());
  EXPECT_NE(v.problem.find("array of 4"), std::string::npos) << v.problem;
  // Another algorithm in the protected header (ES256 with a P-384 key).
  auto c = cbor::decode(cose_);
  ASSERT_TRUE(c);
  cbor::Array a = *c->as_array();
  a[0] = cbor::Value::bytes(Bytes{0xa1, 0x01, 0x26});
  const auto w = verify_in_eif(encode_signature_section(pem_, cbor::encode(cbor::Value::array(a))));
  EXPECT_FALSE(w.signature_check());
  EXPECT_NE(w.problem.find("ES256"), std::string::npos) << w.problem;
}

TEST_F(Tamper, BrokenShapesAreClearReadErrors) {
  auto read_error = [&](const Bytes& section) {
    const Bytes file = with_section(section);
    MemorySource src(file);
    auto info = read_eif(src, signed_read());
    return info ? std::string("(read)") : info.error().message;
  };
  // Keys in the other order.
  Bytes swapped;
  head(swapped, 4, 1);
  head(swapped, 5, 2);
  text(swapped, "signature");
  uints(swapped, cose_);
  text(swapped, "signing_certificate");
  uints(swapped, pem_);
  std::string e = read_error(swapped);
  EXPECT_NE(e.find("(signature section)"), std::string::npos) << e;
  EXPECT_NE(e.find("must have the key \"signing_certificate\""), std::string::npos) << e;
  // A byte string where nitro-cli has an array of integers.
  Bytes bstr_cert;
  head(bstr_cert, 4, 1);
  head(bstr_cert, 5, 2);
  text(bstr_cert, "signing_certificate");
  head(bstr_cert, 2, pem_.size());
  bstr_cert.insert(bstr_cert.end(), pem_.begin(), pem_.end());
  text(bstr_cert, "signature");
  uints(bstr_cert, cose_);
  e = read_error(bstr_cert);
  EXPECT_NE(e.find("not a byte string"), std::string::npos) << e;
  // An element that is not a byte.
  Bytes big = encode_signature_section(pem_, cose_);
  const std::size_t first_pem_byte = 1 + 1 + 20 + 3;  // 81 a2 73+19 99 LL LL
  ASSERT_EQ(big[first_pem_byte], 0x18);
  big[first_pem_byte] = 0x19;  // 19 2d 18 -> a 16-bit integer 0x2d18 ...
  big.insert(big.begin() + static_cast<std::ptrdiff_t>(first_pem_byte) + 1, 0x01);  // ... made 0x012d
  e = read_error(big);
  EXPECT_NE(e.find("\"signing_certificate\"[0] is 301, not a byte"), std::string::npos) << e;
  // Not CBOR, empty, an empty array, a certificate that is not PEM.
  EXPECT_NE(read_error(Bytes{0x81}).find("not valid CBOR"), std::string::npos);
  EXPECT_NE(read_error(Bytes{0x80}).find("non-empty"), std::string::npos);
  e = read_error(encode_signature_section(bytes("not a certificate"), cose_));
  EXPECT_NE(e.find("not a PEM certificate"), std::string::npos) << e;
  // Every error of the reader names the signature section's offset.
  EXPECT_EQ(e.rfind("offset ", 0), 0u) << e;
}

// --- the signer's refusals ------------------------------------------------------------------

TEST_F(EifSign, WrongKeyForTheCertificate) {
  Pkey other = ec_key("P-384");
  write_text(dir_ / "other.pem", key_pem(other.get()));
  const std::string e = signer_error(cert_, dir_ / "other.pem");
  EXPECT_NE(e.find("does not belong to"), std::string::npos) << e;
}

TEST_F(EifSign, ExpiredAndNotYetValidCertificates) {
  CertSpec expired;
  expired.not_before = -3 * 86400;
  expired.not_after = -86400;
  write_text(dir_ / "expired.pem", self_signed_pem(key_.get(), expired));
  std::string e = signer_error(dir_ / "expired.pem", key_path_);
  EXPECT_NE(e.find("expired"), std::string::npos) << e;
  EXPECT_NE(e.find("valid from 20"), std::string::npos) << e;  // the dates, RFC 3339
  EXPECT_NE(e.find("run-enclave"), std::string::npos) << e;

  CertSpec future;
  future.not_before = 86400;
  future.not_after = 2 * 86400;
  write_text(dir_ / "future.pem", self_signed_pem(key_.get(), future));
  e = signer_error(dir_ / "future.pem", key_path_);
  EXPECT_NE(e.find("not valid yet"), std::string::npos) << e;

  // The check is at SignerOptions::at: the expired certificate was fine two days ago.
  SignerOptions then;
  then.at = static_cast<std::int64_t>(std::time(nullptr)) - 2 * 86400;
  EXPECT_TRUE(make_signer(dir_ / "expired.pem", key_path_, then));

  // The reader reports the dates without failing the signature check.
  auto s = make_signer(dir_ / "expired.pem", key_path_, then);
  const Built b = build(*s);
  MemorySource src(b.file);
  auto info = read_eif(src, signed_read());
  ASSERT_TRUE(info);
  auto v = verify_signature_section(*info->signature, info->measurements.pcr0);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->signature_check());
  EXPECT_FALSE(v->certificate_current);
  EXPECT_NE(v->problem.find("expired"), std::string::npos) << v->problem;
}

TEST_F(EifSign, UnsupportedKeyTypes) {
  Pkey rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048)));
  write_text(dir_ / "rsa_cert.pem", self_signed_pem(rsa.get(), CertSpec{.digest = EVP_sha256()}));
  write_text(dir_ / "rsa_key.pem", key_pem(rsa.get()));
  std::string e = signer_error(dir_ / "rsa_cert.pem", dir_ / "rsa_key.pem");
  EXPECT_NE(e.find("is RSA"), std::string::npos) << e;
  EXPECT_NE(e.find("P-384"), std::string::npos) << e;

  Pkey k1 = ec_key("secp256k1");
  write_text(dir_ / "k1_cert.pem", self_signed_pem(k1.get()));
  write_text(dir_ / "k1_key.pem", key_pem(k1.get()));
  e = signer_error(dir_ / "k1_cert.pem", dir_ / "k1_key.pem");
  EXPECT_NE(e.find("EC secp256k1"), std::string::npos) << e;

  Pkey ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  write_text(dir_ / "ed_cert.pem", self_signed_pem(ed.get(), CertSpec{.digest = nullptr}));
  write_text(dir_ / "ed_key.pem", key_pem(ed.get()));
  e = signer_error(dir_ / "ed_cert.pem", dir_ / "ed_key.pem");
  EXPECT_NE(e.find("ED25519"), std::string::npos) << e;
}

TEST_F(EifSign, UnreadableAndNonPemFiles) {
  std::string e = signer_error(dir_ / "missing.pem", key_path_);
  EXPECT_NE(e.find("cannot read the signing certificate"), std::string::npos) << e;
  e = signer_error(cert_, dir_ / "missing.pem");
  EXPECT_NE(e.find("cannot read the signing key"), std::string::npos) << e;

  write_text(dir_ / "garbage.pem", "hello\n");
  e = signer_error(dir_ / "garbage.pem", key_path_);
  EXPECT_NE(e.find("not a PEM certificate"), std::string::npos) << e;
  EXPECT_NE(e.find("BEGIN CERTIFICATE"), std::string::npos) << e;

  run("openssl x509 -in " + shell_quote(cert_.string()) + " -outform DER -out " +
      shell_quote((dir_ / "cert.der").string()));
  e = signer_error(dir_ / "cert.der", key_path_);
  EXPECT_NE(e.find("looks like DER"), std::string::npos) << e;

  e = signer_error(cert_, cert_);  // the certificate given as the key
  EXPECT_NE(e.find("swapped"), std::string::npos) << e;

  write_text(dir_ / "encrypted.pem", key_pem(key_.get(), "secret"));
  e = signer_error(cert_, dir_ / "encrypted.pem");
  EXPECT_NE(e.find("encrypted"), std::string::npos) << e;

  // A certificate file that also holds the private key: it would be copied
  // into the EIF.
  const Bytes cert_bytes = read_file(cert_);
  const Bytes key_bytes = read_file(key_path_);
  std::string combined(cert_bytes.begin(), cert_bytes.end());
  combined.append(key_bytes.begin(), key_bytes.end());
  write_text(dir_ / "combined.pem", combined);
  e = signer_error(dir_ / "combined.pem", key_path_);
  EXPECT_NE(e.find("also holds a private key"), std::string::npos) << e;
  EXPECT_TRUE(make_signer(cert_, dir_ / "combined.pem"));  // as the key file it is fine

  // A PEM file too large for the section's 32768 bytes.
  std::string huge = std::string(20000, '#') + "\n";  // each '#' takes two bytes in the section
  const Bytes pem = read_file(cert_);
  huge += std::string(pem.begin(), pem.end());
  write_text(dir_ / "huge.pem", huge);
  e = signer_error(dir_ / "huge.pem", key_path_);
  EXPECT_NE(e.find("too large"), std::string::npos) << e;
}

// --- sans-IO pieces --------------------------------------------------------------------------

TEST(EifSignEncoding, PcrPayloadIsSerdeCborOfPcrInfo) {
  Digest pcr{};
  for (std::size_t i = 0; i < pcr.size(); ++i) pcr[i] = static_cast<std::uint8_t>(i * 5);
  EXPECT_EQ(pcr_payload(0, pcr), expected_payload(pcr));
  const Bytes p = pcr_payload(0, pcr);
  // a2, text(14) "register_index", 00, text(14) "register_value", 98 30, ...
  EXPECT_EQ(p[0], 0xa2);
  EXPECT_EQ(p[1], 0x6e);
  EXPECT_EQ(p[16], 0x00);
  EXPECT_EQ(p[17], 0x6e);
  EXPECT_EQ(p[32], 0x98);
  EXPECT_EQ(p[33], 0x30);
  EXPECT_EQ(p[34], 0x00);  // 0
  EXPECT_EQ(p[35], 0x05);  // 5
  EXPECT_EQ(p[38], 0x14);  // 20
  EXPECT_EQ(p[39], 0x18);  // 25: 18 19
  EXPECT_EQ(p[40], 0x19);
}

TEST(EifSignEncoding, ParseRoundTripAndExtraElements) {
  const Bytes pem = bytes("PEM\n");
  const Bytes cose{0x84, 0x00, 0xff};
  const Bytes one = encode_signature_section(pem, cose);
  auto p = parse_signature_section(one);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->certificate_pem, pem);
  EXPECT_EQ(p->cose_sign1, cose);
  EXPECT_EQ(p->elements, 1u);
  // Two PCR signatures: the first is used, the second must have the shape too.
  Bytes two{0x82};
  two.insert(two.end(), one.begin() + 1, one.end());
  two.insert(two.end(), one.begin() + 1, one.end());
  p = parse_signature_section(two);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->elements, 2u);
  two.pop_back();  // the last byte was `18 ff`: make it `20`, the integer -1, in element 1
  two.back() = 0x20;
  p = parse_signature_section(two);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("element 1"), std::string::npos) << p.error().message;
  // Over the size limit.
  EXPECT_FALSE(parse_signature_section(Bytes(kMaxSignatureSize + 1, 0)));
}

}  // namespace
}  // namespace enclaver::eif
