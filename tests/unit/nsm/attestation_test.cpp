// Attestation document codec and COSE_Sign1 pieces, against the real AWS
// document in ../shared/fixtures/attestation (facts from spec/nsm.md §6).
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "nsm/attestation.hpp"
#include "nsm/cose.hpp"
#include "nsm/verify.hpp"

namespace enclaver::nsm {
namespace {

Bytes read_fixture(const std::string& name) {
  std::ifstream in(std::string(ENCLAVER_SHARED_DIR) + "/fixtures/attestation/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string sha256_hex(std::span<const std::uint8_t> b) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(b.data(), b.size(), d);
  return to_hex(d);
}

Bytes hex(std::string_view h) { return from_hex(h).value(); }

TEST(AttestationFixture, FileIsTheExpectedOne) {
  const Bytes doc = read_fixture("aws-nitro-debug-1.cbor");
  ASSERT_EQ(doc.size(), 4651u);
  EXPECT_EQ(sha256_hex(doc), "e5665a06aca37b9473f4fa3cddb51ad7d0030adc21ffee1db32e28b9bc2d6703");
}

TEST(AttestationFixture, ParsesEnvelope) {
  auto parsed = parse_attestation(read_fixture("aws-nitro-debug-1.cbor"));
  ASSERT_TRUE(parsed) << parsed.error().message;
  const cose::Sign1& env = parsed->envelope;
  EXPECT_FALSE(env.tagged);
  EXPECT_EQ(env.protected_bytes, hex("a1013822"));
  EXPECT_EQ(env.algorithm(), cose::kAlgES384);
  EXPECT_EQ(env.unprotected, cbor::Value::map());
  EXPECT_EQ(env.payload.size(), 4543u);
  EXPECT_EQ(env.payload.front(), 0xbf);  // indefinite-length map
  EXPECT_EQ(env.payload.back(), 0xff);
  EXPECT_EQ(env.signature.size(), 96u);
}

TEST(AttestationFixture, ParsesPayload) {
  auto parsed = parse_attestation(read_fixture("aws-nitro-debug-1.cbor"));
  ASSERT_TRUE(parsed) << parsed.error().message;
  const AttestationDocument& d = parsed->document;
  EXPECT_EQ(d.module_id, "i-0d77c5a9ff8a7dbad-enc0199e6cadc8142c2");
  EXPECT_EQ(d.digest, "SHA384");
  EXPECT_EQ(d.timestamp_ms, 1760583282550u);
  ASSERT_EQ(d.pcrs.size(), 16u);
  for (const auto& [i, v] : d.pcrs) {
    ASSERT_EQ(v.size(), 48u);
    if (i == 4) {
      EXPECT_EQ(to_hex(v), "20c1e12dc4bc07fc3c28689517247ee10e867fc038a064db8e94a496d9ec75bbbd5c29ff93cb5e76ced692c81d312f25");
    } else {
      EXPECT_EQ(v, Bytes(48, 0)) << "PCR" << i;
    }
  }
  EXPECT_EQ(d.certificate.size(), 650u);
  ASSERT_EQ(d.cabundle.size(), 4u);
  EXPECT_EQ(d.cabundle[0].size(), 533u);
  EXPECT_EQ(d.cabundle[1].size(), 712u);
  EXPECT_EQ(d.cabundle[2].size(), 815u);
  EXPECT_EQ(d.cabundle[3].size(), 717u);
  EXPECT_EQ(d.cabundle[0], read_fixture("aws-nitro-root-g1.der"));
  ASSERT_TRUE(d.public_key);
  EXPECT_EQ(d.public_key->size(), 120u);
  ASSERT_TRUE(d.user_data);
  EXPECT_EQ(to_hex(*d.user_data), "5134f3c14b171e9754a27adb1907c1dd0070470c");
  ASSERT_TRUE(d.nonce);  // present but empty, not null
  EXPECT_TRUE(d.nonce->empty());
}

TEST(AttestationFixture, EncoderReproducesAwsBytesExactly) {
  const Bytes doc = read_fixture("aws-nitro-debug-1.cbor");
  auto parsed = parse_attestation(doc);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(encode_attestation_payload(parsed->document), parsed->envelope.payload);
  EXPECT_EQ(cose::encode_sign1(cose::protected_header(cose::kAlgES384), parsed->envelope.payload,
                               parsed->envelope.signature),
            doc);
}

TEST(AttestationFixture, SigStructure) {
  auto parsed = parse_attestation(read_fixture("aws-nitro-debug-1.cbor"));
  ASSERT_TRUE(parsed);
  const Bytes tbs = cose::sig_structure(parsed->envelope.protected_bytes, parsed->envelope.payload);
  ASSERT_EQ(tbs.size(), 4564u);
  EXPECT_EQ(to_hex(std::span(tbs).first(21)), "846a5369676e61747572653144a1013822405911bf");
  EXPECT_EQ(sha256_hex(tbs), "3bbf79c8a5f73506509dec6e7bba2ba3d80c13d0d46402f61593de90b8098539");
}

TEST(Cose, RawDerRoundTrip) {
  auto parsed = parse_attestation(read_fixture("aws-nitro-debug-1.cbor"));
  ASSERT_TRUE(parsed);
  const Bytes& raw = parsed->envelope.signature;
  ASSERT_GE(raw[0], 0x80);  // r's top bit is set: DER needs a leading zero
  auto der = cose::raw_to_der(raw);
  ASSERT_TRUE(der) << der.error().message;
  EXPECT_EQ(der->size(), 103u);
  auto back = cose::der_to_raw(*der, 48);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, raw);
  EXPECT_FALSE(cose::raw_to_der(Bytes(95, 1)));
  EXPECT_FALSE(cose::der_to_raw(Bytes{0x30, 0x00, 0x01}, 48));
}

TEST(Cose, ProtectedHeaderBytes) {
  EXPECT_EQ(cose::protected_header(cose::kAlgES384), hex("a1013822"));
  EXPECT_EQ(cose::protected_header(cose::kAlgES256), hex("a10126"));
}

TEST(Cose, AcceptsTag18RefusesOtherTags) {
  const Bytes doc = read_fixture("aws-nitro-debug-1.cbor");
  Bytes tagged{0xd2};
  tagged.insert(tagged.end(), doc.begin(), doc.end());
  auto parsed = parse_attestation(tagged);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_TRUE(parsed->envelope.tagged);
  Bytes other{0xd1};  // tag 17 = COSE_Mac0
  other.insert(other.end(), doc.begin(), doc.end());
  auto bad = parse_attestation(other);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("tag 17"), std::string::npos) << bad.error().message;
}

TEST(Cose, EnvelopeErrorsNameTheElement) {
  auto r = cose::parse_sign1(hex("83404040"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("array of 4"), std::string::npos);
  r = cose::parse_sign1(hex("84a0a04040"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("protected header"), std::string::npos);
  r = cose::parse_sign1(hex("8443a10126a0f640"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("detached"), std::string::npos);
  r = cose::parse_sign1(hex("8443a10126a040a0"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("signature"), std::string::npos);
  r = cose::parse_sign1(hex("8443a10126a04040"));
  ASSERT_TRUE(r) << r.error().message;
}

TEST(Attestation, TruncatedDocumentIsAParseError) {
  const Bytes doc = read_fixture("aws-nitro-debug-1.cbor");
  for (std::size_t len : {std::size_t{0}, std::size_t{1}, std::size_t{9}, std::size_t{100}, doc.size() / 2, doc.size() - 1}) {
    auto r = parse_attestation(std::span(doc).first(len));
    ASSERT_FALSE(r) << len;
    EXPECT_NE(r.error().message.find("COSE_Sign1"), std::string::npos) << r.error().message;
  }
}

TEST(Attestation, TrailingBytesRefused) {
  Bytes doc = read_fixture("aws-nitro-debug-1.cbor");
  doc.push_back(0);
  EXPECT_FALSE(parse_attestation(doc));
}

AttestationDocument sample() {
  AttestationDocument d;
  d.module_id = "sim-0123";
  d.timestamp_ms = 1760583282550;
  for (std::uint32_t i = 0; i < 16; ++i) d.pcrs[i] = Bytes(48, static_cast<std::uint8_t>(i));
  d.certificate = Bytes(10, 0x30);
  d.cabundle = {Bytes(5, 1), Bytes(6, 2)};
  d.user_data = Bytes{1, 2, 3};
  d.nonce = Bytes{};
  return d;
}

Result<AttestationDocument> reparse(const cbor::Value& payload) {
  return parse_attestation_payload(cbor::encode(payload));
}

cbor::Value as_value(const AttestationDocument& d) { return cbor::decode(encode_attestation_payload(d)).value(); }

void set(cbor::Value& map, std::string_view key, cbor::Value v) {
  for (auto& e : *map.as_map()) {
    if (e.key == cbor::Value::text(key)) {
      e.value = std::move(v);
      return;
    }
  }
  map.as_map()->push_back({cbor::Value::text(key), std::move(v)});
}

void erase(cbor::Value& map, std::string_view key) {
  auto& m = *map.as_map();
  std::erase_if(m, [&](const cbor::MapEntry& e) { return e.key == cbor::Value::text(key); });
}

TEST(Attestation, EncodeParseRoundTrip) {
  const AttestationDocument d = sample();
  const Bytes payload = encode_attestation_payload(d);
  EXPECT_EQ(payload.front(), 0xbf);
  EXPECT_EQ(payload.back(), 0xff);
  auto back = parse_attestation_payload(payload);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->module_id, d.module_id);
  EXPECT_EQ(back->timestamp_ms, d.timestamp_ms);
  EXPECT_EQ(back->pcrs, d.pcrs);
  EXPECT_EQ(back->cabundle, d.cabundle);
  EXPECT_FALSE(back->public_key);
  EXPECT_EQ(back->user_data, d.user_data);
  EXPECT_EQ(back->nonce, d.nonce);
  // Key order as AWS emits it.
  const cbor::Value v = cbor::decode(payload).value();
  std::vector<std::string> keys;
  for (const auto& e : *v.as_map()) keys.push_back(*e.key.as_text());
  EXPECT_EQ(keys, (std::vector<std::string>{"module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle",
                                             "public_key", "user_data", "nonce"}));
  // timestamp is always the 8-byte form
  AttestationDocument small = d;
  small.timestamp_ms = 5;
  const Bytes p2 = encode_attestation_payload(small);
  const std::string h = to_hex(p2);
  EXPECT_NE(h.find(to_hex(Bytes{'m', 'p', 0x1b, 0, 0, 0, 0, 0, 0, 0, 5})), std::string::npos);
}

TEST(Attestation, DefiniteMapAndAbsentOptionalsAccepted) {
  cbor::Value v = as_value(sample());
  erase(v, "public_key");
  erase(v, "nonce");
  auto r = reparse(v);  // cbor::encode writes a definite map
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->nonce);
  EXPECT_FALSE(r->public_key);
}

TEST(Attestation, StrictFieldChecks) {
  struct Case {
    const char* name;
    std::function<void(cbor::Value&)> mutate;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"no module_id", [](cbor::Value& v) { erase(v, "module_id"); }, "module_id: missing"},
      {"empty module_id", [](cbor::Value& v) { set(v, "module_id", cbor::Value::text("")); }, "module_id: empty"},
      {"module_id bytes", [](cbor::Value& v) { set(v, "module_id", cbor::Value::bytes(Bytes{1})); }, "module_id: expected a text string"},
      {"digest int", [](cbor::Value& v) { set(v, "digest", cbor::Value::unsigned_integer(1)); }, "digest: expected a text string"},
      {"timestamp zero", [](cbor::Value& v) { set(v, "timestamp", cbor::Value::unsigned_integer(0)); }, "timestamp: zero"},
      {"timestamp negative", [](cbor::Value& v) { set(v, "timestamp", cbor::Value::integer(-5)); }, "timestamp: expected an unsigned"},
      {"no pcrs", [](cbor::Value& v) { erase(v, "pcrs"); }, "pcrs: missing"},
      {"empty pcrs", [](cbor::Value& v) { set(v, "pcrs", cbor::Value::map()); }, "pcrs: 0 entries"},
      {"pcr 32", [](cbor::Value& v) { set(v, "pcrs", cbor::Value::map({{cbor::Value::unsigned_integer(32), cbor::Value::bytes(Bytes(48))}})); }, "not a PCR index"},
      {"pcr 47 bytes", [](cbor::Value& v) { set(v, "pcrs", cbor::Value::map({{cbor::Value::unsigned_integer(3), cbor::Value::bytes(Bytes(47))}})); }, "PCR3 has 47 bytes"},
      {"pcr text key", [](cbor::Value& v) { set(v, "pcrs", cbor::Value::map({{cbor::Value::text("0"), cbor::Value::bytes(Bytes(48))}})); }, "not a PCR index"},
      {"no certificate", [](cbor::Value& v) { erase(v, "certificate"); }, "certificate: missing"},
      {"empty certificate", [](cbor::Value& v) { set(v, "certificate", cbor::Value::bytes(Bytes{})); }, "certificate: 0 bytes"},
      {"no cabundle", [](cbor::Value& v) { erase(v, "cabundle"); }, "cabundle: missing"},
      {"empty cabundle", [](cbor::Value& v) { set(v, "cabundle", cbor::Value::array()); }, "cabundle: empty"},
      {"cabundle text", [](cbor::Value& v) { set(v, "cabundle", cbor::Value::array({cbor::Value::text("x")})); }, "entry 0 is a text string"},
      {"cabundle huge", [](cbor::Value& v) { set(v, "cabundle", cbor::Value::array({cbor::Value::bytes(Bytes(1025))})); }, "entry 0 has 1025 bytes"},
      {"nonce text", [](cbor::Value& v) { set(v, "nonce", cbor::Value::text("n")); }, "nonce: expected a byte string or null"},
      {"user_data huge", [](cbor::Value& v) { set(v, "user_data", cbor::Value::bytes(Bytes(1025))); }, "user_data: 1025 bytes"},
  };
  for (const Case& c : cases) {
    cbor::Value v = as_value(sample());
    c.mutate(v);
    auto r = reparse(v);
    ASSERT_FALSE(r) << c.name;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << c.name << ": " << r.error().message;
  }
  auto r = parse_attestation_payload(cbor::encode(cbor::Value::array()));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("must be a map"), std::string::npos);
}

}  // namespace
}  // namespace enclaver::nsm
