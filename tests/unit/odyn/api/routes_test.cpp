// The internal and aux APIs over real sockets, with the simulated NSM: what
// each endpoint answers, how every kind of bad input is refused (a 4xx with
// a reason, never a 500 or a dropped connection), and that the aux API
// reaches nothing beyond its three endpoints whatever the path.
// The third-party oracles (ethers, WebCrypto, the Node attestation
// verifier) check the same answers end to end in tests/integration/api_test.cpp.
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/base64.hpp"
#include "common/hex.hpp"
#include "crypto/eth.hpp"
#include "crypto/keccak.hpp"
#include "nsm/verify.hpp"
#include "tests/unit/odyn/api/api_harness.hpp"

namespace enclaver::odyn::api::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

Bytes unhex(const std::string& text) {
  auto bytes = from_hex(text);
  EXPECT_TRUE(bytes) << text;
  return bytes ? *bytes : Bytes{};
}

Bytes as_bytes(std::string_view text) { return Bytes(text.begin(), text.end()); }

class Api : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { harness_ = new ApiHarness(); }
  static void TearDownTestSuite() {
    delete harness_;
    harness_ = nullptr;
  }

  static Reply internal(const std::string& method, const std::string& target, const std::string& body = "") {
    return request(harness_->port(), method, target, body);
  }
  static Reply aux(const std::string& method, const std::string& target, const std::string& body = "") {
    return request(harness_->aux_port(), method, target, body);
  }

  static std::string address() { return internal("GET", "/v1/eth/address").json()["address"]; }
  static Bytes encryption_spki() { return unhex(internal("GET", "/v1/encryption/public_key").json()["public_key_der"]); }

  // The document verified against the test's simulator root, with what it must carry.
  static nsm::VerifyResult verify(const Bytes& document, const std::optional<Bytes>& nonce, const Bytes& user_data, const Bytes& public_key) {
    nsm::VerifyOptions options;
    std::ifstream root(harness_->root());
    std::string pem((std::istreambuf_iterator<char>(root)), std::istreambuf_iterator<char>());
    options.root = as_bytes(pem);
    options.expected_nonce = nonce;
    options.expected_user_data = user_data;
    options.expected_public_key = public_key;
    return nsm::verify_attestation(document, options);
  }

  static std::string describe(const nsm::VerifyResult& result) {
    const auto* failure = result.first_failure();
    return failure ? failure->name + ": " + failure->detail : "ok";
  }

  static ApiHarness* harness_;
};
ApiHarness* Api::harness_ = nullptr;

TEST_F(Api, TheAddressIsTheChecksummedAddressOfThePublicKey) {
  auto reply = internal("GET", "/v1/eth/address");
  ASSERT_EQ(reply.status, 200) << reply.raw;
  EXPECT_EQ(reply.headers["content-type"], "application/json");
  const auto body = reply.json();
  const Bytes public_key = unhex(body["public_key"]);
  ASSERT_EQ(public_key.size(), 65u);
  EXPECT_EQ(public_key[0], 0x04);
  EXPECT_THAT(body["public_key"].get<std::string>(), StartsWith("0x04"));
  EXPECT_EQ(body["address"], crypto::checksum_address(crypto::address_of(std::span<const std::uint8_t, 65>(public_key.data(), 65))));
  EXPECT_EQ(aux("GET", "/v1/eth/address").json(), body);  // the same key on both APIs
}

TEST_F(Api, SignIsPersonalSignWithV27Or28) {
  auto reply = internal("POST", "/v1/eth/sign", R"({"message":"hello enclave"})");
  ASSERT_EQ(reply.status, 200) << reply.raw;
  const auto body = reply.json();
  EXPECT_EQ(body["address"], address());
  EXPECT_TRUE(body["attestation"].is_null());
  const Bytes signature = unhex(body["signature"]);
  ASSERT_EQ(signature.size(), 65u);
  ASSERT_TRUE(signature[64] == 27 || signature[64] == 28);
  crypto::RecoverableSignature rsv;
  std::copy_n(signature.begin(), 32, rsv.r.begin());
  std::copy_n(signature.begin() + 32, 32, rsv.s.begin());
  rsv.recovery_id = static_cast<std::uint8_t>(signature[64] - 27);
  auto signer = crypto::recover_address(crypto::personal_message_digest(as_bytes("hello enclave")), rsv);
  ASSERT_TRUE(signer);
  EXPECT_EQ(crypto::checksum_address(*signer), address());
}

