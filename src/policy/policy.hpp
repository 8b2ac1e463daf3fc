// The egress policy (../shared/spec/egress.md): sans-IO, shared by odyn (which
// checks what the app asks for) and the sleeve's host side (which checks what
// it is about to dial, resolved addresses included).
//
// Contract:
//  - parse_pattern() accepts exactly the pattern grammar of egress.md and
//    rejects everything else with a reason (the manifest turns that reason
//    into an error naming the field, e.g. egress.allow[2]).
//  - normalize_host() turns a requested host into a canonical Host (a
//    lower-case A-label domain name, or an IP address) or refuses it.
//  - Policy::check() answers allowed / denied with the rule or reason for a
//    requested host and port; Policy::check_resolved() answers for one
//    address that a name resolved to (host side; special ranges apply).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.hpp"

namespace enclaver::policy {

// An IPv4 or IPv6 address. IPv4-mapped IPv6 (::ffff:a.b.c.d) is always
// stored as the IPv4 address.
struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // v4 uses the first 4 bytes

  static IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d);
  std::string to_string() const;  // canonical text (inet_ntop), no brackets
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// Parses a canonical IP literal: dotted quad with four decimal parts 0..255
// and no leading zeros, or an IPv6 address as inet_pton takes it (no
// brackets, no zone id). ::ffff:a.b.c.d becomes IPv4.
std::optional<IpAddress> parse_ip(std::string_view text);

// A network contains addresses of its own family only, as in AWS security
// groups: ::/0 is "every IPv6 address" and never contains an IPv4 address
// (nor, therefore, ::ffff:a.b.c.d, which is IPv4). A pattern inside
// ::ffff:0:0/96 (::ffff:10.0.0.0/104) is IPv4 and is stored so (10.0.0.0/8).
struct Cidr {
  IpAddress network;
  int prefix = 0;  // 0..32 or 0..128
  bool contains(const IpAddress& ip) const;
  std::string to_string() const;
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// Domain pattern, stored as lower-case A-label labels, e.g. {"**", "amazonaws", "com"}.
// matches() is the pure label match for a normalised name (ASCII case is
// ignored); it knows nothing of the special name `host`, which Policy handles.
struct DomainPattern {
  std::vector<std::string> labels;
  bool matches(std::string_view normalized_name) const;
  std::string to_string() const;
};

struct Pattern {
  std::variant<DomainPattern, Cidr> value;  // an IP literal is a /32 or /128 Cidr
  std::string text;                         // as written in the manifest
};

// Parses one allow/deny pattern. The error says why, without the field name.
Result<Pattern> parse_pattern(std::string_view text);

// A normalised requested host: a domain name (lower case, A-labels, no
// trailing dot) or an IP address.
struct Host {
  std::variant<std::string, IpAddress> value;
  bool is_ip() const { return value.index() == 1; }
  std::string to_string() const;  // name, or IP text (v6 without brackets)
};

// Normalises a requested host as the proxy receives it: IPv6 literals in
// brackets, everything else bare. Refuses ambiguous numeric forms, '%',
// '*', '_', empty or over-long labels, invalid IDNs. The error says why.
// A bare IPv6 literal (no brackets) is accepted as well, because the egress
// tunnel request carries IP literals without brackets; a bracketed
// non-IPv6 ("[1.2.3.4]") and zone ids are refused. A name whose last label
// is numeric ("foo.123", "foo.0x1f") is refused like D5's numeric forms, and
// so is a name that becomes a dotted quad only after IDNA mapping
// (full-width digits) or by dropping its trailing dot ("1.2.3.4.").
Result<Host> normalize_host(std::string_view requested);

// Special ranges of egress.md (loopback, link-local, private, CGNAT,
// multicast, unspecified, broadcast, NAT64, 6to4, Teredo, ULA, IPv4-compatible).
// Returns the range's name ("loopback", "link-local", ...) or nullopt.
std::optional<std::string> special_range(const IpAddress& ip);

struct Verdict {
  bool allowed = false;
  std::string reason;  // which allow rule matched, or why it was denied
};

class Policy {
 public:
  // Builds a policy from manifest pattern lists. On error, the message names
  // the list and index ("egress.allow[2]: ...").
  static Result<Policy> create(const std::vector<std::string>& allow,
                               const std::vector<std::string>& deny);

  bool enabled() const { return !allow_.empty(); }

  // Odyn side: a requested host (as in a CONNECT or absolute URI, IPv6 in
  // brackets) and port.
  Verdict check(std::string_view requested_host, std::uint16_t port) const;
  // Same, for an already normalised host.
  Verdict check(const Host& host, std::uint16_t port) const;

  // Host side: one address that `host` resolved to. Applies IP allow/deny
  // rules and the special-range rule (D1, D9). The literal name `host` (the
  // parent's loopback) is allowed only when listed literally in allow.
  Verdict check_resolved(const Host& host, const IpAddress& address, std::uint16_t port) const;
  // D2 in one call: every address the name resolved to must pass
  // check_resolved(), or the whole name is refused (with the first refusal).
  // An empty list is refused: there is nothing checked to dial.
  Verdict check_resolved_all(const Host& host, const std::vector<IpAddress>& addresses,
                             std::uint16_t port) const;

  const std::vector<Pattern>& allow() const { return allow_; }
  const std::vector<Pattern>& deny() const { return deny_; }

 private:
  std::vector<Pattern> allow_;
  std::vector<Pattern> deny_;
};

}  // namespace enclaver::policy
