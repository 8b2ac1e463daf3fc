// The API's request decoders (api.md "Request details"): what they accept,
// and that every refusal names the field.
#include "odyn/api/requests.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/hex.hpp"

namespace enclaver::odyn::api {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

json structured_payload() {
  return {{"kind", "structured"},        {"chain_id", "0x1"},        {"nonce", 7},
          {"max_priority_fee_per_gas", "0x3b9aca00"}, {"max_fee_per_gas", "77359400"}, {"gas_limit", 21000},
          {"to", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}, {"value", "0xde0b6b3a7640000"}, {"data", "0xdeadbeef"}};
}

template <class T>
std::string refusal(const Result<T>& result) {
  EXPECT_FALSE(result) << "accepted";
  return result ? "" : result.error().message;
}

TEST(ApiRequests, SignTakesANonEmptyMessageAndAnOptionalFlag) {
  auto plain = decode_sign(json{{"message", "hello"}});
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(plain->message, "hello");
  EXPECT_FALSE(plain->include_attestation);
  auto attested = decode_sign(json{{"message", "hello"}, {"include_attestation", true}});
  ASSERT_TRUE(attested);
  EXPECT_TRUE(attested->include_attestation);
  EXPECT_THAT(refusal(decode_sign(json{{"message", ""}})), HasSubstr("message: must not be empty"));
  EXPECT_THAT(refusal(decode_sign(json::object())), HasSubstr("message: required"));
  EXPECT_THAT(refusal(decode_sign(json{{"message", 5}})), HasSubstr("message: expected a string, got an integer"));
  EXPECT_THAT(refusal(decode_sign(json{{"message", "x"}, {"include_attestation", "yes"}})), HasSubstr("include_attestation: expected true or false"));
  EXPECT_THAT(refusal(decode_sign(json::array())), HasSubstr("the body: expected a JSON object"));
}

TEST(ApiRequests, StructuredTransactionsTakeHexOrSafeIntegers) {
  auto request = decode_sign_tx(json{{"payload", structured_payload()}});
  ASSERT_TRUE(request) << request.error().message;
  const auto& tx = request->transaction;
  EXPECT_EQ(tx.chain_id, crypto::Quantity{1});
  EXPECT_EQ(tx.nonce, crypto::Quantity{7});
  EXPECT_EQ(to_hex(tx.max_priority_fee_per_gas), "3b9aca00");
  EXPECT_EQ(to_hex(tx.max_fee_per_gas), "77359400");  // hex without 0x
  EXPECT_EQ(to_hex(tx.gas_limit), "5208");
  ASSERT_TRUE(tx.to);
  EXPECT_EQ(to_hex(*tx.to), "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
  EXPECT_EQ(to_hex(tx.data), "deadbeef");
  EXPECT_TRUE(tx.access_list.empty());
}

TEST(ApiRequests, ValueAndDataDefaultToZeroAndEmpty) {
  auto payload = structured_payload();
  payload.erase("value");
  payload.erase("data");
  auto request = decode_sign_tx(json{{"payload", payload}});
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_TRUE(request->transaction.value.empty());
  EXPECT_TRUE(request->transaction.data.empty());
}

TEST(ApiRequests, ContractCreationIsAnyFormOfNoRecipient) {
  for (json to : {json(nullptr), json(""), json("0x")}) {
    auto payload = structured_payload();
    payload["to"] = to;
    auto request = decode_sign_tx(json{{"payload", payload}});
    ASSERT_TRUE(request) << to.dump();
    EXPECT_FALSE(request->transaction.to) << to.dump();
  }
  auto payload = structured_payload();
  payload.erase("to");
  auto request = decode_sign_tx(json{{"payload", payload}});
  ASSERT_TRUE(request);
  EXPECT_FALSE(request->transaction.to);
}

TEST(ApiRequests, AccessListsAreChecked) {
  auto payload = structured_payload();
  payload["access_list"] = json::array({{{"address", "0xde709f2102306220921060314715629080e2fb77"},
                                         {"storage_keys", {"0x" + std::string(64, '0'), std::string(63, '0') + "1"}}}});
  auto request = decode_sign_tx(json{{"payload", payload}});
  ASSERT_TRUE(request) << request.error().message;
  ASSERT_EQ(request->transaction.access_list.size(), 1u);
  EXPECT_EQ(request->transaction.access_list[0].storage_keys.size(), 2u);
  EXPECT_EQ(request->transaction.access_list[0].storage_keys[1][31], 1);

  payload["access_list"][0]["storage_keys"][1] = "0x01";
  EXPECT_THAT(refusal(decode_sign_tx(json{{"payload", payload}})), HasSubstr("payload.access_list[0].storage_keys[1]: expected 32 bytes"));
  payload["access_list"][0]["address"] = "0x1234";
  EXPECT_THAT(refusal(decode_sign_tx(json{{"payload", payload}})), HasSubstr("payload.access_list[0].address"));
  payload["access_list"] = json::object();
  EXPECT_THAT(refusal(decode_sign_tx(json{{"payload", payload}})), HasSubstr("payload.access_list: expected an array"));
}

TEST(ApiRequests, BadQuantitiesAreRefusedNamingTheField) {
  struct Case {
    const char* field;
    json value;
    const char* says;
  };
  for (const auto& c : {Case{"gas_limit", json(-1), "payload.gas_limit: must not be negative"},
                        Case{"gas_limit", json(1.5), "payload.gas_limit: expected a hex string or an integer, got a number that is not an integer in range"},
                        Case{"nonce", json(std::uint64_t{1} << 53), "payload.nonce: integers above 2^53-1"},
                        Case{"chain_id", json("0xzz"), "payload.chain_id"},
                        Case{"value", json("0x1" + std::string(64, '0')), "payload.value"},
                        Case{"max_fee_per_gas", json(true), "payload.max_fee_per_gas: expected a hex string or an integer, got a boolean"},
                        Case{"to", json(12), "payload.to: expected a string"},
                        Case{"to", json("0x1234"), "payload.to"},
                        Case{"data", json("0xabc"), "payload.data"}}) {
    auto payload = structured_payload();
    payload[c.field] = c.value;
    EXPECT_THAT(refusal(decode_sign_tx(json{{"payload", payload}})), HasSubstr(c.says)) << c.field << " = " << c.value.dump();
  }
  EXPECT_TRUE(decode_sign_tx(json{{"payload", [] {
                                    auto p = structured_payload();
                                    p["nonce"] = (std::uint64_t{1} << 53) - 1;
                                    return p;
                                  }()}}));
}

TEST(ApiRequests, RequiredQuantitiesAreRequired) {
  for (const char* field : {"chain_id", "nonce", "max_priority_fee_per_gas", "max_fee_per_gas", "gas_limit"}) {
    auto payload = structured_payload();
    payload.erase(field);
    EXPECT_THAT(refusal(decode_sign_tx(json{{"payload", payload}})), HasSubstr(std::string("payload.") + field + ": required"));
  }
}

TEST(ApiRequests, ThePayloadKindIsStructuredOrRawRlp) {
  EXPECT_THAT(refusal(decode_sign_tx(json::object())), HasSubstr("payload: required"));
  EXPECT_THAT(refusal(decode_sign_tx(json{{"payload", "0x02"}})), HasSubstr("payload: expected a JSON object"));
  EXPECT_THAT(refusal(decode_sign_tx(json{{"payload", {{"kind", "legacy"}}}})), HasSubstr("payload.kind: expected \"structured\" or \"raw_rlp\""));
  EXPECT_THAT(refusal(decode_sign_tx(json{{"payload", {{"kind", "raw_rlp"}}}})), HasSubstr("payload.raw_payload: required"));
  EXPECT_THAT(refusal(decode_sign_tx(json{{"payload", {{"kind", "raw_rlp"}, {"raw_payload", "0x01c0"}}}})), HasSubstr("payload.raw_payload"));
  EXPECT_THAT(refusal(decode_sign_tx(json{{"payload", {{"kind", "raw_rlp"}, {"raw_payload", "nothex"}}}})), HasSubstr("payload.raw_payload"));
}

TEST(ApiRequests, RawRlpDecodesAnUnsignedEip1559Transaction) {
  // chain 1, nonce 0, fees 1 and 2, gas 21000, to 0x00..01, value 0, no data, no access list.
  const std::string raw = "0x02df01800102825208940000000000000000000000000000000000000001" "8080c0";
  auto request = decode_sign_tx(json{{"payload", {{"kind", "raw_rlp"}, {"raw_payload", raw}}}});
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->transaction.gas_limit, (crypto::Quantity{0x52, 0x08}));
  ASSERT_TRUE(request->transaction.to);
  EXPECT_EQ((*request->transaction.to)[19], 1);
}

TEST(ApiRequests, AttestationFieldsAreAllOptionalAndEmptyMeansAbsent) {
  auto none = decode_attestation(json::object(), false);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->nonce);
  EXPECT_FALSE(none->public_key_der);
  EXPECT_FALSE(none->user_data_object);
  EXPECT_FALSE(none->user_data_bytes);
  auto empty = decode_attestation(json{{"nonce", ""}, {"public_key", ""}, {"user_data", ""}}, false);
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->nonce);
  EXPECT_FALSE(empty->public_key_der);
  EXPECT_FALSE(empty->user_data_bytes);
  auto given = decode_attestation(json{{"nonce", "AQID"}, {"user_data", {{"a", 1}}}}, false);
  ASSERT_TRUE(given);
  EXPECT_EQ(*given->nonce, (Bytes{1, 2, 3}));
  EXPECT_EQ(*given->user_data_object, (json{{"a", 1}}));
  auto bytes = decode_attestation(json{{"user_data", "aGk="}}, false);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes->user_data_bytes, (Bytes{'h', 'i'}));
}