TEST_F(Api, IncludeAttestationBindsTheSignedDigest) {
  auto reply = internal("POST", "/v1/eth/sign", R"({"message":"bind me","include_attestation":true})");
  ASSERT_EQ(reply.status, 200) << reply.raw;
  auto document = from_base64(reply.json()["attestation"].get<std::string>());
  ASSERT_TRUE(document);
  const auto digest = crypto::personal_message_digest(as_bytes("bind me"));
  auto result = verify(*document, Bytes(digest.begin(), digest.end()), as_bytes(json{{"eth_addr", address()}}.dump()),
                       harness_->services().eth_key().public_key_spki_der());
  EXPECT_TRUE(result.ok) << describe(result);
}

TEST_F(Api, SignTxAnswersTheSignedTransactionAndItsHash) {
  const std::string body = R"({"include_attestation":true,"payload":{"kind":"structured","chain_id":"0x1","nonce":"0x0",
    "max_priority_fee_per_gas":"0x1","max_fee_per_gas":"0x2","gas_limit":"0x5208","to":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "value":"0x1","data":"0x"}})";
  auto reply = internal("POST", "/v1/eth/sign-tx", body);
  ASSERT_EQ(reply.status, 200) << reply.raw;
  const auto answer = reply.json();
  const Bytes raw = unhex(answer["raw_transaction"]);
  ASSERT_FALSE(raw.empty());
  EXPECT_EQ(raw[0], 0x02);
  const auto hash = crypto::keccak256(raw);
  EXPECT_EQ(answer["transaction_hash"], "0x" + to_hex(hash));
  EXPECT_EQ(unhex(answer["signature"]).size(), 65u);
  EXPECT_LE(unhex(answer["signature"])[64], 1);
  auto document = from_base64(answer["attestation"].get<std::string>());
  ASSERT_TRUE(document);
  auto result = verify(*document, Bytes(hash.begin(), hash.end()), as_bytes(json{{"eth_addr", address()}}.dump()),
                       harness_->services().eth_key().public_key_spki_der());
  EXPECT_TRUE(result.ok) << describe(result);
}

TEST_F(Api, RandomIsThirtyTwoFreshBytes) {
  auto first = internal("GET", "/v1/random");
  auto second = internal("GET", "/v1/random");
  ASSERT_EQ(first.status, 200) << first.raw;
  EXPECT_EQ(unhex(first.json()["random_bytes"]).size(), 32u);
  EXPECT_NE(first.json()["random_bytes"], second.json()["random_bytes"]);
}

TEST_F(Api, AttestationDefaultsAreTheEncryptionKeyAndTheAddress) {
  for (const std::string body : {"", "{}", R"({"nonce":"","public_key":"","user_data":""})"}) {
    auto reply = internal("POST", "/v1/attestation", body);
    ASSERT_EQ(reply.status, 200) << body << "\n" << reply.raw;
    EXPECT_EQ(reply.headers["content-type"], "application/cbor");
    auto result = verify(as_bytes(reply.body), std::nullopt, as_bytes(json{{"eth_addr", address()}}.dump()), encryption_spki());
    EXPECT_TRUE(result.ok) << describe(result);
    ASSERT_TRUE(result.parsed);
    EXPECT_FALSE(result.parsed->document.nonce);
  }
}

