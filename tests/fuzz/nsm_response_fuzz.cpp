// libFuzzer target for the NSM message parsers: arbitrary bytes as an NSM
// response and as an NSM request. Beyond "does not crash" (run under
// ASan/UBSan), it checks that decode -> encode -> decode is stable: the
// re-decoded message equals the first, and encoding it again gives the same
// bytes. (A decoded request may re-encode larger than the 4096-byte limit,
// e.g. an Attestation with missing fields gains explicit nulls; then only the
// refusal is checked.)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "nsm/messages.hpp"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

template <class Message, class Decode>
void check(std::span<const std::uint8_t> input, Decode decode, std::size_t limit) {
  auto first = decode(input);
  if (!first) {
    require(!first.error().message.empty());
    return;
  }
  const std::vector<std::uint8_t> encoded = enclaver::nsm::encode(*first);
  auto second = decode(std::span<const std::uint8_t>(encoded));
  if (encoded.size() > limit) {
    require(!second);
    return;
  }
  require(second.ok());
  require(*second == *first);
  require(enclaver::nsm::encode(*second) == encoded);
}

}  // namespace

extern "C" const char* __asan_default_options() { return "malloc_context_size=12"; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  check<enclaver::nsm::Response>(
      input, [](std::span<const std::uint8_t> b) { return enclaver::nsm::decode_response(b); },
      enclaver::nsm::kMaxResponseSize);
  check<enclaver::nsm::Request>(
      input, [](std::span<const std::uint8_t> b) { return enclaver::nsm::decode_request(b); },
      enclaver::nsm::kMaxRequestSize);
  return 0;
}
