// How the host side turns a name into addresses, once per tunnel (egress.md,
// "Host side": resolve once, check every address, dial a checked one, so DNS
// rebinding cannot swap the address between the check and the dial).
//
// An interface, so that tests and the integration tests resolve names from a
// fixed table (StaticResolver) that never falls back to DNS: "a name that
// resolves to a private address" is then real and deterministic.
//
// Contract: resolve() completes within `timeout` (os_code 110, timed_out),
// returns at least one address or a DialError (os_code 113 EHOSTUNREACH,
// "cannot resolve <name>: <why>"), never throws. IPv4-mapped IPv6 answers
// come back as IPv4 (policy::IpAddress's convention), duplicates removed,
// order kept (the order the host side tries them in).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/result.hpp"
#include "egress/tunnel_codec.hpp"
#include "policy/policy.hpp"

namespace enclaver::egress {

using Addresses = std::vector<policy::IpAddress>;
using Resolution = std::variant<Addresses, DialError>;

class Resolver {
 public:
  virtual ~Resolver() = default;
  // `name` is a normalised domain name (policy::normalize_host), never an IP
  // literal. Runs on the calling coroutine's executor.
  virtual boost::asio::awaitable<Resolution> resolve(std::string name,
                                                     std::chrono::steady_clock::duration timeout) = 0;
};

// The system's resolver (getaddrinfo, through boost::asio::ip::tcp::resolver).
// getaddrinfo cannot be interrupted: on a timeout the answer is abandoned
// (the tunnel is answered at once), and the lookup finishes in asio's
// resolver thread. A fully static program has no NSS modules to load:
// check that names resolve in the image it ships in.
class SystemResolver final : public Resolver {
 public:
  boost::asio::awaitable<Resolution> resolve(std::string name, std::chrono::steady_clock::duration timeout) override;
};

// A fixed table in hosts-file form: one "ADDRESS NAME..." per line, '#'
// starts a comment, names compared case-insensitively without a trailing
// dot; a name listed on several lines gets the addresses of all of them, in
// order. Unknown names do not resolve: there is no fallback to DNS.
class StaticResolver final : public Resolver {
 public:
  // Refuses a line whose address is not a canonical IP literal
  // (policy::parse_ip) or that has no name, saying which line.
  static Result<StaticResolver> parse(std::string_view hosts);

  // The addresses of `name`, or an empty list.
  Addresses lookup(std::string_view name) const;

  boost::asio::awaitable<Resolution> resolve(std::string name, std::chrono::steady_clock::duration timeout) override;

 private:
  std::map<std::string, Addresses, std::less<>> names_;
};

}  // namespace enclaver::egress