TEST_F(Api, AttestationCarriesTheGivenNonceKeyAndUserData) {
  // A P-256 key of the caller's, as PEM: the document carries its SPKI DER.
  const std::string pem =
      "-----BEGIN PUBLIC KEY-----\n"
      "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\n"
      "q9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==\n"
      "-----END PUBLIC KEY-----\n";
  auto spki = crypto::spki_der_from_pem(pem);
  ASSERT_TRUE(spki) << spki.error().message;
  const json body = {{"nonce", to_base64(as_bytes("nonce-1"))}, {"public_key", pem}, {"user_data", {{"app", "demo"}, {"eth_addr", "forged"}}}};
  auto reply = internal("POST", "/v1/attestation", body.dump());
  ASSERT_EQ(reply.status, 200) << reply.raw;
  auto result = verify(as_bytes(reply.body), as_bytes("nonce-1"), as_bytes(json{{"app", "demo"}, {"eth_addr", address()}}.dump()), *spki);
  EXPECT_TRUE(result.ok) << describe(result);

  const json raw_user_data = {{"nonce", to_base64(as_bytes("n2"))}, {"user_data", to_base64(as_bytes("raw bytes"))}};
  reply = internal("POST", "/v1/attestation", raw_user_data.dump());
  ASSERT_EQ(reply.status, 200) << reply.raw;
  result = verify(as_bytes(reply.body), as_bytes("n2"), as_bytes("raw bytes"), encryption_spki());
  EXPECT_TRUE(result.ok) << describe(result);
}

TEST_F(Api, TheAuxApiHonoursOnlyTheNonce) {
  const json body = {{"nonce", to_base64(as_bytes("aux nonce"))},
                     {"public_key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"},
                     {"user_data", {{"role", "admin"}}}};
  auto reply = aux("POST", "/v1/attestation", body.dump());
  ASSERT_EQ(reply.status, 200) << reply.raw;
  auto result = verify(as_bytes(reply.body), as_bytes("aux nonce"), as_bytes(json{{"eth_addr", address()}}.dump()), encryption_spki());
  EXPECT_TRUE(result.ok) << describe(result);
  reply = aux("POST", "/v1/attestation", json{{"user_data", to_base64(as_bytes("mine"))}}.dump());
  ASSERT_EQ(reply.status, 200) << reply.raw;
  result = verify(as_bytes(reply.body), std::nullopt, as_bytes(json{{"eth_addr", address()}}.dump()), encryption_spki());
  ASSERT_TRUE(result.parsed) << describe(result);
  EXPECT_EQ(result.parsed->document.user_data, as_bytes(json{{"eth_addr", address()}}.dump()));
}

TEST_F(Api, EncryptionRoundTripsWithAClientKey) {
  auto client = crypto::P384Key::generate();
  ASSERT_TRUE(client);
  const Bytes enclave = encryption_spki();
  // client -> enclave
  auto sealed = client->encrypt(enclave, "a secret for the enclave ✓");
  ASSERT_TRUE(sealed);
  const json decrypt = {{"nonce", "0x" + to_hex(sealed->nonce)},
                        {"client_public_key", "0x" + to_hex(client->public_key_spki_der())},
                        {"encrypted_data", to_hex(sealed->ciphertext_and_tag)}};
  auto reply = internal("POST", "/v1/encryption/decrypt", decrypt.dump());
  ASSERT_EQ(reply.status, 200) << reply.raw;
  EXPECT_EQ(reply.json()["plaintext"], "a secret for the enclave ✓");
  // enclave -> client
  reply = internal("POST", "/v1/encryption/encrypt", json{{"plaintext", "for the client"}, {"client_public_key", to_hex(client->public_key_spki_der())}}.dump());
  ASSERT_EQ(reply.status, 200) << reply.raw;
  const auto answer = reply.json();
  EXPECT_EQ(unhex(answer["enclave_public_key"]), enclave);
  EXPECT_EQ(unhex(answer["nonce"]).size(), 32u);
  auto opened = client->decrypt(enclave, unhex(answer["nonce"]), unhex(answer["encrypted_data"]));
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(*opened, "for the client");
}

