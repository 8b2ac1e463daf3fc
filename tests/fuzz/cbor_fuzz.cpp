// libFuzzer target for the CBOR codec: arbitrary bytes as one CBOR item.
// Beyond "does not crash" (run under ASan/UBSan), it checks:
//  - a failure says "offset N: ..." with N within the input; decode() and
//    decode_prefix() agree (decode() fails only where the item fails or,
//    after a complete item, at its first trailing byte);
//  - decode -> encode -> decode is stable: the re-decoded value equals the
//    first one, and encoding it again gives the same bytes;
//  - the canonical encoding is a fixed point too;
//  - every proper prefix of a decodable input fails exactly at its length.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "cbor/cbor.hpp"
#include "error_offset.hpp"

namespace {

using namespace enclaver::cbor;

void require(bool ok) {
  if (!ok) std::abort();
}

using enclaver::fuzzing::offset_of;

}  // namespace

// The decoder recurses, so the allocation stacks ASan records are nearly all
// distinct (container kinds in every order): with its default 30 frames the
// stack depot alone grows to about 0.5 GB in a minute. 12 frames keep the
// reports useful and the run near 0.6 GB. ASAN_OPTIONS still overrides this.
extern "C" const char* __asan_default_options() { return "malloc_context_size=12"; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  DecodeOptions options;
  options.max_items = 1u << 16;  // keeps each run short; the limit logic is the same

  auto prefix = decode_prefix(input, options);
  auto whole = decode(input, options);
  if (!prefix) {
    require(!whole);
    require(whole.error().message == prefix.error().message);
    require(offset_of(prefix.error().message) <= size);
    return 0;
  }
  require(prefix->size >= 1 && prefix->size <= size);
  if (prefix->size < size) {
    require(!whole && offset_of(whole.error().message) == prefix->size);
  } else {
    require(whole && *whole == prefix->value);
  }
  const Value& first = prefix->value;

  // Preferred encoding, insertion order: a fixed point after one step.
  const std::vector<std::uint8_t> encoded = encode(first);
  auto second = decode(encoded, options);
  require(second.ok());
  require(*second == first);
  require(encode(*second) == encoded);
  require(encoded.size() <= 9 * prefix->size);  // heads grow at most from 1 to 9 bytes

  // Canonical encoding: also a fixed point.
  const std::vector<std::uint8_t> canonical = encode_canonical(first);
  auto third = decode(canonical, options);
  require(third.ok());
  require(encode_canonical(*third) == canonical);
  require(canonical.size() == encoded.size());

  // Proper prefixes of the item fail where they end.
  for (std::size_t k : {prefix->size - 1, prefix->size / 2}) {
    if (k >= prefix->size) continue;
    auto cut = decode(input.first(k), options);
    require(!cut && offset_of(cut.error().message) == k);
  }
  return 0;
}
