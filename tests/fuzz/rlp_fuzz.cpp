// libFuzzer target for the strict RLP decoder and the EIP-1559 unsigned
// transaction decoder. Beyond "does not crash" (run under ASan/UBSan), it
// checks the strictness that makes one value have one encoding:
//  - whatever rlp_decode() accepts re-encodes to exactly the input;
//  - a failure says "offset N: ..." with N within the input;
//  - whatever decode_unsigned_eip1559() accepts re-encodes (0x02 || RLP)
//    to exactly the input, and its signing hash is that of the input;
//  - the input with 0x02 in front is tried as a transaction too, so the
//    fuzzer's RLP lists reach the field checks.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "crypto/eip1559.hpp"
#include "crypto/keccak.hpp"
#include "crypto/rlp.hpp"
#include "error_offset.hpp"

namespace {

using namespace enclaver::crypto;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

using enclaver::fuzzing::offset_of;

void check_transaction(std::span<const std::uint8_t> raw) {
  auto tx = decode_unsigned_eip1559(raw);
  if (!tx) {
    require(!tx.error().message.empty());
    return;
  }
  const Bytes again = unsigned_encoding(*tx);
  require(again.size() == raw.size() && std::equal(again.begin(), again.end(), raw.begin()));
  require(signing_hash(*tx) == keccak256(raw));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);

  auto item = rlp_decode(input);
  if (item) {
    const Bytes again = rlp_encode(*item);
    require(again.size() == size && std::equal(again.begin(), again.end(), input.begin()));
  } else {
    require(offset_of(item.error().message) <= size);
  }

  check_transaction(input);
  std::vector<std::uint8_t> typed;
  typed.reserve(size + 1);
  typed.push_back(kEip1559Type);
  typed.insert(typed.end(), input.begin(), input.end());
  check_transaction(typed);
  return 0;
}
