// The egress tunnel's catalogue: what the host side must answer for each
// request, with one policy and one static hosts table for all cases, so that
// the same table can run against the host side alone (catalogue_test.cpp)
// and end to end (odyn's proxy -> tunnel -> sleeve), where the hosts table
// is the sleeve's StaticResolver.
//
// Targets: every allowed case dials a local server, so nothing leaves the
// machine. The runner provides
//   - echo:      a TCP server on every local address (0.0.0.0) at some port:
//                127.0.0.2 (explicitly allowed) and 127.0.0.1 (the name `host`);
//   - closed:    a port on 127.0.0.2 where nothing listens (Err 111);
//   - blackhole: a listener on 127.0.0.2 whose backlog is full, so a connect
//                gets no answer (Err 110 within the connect timeout).
// Refused cases never dial: their port is irrelevant.
#pragma once

#include <string>
#include <vector>

namespace enclaver::egress::catalogue {

enum class Target { none, echo, closed, blackhole };

struct Case {
  const char* description;
  std::string host;  // as the tunnel request carries it
  Target target = Target::none;
  int os_code = 13;     // 0: "Ok"
  const char* reason = "";  // a substring of the Err message
};

inline const std::vector<std::string> kAllow = {"*.allowed.test", "host", "127.0.0.2"};
inline const std::vector<std::string> kDeny = {"blocked.allowed.test", "203.0.113.0/24"};

// The static resolver's table (StaticResolver::parse).
inline constexpr const char* kHosts = R"(# egress tunnel catalogue
127.0.0.2        ok.allowed.test closed.allowed.test slow.allowed.test
::ffff:127.0.0.2 ok6.allowed.test
127.0.0.1        localhost localhost.allowed.test blocked.allowed.test
10.0.0.5         private.allowed.test
172.16.3.4       private172.allowed.test
192.168.1.1      private192.allowed.test
169.254.1.1      linklocal.allowed.test
169.254.169.254  imds.allowed.test
100.64.0.1       cgnat.allowed.test
::ffff:10.0.0.1  mapped.allowed.test
::1              loop6.allowed.test
fe80::1          linklocal6.allowed.test
64:ff9b::a00:1   nat64.allowed.test
2002:7f00:1::1   sixtofour.allowed.test
2001::1          teredo.allowed.test
fd00::1          ula.allowed.test
::7f00:1         compat.allowed.test
0.0.0.0          unspecified.allowed.test
255.255.255.255  broadcast.allowed.test
224.0.0.1        multicast.allowed.test
240.0.0.1        reserved.allowed.test
127.0.0.2        mixed.allowed.test
10.0.0.1         mixed.allowed.test
203.0.113.7      denied.allowed.test
198.51.100.7     mixed2.allowed.test
169.254.169.254  mixed2.allowed.test
)";