TEST(ApiRequests, AttestationRefusalsNameTheField) {
  EXPECT_THAT(refusal(decode_attestation(json{{"nonce", "!!"}}, false)), HasSubstr("nonce: bad base64"));
  EXPECT_THAT(refusal(decode_attestation(json{{"nonce", 5}}, false)), HasSubstr("nonce: expected a string"));
  EXPECT_THAT(refusal(decode_attestation(json{{"public_key", "not a pem"}}, false)), HasSubstr("public_key: "));
  EXPECT_THAT(refusal(decode_attestation(json{{"user_data", 5}}, false)), HasSubstr("user_data: expected a JSON object or a base64 string"));
  EXPECT_THAT(refusal(decode_attestation(json{{"user_data", json::array()}}, false)), HasSubstr("user_data"));
  const Bytes big(1025, 'x');
  std::string b64;
  // 1025 bytes of 'x' in base64: "eHh4" per three bytes, then "eHg=" for the last two.
  for (int i = 0; i < 341; ++i) b64 += "eHh4";
  b64 += "eHg=";
  EXPECT_THAT(refusal(decode_attestation(json{{"nonce", b64}}, false)), HasSubstr("nonce: 1025 bytes is over the NSM's limit of 1024"));
  EXPECT_THAT(refusal(decode_attestation(json{{"user_data", b64}}, false)), HasSubstr("user_data: 1025 bytes"));
}

