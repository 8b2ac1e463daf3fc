// EIF signing: the signed EIF as nitro-cli writes and checks it.
#include "tests/unit/eif/eif_sign_test_support.hpp"

namespace enclaver::eif {
namespace {

using namespace enclaver::eif::testing;
namespace fs = std::filesystem;

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


}  // namespace
}  // namespace enclaver::eif
