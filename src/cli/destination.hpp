// Parsing of HOST[:PORT] destinations as `enclaver policy check` takes them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace enclaver::cli {

struct Destination {
  std::string host;  // as given, IPv6 still in brackets (what the proxy would see)
  std::uint16_t port = 443;
};

// "example.com", "example.com:80", "[2001:db8::1]:443", "10.0.0.1". The port
// defaults to 443; it is 1..65535 in decimal digits.
Result<Destination> parse_destination(std::string_view text);

}  // namespace enclaver::cli
