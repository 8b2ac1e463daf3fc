// The attestation verifier (nsm/verify.hpp) and `enclaver verify-attestation`
// (cli/verify_attestation.hpp): the real AWS document, tampered copies of it,
// and documents issued by our encoder under a P-384 chain made here.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/verify_attestation.hpp"
#include "nsm/attestation.hpp"
#include "nsm/cose.hpp"
#include "nsm/verify.hpp"

namespace enclaver::nsm {
namespace {

constexpr std::int64_t kFixtureTime = 1760583282;  // the document's timestamp in seconds
const char* kPcr4 = "20c1e12dc4bc07fc3c28689517247ee10e867fc038a064db8e94a496d9ec75bbbd5c29ff93cb5e76ced692c81d312f25";

Bytes read_fixture(const std::string& name) {
  std::ifstream in(std::string(ENCLAVER_SHARED_DIR) + "/fixtures/attestation/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Bytes fixture() { return read_fixture("aws-nitro-debug-1.cbor"); }

VerifyOptions at_document() {
  VerifyOptions o;
  o.time = VerifyTime::Document;
  return o;
}

VerifyOptions at(std::int64_t t) {
  VerifyOptions o;
  o.time = VerifyTime::Given;
  o.at = t;
  return o;
}

std::string describe(const VerifyResult& r) {
  std::string s;
  for (const auto& c : r.checks) {
    s += c.name + "=" + (c.status == CheckStatus::Pass ? "pass" : c.status == CheckStatus::Fail ? "FAIL" : "skip") +
         " (" + c.detail + ")\n";
  }
  return s;
}

CheckStatus status(const VerifyResult& r, std::string_view name) {
  const VerifyCheck* c = r.find(name);
  EXPECT_NE(c, nullptr) << name;
  return c ? c->status : CheckStatus::Skipped;
}

std::string detail(const VerifyResult& r, std::string_view name) {
  const VerifyCheck* c = r.find(name);
  return c ? c->detail : "";
}

// Where `needle` starts in `hay`.
std::size_t find_bytes(const Bytes& hay, const Bytes& needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end());
  EXPECT_NE(it, hay.end());
  return static_cast<std::size_t>(it - hay.begin());
}

// --- the embedded root -----------------------------------------------------------

TEST(AwsRoot, EmbeddedRootIsTheFixtureAndPinned) {
  EXPECT_TRUE(aws_nitro_root_g1_intact());
  const auto der = aws_nitro_root_g1_der();
  EXPECT_EQ(Bytes(der.begin(), der.end()), read_fixture("aws-nitro-root-g1.der"));
}

// --- the real AWS document ----------------------------------------------------

TEST(VerifyFixture, VerifiesWithDefaultRootAtDocumentTime) {
  const VerifyResult r = verify_attestation(fixture(), at_document());
  EXPECT_TRUE(r.ok) << describe(r);
  EXPECT_EQ(r.verified_at, kFixtureTime);
  ASSERT_EQ(r.checks.size(), 6u) << describe(r);
  for (const auto& c : r.checks) EXPECT_EQ(c.status, CheckStatus::Pass) << c.name;
  EXPECT_NE(detail(r, "chain").find("CN=aws.nitro-enclaves"), std::string::npos) << detail(r, "chain");
  ASSERT_TRUE(r.parsed);
  EXPECT_EQ(r.parsed->document.module_id, "i-0d77c5a9ff8a7dbad-enc0199e6cadc8142c2");
}

TEST(VerifyFixture, FailsNowBecauseTheLeafExpired) {
  const VerifyResult r = verify_attestation(fixture(), VerifyOptions{});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(status(r, "validity"), CheckStatus::Fail);
  EXPECT_NE(detail(r, "validity").find("CN=i-0d77c5a9ff8a7dbad-enc0199e6cadc8142c2.ap-northeast-2.aws has expired"),
            std::string::npos)
      << detail(r, "validity");
  // Everything else still holds.
  for (const char* name : {"structure", "algorithm", "chain", "signature", "digest"}) {
    EXPECT_EQ(status(r, name), CheckStatus::Pass) << name << ": " << describe(r);
  }
  ASSERT_NE(r.first_failure(), nullptr);
  EXPECT_EQ(r.first_failure()->name, "validity");
}

TEST(VerifyFixture, ValidityWindowIsTheLeafsLife) {
  EXPECT_FALSE(verify_attestation(fixture(), at(1760583278)).ok);  // before the leaf's notBefore
  EXPECT_NE(detail(verify_attestation(fixture(), at(1760583278)), "validity").find("is not valid yet"), std::string::npos);
  EXPECT_TRUE(verify_attestation(fixture(), at(1760583279)).ok);
  EXPECT_TRUE(verify_attestation(fixture(), at(1760594082)).ok);  // notAfter itself counts (RFC 5280)
  EXPECT_FALSE(verify_attestation(fixture(), at(1760594083)).ok);
}

TEST(VerifyFixture, MaxAge) {
  VerifyOptions o = at_document();
  o.max_age_seconds = 0;
  EXPECT_TRUE(verify_attestation(fixture(), o).ok);
  o = at(kFixtureTime + 100);
  o.max_age_seconds = 60;
  VerifyResult r = verify_attestation(fixture(), o);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(status(r, "freshness"), CheckStatus::Fail);
  EXPECT_NE(detail(r, "freshness").find("100 s old"), std::string::npos) << detail(r, "freshness");
  o = at(kFixtureTime - 10);
  o.max_age_seconds = 60;
  r = verify_attestation(fixture(), o);
  EXPECT_EQ(status(r, "freshness"), CheckStatus::Fail);
  EXPECT_NE(detail(r, "freshness").find("after the verification time"), std::string::npos);
}

TEST(VerifyFixture, Expectations) {
  VerifyOptions o = at_document();
  o.expected_pcrs[4] = from_hex(kPcr4).value();
  o.expected_pcrs[0] = Bytes(48, 0);
  o.expected_nonce = Bytes{};
  o.expected_user_data = from_hex("5134f3c14b171e9754a27adb1907c1dd0070470c").value();
  VerifyResult r = verify_attestation(fixture(), o);
  EXPECT_TRUE(r.ok) << describe(r);
  EXPECT_EQ(status(r, "pcr4"), CheckStatus::Pass);
  EXPECT_EQ(status(r, "nonce"), CheckStatus::Pass);
  EXPECT_EQ(status(r, "user_data"), CheckStatus::Pass);

  o = at_document();
  o.expected_pcrs[4] = Bytes(48, 0);
  r = verify_attestation(fixture(), o);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(status(r, "pcr4"), CheckStatus::Fail);
  EXPECT_EQ(detail(r, "pcr4"), std::string("PCR4 is ") + kPcr4 + ", expected " + std::string(96, '0'));
  EXPECT_EQ(r.first_failure()->name, "pcr4");

  o = at_document();
  o.expected_pcrs[20] = Bytes(48, 0);
  r = verify_attestation(fixture(), o);
  EXPECT_EQ(detail(r, "pcr20"), "PCR20 is not in the document");

  o = at_document();
  o.expected_nonce = Bytes{1, 2};
  o.expected_user_data = Bytes{9};
  r = verify_attestation(fixture(), o);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(detail(r, "nonce"), "nonce is empty, expected 0102");
  EXPECT_EQ(status(r, "user_data"), CheckStatus::Fail);
}

TEST(VerifyFixture, FlippedSignatureByte) {
  Bytes doc = fixture();
  doc[doc.size() - 1] ^= 0x01;
  const VerifyResult r = verify_attestation(doc, at_document());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(status(r, "signature"), CheckStatus::Fail) << describe(r);
  EXPECT_EQ(r.first_failure()->name, "signature");
  EXPECT_NE(detail(r, "signature").find("does not verify"), std::string::npos);
}

TEST(VerifyFixture, FlippedPayloadByte) {
  Bytes doc = fixture();
  ASSERT_EQ(doc[23], 'i');  // first character of module_id inside the payload
  doc[23] ^= 0x01;
  const VerifyResult r = verify_attestation(doc, at_document());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_failure()->name, "signature") << describe(r);
  // And a flip that breaks the payload's CBOR is a structure failure.
  Bytes doc2 = fixture();
  ASSERT_EQ(doc2[10], 0xbf);
  doc2[10] = 0x1c;  // the payload's first byte (bf) -> reserved additional info
  const VerifyResult r2 = verify_attestation(doc2, at_document());
  EXPECT_FALSE(r2.ok);
  EXPECT_EQ(r2.first_failure()->name, "structure");
  EXPECT_NE(detail(r2, "structure").find("payload is not a CBOR item"), std::string::npos) << detail(r2, "structure");
}

TEST(VerifyFixture, FlippedProtectedHeaderByte) {
  Bytes doc = fixture();
  ASSERT_EQ(doc[5], 0x22);
  doc[5] ^= 0x01;  // alg -35 -> -36
  VerifyResult r = verify_attestation(doc, at_document());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_failure()->name, "algorithm");
  EXPECT_EQ(detail(r, "algorithm"), "alg is -36, expected -35 (ES384)");
  EXPECT_EQ(status(r, "signature"), CheckStatus::Skipped);
  doc = fixture();
  doc[3] ^= 0x02;  // label 1 -> 3 (content type): no alg at all
  r = verify_attestation(doc, at_document());
  EXPECT_EQ(r.first_failure()->name, "algorithm");
  EXPECT_NE(detail(r, "algorithm").find("no integer alg"), std::string::npos);
}

TEST(VerifyFixture, FlippedCertificateBytes) {
  const Bytes original = fixture();
  auto parsed = parse_attestation(original);
  ASSERT_TRUE(parsed);
  std::vector<std::pair<std::string, Bytes>> certs{{"certificate", parsed->document.certificate}};
  for (std::size_t i = 0; i < parsed->document.cabundle.size(); ++i) {
    certs.push_back({"cabundle[" + std::to_string(i) + "]", parsed->document.cabundle[i]});
  }
  for (const auto& [name, cert] : certs) {
    const std::size_t start = find_bytes(original, cert);
    // One flip in the signed part (the issuer / validity area) and one in the
    // certificate's own signature value.
    for (std::size_t off : {std::size_t{40}, std::size_t{80}, cert.size() - 5}) {
      Bytes doc = original;
      doc[start + off] ^= 0x01;
      const VerifyResult r = verify_attestation(doc, at_document());
      EXPECT_FALSE(r.ok) << name << " +" << off;
      EXPECT_EQ(status(r, "chain"), CheckStatus::Fail) << name << " +" << off << "\n" << describe(r);
      EXPECT_FALSE(detail(r, "chain").empty());
    }
  }
}

TEST(VerifyFixture, TruncatedDocument) {
  const Bytes doc = fixture();
  const VerifyResult r = verify_attestation(std::span(doc).first(doc.size() - 10), at_document());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_failure()->name, "structure");
  EXPECT_NE(detail(r, "structure").find("COSE_Sign1: not a CBOR item: offset 4641"), std::string::npos)
      << detail(r, "structure");
  EXPECT_FALSE(r.parsed);
  for (const char* name : {"algorithm", "chain", "validity", "signature", "digest"}) {
    EXPECT_EQ(status(r, name), CheckStatus::Skipped) << name;
  }
}