TEST_F(Api, DecryptionFailuresSayNoMore) {
  auto client = crypto::P384Key::generate();
  auto other = crypto::P384Key::generate();
  ASSERT_TRUE(client && other);
  auto sealed = client->encrypt(encryption_spki(), "x");
  ASSERT_TRUE(sealed);
  Bytes tampered = sealed->ciphertext_and_tag;
  tampered.back() ^= 1;
  Bytes off_curve = client->public_key_spki_der();
  off_curve.back() ^= 1;  // the point's last byte: no longer on P-384
  struct Case {
    const char* what;
    Bytes key, data;
  };
  for (const auto& c : {Case{"wrong tag", client->public_key_spki_der(), tampered},
                        Case{"wrong key", other->public_key_spki_der(), sealed->ciphertext_and_tag},
                        Case{"point not on the curve", off_curve, sealed->ciphertext_and_tag},
                        Case{"not a key", Bytes{0x30, 0x03, 0x02, 0x01, 0x00}, sealed->ciphertext_and_tag},
                        Case{"shorter than a tag", client->public_key_spki_der(), Bytes{1, 2, 3}}}) {
    const json body = {{"nonce", to_hex(sealed->nonce)}, {"client_public_key", to_hex(c.key)}, {"encrypted_data", to_hex(c.data)}};
    auto reply = internal("POST", "/v1/encryption/decrypt", body.dump());
    EXPECT_EQ(reply.status, 400) << c.what;
    EXPECT_EQ(reply.json(), (json{{"error", "decryption failed"}})) << c.what;
  }
  auto reply = internal("POST", "/v1/encryption/encrypt", json{{"plaintext", "x"}, {"client_public_key", to_hex(off_curve)}}.dump());
  EXPECT_EQ(reply.status, 400) << reply.raw;
  EXPECT_THAT(reply.json()["error"].get<std::string>(), HasSubstr("client_public_key"));
}

struct BadInput {
  const char* method;
  const char* path;
  std::string body;
  int status;
  const char* says;  // in the error message
};

TEST_F(Api, BadInputGetsTheDocumentedStatusWithAReason) {
  const std::vector<BadInput> cases = {
      {"POST", "/v1/eth/sign", "{", 400, "not JSON"},
      {"POST", "/v1/eth/sign", "", 400, ""},
      {"POST", "/v1/eth/sign", "[1]", 400, "object"},
      {"POST", "/v1/eth/sign", R"({"message":["a"]})", 400, "message"},
      {"POST", "/v1/eth/sign", R"({"message":"\ud800"})", 400, ""},
      {"POST", "/v1/eth/sign-tx", R"({"payload":{"kind":"structured"}})", 400, "payload.chain_id: required"},
      {"POST", "/v1/eth/sign-tx", R"({"payload":{"kind":"raw_rlp","raw_payload":"0x02c0"}})", 400, "payload.raw_payload"},
      {"POST", "/v1/attestation", R"({"nonce":"***"})", 400, "nonce: bad base64"},
      {"POST", "/v1/attestation", R"({"public_key":"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"})", 400, "public_key"},
      {"POST", "/v1/attestation", json{{"user_data", {{"pad", std::string(1100, 'x')}}}}.dump(), 400, "user_data"},
      {"POST", "/v1/encryption/decrypt", R"({"nonce":"0xzz","client_public_key":"00","encrypted_data":"00"})", 400, "nonce"},
      {"POST", "/v1/encryption/encrypt", R"({"plaintext":"x","client_public_key":"0x"})", 400, "client_public_key"},
      {"POST", "/v1/eth/address", "", 405, "allowed"},
      {"GET", "/v1/eth/sign", "", 405, "allowed"},
      {"DELETE", "/v1/attestation", "", 405, "allowed"},
      {"GET", "/v1/nothing", "", 404, "/v1/nothing"},
      {"GET", "/v1/eth/address/", "", 404, ""},
      {"POST", "/v1/eth/sign", R"({"message":")" + std::string(2 << 20, 'a') + R"("})", 413, ""},
  };
  for (const auto& c : cases) {
    auto reply = internal(c.method, c.path, c.body);
    const std::string what = std::string(c.method) + " " + c.path + " " + c.body.substr(0, 80);
    EXPECT_EQ(reply.status, c.status) << what << "\n" << reply.raw.substr(0, 300);
    EXPECT_EQ(reply.headers["content-type"], "application/json") << what;
    const auto body = reply.json();
    ASSERT_TRUE(body.is_object() && body.contains("error")) << what << "\n" << reply.body.substr(0, 300);
    EXPECT_THAT(body["error"].get<std::string>(), HasSubstr(c.says)) << what;
    if (c.status == 405) EXPECT_FALSE(reply.headers["allow"].empty()) << what;
  }
}

