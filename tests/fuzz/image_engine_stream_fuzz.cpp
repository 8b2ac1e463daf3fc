// libFuzzer target for the engine client's streaming decoders: Docker's
// multiplexed output stream (LogDemuxer) and the JSON-lines progress
// stream (ProgressDecoder). Beyond "does not crash" (ASan/UBSan), it checks
// that chunking never shows: the input fed whole and fed in pieces (cut
// where the first bytes say) gives the same payloads, events and error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "image/engine/log_stream.hpp"
#include "image/engine/progress.hpp"

namespace {

using namespace enclaver::image::engine;

void require(bool ok) {
  if (!ok) std::abort();
}

// Chunk sizes from a seed: 1..16 bytes, then repeating.
std::vector<std::size_t> chunking(std::span<const std::uint8_t> seed) {
  std::vector<std::size_t> sizes;
  for (std::uint8_t b : seed) sizes.push_back(1 + (b & 15));
  if (sizes.empty()) sizes.push_back(1);
  return sizes;
}

struct DemuxResult {
  std::string stream;  // "<type><payload bytes>" per byte, so order and streams both count
  std::optional<std::string> error;
  bool operator==(const DemuxResult&) const = default;
};

DemuxResult demux(std::span<const std::uint8_t> input, const std::vector<std::size_t>& sizes) {
  LogDemuxer d;
  DemuxResult r;
  auto handler = [&](OutputStream s, std::span<const std::uint8_t> b) {
    require(!b.empty());
    for (std::uint8_t c : b) {
      r.stream += static_cast<char>('0' + static_cast<int>(s));
      r.stream += static_cast<char>(c);
    }
  };
  std::size_t i = 0;
  for (std::size_t at = 0; at < input.size(); ++i) {
    const std::size_t n = std::min(sizes[i % sizes.size()], input.size() - at);
    if (auto e = d.feed(input.subspan(at, n), handler)) {
      r.error = e->message;
      return r;
    }
    at += n;
  }
  if (auto e = d.finish()) r.error = e->message;
  return r;
}

std::string describe(const ProgressEvent& e) {
  return std::to_string(static_cast<int>(e.kind)) + "|" + e.id + "|" + e.status + "|" + e.progress + "|" +
         (e.current ? std::to_string(*e.current) : "-") + "|" + (e.total ? std::to_string(*e.total) : "-") + "|" + e.stream +
         "|" + e.aux.dump() + "\n";
}

struct ProgressResult {
  std::string events;
  std::optional<std::string> error;
  bool by_engine = false;
  bool operator==(const ProgressResult&) const = default;
};

ProgressResult progress(std::string_view input, const std::vector<std::size_t>& sizes) {
  ProgressDecoder d(4096);
  ProgressResult r;
  auto handler = [&](const ProgressEvent& e) { r.events += describe(e); };
  auto fail = [&](const ProgressError& e) {
    r.error = e.message;
    r.by_engine = e.reported_by_engine;
    return r;
  };
  std::size_t i = 0;
  for (std::size_t at = 0; at < input.size(); ++i) {
    const std::size_t n = std::min(sizes[i % sizes.size()], input.size() - at);
    if (auto e = d.feed(input.substr(at, n), handler)) return fail(*e);
    at += n;
  }
  if (auto e = d.finish(handler)) return fail(*e);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte says how many following bytes seed the chunking.
  const std::size_t seed_len = std::min<std::size_t>(data[0] & 7, size - 1);
  const auto seed = std::span<const std::uint8_t>(data + 1, seed_len);
  const auto input = std::span<const std::uint8_t>(data + 1 + seed_len, size - 1 - seed_len);
  const auto sizes = chunking(seed);

  const std::vector<std::size_t> whole{input.size() + 1};
  require(demux(input, whole) == demux(input, sizes));

  const std::string_view text(reinterpret_cast<const char*>(input.data()), input.size());
  require(progress(text, whole) == progress(text, sizes));
  return 0;
}