TEST(VerifyFixture, RootGivenAsPemOrDer) {
  const Bytes der = read_fixture("aws-nitro-root-g1.der");
  VerifyOptions o = at_document();
  o.root = der;
  EXPECT_TRUE(verify_attestation(fixture(), o).ok);
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  ASSERT_NE(x, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  o.root = Bytes(data, data + len);
  BIO_free(bio);
  X509_free(x);
  EXPECT_TRUE(verify_attestation(fixture(), o).ok);
  o.root = Bytes{'n', 'o', 'p', 'e'};
  const VerifyResult r = verify_attestation(fixture(), o);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(detail(r, "chain").find("neither DER nor PEM"), std::string::npos);
}

// --- a local P-384 chain -----------------------------------------------------------

struct Pkey {
  EVP_PKEY* p = nullptr;
  Pkey() = default;
  explicit Pkey(EVP_PKEY* k) : p(k) {}
  Pkey(const Pkey&) = delete;
  Pkey& operator=(const Pkey&) = delete;
  Pkey(Pkey&& o) noexcept : p(o.p) { o.p = nullptr; }
  ~Pkey() { EVP_PKEY_free(p); }
};

struct Cert {
  X509* x = nullptr;
  Cert() = default;
  Cert(const Cert&) = delete;
  Cert& operator=(const Cert&) = delete;
  Cert(Cert&& o) noexcept : x(o.x) { o.x = nullptr; }
  Cert& operator=(Cert&& o) noexcept {
    std::swap(x, o.x);
    return *this;
  }
  ~Cert() { X509_free(x); }
  Bytes der() const {
    unsigned char* d = nullptr;
    const int n = i2d_X509(x, &d);
    Bytes out(d, d + n);
    OPENSSL_free(d);
    return out;
  }
};

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr) << value;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