// Every endpoint the aux API lacks, reached by every path trick: 404 there,
// while the same request works on the internal API (so the trick itself is
// not what fails).
TEST_F(Api, TheAuxApiHasNoWayToTheOtherEndpoints) {
  const std::vector<std::pair<std::string, std::string>> endpoints = {{"POST", "/v1/eth/sign"},          {"POST", "/v1/eth/sign-tx"},
                                                                      {"GET", "/v1/random"},             {"POST", "/v1/encryption/decrypt"},
                                                                      {"POST", "/v1/encryption/encrypt"}, {"POST", "/v1/s3/get"},
                                                                      {"POST", "/v1/s3/put"},            {"POST", "/v1/s3/list"},
                                                                      {"POST", "/v1/s3/delete"}};
  for (const auto& [method, path] : endpoints) {
    const std::string rest = path.substr(4);  // after "/v1/"
    const std::vector<std::string> tricks = {path,
                                             "/v1/eth/../" + rest,
                                             "/v1/encryption/../" + rest,
                                             "/v1/%2e%2e/v1/" + rest,
                                             "/v1/./" + rest,
                                             "//v1//" + rest,
                                             "/v1/eth/address/../../" + rest,
                                             "http://127.0.0.1/" + path.substr(1),
                                             "http://127.0.0.1:9001" + path,
                                             "/V1/" + rest,
                                             path + "/",
                                             path + "?x=/v1/eth/address",
                                             "/v1/eth/address/.." + path.substr(3)};
    for (const auto& target : tricks) {
      auto reply = aux(method, target, R"({"message":"x","plaintext":"x"})");
      EXPECT_EQ(reply.status, 404) << method << " " << target << "\n" << reply.raw.substr(0, 200);
      EXPECT_TRUE(reply.json().contains("error")) << target;
    }
  }
  EXPECT_EQ(internal("POST", "/v1/eth/../eth/sign", R"({"message":"x"})").status, 200);
  EXPECT_EQ(internal("POST", "//v1//eth/sign", R"({"message":"x"})").status, 200);
  EXPECT_EQ(internal("POST", "/v1/%65th/sign", R"({"message":"x"})").status, 200);
  EXPECT_EQ(internal("POST", "http://127.0.0.1/v1/eth/sign", R"({"message":"x"})").status, 200);
}

TEST_F(Api, TheAuxApiAnswersCorsAndTheInternalApiDoesNot) {
  auto reply = aux("GET", "/v1/eth/address");
  EXPECT_EQ(reply.headers["access-control-allow-origin"], "*");
  reply = request(harness_->aux_port(), "OPTIONS", "/v1/attestation", "",
                  "Origin: https://example.com\r\nAccess-Control-Request-Method: POST\r\n");
  EXPECT_EQ(reply.status, 204) << reply.raw;
  EXPECT_THAT(reply.headers["access-control-allow-methods"], HasSubstr("POST"));
  EXPECT_EQ(request(harness_->aux_port(), "OPTIONS", "/v1/eth/sign").status, 404);
  reply = internal("GET", "/v1/eth/address");
  EXPECT_EQ(reply.headers.count("access-control-allow-origin"), 0u);
  EXPECT_EQ(request(harness_->port(), "OPTIONS", "/v1/eth/address").status, 405);
}

TEST(ApiWithoutNsm, NsmFailuresAre503AndEverythingElseWorks) {
  ApiHarness harness(false);
  auto reply = request(harness.port(), "GET", "/v1/random");
  EXPECT_EQ(reply.status, 503) << reply.raw;
  EXPECT_THAT(reply.json()["error"].get<std::string>(), HasSubstr("no NSM: /dev/nsm"));
  EXPECT_EQ(request(harness.port(), "POST", "/v1/attestation", "{}").status, 503);
  EXPECT_EQ(request(harness.port(), "POST", "/v1/eth/sign", R"({"message":"x"})").status, 200);
  EXPECT_EQ(request(harness.port(), "POST", "/v1/eth/sign", R"({"message":"x","include_attestation":true})").status, 503);
  EXPECT_EQ(request(harness.port(), "GET", "/v1/eth/address").status, 200);
}

}  // namespace
}  // namespace enclaver::odyn::api::testing
