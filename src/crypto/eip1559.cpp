#include "crypto/eip1559.hpp"

#include <algorithm>
#include <string>

#include "crypto/keccak.hpp"
#include "crypto/rlp.hpp"

namespace enclaver::crypto {
namespace {

Bytes encode_quantity(const Quantity& q) { return rlp_encode_bytes(quantity_from_be(q)); }

// The nine unsigned fields, each already RLP-encoded.
std::vector<Bytes> unsigned_fields(const Eip1559Transaction& tx) {
  std::vector<Bytes> fields;
  fields.reserve(12);
  fields.push_back(encode_quantity(tx.chain_id));
  fields.push_back(encode_quantity(tx.nonce));
  fields.push_back(encode_quantity(tx.max_priority_fee_per_gas));
  fields.push_back(encode_quantity(tx.max_fee_per_gas));
  fields.push_back(encode_quantity(tx.gas_limit));
  fields.push_back(tx.to ? rlp_encode_bytes(*tx.to) : rlp_encode_bytes({}));
  fields.push_back(encode_quantity(tx.value));
  fields.push_back(rlp_encode_bytes(tx.data));
  std::vector<Bytes> entries;
  entries.reserve(tx.access_list.size());
  for (const AccessListEntry& entry : tx.access_list) {
    std::vector<Bytes> keys;
    keys.reserve(entry.storage_keys.size());
    for (const Hash32& key : entry.storage_keys) keys.push_back(rlp_encode_bytes(key));
    const Bytes pair[] = {rlp_encode_bytes(entry.address), rlp_encode_list(keys)};
    entries.push_back(rlp_encode_list(pair));
  }
  fields.push_back(rlp_encode_list(entries));
  return fields;
}

Bytes typed(const std::vector<Bytes>& fields) {
  Bytes out{kEip1559Type};
  const Bytes list = rlp_encode_list(fields);
  out.insert(out.end(), list.begin(), list.end());
  return out;
}

template <class T>
Error field_error(const std::string& field, const Result<T>& r) {
  return make_error(field + ": " + r.error().message);
}

Result<Bytes> fixed_string(const RlpItem& item, std::size_t size) {
  if (item.is_list) return make_error("expected a string of " + std::to_string(size) + " bytes, got a list");
  if (item.bytes.size() != size)
    return make_error("expected " + std::to_string(size) + " bytes, got " + std::to_string(item.bytes.size()));
  return item.bytes;
}

Result<std::vector<AccessListEntry>> decode_access_list(const RlpItem& item) {
  if (!item.is_list) return make_error("access_list: expected a list, got a string");
  std::vector<AccessListEntry> out;
  out.reserve(item.items.size());
  for (std::size_t i = 0; i < item.items.size(); ++i) {
    const std::string where = "access_list[" + std::to_string(i) + "]";
    const RlpItem& pair = item.items[i];
    if (!pair.is_list || pair.items.size() != 2) return make_error(where + ": expected a list of [address, storage_keys]");
    AccessListEntry entry;
    auto address = fixed_string(pair.items[0], 20);
    if (!address) return field_error(where + ".address", address);
    std::copy(address->begin(), address->end(), entry.address.begin());
    const RlpItem& keys = pair.items[1];
    if (!keys.is_list) return make_error(where + ".storage_keys: expected a list, got a string");
    for (std::size_t k = 0; k < keys.items.size(); ++k) {
      auto key = fixed_string(keys.items[k], 32);
      if (!key) return field_error(where + ".storage_keys[" + std::to_string(k) + "]", key);
      Hash32 h;
      std::copy(key->begin(), key->end(), h.begin());
      entry.storage_keys.push_back(h);
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace

Bytes unsigned_encoding(const Eip1559Transaction& tx) { return typed(unsigned_fields(tx)); }

Hash32 signing_hash(const Eip1559Transaction& tx) { return keccak256(unsigned_encoding(tx)); }

Bytes signed_encoding(const Eip1559Transaction& tx, const RecoverableSignature& signature) {
  std::vector<Bytes> fields = unsigned_fields(tx);
  fields.push_back(encode_quantity(quantity_from_u64(signature.recovery_id)));
  fields.push_back(encode_quantity(quantity_from_be(signature.r)));
  fields.push_back(encode_quantity(quantity_from_be(signature.s)));
  return typed(fields);
}

Result<Eip1559Transaction> decode_unsigned_eip1559(std::span<const std::uint8_t> raw) {
  if (raw.empty()) return make_error("transaction is empty (expected 0x02 followed by an RLP list)");
  if (raw[0] != kEip1559Type) {
    std::string what = "transaction type byte is 0x" + std::string(1, "0123456789abcdef"[raw[0] >> 4]) +
                       std::string(1, "0123456789abcdef"[raw[0] & 15]) + ", expected 0x02 (EIP-1559)";
    if (raw[0] >= 0xc0) what += "; this looks like a legacy transaction, which is not supported";
    return make_error(what);
  }
  auto decoded = rlp_decode(raw.subspan(1));
  if (!decoded) return make_error("transaction RLP (after the type byte): " + decoded.error().message);
  const RlpItem& list = *decoded;
  if (!list.is_list) return make_error("transaction: expected an RLP list after the type byte, got a string");
  if (list.items.size() == 12)
    return make_error("transaction is already signed (12 fields with y_parity, r, s); send the unsigned transaction (9 fields)");
  if (list.items.size() != 9)
    return make_error("transaction: expected 9 fields, got " + std::to_string(list.items.size()));

  Eip1559Transaction tx;
  struct Field {
    const char* name;
    Quantity* target;
    std::size_t index;
  };
  const Field quantities[] = {{"chain_id", &tx.chain_id, 0},
                              {"nonce", &tx.nonce, 1},
                              {"max_priority_fee_per_gas", &tx.max_priority_fee_per_gas, 2},
                              {"max_fee_per_gas", &tx.max_fee_per_gas, 3},
                              {"gas_limit", &tx.gas_limit, 4},
                              {"value", &tx.value, 6}};
  for (const Field& f : quantities) {
    auto q = rlp_quantity(list.items[f.index]);
    if (!q) return field_error(f.name, q);
    *f.target = std::move(q).value();
  }
  const RlpItem& to = list.items[5];
  if (to.is_list) return make_error("to: expected a string (empty or 20 bytes), got a list");
  if (!to.bytes.empty()) {
    if (to.bytes.size() != 20)
      return make_error("to: expected 20 bytes (or empty for contract creation), got " + std::to_string(to.bytes.size()));
    Address a;
    std::copy(to.bytes.begin(), to.bytes.end(), a.begin());
    tx.to = a;
  }
  const RlpItem& data = list.items[7];
  if (data.is_list) return make_error("data: expected a string, got a list");
  tx.data = data.bytes;
  auto access_list = decode_access_list(list.items[8]);
  if (!access_list) return access_list.error();
  tx.access_list = std::move(access_list).value();
  return tx;
}

}  // namespace enclaver::crypto