Cert make_cert(const std::string& cn, EVP_PKEY* key, const Cert* issuer, EVP_PKEY* issuer_key, const char* bc,
               const char* ku, std::int64_t not_before, std::int64_t not_after, const EVP_MD* md = EVP_sha384()) {
  Cert c;
  c.x = X509_new();
  X509_set_version(c.x, 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(c.x), serial++);
  X509_NAME* name = X509_get_subject_name(c.x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(c.x, issuer ? X509_get_subject_name(issuer->x) : name);
  ASN1_TIME_set(X509_getm_notBefore(c.x), static_cast<time_t>(not_before));
  ASN1_TIME_set(X509_getm_notAfter(c.x), static_cast<time_t>(not_after));
  X509_set_pubkey(c.x, key);
  add_ext(c.x, issuer ? issuer->x : c.x, NID_basic_constraints, bc);
  add_ext(c.x, issuer ? issuer->x : c.x, NID_key_usage, ku);
  EXPECT_GT(X509_sign(c.x, issuer_key ? issuer_key : key, md), 0);
  return c;
}

Pkey p384() { return Pkey(EVP_EC_gen("P-384")); }

struct Chain {
  Pkey root_key = p384(), inter_key = p384(), leaf_key = p384();
  Cert root, inter, leaf;
  explicit Chain(std::int64_t t, const char* leaf_ku = "critical,digitalSignature,nonRepudiation") {
    root = make_cert("sim root", root_key.p, nullptr, nullptr, "critical,CA:TRUE",
                     "critical,digitalSignature,keyCertSign,cRLSign", t - 86400, t + 86400 * 365);
    inter = make_cert("sim intermediate", inter_key.p, &root, root_key.p, "critical,CA:TRUE,pathlen:0",
                      "critical,keyCertSign", t - 3600, t + 86400);
    leaf = make_cert("sim-leaf.local", leaf_key.p, &inter, inter_key.p, "critical,CA:FALSE", leaf_ku, t - 60,
                     t + 3 * 3600);
  }
  AttestationDocument document(std::int64_t t) const {
    AttestationDocument d;
    d.module_id = "sim-0123456789abcdef";
    d.timestamp_ms = static_cast<std::uint64_t>(t) * 1000 + 123;
    for (std::uint32_t i = 0; i < 16; ++i) d.pcrs[i] = Bytes(48, 0);
    d.pcrs[0] = Bytes(48, 0xaa);
    d.certificate = leaf.der();
    d.cabundle = {root.der(), inter.der()};
    d.user_data = Bytes{'{', '"', 'a', '"', ':', '1', '}'};
    return d;
  }
};

TEST(VerifyLocalChain, IssuedDocumentVerifiesWithItsRootOnly) {
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  Chain chain(now);
  auto doc = issue_attestation(chain.document(now), chain.leaf_key.p);
  ASSERT_TRUE(doc) << doc.error().message;
  ASSERT_EQ((*doc)[0], 0x84);
  ASSERT_EQ(to_hex(std::span(*doc).first(7)), "8444a1013822a0");

  VerifyOptions o;  // now
  o.root = chain.root.der();
  o.expected_pcrs[0] = Bytes(48, 0xaa);
  o.max_age_seconds = 300;
  VerifyResult r = verify_attestation(*doc, o);
  EXPECT_TRUE(r.ok) << describe(r);
  ASSERT_TRUE(r.parsed);
  EXPECT_EQ(r.parsed->document.timestamp_ms, static_cast<std::uint64_t>(now) * 1000 + 123);
  EXPECT_FALSE(r.parsed->document.nonce);

  // The default (AWS) root refuses it.
  r = verify_attestation(*doc, VerifyOptions{});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_failure()->name, "chain") << describe(r);
  EXPECT_EQ(status(r, "signature"), CheckStatus::Pass);  // self-consistent, but not trusted

  // And the real AWS document is refused with this root.
  VerifyOptions other = at_document();
  other.root = chain.root.der();
  r = verify_attestation(fixture(), other);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_failure()->name, "chain") << describe(r);
}

