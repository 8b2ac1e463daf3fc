// EIF signing: tampered sections, the signer's refusals, and the sans-IO pieces.
#include "tests/unit/eif/eif_sign_test_support.hpp"

namespace enclaver::eif {
namespace {

using namespace enclaver::eif::testing;
namespace fs = std::filesystem;

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
