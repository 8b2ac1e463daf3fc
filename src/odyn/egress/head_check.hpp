// The parts of RFC 9112 strictness (D7) that Boost.Beast's parser does not
// enforce, checked on the raw request head and on its parsed fields:
// sans-IO, fuzzed with the target parser.
//
// Beast already refuses: whitespace before a colon, bare CR or LF line
// ends, control bytes in values, Content-Length together with
// Transfer-Encoding, Content-Length values that disagree, a second
// Transfer-Encoding after a chunked one. It accepts, and we refuse:
// obsolete line folding (a header line starting with SP or HTAB), a
// duplicate Host, Transfer-Encoding whose last coding is not chunked (a
// request body whose length the proxy and the server could judge
// differently), and more header fields than the limit.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace enclaver::odyn::egress {

// Where the head ends in `bytes` (the index just past "\r\n\r\n"), or
// nullopt while it is incomplete.
std::optional<std::size_t> find_head_end(std::string_view bytes);

// Checks a complete head (request line through the empty line) for what the
// parser would let through: obs-fold, whitespace lines, lone CR or LF, NUL.
// Returns why it is refused, or nullopt.
std::optional<std::string> check_head_bytes(std::string_view head);

struct Field {
  std::string_view name;
  std::string_view value;
};

// Checks the parsed fields (D7 and the count limit). Returns why refused.
std::optional<std::string> check_fields(const std::vector<Field>& fields, std::size_t max_fields);

}  // namespace enclaver::odyn::egress