TEST(VerifyLocalChain, WrongSigningKeyOrCurve) {
  const std::int64_t now = 1760000000;
  Chain chain(now);
  Pkey other = p384();
  auto doc = issue_attestation(chain.document(now), other.p);
  ASSERT_TRUE(doc);
  VerifyOptions o = at_document();
  o.root = chain.root.der();
  VerifyResult r = verify_attestation(*doc, o);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_failure()->name, "signature");

  Pkey p256(EVP_EC_gen("P-256"));
  EXPECT_FALSE(issue_attestation(chain.document(now), p256.p));
}

TEST(VerifyLocalChain, LeafWithoutDigitalSignatureRefused) {
  const std::int64_t now = 1760000000;
  Chain chain(now, "critical,keyCertSign");
  auto doc = issue_attestation(chain.document(now), chain.leaf_key.p);
  ASSERT_TRUE(doc);
  VerifyOptions o = at_document();
  o.root = chain.root.der();
  const VerifyResult r = verify_attestation(*doc, o);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_failure()->name, "chain");
  EXPECT_NE(detail(r, "chain").find("digitalSignature"), std::string::npos) << detail(r, "chain");
}

TEST(VerifyLocalChain, ForgedBundleRootIsNotTrusted) {
  // An attacker's chain that puts its own root in cabundle[0]: never trusted.
  const std::int64_t now = 1760000000;
  Chain chain(now);
  auto doc = issue_attestation(chain.document(now), chain.leaf_key.p);
  ASSERT_TRUE(doc);
  const VerifyResult r = verify_attestation(*doc, at_document());  // AWS root
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(status(r, "chain"), CheckStatus::Fail);
  EXPECT_NE(detail(r, "chain").find("OpenSSL error"), std::string::npos) << detail(r, "chain");
}

