// The JSON-lines answers of pull (POST /images/create), load
// (POST /images/load) and build (POST /build): one JSON object per line,
// as the engine makes progress. ProgressDecoder turns them into
// ProgressEvents for a progress display, incrementally (lines may be cut
// anywhere across chunks). A line carrying "errorDetail" or "error" is how
// the engine reports a failure after it has already answered 200: it ends
// the stream with the engine's message. Sans-IO.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace enclaver::image::engine {

struct ProgressEvent {
  enum class Kind {
    status,  // {"status": "Downloading", "id": "a1b2", "progressDetail": {...}, "progress": "[=>  ]"}
    stream,  // {"stream": "Step 1/3 : FROM scratch\n"} (build), {"stream": "Loaded image: x:1\n"} (load)
    aux,     // {"aux": {"ID": "sha256:..."}}: machine-readable results (build's image ID)
  };
  Kind kind = Kind::status;
  std::string id;        // what the line is about (a layer, a tag), may be empty
  std::string status;    // kind status: what is happening
  std::string progress;  // kind status: the engine's own progress bar text, may be empty
  std::optional<std::uint64_t> current;  // kind status: bytes done, when the engine counts
  std::optional<std::uint64_t> total;    // ... out of (absent when unknown)
  std::string stream;    // kind stream: the text, as the engine sent it (may lack or have '\n')
  nlohmann::json aux;    // kind aux: the object
};

using ProgressHandler = std::function<void(const ProgressEvent&)>;

// Why a progress stream failed.
struct ProgressError {
  std::string message;
  // true: the engine reported the failure (an error line), message is the
  // engine's; false: the stream itself is broken (not JSON, a line too long).
  bool reported_by_engine = false;
};

class ProgressDecoder {
 public:
  // A line longer than max_line bytes is an error: the engine's lines are
  // short, and this bounds what a broken peer can make us hold.
  explicit ProgressDecoder(std::size_t max_line = 1 << 20) : max_line_(max_line) {}

  // Decodes the complete lines in `bytes` (and the partial line held from
  // before), calling `handler` for each event. Blank lines are skipped. The
  // first error is returned now and for every later call.
  std::optional<ProgressError> feed(std::string_view bytes, const ProgressHandler& handler);

  // At the end of the stream: decodes a last line that lacks its '\n'.
  std::optional<ProgressError> finish(const ProgressHandler& handler);

 private:
  std::optional<ProgressError> line(std::string_view text, const ProgressHandler& handler);

  std::size_t max_line_;
  std::string partial_;
  std::size_t lines_ = 0;
  std::optional<ProgressError> error_;
};

}  // namespace enclaver::image::engine
