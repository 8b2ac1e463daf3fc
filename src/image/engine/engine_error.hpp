// EngineError: the one exception type the engine client (docker_engine.hpp)
// throws, carrying the engine's own words. Cancellation is the exception:
// a cancelled call ends with boost::system::system_error
// (operation_aborted), never an EngineError, so a caller can tell "I stopped
// it" from "it failed".
//
// Also the sans-IO decoding of the engine's error bodies.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace enclaver::image::engine {

enum class EngineErrorKind {
  response,    // the engine answered with an HTTP error status and a message
  stream,      // the engine accepted the request, then reported an error in
               // its streamed answer (pull, build, load progress; wait; attach)
  connection,  // the engine could not be reached or the connection failed
  protocol,    // the engine's answer made no sense to us, or its API
               // version is unsupported
};

class EngineError : public std::runtime_error {
 public:
  // `call` says what we were doing ("inspecting image foo:1"); `message` is
  // the engine's own (kind response/stream) or ours (connection/protocol).
  // status: the HTTP status for kind response, else 0.
  EngineError(EngineErrorKind kind, std::string call, unsigned status, std::string message);

  EngineErrorKind kind() const { return kind_; }
  const std::string& call() const { return call_; }
  unsigned status() const { return status_; }
  const std::string& engine_message() const { return message_; }

  // The object (image, container) the call named does not exist.
  bool not_found() const { return kind_ == EngineErrorKind::response && status_ == 404; }
  // The object is in the wrong state (a container that is not running was
  // killed; an image in use was removed; a name already taken).
  bool conflict() const { return kind_ == EngineErrorKind::response && status_ == 409; }

 private:
  EngineErrorKind kind_;
  std::string call_;
  unsigned status_;
  std::string message_;
};

// The message in an error response's body: the "message" of a JSON object
// ({"message": "No such image: foo:latest"}), else the body itself when it
// is short readable text, else "HTTP <status>". Never empty.
std::string error_body_message(unsigned status, std::string_view body);

// `text` made safe for a terminal: trimmed, control characters other than
// newline and tab escaped (\x1b), invalid UTF-8 escaped byte by byte, cut
// after max_len bytes. The engine's messages pass through it: they quote
// names users (or images) chose.
std::string printable_message(std::string_view text, std::size_t max_len = 4000);

}  // namespace enclaver::image::engine