TEST(VerifyLocalChain, Sha256SignedCertificateRefused) {
  const std::int64_t now = 1760000000;
  Chain chain(now);
  chain.leaf = make_cert("sim-leaf.local", chain.leaf_key.p, &chain.inter, chain.inter_key.p, "critical,CA:FALSE",
                         "critical,digitalSignature", now - 60, now + 3600, EVP_sha256());
  auto doc = issue_attestation(chain.document(now), chain.leaf_key.p);
  ASSERT_TRUE(doc);
  VerifyOptions o = at_document();
  o.root = chain.root.der();
  const VerifyResult r = verify_attestation(*doc, o);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(detail(r, "chain").find("not ecdsa-with-SHA384"), std::string::npos) << detail(r, "chain");
}

TEST(VerifyLocalChain, DigestMustBeSha384) {
  const std::int64_t now = 1760000000;
  Chain chain(now);
  AttestationDocument d = chain.document(now);
  d.digest = "SHA256";
  auto doc = issue_attestation(d, chain.leaf_key.p);
  ASSERT_TRUE(doc);
  VerifyOptions o = at_document();
  o.root = chain.root.der();
  const VerifyResult r = verify_attestation(*doc, o);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_failure()->name, "digest");
  EXPECT_EQ(detail(r, "digest"), "digest is \"SHA256\", expected \"SHA384\"");
}

// --- helpers ----------------------------------------------------------------------------

TEST(VerifyHelpers, Rfc3339) {
  EXPECT_EQ(parse_rfc3339("2025-10-16T02:54:42Z").value(), 1760583282);
  EXPECT_EQ(parse_rfc3339("2025-10-16T02:54:42.550Z").value(), 1760583282);
  EXPECT_EQ(parse_rfc3339("2025-10-16T04:54:42+02:00").value(), 1760583282);
  EXPECT_EQ(parse_rfc3339("2025-10-15t21:54:42-05:00").value(), 1760583282);
  for (const char* bad : {"", "2025-10-16", "2025-10-16T02:54:42", "2025-13-16T02:54:42Z", "2025-10-16T02:54:42Zx",
                          "2025-10-16T02:54:42+0200", "now"}) {
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
  }
  EXPECT_EQ(format_utc(1760583282), "2025-10-16T02:54:42Z");
}

TEST(VerifyHelpers, Hex) {
  EXPECT_EQ(from_hex("0x0aFf").value(), (Bytes{0x0a, 0xff}));
  EXPECT_EQ(from_hex("").value(), Bytes{});
  EXPECT_FALSE(from_hex("abc"));
  EXPECT_FALSE(from_hex("zz"));
  EXPECT_EQ(to_hex(Bytes{0, 0xab}), "00ab");
}

// --- the command ---------------------------------------------------------------------

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/verify_attestation_test.XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const Bytes& data) const {
    const auto p = path / name;
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    return p.string();
  }
};

struct CmdRun {
  int code;
  std::string out, err;
};

CmdRun run(const cli::VerifyAttestationOptions& o) {
  std::ostringstream out, err;
  const int code = cli::verify_attestation(o, out, err);
  return {code, out.str(), err.str()};
}

std::string fixture_path() { return std::string(ENCLAVER_SHARED_DIR) + "/fixtures/attestation/aws-nitro-debug-1.cbor"; }

