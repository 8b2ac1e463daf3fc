#include "odyn/api/requests.hpp"

#include "common/base64.hpp"
#include "common/hex.hpp"
#include "crypto/eth.hpp"
#include "crypto/p384.hpp"
#include "crypto/quantity.hpp"

namespace enclaver::odyn::api {
namespace {

using nlohmann::json;

std::string type_name(const json& value) {
  if (value.is_number_integer() || value.is_number_unsigned()) return "an integer";
  if (value.is_number_float()) return "a number that is not an integer in range";
  return std::string("a ") + value.type_name();
}

// The fields of one JSON object, with the path used in error messages.
class Fields {
 public:
  Fields(const json& object, std::string prefix) : object_(object), prefix_(std::move(prefix)) {}

  std::string path(std::string_view name) const { return prefix_ + std::string(name); }

  // nullptr when absent or null.
  const json* find(std::string_view name) const {
    auto it = object_.find(name);
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  Error wrong(std::string_view name, std::string_view expected, const json* value = nullptr) const {
    std::string message = path(name) + ": expected " + std::string(expected);
    if (value) message += ", got " + type_name(*value);
    return make_error(std::move(message));
  }

  Result<std::optional<std::string>> optional_string(std::string_view name) const {
    const json* value = find(name);
    if (!value) return std::optional<std::string>{};
    if (!value->is_string()) return wrong(name, "a string", value);
    return std::optional<std::string>(value->get<std::string>());
  }

  Result<std::string> required_string(std::string_view name) const {
    auto value = optional_string(name);
    if (!value) return value.error();
    if (!*value) return make_error(path(name) + ": required");
    return std::move(**value);
  }

  Result<bool> flag(std::string_view name) const {
    const json* value = find(name);
    if (!value) return false;
    if (!value->is_boolean()) return wrong(name, "true or false", value);
    return value->get<bool>();
  }

  Result<Bytes> required_hex(std::string_view name) const {
    auto text = required_string(name);
    if (!text) return text.error();
    auto bytes = from_hex(*text);
    if (!bytes) return make_error(path(name) + ": " + bytes.error().message);
    return std::move(*bytes);
  }

 private:
  const json& object_;
  std::string prefix_;
};

Result<Fields> object_fields(const json& value, std::string prefix, std::string_view what) {
  if (!value.is_object()) return make_error(std::string(what) + ": expected a JSON object, got " + type_name(value));
  return Fields(value, std::move(prefix));
}

// A hex string (with or without 0x) or a JSON integer in 0..2^53-1.
Result<crypto::Quantity> quantity(const Fields& fields, std::string_view name, bool required) {
  const json* value = fields.find(name);
  if (!value) {
    if (required) return make_error(fields.path(name) + ": required");
    return crypto::Quantity{};
  }
  constexpr std::uint64_t kMaxSafeInteger = (std::uint64_t{1} << 53) - 1;
  if (value->is_number_unsigned() || value->is_number_integer()) {
    if (value->is_number_integer() && !value->is_number_unsigned() && value->get<std::int64_t>() < 0)
      return make_error(fields.path(name) + ": must not be negative");
    const auto number = value->get<std::uint64_t>();
    if (number > kMaxSafeInteger) return make_error(fields.path(name) + ": integers above 2^53-1 must be given as hex strings");
    return crypto::quantity_from_u64(number);
  }
  if (!value->is_string()) return fields.wrong(name, "a hex string or an integer", value);
  auto parsed = crypto::quantity_from_hex(value->get<std::string>());
  if (!parsed) return make_error(fields.path(name) + ": " + parsed.error().message);
  return std::move(*parsed);
}

// Contract creation when absent, null, "" or "0x".
Result<std::optional<crypto::Address>> recipient(const Fields& fields) {
  auto text = fields.optional_string("to");
  if (!text) return text.error();
  if (!*text || **text == "" || **text == "0x" || **text == "0X") return std::optional<crypto::Address>{};
  auto address = crypto::parse_address(**text);
  if (!address) return make_error(fields.path("to") + ": " + address.error().message);
  return std::optional<crypto::Address>(*address);
}

Result<std::vector<crypto::AccessListEntry>> access_list(const Fields& fields) {
  std::vector<crypto::AccessListEntry> entries;
  const json* list = fields.find("access_list");
  if (!list) return entries;
  if (!list->is_array()) return fields.wrong("access_list", "an array", list);
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string at = fields.path("access_list") + "[" + std::to_string(i) + "]";
    auto entry_fields = object_fields((*list)[i], at + ".", at);
    if (!entry_fields) return entry_fields.error();
    crypto::AccessListEntry entry;
    auto address_text = entry_fields->required_string("address");
    if (!address_text) return address_text.error();
    auto address = crypto::parse_address(*address_text);
    if (!address) return make_error(at + ".address: " + address.error().message);
    entry.address = *address;
    if (const json* keys = entry_fields->find("storage_keys")) {
      if (!keys->is_array()) return entry_fields->wrong("storage_keys", "an array", keys);
      for (std::size_t k = 0; k < keys->size(); ++k) {
        const std::string key_at = at + ".storage_keys[" + std::to_string(k) + "]";
        if (!(*keys)[k].is_string()) return make_error(key_at + ": expected a hex string, got " + type_name((*keys)[k]));
        auto key = from_hex((*keys)[k].get<std::string>());
        if (!key) return make_error(key_at + ": " + key.error().message);
        if (key->size() != 32) return make_error(key_at + ": expected 32 bytes, got " + std::to_string(key->size()));
        crypto::Hash32 storage_key;
        std::copy(key->begin(), key->end(), storage_key.begin());
        entry.storage_keys.push_back(storage_key);
      }
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

Result<crypto::Eip1559Transaction> structured(const Fields& payload) {
  crypto::Eip1559Transaction tx;
  struct Required {
    const char* name;
    crypto::Quantity crypto::Eip1559Transaction::*field;
  };
  for (auto [name, field] : {Required{"chain_id", &crypto::Eip1559Transaction::chain_id}, Required{"nonce", &crypto::Eip1559Transaction::nonce},
                             Required{"max_priority_fee_per_gas", &crypto::Eip1559Transaction::max_priority_fee_per_gas},
                             Required{"max_fee_per_gas", &crypto::Eip1559Transaction::max_fee_per_gas},
                             Required{"gas_limit", &crypto::Eip1559Transaction::gas_limit}}) {
    auto value = quantity(payload, name, true);
    if (!value) return value.error();
    tx.*field = std::move(*value);
  }
  auto value = quantity(payload, "value", false);
  if (!value) return value.error();
  tx.value = std::move(*value);
  auto to = recipient(payload);
  if (!to) return to.error();
  tx.to = *to;
  auto data = payload.optional_string("data");
  if (!data) return data.error();
  if (*data) {
    auto bytes = from_hex(**data);
    if (!bytes) return make_error(payload.path("data") + ": " + bytes.error().message);
    tx.data = std::move(*bytes);
  }
  auto list = access_list(payload);
  if (!list) return list.error();
  tx.access_list = std::move(*list);
  return tx;
}

// For /v1/attestation: "" counts as absent.
Result<std::optional<std::string>> non_empty_string(const Fields& fields, std::string_view name) {
  auto text = fields.optional_string(name);
  if (!text) return text.error();
  if (*text && (*text)->empty()) return std::optional<std::string>{};
  return text;
}

Error too_large(std::string_view field, std::size_t size) {
  return make_error(std::string(field) + ": " + std::to_string(size) + " bytes is over the NSM's limit of " +
                    std::to_string(kMaxAttestationField) + " bytes");
}

}  // namespace

Result<SignRequest> decode_sign(const json& body) {
  auto fields = object_fields(body, "", "the body");
  if (!fields) return fields.error();
  SignRequest request;
  auto message = fields->required_string("message");
  if (!message) return message.error();
  if (message->empty()) return make_error("message: must not be empty");
  request.message = std::move(*message);
  auto attest = fields->flag("include_attestation");
  if (!attest) return attest.error();
  request.include_attestation = *attest;
  return request;
}

Result<SignTxRequest> decode_sign_tx(const json& body) {
  auto fields = object_fields(body, "", "the body");
  if (!fields) return fields.error();
  SignTxRequest request;
  auto attest = fields->flag("include_attestation");
  if (!attest) return attest.error();
  request.include_attestation = *attest;
  const json* payload_value = fields->find("payload");
  if (!payload_value) return make_error("payload: required");
  auto payload = object_fields(*payload_value, "payload.", "payload");
  if (!payload) return payload.error();
  auto kind = payload->required_string("kind");
  if (!kind) return kind.error();
  if (*kind == "structured") {
    auto tx = structured(*payload);
    if (!tx) return tx.error();
    request.transaction = std::move(*tx);
  } else if (*kind == "raw_rlp") {
    auto raw = payload->required_hex("raw_payload");
    if (!raw) return raw.error();
    auto tx = crypto::decode_unsigned_eip1559(*raw);
    if (!tx) return make_error("payload.raw_payload: " + tx.error().message);
    request.transaction = std::move(*tx);
  } else {
    return make_error("payload.kind: expected \"structured\" or \"raw_rlp\", got \"" + *kind + "\"");
  }
  return request;
}

Result<AttestationRequest> decode_attestation(const json& body, bool aux) {
  auto fields = object_fields(body, "", "the body");
  if (!fields) return fields.error();
  AttestationRequest request;
  auto nonce = non_empty_string(*fields, "nonce");
  if (!nonce) return nonce.error();
  if (*nonce) {
    auto bytes = from_base64(**nonce);
    if (!bytes) return make_error("nonce: " + bytes.error().message);
    if (bytes->size() > kMaxAttestationField) return too_large("nonce", bytes->size());
    request.nonce = std::move(*bytes);
  }
  if (aux) return request;

  auto pem = non_empty_string(*fields, "public_key");
  if (!pem) return pem.error();
  if (*pem) {
    auto der = crypto::spki_der_from_pem(**pem);
    if (!der) return make_error("public_key: " + der.error().message);
    if (der->size() > kMaxAttestationField) return too_large("public_key", der->size());
    request.public_key_der = std::move(*der);
  }

  if (const json* user_data = fields->find("user_data")) {
    if (user_data->is_object()) {
      // Serialised with eth_addr set (always "0x" + 40 digits), it must fit the NSM's limit.
      json with_address = *user_data;
      with_address["eth_addr"] = std::string(42, '0');
      if (const auto size = with_address.dump().size(); size > kMaxAttestationField)
        return make_error("user_data: " + std::to_string(size) + " bytes serialised with eth_addr is over the NSM's limit of " +
                          std::to_string(kMaxAttestationField) + " bytes");
      request.user_data_object = *user_data;
    } else if (user_data->is_string()) {
      const auto& text = user_data->get_ref<const std::string&>();
      if (!text.empty()) {
        auto bytes = from_base64(text);
        if (!bytes) return make_error("user_data: " + bytes.error().message);
        if (bytes->size() > kMaxAttestationField) return too_large("user_data", bytes->size());
        request.user_data_bytes = std::move(*bytes);
      }
    } else {
      return fields->wrong("user_data", "a JSON object or a base64 string", user_data);
    }
  }
  return request;
}

Result<DecryptRequest> decode_decrypt(const json& body) {
  auto fields = object_fields(body, "", "the body");
  if (!fields) return fields.error();
  DecryptRequest request;
  auto nonce = fields->required_hex("nonce");
  if (!nonce) return nonce.error();
  if (nonce->size() < 12) return make_error("nonce: expected at least 12 bytes, got " + std::to_string(nonce->size()));
  request.nonce = std::move(*nonce);
  auto key = fields->required_hex("client_public_key");
  if (!key) return key.error();
  request.client_public_key = std::move(*key);
  auto data = fields->required_hex("encrypted_data");
  if (!data) return data.error();
  request.encrypted_data = std::move(*data);
  return request;
}

Result<EncryptRequest> decode_encrypt(const json& body) {
  auto fields = object_fields(body, "", "the body");
  if (!fields) return fields.error();
  EncryptRequest request;
  auto plaintext = fields->required_string("plaintext");
  if (!plaintext) return plaintext.error();
  request.plaintext = std::move(*plaintext);
  auto key = fields->required_hex("client_public_key");
  if (!key) return key.error();
  request.client_public_key = std::move(*key);
  return request;
}

}  // namespace enclaver::odyn::api
