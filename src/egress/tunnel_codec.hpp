// The egress tunnel's framing (wire.md, "Egress tunnel"), sans-IO: odyn
// sends one request frame, the host answers one response frame, and after an
// "Ok" every further byte is payload. The shapes are upstream's, byte for
// byte, so that our odyn and our sleeve interoperate with upstream's:
//   frame    = 2-byte little-endian length, then that many bytes of UTF-8 JSON
//   request  = {"host":"example.com","port":443}
//   response = "Ok" | {"Err":{"os_code":111,"message":"Connection refused"}}
//
// Contract:
//  - Decoding is strict, because the host side does not trust odyn (and odyn
//    does not trust the host): a frame longer than kMaxFrame, JSON that does
//    not parse (or is not UTF-8), a duplicated key, a missing or unknown
//    field, a value of the wrong type (port as a string or 443.0), an empty
//    host or a port outside 1..65535 are refused with a reason. JSON
//    whitespace around and inside the value is accepted, as serde does.
//  - FrameReader never consumes a byte beyond its frame: after a response
//    frame come payload bytes, which belong to the caller.
//  - Encoding writes the exact upstream bytes (field order included).
//  - Errors are values (Result), never exceptions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace enclaver::egress {

// The JSON of either frame is tiny; a longer frame is not one of ours.
inline constexpr std::size_t kMaxFrame = 4096;
// The longest host a request may carry (a domain name is at most 253 bytes;
// a Unicode name before IDNA mapping may be longer, but not this long).
inline constexpr std::size_t kMaxRequestHost = 1024;
// The longest message an Err frame carries; longer ones are cut.
inline constexpr std::size_t kMaxErrorMessage = 1024;

// errno values that travel in Err frames. Linux's numbers: the frame carries
// the number, not the name, and upstream's peers are Linux too.
inline constexpr int kEacces = 13;      // refused by policy (or egress is off)
inline constexpr int kEagain = 11;      // too many tunnels at once
inline constexpr int kEproto = 71;      // not the tunnel protocol
inline constexpr int kEtimedout = 110;  // connecting (or resolving) took too long
inline constexpr int kEhostunreach = 113;  // the name does not resolve

struct TunnelRequest {
  std::string host;  // DNS name or IP literal, IPv6 without brackets
  std::uint16_t port = 0;
  friend bool operator==(const TunnelRequest&, const TunnelRequest&) = default;
};

// Why a tunnel could not be opened: the body of an Err frame, plus whether it
// was a timeout (on the wire: os_code 110), which odyn answers with 504.
struct DialError {
  int os_code = 0;
  std::string message;
  bool timed_out = false;
  friend bool operator==(const DialError&, const DialError&) = default;
};

struct TunnelResponse {
  std::optional<DialError> error;  // nullopt: "Ok"
  bool ok() const { return !error.has_value(); }
  friend bool operator==(const TunnelResponse&, const TunnelResponse&) = default;
};

// A whole frame (length prefix included). Refuses a host that is empty, longer
// than kMaxRequestHost or not UTF-8, and port 0.
Result<std::string> encode_request(const TunnelRequest& request);
// Always succeeds, so that the host side can always answer: a message that is
// not UTF-8 has the bad bytes replaced, a long one is cut to kMaxErrorMessage.
std::string encode_response(const TunnelResponse& response);

// The JSON inside one frame (no length prefix).
Result<TunnelRequest> parse_request(std::string_view json);
Result<TunnelResponse> parse_response(std::string_view json);

// Reads one frame from bytes arriving in arbitrary chunks.
//   FrameReader reader;
//   while (reader.wanted() > 0) { read at most reader.wanted() bytes; reader.feed(them); }
//   if (reader.failed()) ... reader.error(); else ... reader.payload();
// wanted() is exactly how many more bytes the frame needs, so a reader that
// asks for no more than that never takes a byte past the frame.
class FrameReader {
 public:
  explicit FrameReader(std::size_t max_frame = kMaxFrame) : max_(max_frame) {}

  // Consumes bytes of this frame from the front of `chunk` and returns how
  // many: never more than wanted(), and nothing once complete or failed.
  std::size_t feed(std::string_view chunk);

  // Bytes still needed: 0 once complete or failed.
  std::size_t wanted() const;
  bool complete() const { return state_ == State::complete; }
  bool failed() const { return state_ == State::failed; }
  const std::string& error() const { return error_; }
  // The frame's JSON (valid once complete).
  const std::string& payload() const { return payload_; }

 private:
  enum class State { header, body, complete, failed };
  std::size_t max_;
  State state_ = State::header;
  unsigned char header_[2] = {0, 0};
  std::size_t header_got_ = 0;
  std::size_t length_ = 0;
  std::string payload_;
  std::string error_;
};

}  // namespace enclaver::egress
