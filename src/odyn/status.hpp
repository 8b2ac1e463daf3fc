// The status stream's lines (wire.md, "Status stream (17000)"): one JSON
// object per line, at most 1024 bytes with its newline. Sans-IO: encoding
// here, decoding for the sleeve.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/result.hpp"

namespace enclaver::odyn {

inline constexpr std::size_t kMaxStatusLine = 1024;  // bytes, newline included

namespace status {
struct Starting {};
struct Running { std::int64_t pid = 0; };
struct Exited { int code = 0; };
struct Signaled { int signal = 0; };
struct Fatal { std::string error; };
}  // namespace status

using Status = std::variant<status::Starting, status::Running, status::Exited, status::Signaled, status::Fatal>;

// The line for `s`, newline included, never over kMaxStatusLine bytes (a
// long fatal error is cut, on a UTF-8 boundary, and ends with "...").
// Signaled carries both the number and the name ("SIGKILL").
std::string encode_status_line(const Status& s);

// Parses one line (with or without its newline). Error: not JSON, not an
// object, an unknown "status", or a field missing or of the wrong type.
Result<Status> decode_status_line(std::string_view line);

// Whether the app's end (exited, signaled) or odyn's (fatal) is final.
bool is_final(const Status& s);

}  // namespace enclaver::odyn
