// The request target of a proxy request (egress.md "Proxy behaviour", D4,
// D6, D11, D13, D15): sans-IO, so that it is fuzzed on its own
// (tests/fuzz/egress_proxy_request_fuzz.cpp).
//
// Contract:
//  - parse_target() takes the method and the request-target exactly as they
//    stood in the request line and says where the request goes, or refuses
//    it: 400 for what is not valid syntax for its form, 403 for valid
//    syntax whose host fails normalisation (policy::normalize_host).
//  - decide() adds the policy: 403 when Policy::check() denies.
//  - The Host header never enters here: the destination comes from the
//    request target alone.
//
// Forms:
//  - CONNECT authority-form `host:port`: the port is required; no userinfo
//    (any '@' is 400, D11); IPv6 in brackets.
//  - absolute-form `http://...` and `https://...` (scheme case-insensitive),
//    default ports 80 and 443. One '@' in the URI separates userinfo, which
//    is dropped: the host after it is the destination, for the policy and
//    the dial alike. More than one unencoded '@' anywhere in the URI is 400
//    (D11 as written: "an absolute-form URI with more than one '@'").
//  - origin-form (`/path`), asterisk-form and anything else: 400.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "policy/policy.hpp"

namespace enclaver::odyn::egress {

enum class Scheme { connect, http, https };

struct Target {
  Scheme scheme = Scheme::connect;
  // As requested (IPv6 in brackets), without userinfo: for messages and
  // for the policy check.
  std::string host;
  std::uint16_t port = 0;
  // The normalised host, as the tunnel wants it (a lower-case A-label name,
  // or an IP literal without brackets): what is dialled and, for https,
  // what the server certificate must name.
  std::string dial_host;
  bool dial_host_is_ip = false;
  // Absolute-form only: the origin-form target to forward ("/" at least)
  // and the Host header to send (host, plus ":port" when not the default).
  std::string path;
  std::string host_header;
};

struct Refusal {
  int status = 400;     // 400 or 403
  std::string reason;   // why, for the client and the log
  // Known once the authority parsed: the host as requested and the port,
  // for the 403 body "blocked by egress policy: <host>:<port> (<reason>)".
  std::string host;
  std::uint16_t port = 0;
};

using Decision = std::variant<Target, Refusal>;

// The syntax and normalisation checks; no policy.
Decision parse_target(std::string_view method, std::string_view target);

// parse_target(), then the policy: a denied destination is a 403 whose
// reason is the policy's.
Decision decide(std::string_view method, std::string_view target, const policy::Policy& policy);

// D13: decimal digits only, 1..65535, leading zeros are decimal, no sign.
std::optional<std::uint16_t> parse_port(std::string_view text);

// "host:port" as the 403 body and the logs write it (IPv6 stays bracketed).
std::string host_port(const Refusal& refusal);
std::string host_port(const Target& target);

}  // namespace enclaver::odyn::egress
