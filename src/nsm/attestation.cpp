// Attestation document parse and encode. See attestation.hpp.
#include "nsm/attestation.hpp"

#include <string_view>

#include "cbor/cbor.hpp"

namespace enclaver::nsm {

namespace {

using cbor::Kind;
using cbor::Value;

std::string kind_of(const Value& v) { return std::string(cbor::kind_name(v.kind())); }

Error field_error(std::string_view field, const std::string& what) {
  return make_error("attestation document: " + std::string(field) + ": " + what);
}

// bstr / null / absent, at most 1024 bytes.
Result<std::optional<Bytes>> optional_bytes(const Value& map, std::string_view key) {
  const Value* v = map.find(key);
  if (!v || v->is_null()) return std::optional<Bytes>();
  const cbor::Bytes* b = v->as_bytes();
  if (!b) return field_error(key, "expected a byte string or null, got a " + kind_of(*v));
  if (b->size() > 1024) return field_error(key, std::to_string(b->size()) + " bytes, more than the 1024 allowed");
  return std::optional<Bytes>(*b);
}

void put_text(Bytes& out, std::string_view s) {
  cbor::encode_head(out, 3, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

void put_bytes(Bytes& out, std::span<const std::uint8_t> b) {
  cbor::encode_head(out, 2, b.size());
  out.insert(out.end(), b.begin(), b.end());
}

void put_optional(Bytes& out, const std::optional<Bytes>& b) {
  if (b) {
    put_bytes(out, *b);
  } else {
    out.push_back(0xf6);
  }
}

}  // namespace

Result<AttestationDocument> parse_attestation_payload(std::span<const std::uint8_t> payload) {
  cbor::DecodeOptions options;
  options.max_depth = 8;
  auto decoded = cbor::decode(payload, options);
  if (!decoded) return make_error("attestation document: the payload is not a CBOR item: " + decoded.error().message);
  const Value& map = decoded.value();
  if (!map.is(Kind::Map)) return make_error("attestation document: the payload must be a map, got a " + kind_of(map));
  AttestationDocument doc;

  const Value* v = map.find("module_id");
  if (!v) return field_error("module_id", "missing");
  if (!v->as_text()) return field_error("module_id", "expected a text string, got a " + kind_of(*v));
  if (v->as_text()->empty()) return field_error("module_id", "empty");
  doc.module_id = *v->as_text();

  v = map.find("digest");
  if (!v) return field_error("digest", "missing");
  if (!v->as_text()) return field_error("digest", "expected a text string, got a " + kind_of(*v));
  doc.digest = *v->as_text();

  v = map.find("timestamp");
  if (!v) return field_error("timestamp", "missing");
  if (!v->as_unsigned()) return field_error("timestamp", "expected an unsigned integer, got a " + kind_of(*v));
  if (*v->as_unsigned() == 0) return field_error("timestamp", "zero");
  doc.timestamp_ms = *v->as_unsigned();

  v = map.find("pcrs");
  if (!v) return field_error("pcrs", "missing");
  const cbor::Map* pcrs = v->as_map();
  if (!pcrs) return field_error("pcrs", "expected a map, got a " + kind_of(*v));
  if (pcrs->empty() || pcrs->size() > 32) {
    return field_error("pcrs", std::to_string(pcrs->size()) + " entries; 1 to 32 are allowed");
  }
  for (const cbor::MapEntry& e : *pcrs) {
    const auto index = e.key.as_unsigned();
    if (!index || *index > 31) {
      return field_error("pcrs", "key " + cbor::diagnostic(e.key) + " is not a PCR index 0..31");
    }
    const cbor::Bytes* value = e.value.as_bytes();
    if (!value) return field_error("pcrs", "PCR" + std::to_string(*index) + " is a " + kind_of(e.value) + ", not a byte string");
    if (value->size() != 32 && value->size() != 48 && value->size() != 64) {
      return field_error("pcrs", "PCR" + std::to_string(*index) + " has " + std::to_string(value->size()) +
                                     " bytes; 32, 48 or 64 are allowed");
    }
    doc.pcrs[static_cast<std::uint32_t>(*index)] = *value;  // keys are unique: the decoder refuses duplicates
  }

  v = map.find("certificate");
  if (!v) return field_error("certificate", "missing");
  if (!v->as_bytes()) return field_error("certificate", "expected a byte string, got a " + kind_of(*v));
  if (v->as_bytes()->empty() || v->as_bytes()->size() > 1024) {
    return field_error("certificate", std::to_string(v->as_bytes()->size()) + " bytes; 1 to 1024 are allowed");
  }
  doc.certificate = *v->as_bytes();

  v = map.find("cabundle");
  if (!v) return field_error("cabundle", "missing");
  const cbor::Array* bundle = v->as_array();
  if (!bundle) return field_error("cabundle", "expected an array, got a " + kind_of(*v));
  if (bundle->empty()) return field_error("cabundle", "empty");
  for (std::size_t i = 0; i < bundle->size(); ++i) {
    const cbor::Bytes* cert = (*bundle)[i].as_bytes();
    if (!cert) return field_error("cabundle", "entry " + std::to_string(i) + " is a " + kind_of((*bundle)[i]) + ", not a byte string");
    if (cert->empty() || cert->size() > 1024) {
      return field_error("cabundle", "entry " + std::to_string(i) + " has " + std::to_string(cert->size()) +
                                         " bytes; 1 to 1024 are allowed");
    }
    doc.cabundle.push_back(*cert);
  }

  for (auto [key, slot] : {std::pair<std::string_view, std::optional<Bytes>*>{"public_key", &doc.public_key},
                           {"user_data", &doc.user_data},
                           {"nonce", &doc.nonce}}) {
    auto b = optional_bytes(map, key);
    if (!b) return b.error();
    *slot = std::move(b.value());
  }
  return doc;
}

Result<ParsedAttestation> parse_attestation(std::span<const std::uint8_t> document) {
  auto envelope = cose::parse_sign1(document);
  if (!envelope) return envelope.error();
  auto doc = parse_attestation_payload(envelope->payload);
  if (!doc) return doc.error();
  return ParsedAttestation{std::move(envelope.value()), std::move(doc.value())};
}

Bytes encode_attestation_payload(const AttestationDocument& doc) {
  Bytes out;
  out.reserve(512 + doc.certificate.size() + doc.cabundle.size() * 1024);
  out.push_back(0xbf);  // indefinite-length map, as AWS emits since 2025
  put_text(out, "module_id");
  put_text(out, doc.module_id);
  put_text(out, "digest");
  put_text(out, doc.digest);
  put_text(out, "timestamp");
  out.push_back(0x1b);  // always the 8-byte argument, as AWS does
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(doc.timestamp_ms >> shift));
  put_text(out, "pcrs");
  cbor::encode_head(out, 5, doc.pcrs.size());
  for (const auto& [index, value] : doc.pcrs) {  // std::map: ascending
    cbor::encode_head(out, 0, index);
    put_bytes(out, value);
  }
  put_text(out, "certificate");
  put_bytes(out, doc.certificate);
  put_text(out, "cabundle");
  cbor::encode_head(out, 4, doc.cabundle.size());
  for (const Bytes& cert : doc.cabundle) put_bytes(out, cert);
  put_text(out, "public_key");
  put_optional(out, doc.public_key);
  put_text(out, "user_data");
  put_optional(out, doc.user_data);
  put_text(out, "nonce");
  put_optional(out, doc.nonce);
  out.push_back(0xff);
  return out;
}

Result<Bytes> issue_attestation(const AttestationDocument& document, EVP_PKEY* key) {
  return cose::sign1(key, cose::kAlgES384, encode_attestation_payload(document));
}

}  // namespace enclaver::nsm