TEST(ApiRequests, TheAuxApiReadsOnlyTheNonce) {
  auto aux = decode_attestation(json{{"nonce", "AQID"}, {"public_key", "garbage"}, {"user_data", 5}}, true);
  ASSERT_TRUE(aux) << aux.error().message;
  EXPECT_EQ(*aux->nonce, (Bytes{1, 2, 3}));
  EXPECT_FALSE(aux->public_key_der);
  EXPECT_FALSE(aux->user_data_object);
  EXPECT_FALSE(aux->user_data_bytes);
}

TEST(ApiRequests, EncryptionRequestsNeedHexFields) {
  auto decrypt = decode_decrypt(json{{"nonce", "0x" + std::string(24, 'a')}, {"client_public_key", "3076"}, {"encrypted_data", "0x00"}});
  ASSERT_TRUE(decrypt) << decrypt.error().message;
  EXPECT_EQ(decrypt->nonce.size(), 12u);
  EXPECT_THAT(refusal(decode_decrypt(json{{"nonce", "0x0102"}, {"client_public_key", "30"}, {"encrypted_data", "00"}})),
              HasSubstr("nonce: expected at least 12 bytes, got 2"));
  EXPECT_THAT(refusal(decode_decrypt(json{{"nonce", std::string(24, 'a')}, {"encrypted_data", "00"}})), HasSubstr("client_public_key: required"));
  EXPECT_THAT(refusal(decode_decrypt(json{{"nonce", std::string(24, 'a')}, {"client_public_key", "zz"}, {"encrypted_data", "00"}})),
              HasSubstr("client_public_key"));
  EXPECT_THAT(refusal(decode_encrypt(json{{"client_public_key", "30"}})), HasSubstr("plaintext: required"));
  EXPECT_THAT(refusal(decode_encrypt(json{{"plaintext", json::array()}, {"client_public_key", "30"}})), HasSubstr("plaintext: expected a string"));
  auto encrypt = decode_encrypt(json{{"plaintext", ""}, {"client_public_key", "0x30"}});
  ASSERT_TRUE(encrypt);  // an empty plaintext is a plaintext
  EXPECT_EQ(encrypt->client_public_key, (Bytes{0x30}));
}

}  // namespace
}  // namespace enclaver::odyn::api