TEST(VerifyAttestationCommand, FixtureAtDocumentTime) {
  cli::VerifyAttestationOptions o;
  o.document = fixture_path();
  o.at = "document";
  o.pcrs = {std::string("4=") + kPcr4};
  o.nonce_hex = "";
  const CmdRun r = run(o);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("module_id:   i-0d77c5a9ff8a7dbad-enc0199e6cadc8142c2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("timestamp:   2025-10-16T02:54:42.550Z"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(std::string("PCR4:  ") + kPcr4), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("PCR0:"), std::string::npos) << r.out;  // zero PCRs hidden by default
  EXPECT_NE(r.out.find("nonce:       empty"), std::string::npos);
  EXPECT_NE(r.out.find("Verdict: VALID"), std::string::npos);
  EXPECT_TRUE(r.err.empty());
}

TEST(VerifyAttestationCommand, FixtureNowFailsValidity) {
  cli::VerifyAttestationOptions o;
  o.document = fixture_path();
  const CmdRun r = run(o);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("[FAIL] validity"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Verdict: INVALID (failed: validity)"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("check \"validity\" failed"), std::string::npos) << r.err;
}

TEST(VerifyAttestationCommand, WrongPcrAndJson) {
  cli::VerifyAttestationOptions o;
  o.document = fixture_path();
  o.at = "2025-10-16T03:00:00Z";
  o.pcrs = {"0=" + std::string(96, '1')};
  o.json = true;
  o.all_pcrs = true;
  const CmdRun r = run(o);
  EXPECT_EQ(r.code, 1);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["failed"], "pcr0");
  EXPECT_EQ(j["verified_at"], "2025-10-16T03:00:00Z");
  EXPECT_EQ(j["document"]["pcrs"].size(), 16u);
  EXPECT_EQ(j["document"]["nonce"], "");
  EXPECT_EQ(j["document"]["user_data"], "5134f3c14b171e9754a27adb1907c1dd0070470c");
  EXPECT_EQ(j["checks"].back()["name"], "pcr0");
  EXPECT_EQ(j["checks"].back()["status"], "fail");
}

TEST(VerifyAttestationCommand, UsageErrors) {
  cli::VerifyAttestationOptions base;
  base.document = fixture_path();
  auto with = [&](auto f) {
    cli::VerifyAttestationOptions o = base;
    f(o);
    return run(o);
  };
  EXPECT_EQ(with([](auto& o) { o.pcrs = {"4"}; }).code, 2);
  EXPECT_EQ(with([](auto& o) { o.pcrs = {"32=" + std::string(96, '0')}; }).code, 2);
  EXPECT_EQ(with([](auto& o) { o.pcrs = {"4=00"}; }).code, 2);
  EXPECT_EQ(with([](auto& o) { o.nonce_hex = "xyz"; }).code, 2);
  EXPECT_EQ(with([](auto& o) { o.at = "yesterday"; }).code, 2);
  EXPECT_EQ(with([](auto& o) { o.max_age = -1; }).code, 2);
  EXPECT_EQ(with([](auto& o) {
              o.user_data_hex = "00";
              o.user_data_json = "{}";
            }).code,
            2);
  EXPECT_EQ(with([](auto& o) { o.user_data_json = "{"; }).code, 2);
  EXPECT_EQ(with([](auto& o) { o.root = "/nonexistent/root.pem"; }).code, 2);
  const CmdRun missing = with([](auto& o) { o.document = "/nonexistent/doc.cbor"; });
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("cannot open /nonexistent/doc.cbor"), std::string::npos);
}

TEST(VerifyAttestationCommand, LocalChainWithRootFileAndUserDataJson) {
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  Chain chain(now);
  auto doc = issue_attestation(chain.document(now), chain.leaf_key.p);
  ASSERT_TRUE(doc);
  TempDir dir;
  cli::VerifyAttestationOptions o;
  o.document = dir.write("doc.cbor", *doc);
  o.root = dir.write("root.der", chain.root.der());
  o.user_data_json = R"({ "a" : 1 })";
  o.max_age = 60;
  CmdRun r = run(o);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  o.user_data_json = R"({"a":2})";
  r = run(o);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("user_data is the JSON {\"a\":1}, expected {\"a\":2}"), std::string::npos) << r.out;
  o.user_data_json.reset();
  o.root.clear();  // AWS root
  r = run(o);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("check \"chain\" failed"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace enclaver::nsm
