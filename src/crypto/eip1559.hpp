// EIP-1559 (type 2) transactions: the unsigned and signed encodings, the
// signing hash, and a strict decoder for unsigned payloads.
//
//   unsigned: 0x02 || rlp([chain_id, nonce, max_priority_fee_per_gas,
//             max_fee_per_gas, gas_limit, to, value, data, access_list])
//   signed:   0x02 || rlp([... the nine fields ..., y_parity, r, s])
//   access_list: [[address, [storage_key, ...]], ...]
//
// The decoder accepts exactly what unsigned_encoding() writes: first byte
// 0x02, one list of nine elements and nothing after it, canonical RLP and
// canonical integers (no leading zero byte, at most 32 bytes), `to` empty
// (contract creation) or 20 bytes, access-list addresses of 20 bytes and
// storage keys of 32 bytes. So decode followed by unsigned_encoding()
// reproduces the input byte for byte. Errors name the field
// ("max_fee_per_gas: integer with a leading zero byte ...").
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/result.hpp"
#include "crypto/bytes.hpp"
#include "crypto/quantity.hpp"
#include "crypto/secp256k1_key.hpp"

namespace enclaver::crypto {

struct AccessListEntry {
  Address address{};
  std::vector<Hash32> storage_keys;
};

struct Eip1559Transaction {
  Quantity chain_id, nonce, max_priority_fee_per_gas, max_fee_per_gas, gas_limit;
  std::optional<Address> to;  // nullopt: contract creation (RLP empty string)
  Quantity value;
  Bytes data;
  std::vector<AccessListEntry> access_list;
};

inline constexpr std::uint8_t kEip1559Type = 0x02;

// Quantities are written minimally whatever leading zero bytes they hold.
Bytes unsigned_encoding(const Eip1559Transaction& tx);
Hash32 signing_hash(const Eip1559Transaction& tx);  // keccak256(unsigned_encoding(tx))
// r and s are written as integers (leading zero bytes stripped); y_parity is
// the signature's recovery_id.
Bytes signed_encoding(const Eip1559Transaction& tx, const RecoverableSignature& signature);

Result<Eip1559Transaction> decode_unsigned_eip1559(std::span<const std::uint8_t> raw);

}  // namespace enclaver::crypto
