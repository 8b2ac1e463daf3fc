// odyn's API request decoders on arbitrary JSON bodies: no crash, no
// exception, and every transaction they accept encodes to bytes that decode
// back to the same transaction.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "odyn/api/requests.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace enclaver;
  const auto body = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return 0;
  (void)odyn::api::decode_sign(body);
  (void)odyn::api::decode_attestation(body, false);
  (void)odyn::api::decode_attestation(body, true);
  (void)odyn::api::decode_decrypt(body);
  (void)odyn::api::decode_encrypt(body);
  if (auto request = odyn::api::decode_sign_tx(body)) {
    const auto encoded = crypto::unsigned_encoding(request->transaction);
    auto again = crypto::decode_unsigned_eip1559(encoded);
    if (!again || crypto::unsigned_encoding(*again) != encoded) __builtin_trap();
  }
  return 0;
}
