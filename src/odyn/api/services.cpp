#include "odyn/api/services.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

#include "common/base64.hpp"
#include "common/hex.hpp"
#include "crypto/eth.hpp"
#include "crypto/keccak.hpp"

namespace enclaver::odyn::api {
namespace {

using nlohmann::json;

std::string hex0x(std::span<const std::uint8_t> bytes) { return "0x" + to_hex(bytes); }

Result<Bytes> kernel_random(std::size_t n) {
  Bytes out(n);
  for (std::size_t got = 0; got < n;) {
    const ssize_t r = ::getrandom(out.data() + got, n - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return make_error(std::string("getrandom: ") + std::strerror(errno));
    }
    got += static_cast<std::size_t>(r);
  }
  return out;
}

// Bytes from the kernel, XORed with the NSM's when there is one.
Result<Bytes> key_material(nsm::Client* nsm, std::size_t n) {
  auto bytes = kernel_random(n);
  if (!bytes) return bytes;
  if (nsm) {
    auto from_nsm = nsm->random(n);
    if (!from_nsm) return make_error("NSM GetRandom for the enclave's keys: " + from_nsm.error().message);
    for (std::size_t i = 0; i < n; ++i) (*bytes)[i] ^= (*from_nsm)[i];
  }
  return bytes;
}

Bytes as_bytes(std::string_view text) { return Bytes(text.begin(), text.end()); }

}  // namespace

Result<std::shared_ptr<Services>> Services::create(NsmHandle nsm) {
  auto eth = crypto::EthKey::generate([client = nsm.client.get()](std::size_t n) { return key_material(client, n); });
  if (!eth) return make_error("the Ethereum key: " + eth.error().message);
  auto encryption = crypto::P384Key::generate();
  if (!encryption) return make_error("the encryption key: " + encryption.error().message);
  return std::shared_ptr<Services>(new Services(std::move(nsm), std::move(*eth), std::move(*encryption)));
}

Services::Services(NsmHandle nsm, crypto::EthKey eth, crypto::P384Key encryption)
    : nsm_(std::move(nsm)),
      eth_(std::move(eth)),
      encryption_(std::move(encryption)),
      address_(crypto::checksum_address(eth_.address())),
      eth_addr_user_data_(as_bytes(json{{"eth_addr", address_}}.dump())),
      encryption_spki_(encryption_.public_key_spki_der()) {}

json Services::address() const { return {{"address", address_}, {"public_key", hex0x(eth_.public_key())}}; }

json Services::encryption_public_key() const {
  return {{"public_key_der", hex0x(encryption_spki_)}, {"public_key_pem", encryption_.public_key_pem()}};
}

Result<Bytes> Services::nsm_attestation(const std::optional<Bytes>& user_data, const std::optional<Bytes>& nonce,
                                        const std::optional<Bytes>& public_key) {
  if (!nsm_.client) return make_error("no NSM: " + nsm_.unavailable);
  auto view = [](const std::optional<Bytes>& b) -> std::optional<std::span<const std::uint8_t>> {
    if (!b) return std::nullopt;
    return std::span<const std::uint8_t>(*b);
  };
  auto document = nsm_.client->attestation(view(user_data), view(nonce), view(public_key));
  if (!document) return make_error("NSM attestation: " + document.error().message);
  return document;
}

Result<json> Services::random() {
  if (!nsm_.client) return make_error("no NSM: " + nsm_.unavailable);
  auto bytes = nsm_.client->random(32);
  if (!bytes) return make_error("NSM GetRandom: " + bytes.error().message);
  return json{{"random_bytes", hex0x(*bytes)}};
}

Result<Bytes> Services::attestation(const AttestationRequest& request) {
  std::optional<Bytes> user_data;
  if (request.user_data_object) {
    json object = *request.user_data_object;
    object["eth_addr"] = address_;
    const std::string text = object.dump();
    if (text.size() > kMaxAttestationField)
      return make_error("user_data: " + std::to_string(text.size()) + " bytes with eth_addr is over the NSM's limit of " +
                        std::to_string(kMaxAttestationField) + " bytes");
    user_data = as_bytes(text);
  } else if (request.user_data_bytes) {
    user_data = request.user_data_bytes;
  } else {
    user_data = eth_addr_user_data_;
  }
  const std::optional<Bytes> public_key = request.public_key_der ? request.public_key_der : encryption_spki_;
  return nsm_attestation(user_data, request.nonce, public_key);
}

Result<json> Services::binding_attestation(bool wanted, const crypto::Hash32& nonce) {
  if (!wanted) return json(nullptr);
  auto document = nsm_attestation(eth_addr_user_data_, Bytes(nonce.begin(), nonce.end()), eth_.public_key_spki_der());
  if (!document) return document.error();
  return json(to_base64(*document));
}

Result<json> Services::sign(const SignRequest& request) {
  const auto digest = crypto::personal_message_digest(as_bytes(request.message));
  const auto signature = eth_.sign(digest);
  Bytes rsv(signature.r.begin(), signature.r.end());
  rsv.insert(rsv.end(), signature.s.begin(), signature.s.end());
  rsv.push_back(static_cast<std::uint8_t>(27 + signature.recovery_id));
  auto attestation = binding_attestation(request.include_attestation, digest);
  if (!attestation) return attestation.error();
  return json{{"signature", hex0x(rsv)}, {"address", address_}, {"attestation", *attestation}};
}

Result<json> Services::sign_transaction(const SignTxRequest& request) {
  const auto signature = eth_.sign(crypto::signing_hash(request.transaction));
  const auto raw = crypto::signed_encoding(request.transaction, signature);
  const auto hash = crypto::keccak256(raw);
  Bytes rsy(signature.r.begin(), signature.r.end());
  rsy.insert(rsy.end(), signature.s.begin(), signature.s.end());
  rsy.push_back(signature.recovery_id);
  auto attestation = binding_attestation(request.include_attestation, hash);
  if (!attestation) return attestation.error();
  return json{{"raw_transaction", hex0x(raw)},
              {"transaction_hash", hex0x(hash)},
              {"signature", hex0x(rsy)},
              {"address", address_},
              {"attestation", *attestation}};
}

Result<json> Services::decrypt(const DecryptRequest& request) const {
  auto plaintext = encryption_.decrypt(request.client_public_key, request.nonce, request.encrypted_data);
  if (!plaintext) return make_error("decryption failed");
  return json{{"plaintext", *plaintext}};
}

Result<json> Services::encrypt(const EncryptRequest& request) const {
  auto encrypted = encryption_.encrypt(request.client_public_key, request.plaintext);
  if (!encrypted) return encrypted.error();
  return json{{"encrypted_data", hex0x(encrypted->ciphertext_and_tag)},
              {"enclave_public_key", hex0x(encryption_spki_)},
              {"nonce", hex0x(encrypted->nonce)}};
}

}  // namespace enclaver::odyn::api
