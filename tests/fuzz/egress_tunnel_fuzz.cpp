// libFuzzer target for the egress tunnel's framing: arbitrary bytes as a
// stream of frames (in arbitrary chunks), as a request's JSON and as a
// response's JSON. Beyond "does not crash", it checks what the tunnel relies
// on:
//  - FrameReader never takes a byte past its frame, however the bytes are
//    split, and every split gives the same outcome;
//  - a parsed request or response encodes back to a frame that parses to
//    the same value (so what the host side logs is what it dials);
//  - an encoded response always fits in a frame.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "egress/tunnel_codec.hpp"

namespace {

using namespace enclaver::egress;

void require(bool ok) {
  if (!ok) std::abort();
}

// Feeds `input` in chunks of `step` bytes (asking for no more than wanted()).
std::size_t read_frame(std::string_view input, std::size_t step, FrameReader& reader) {
  std::size_t used = 0;
  while (reader.wanted() > 0 && used < input.size()) {
    const std::size_t n = std::min({step, reader.wanted(), input.size() - used});
    require(reader.feed(input.substr(used, n)) == n);
    used += n;
  }
  return used;
}

void fuzz_frames(std::string_view input) {
  FrameReader whole;
  const std::size_t used = whole.feed(input);
  require(used <= input.size());
  if (whole.complete()) {
    require(used == 2 + whole.payload().size());
    require(whole.payload().size() <= kMaxFrame);
  }
  for (std::size_t step : {1u, 2u, 3u, 7u}) {
    FrameReader split;
    require(read_frame(input, step, split) == used);
    require(split.complete() == whole.complete() && split.failed() == whole.failed());
    if (whole.complete()) require(split.payload() == whole.payload());
  }
}

void fuzz_request(std::string_view json) {
  auto request = parse_request(json);
  if (!request) return;
  require(request->port != 0 && !request->host.empty());
  auto frame = encode_request(*request);
  // Parsed from a frame means encodable: UTF-8, port, and our compact JSON is
  // never longer than the text it was parsed from.
  if (json.size() > kMaxFrame) return;
  require(frame.ok());
  FrameReader reader;
  require(reader.feed(*frame) == frame->size() && reader.complete());
  auto again = parse_request(reader.payload());
  require(again.ok() && *again == *request);
}

void fuzz_response(std::string_view json) {
  auto response = parse_response(json);
  if (!response) return;
  const std::string frame = encode_response(*response);
  require(frame.size() >= 2 && frame.size() - 2 <= kMaxFrame);
  auto again = parse_response(std::string_view(frame).substr(2));
  require(again.ok());
  require(again->ok() == response->ok());
  if (!response->ok()) {
    require(again->error->os_code == response->error->os_code);
    if (response->error->message.size() <= kMaxErrorMessage / 8) require(again->error->message == response->error->message);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  fuzz_frames(input);
  fuzz_request(input);
  fuzz_response(input);
  // An arbitrary error message always makes a valid frame.
  const std::string frame = encode_response({DialError{static_cast<int>(size), std::string(input), false}});
  require(frame.size() - 2 <= kMaxFrame && parse_response(std::string_view(frame).substr(2)).ok());
  return 0;
}
