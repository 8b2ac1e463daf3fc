// EIP-1559: encodings, hashes and signatures equal to ethers' for the
// fixture's transactions (RFC 6979 makes our signature equal to ethers'),
// decode round trips, and the strict decoder's refusals, each naming the
// field.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "crypto/eip1559.hpp"
#include "crypto/eth.hpp"
#include "crypto/keccak.hpp"
#include "crypto/rlp.hpp"
#include "tests/support/bytes.hpp"
#include "tests/unit/crypto/oracle_fixture.hpp"

namespace enclaver::crypto {
namespace {

using enclaver::testing::hex;
using enclaver::testing::unhex;
using testing::fixture_array;
using testing::fixture_bytes;
using testing::hex0x;

Quantity q(const nlohmann::json& v) {
  auto r = quantity_from_hex(v.get<std::string>());
  if (!r) throw std::runtime_error(r.error().message);
  return *r;
}

Eip1559Transaction from_fields(const nlohmann::json& f) {
  Eip1559Transaction tx;
  tx.chain_id = q(f.at("chain_id"));
  tx.nonce = q(f.at("nonce"));
  tx.max_priority_fee_per_gas = q(f.at("max_priority_fee_per_gas"));
  tx.max_fee_per_gas = q(f.at("max_fee_per_gas"));
  tx.gas_limit = q(f.at("gas_limit"));
  if (!f.at("to").is_null()) {
    auto to = parse_address(f.at("to").get<std::string>());
    if (!to) throw std::runtime_error(to.error().message);
    tx.to = *to;
  }
  tx.value = q(f.at("value"));
  tx.data = fixture_bytes(f.at("data"));
  for (const auto& e : f.at("access_list")) {
    AccessListEntry entry;
    entry.address = *parse_address(e.at("address").get<std::string>());
    for (const auto& k : e.at("storage_keys")) entry.storage_keys.push_back(fixture_array<32>(k));
    tx.access_list.push_back(entry);
  }
  return tx;
}

EthKey fixture_key() {
  auto key = EthKey::from_secret(fixture_bytes(testing::oracle().at("eip1559").at("secret")));
  if (!key) throw std::runtime_error(key.error().message);
  return std::move(key).value();
}

const nlohmann::json& transactions() { return testing::oracle().at("eip1559").at("transactions"); }

TEST(Eip1559, FixtureCoversTheCases) {
  std::vector<std::string> names;
  for (const auto& t : transactions()) names.push_back(t.at("name").get<std::string>());
  for (const char* needed : {"transfer", "contract_creation", "access_list", "all_zero", "large_values", "short_signature_integer"})
    EXPECT_NE(std::find(names.begin(), names.end(), needed), names.end()) << needed;
}

TEST(Eip1559, UnsignedEncodingAndHashMatchEthers) {
  for (const auto& t : transactions()) {
    const Eip1559Transaction tx = from_fields(t.at("fields"));
    EXPECT_EQ(hex0x(unsigned_encoding(tx)), t.at("unsigned_serialized").get<std::string>()) << t.at("name");
    EXPECT_EQ(hex0x(signing_hash(tx)), t.at("unsigned_hash").get<std::string>()) << t.at("name");
  }
}

TEST(Eip1559, OurSignatureAndSignedEncodingMatchEthers) {
  const EthKey key = fixture_key();
  EXPECT_EQ(checksum_address(key.address()), testing::oracle().at("eip1559").at("address").get<std::string>());
  for (const auto& t : transactions()) {
    const Eip1559Transaction tx = from_fields(t.at("fields"));
    const RecoverableSignature sig = key.sign(signing_hash(tx));
    EXPECT_EQ(hex0x(sig.r), t.at("r").get<std::string>()) << t.at("name");
    EXPECT_EQ(hex0x(sig.s), t.at("s").get<std::string>()) << t.at("name");
    EXPECT_EQ(sig.recovery_id, t.at("y_parity").get<int>()) << t.at("name");
    const Bytes signed_tx = signed_encoding(tx, sig);
    EXPECT_EQ(hex0x(signed_tx), t.at("signed_serialized").get<std::string>()) << t.at("name");
    EXPECT_EQ(hex0x(keccak256(signed_tx)), t.at("signed_hash").get<std::string>()) << t.at("name");
  }
}

TEST(Eip1559, DecodeRoundTripsEthersEncodings) {
  for (const auto& t : transactions()) {
    const Bytes raw = fixture_bytes(t.at("unsigned_serialized"));
    auto decoded = decode_unsigned_eip1559(raw);
    ASSERT_TRUE(decoded.ok()) << t.at("name") << ": " << decoded.error().message;
    EXPECT_EQ(unsigned_encoding(*decoded), raw);
    const Eip1559Transaction expected = from_fields(t.at("fields"));
    EXPECT_EQ(decoded->chain_id, expected.chain_id);
    EXPECT_EQ(decoded->nonce, expected.nonce);
    EXPECT_EQ(decoded->max_priority_fee_per_gas, expected.max_priority_fee_per_gas);
    EXPECT_EQ(decoded->max_fee_per_gas, expected.max_fee_per_gas);
    EXPECT_EQ(decoded->gas_limit, expected.gas_limit);
    EXPECT_EQ(decoded->to, expected.to);
    EXPECT_EQ(decoded->value, expected.value);
    EXPECT_EQ(decoded->data, expected.data);
    ASSERT_EQ(decoded->access_list.size(), expected.access_list.size());
    for (std::size_t i = 0; i < expected.access_list.size(); ++i) {
      EXPECT_EQ(decoded->access_list[i].address, expected.access_list[i].address);
      EXPECT_EQ(decoded->access_list[i].storage_keys, expected.access_list[i].storage_keys);
    }
  }
}

TEST(Eip1559, ContractCreationWritesAnEmptyTo) {
  Eip1559Transaction tx;
  tx.chain_id = quantity_from_u64(1);
  // [1, 0, 0, 0, 0, "", 0, "", []]
  EXPECT_EQ(hex(unsigned_encoding(tx)), "02c90180808080808080c0");
}

TEST(Eip1559, QuantitiesWithLeadingZerosAreWrittenMinimally) {
  Eip1559Transaction tx;
  tx.chain_id = unhex("0001");
  tx.value = unhex("00");
  EXPECT_EQ(hex(unsigned_encoding(tx)), "02c90180808080808080c0");
}

// --- the decoder's refusals ------------------------------------------------

// The nine fields of a valid unsigned transaction, each encoded, for
// tampering one at a time.
std::vector<Bytes> valid_fields() {
  const Bytes key = rlp_encode_bytes(Bytes(32, 7));
  const Bytes keys = rlp_encode_list(std::vector<Bytes>{key});
  const Bytes entry = rlp_encode_list(std::vector<Bytes>{rlp_encode_bytes(Bytes(20, 3)), keys});
  return {rlp_encode_bytes(unhex("01")), rlp_encode_bytes({}), rlp_encode_bytes(unhex("3b9aca00")),
          rlp_encode_bytes(unhex("06fc23ac00")), rlp_encode_bytes(unhex("5208")), rlp_encode_bytes(Bytes(20, 0xaa)),
          rlp_encode_bytes(unhex("0de0b6b3a7640000")), rlp_encode_bytes(unhex("a9059cbb")), rlp_encode_list(std::vector<Bytes>{entry})};
}

Bytes typed(const std::vector<Bytes>& fields, std::uint8_t type = 0x02) {
  Bytes out{type};
  const Bytes list = rlp_encode_list(fields);
  out.insert(out.end(), list.begin(), list.end());
  return out;
}

std::string decode_error(const Bytes& raw) {
  auto r = decode_unsigned_eip1559(raw);
  return r ? "<decoded>" : r.error().message;
}

TEST(Eip1559Decode, TheUntamperedBaselineDecodes) { EXPECT_EQ(decode_error(typed(valid_fields())), "<decoded>"); }

TEST(Eip1559Decode, RefusesOtherTypes) {
  EXPECT_EQ(decode_error(typed(valid_fields(), 0x01)), "transaction type byte is 0x01, expected 0x02 (EIP-1559)");
  EXPECT_EQ(decode_error(typed(valid_fields(), 0x03)), "transaction type byte is 0x03, expected 0x02 (EIP-1559)");
  const Bytes legacy = rlp_encode_list(valid_fields());
  EXPECT_NE(decode_error(legacy).find("legacy transaction"), std::string::npos) << decode_error(legacy);
  EXPECT_EQ(decode_error({}), "transaction is empty (expected 0x02 followed by an RLP list)");
  EXPECT_NE(decode_error({0x02}), "<decoded>");
}

TEST(Eip1559Decode, RefusesTrailingBytes) {
  Bytes raw = typed(valid_fields());
  raw.push_back(0x00);
  EXPECT_NE(decode_error(raw).find("trailing bytes"), std::string::npos) << decode_error(raw);
}

TEST(Eip1559Decode, RefusesASignedTransaction) {
  for (const auto& t : transactions()) {
    EXPECT_EQ(decode_error(fixture_bytes(t.at("signed_serialized"))),
              "transaction is already signed (12 fields with y_parity, r, s); send the unsigned transaction (9 fields)");
  }
}

TEST(Eip1559Decode, RefusesOtherFieldCounts) {
  auto fields = valid_fields();
  fields.pop_back();
  EXPECT_EQ(decode_error(typed(fields)), "transaction: expected 9 fields, got 8");
  fields = valid_fields();
  fields.push_back(rlp_encode_bytes({}));
  EXPECT_EQ(decode_error(typed(fields)), "transaction: expected 9 fields, got 10");
  Bytes not_list{0x02};
  const Bytes s = rlp_encode_bytes(unhex("010203"));
  not_list.insert(not_list.end(), s.begin(), s.end());
  EXPECT_EQ(decode_error(not_list), "transaction: expected an RLP list after the type byte, got a string");
}

TEST(Eip1559Decode, RefusesBadTo) {
  auto fields = valid_fields();
  fields[5] = rlp_encode_bytes(Bytes(21, 0xaa));
  EXPECT_EQ(decode_error(typed(fields)), "to: expected 20 bytes (or empty for contract creation), got 21");
  fields[5] = rlp_encode_bytes(Bytes(19, 0xaa));
  EXPECT_EQ(decode_error(typed(fields)), "to: expected 20 bytes (or empty for contract creation), got 19");
  fields[5] = rlp_encode_list(std::vector<Bytes>{});
  EXPECT_EQ(decode_error(typed(fields)), "to: expected a string (empty or 20 bytes), got a list");
  fields[5] = rlp_encode_bytes({});
  auto creation = decode_unsigned_eip1559(typed(fields));
  ASSERT_TRUE(creation.ok());
  EXPECT_FALSE(creation->to.has_value());
}

TEST(Eip1559Decode, RefusesNonCanonicalIntegersNamingTheField) {
  const char* names[] = {"chain_id", "nonce", "max_priority_fee_per_gas", "max_fee_per_gas", "gas_limit", "", "value"};
  for (std::size_t i : {0u, 1u, 2u, 3u, 4u, 6u}) {
    auto fields = valid_fields();
    fields[i] = rlp_encode_bytes(unhex("0005"));
    EXPECT_EQ(decode_error(typed(fields)), std::string(names[i]) + ": integer with a leading zero byte (not canonical)");
    fields[i] = rlp_encode_bytes(Bytes(33, 1));
    EXPECT_EQ(decode_error(typed(fields)), std::string(names[i]) + ": integer of 33 bytes is larger than 2^256-1");
    fields[i] = rlp_encode_list(std::vector<Bytes>{});
    EXPECT_EQ(decode_error(typed(fields)), std::string(names[i]) + ": expected an integer, got a list");
  }
  // Zero written as 0x00 rather than the empty string.
  auto fields = valid_fields();
  fields[1] = Bytes{0x00};
  EXPECT_EQ(decode_error(typed(fields)), "nonce: integer with a leading zero byte (not canonical)");
}

TEST(Eip1559Decode, RefusesNonCanonicalRlp) {
  auto fields = valid_fields();
  fields[7] = unhex("81" "05");  // a single byte wrapped as a string
  EXPECT_NE(decode_error(typed(fields)).find("transaction RLP (after the type byte): offset"), std::string::npos);
}

TEST(Eip1559Decode, RefusesBadAccessLists) {
  auto with_access_list = [](const Bytes& access_list) {
    auto fields = valid_fields();
    fields[8] = access_list;
    return decode_error(typed(fields));
  };
  const Bytes addr = rlp_encode_bytes(Bytes(20, 3));
  auto entry = [&](const Bytes& address, const std::vector<Bytes>& keys) {
    return rlp_encode_list(std::vector<Bytes>{address, rlp_encode_list(keys)});
  };
  EXPECT_EQ(with_access_list(rlp_encode_list(std::vector<Bytes>{entry(addr, {rlp_encode_bytes(Bytes(31, 1))})})),
            "access_list[0].storage_keys[0]: expected 32 bytes, got 31");
  EXPECT_EQ(with_access_list(rlp_encode_list(std::vector<Bytes>{entry(addr, {}), entry(addr, {rlp_encode_bytes(Bytes(32, 1)),
                                                                                              rlp_encode_bytes(Bytes(33, 1))})})),
            "access_list[1].storage_keys[1]: expected 32 bytes, got 33");
  EXPECT_EQ(with_access_list(rlp_encode_list(std::vector<Bytes>{entry(rlp_encode_bytes(Bytes(21, 3)), {})})),
            "access_list[0].address: expected 20 bytes, got 21");
  EXPECT_EQ(with_access_list(rlp_encode_bytes({})), "access_list: expected a list, got a string");
  EXPECT_EQ(with_access_list(rlp_encode_list(std::vector<Bytes>{addr})), "access_list[0]: expected a list of [address, storage_keys]");
  EXPECT_EQ(with_access_list(rlp_encode_list(std::vector<Bytes>{rlp_encode_list(std::vector<Bytes>{addr, rlp_encode_bytes({})})})),
            "access_list[0].storage_keys: expected a list, got a string");
  EXPECT_EQ(with_access_list(rlp_encode_list(std::vector<Bytes>{entry(addr, {rlp_encode_list(std::vector<Bytes>{})})})),
            "access_list[0].storage_keys[0]: expected a string of 32 bytes, got a list");
}

TEST(Eip1559Decode, RefusesDataAsAList) {
  auto fields = valid_fields();
  fields[7] = rlp_encode_list(std::vector<Bytes>{});
  EXPECT_EQ(decode_error(typed(fields)), "data: expected a string, got a list");
}

TEST(Eip1559Decode, EveryProperPrefixFails) {
  for (const auto& t : transactions()) {
    const Bytes raw = fixture_bytes(t.at("unsigned_serialized"));
    for (std::size_t k = 0; k < raw.size(); ++k) EXPECT_FALSE(decode_unsigned_eip1559(std::span(raw).first(k)).ok());
  }
}

}  // namespace
}  // namespace enclaver::crypto