inline const std::vector<Case> kCases = {
    // Allowed: these must keep working.
    {"allowed name resolving to an explicitly allowed address", "ok.allowed.test", Target::echo, 0},
    {"case and one trailing dot are normalised", "OK.Allowed.Test.", Target::echo, 0},
    {"explicitly allowed IP literal", "127.0.0.2", Target::echo, 0},
    {"name resolving to IPv4-mapped IPv6 is its IPv4 address", "ok6.allowed.test", Target::echo, 0},
    {"IPv4-mapped IPv6 literal is its IPv4 address", "::ffff:127.0.0.2", Target::echo, 0},
    {"host listed literally is the parent's loopback", "host", Target::echo, 0},
    {"HOST. normalises to host", "HOST.", Target::echo, 0},
    // Names the policy refuses (never resolved).
    {"no allow rule matches", "evil.test", Target::none, 13, "no allow rule matches"},
    {"deny wins over allow", "blocked.allowed.test", Target::none, 13, "denied by egress.deny[0]"},
    {"* is exactly one label", "a.b.allowed.test", Target::none, 13, "no allow rule matches"},
    {"*.allowed.test does not match allowed.test", "allowed.test", Target::none, 13, "no allow rule matches"},
    {"localhost is just a name nothing allows", "localhost", Target::none, 13, "no allow rule matches"},
    {"IDN homograph (Cyrillic a) is another name", "ok.\xd0\xb0llowed.test", Target::none, 13, "no allow rule matches"},
    {"suffix trick", "ok.allowed.test.evil.test", Target::none, 13, "no allow rule matches"},
    // Allowed names resolving where they must not (D1, D2, D9).
    {"name resolving to loopback", "localhost.allowed.test", Target::none, 13, "loopback"},
    {"name resolving to 10/8", "private.allowed.test", Target::none, 13, "private"},
    {"name resolving to 172.16/12", "private172.allowed.test", Target::none, 13, "private"},
    {"name resolving to 192.168/16", "private192.allowed.test", Target::none, 13, "private"},
    {"name resolving to link-local", "linklocal.allowed.test", Target::none, 13, "link-local"},
    {"name resolving to IMDS", "imds.allowed.test", Target::none, 13, "link-local"},
    {"name resolving to CGNAT", "cgnat.allowed.test", Target::none, 13, "cgnat"},
    {"name resolving to IPv4-mapped private", "mapped.allowed.test", Target::none, 13, "private"},
    {"name resolving to ::1", "loop6.allowed.test", Target::none, 13, "loopback"},
    {"name resolving to fe80::1", "linklocal6.allowed.test", Target::none, 13, "link-local"},
    {"name resolving to NAT64", "nat64.allowed.test", Target::none, 13, "nat64"},
    {"name resolving to 6to4", "sixtofour.allowed.test", Target::none, 13, "6to4"},
    {"name resolving to Teredo", "teredo.allowed.test", Target::none, 13, "teredo"},
    {"name resolving to unique-local", "ula.allowed.test", Target::none, 13, "unique-local"},
    {"name resolving to IPv4-compatible IPv6 (D9)", "compat.allowed.test", Target::none, 13, "ipv4-compatible"},
    {"name resolving to 0.0.0.0", "unspecified.allowed.test", Target::none, 13, "unspecified"},
    {"name resolving to broadcast", "broadcast.allowed.test", Target::none, 13, "broadcast"},
    {"name resolving to multicast", "multicast.allowed.test", Target::none, 13, "multicast"},
    {"name resolving to 240/4", "reserved.allowed.test", Target::none, 13, "reserved"},
    {"one private address among allowed ones refuses the name (D2)", "mixed.allowed.test", Target::none, 13,
     "resolved address 10.0.0.1"},
    {"IMDS after a public address refuses the name (D2)", "mixed2.allowed.test", Target::none, 13,
     "resolved address 169.254.169.254"},
    {"deny applies to resolved addresses", "denied.allowed.test", Target::none, 13, "denied by egress.deny[1]"},
    {"name that does not resolve", "nowhere.allowed.test", Target::none, 113, "cannot resolve"},
    // IP literals.
    {"loopback literal not listed", "127.0.0.1", Target::none, 13, "no allow rule matches"},
    {"private literal", "10.0.0.1", Target::none, 13, "no allow rule matches"},
    {"IMDS literal", "169.254.169.254", Target::none, 13, "no allow rule matches"},
    {"IPv4-mapped loopback literal", "::ffff:127.0.0.1", Target::none, 13, "no allow rule matches"},
    {"IPv6 loopback literal", "::1", Target::none, 13, "no allow rule matches"},
    {"bracketed IPv6 loopback literal", "[::1]", Target::none, 13, "no allow rule matches"},
    {"NAT64 literal of loopback", "64:ff9b::7f00:2", Target::none, 13, "no allow rule matches"},
    {"6to4 literal of loopback", "2002:7f00:2::", Target::none, 13, "no allow rule matches"},
    {"denied literal", "203.0.113.1", Target::none, 13, "denied by egress.deny[1]"},
    // Ambiguous or invalid forms (never resolved, never matched as names).
    {"decimal integer address", "2130706434", Target::none, 13, "invalid host"},
    {"hex short form", "0x7f.2", Target::none, 13, "invalid host"},
    {"short dotted form", "127.2", Target::none, 13, "invalid host"},
    {"octal parts", "0177.0.0.2", Target::none, 13, "invalid host"},
    {"leading zero", "127.0.0.02", Target::none, 13, "invalid host"},
    {"five parts", "127.0.0.2.1", Target::none, 13, "invalid host"},
    {"dotted quad with a trailing dot", "127.0.0.2.", Target::none, 13, "invalid host"},
    {"bracketed IPv4", "[127.0.0.2]", Target::none, 13, "invalid host"},
    {"zone id", "fe80::1%eth0", Target::none, 13, "invalid host"},
    {"percent-encoding", "ok%2eallowed.test", Target::none, 13, "invalid host"},
    {"userinfo", "ok.allowed.test@evil.test", Target::none, 13, "invalid host"},
    {"port inside the host", "ok.allowed.test:443", Target::none, 13, "invalid host"},
    {"wildcard in a request", "*.allowed.test", Target::none, 13, "invalid host"},
    {"underscore", "under_score.allowed.test", Target::none, 13, "invalid host"},
    {"empty label", "a..allowed.test", Target::none, 13, "invalid host"},
    {"two trailing dots", "ok.allowed.test..", Target::none, 13, "invalid host"},
    {"label of 64 bytes", std::string(64, 'a') + ".allowed.test", Target::none, 13, "invalid host"},
    {"name over 253 bytes", std::string(60, 'a') + "." + std::string(60, 'b') + "." + std::string(60, 'c') + "." +
                                std::string(60, 'd') + ".allowed.test",
     Target::none, 13, "invalid host"},
    {"NUL inside the name", std::string("evil.test\0.allowed.test", 23), Target::none, 13, "invalid host"},
    {"space inside the name", "ok.allowed.test evil.test", Target::none, 13, "invalid host"},
    // Dialing.
    {"nothing listens: connection refused", "closed.allowed.test", Target::closed, 111, "Connection refused"},
    {"no answer: connect timeout", "slow.allowed.test", Target::blackhole, 110, "timed out"},
};

// The hosts line for "host" is deliberately absent: the host side never
// resolves `host`, it is 127.0.0.1 by definition.

}  // namespace enclaver::egress::catalogue
