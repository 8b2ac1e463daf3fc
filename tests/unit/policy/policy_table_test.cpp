// Policy decisions, table-driven: every example of egress.md, a table of
// requested (host, port) verdicts, the matcher-level bypass catalogue, and the
// host side's checks of resolved addresses (D1, D2, D3, D9).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policy/policy.hpp"

namespace enclaver::policy {
namespace {

// A typical manifest: a few services, IMDS, one VPC subnet, the parent.
const std::vector<std::string> kMainAllow = {
    "example.com",         // 0
    "**.amazonaws.com",    // 1
    "*.github.com",        // 2
    "api.*.stripe.com",    // 3
    "bücher.de",           // 4
    "1.2.3.4",             // 5
    "203.0.113.0/24",      // 6
    "2001:db8::/32",       // 7
    "169.254.169.254",     // 8  IMDS, explicitly
    "10.1.0.0/16",         // 9  a VPC service
    "host",                // 10 the parent's loopback
    "apple.com",           // 11
    "fd00:ec2::254",       // 12 IMDS over IPv6
};
const std::vector<std::string> kMainDeny = {
    "evil.amazonaws.com",         // 0
    "**.internal.amazonaws.com",  // 1
    "203.0.113.66",               // 2
    "10.1.2.0/24",                // 3
};

// Everything public: catch-alls that must never open special ranges (D1).
const std::vector<std::string> kOpenAllow = {"**", "0.0.0.0/0", "::/0"};
const std::vector<std::string> kOpenDeny = {"evil.com", "**.evil.com"};

enum class Which { kMain, kOpen, kOff };

const Policy& policy(Which which) {
  // Built once per process; const afterwards, so no mutable shared state.
  static const Policy main = Policy::create(kMainAllow, kMainDeny).value();
  static const Policy open = Policy::create(kOpenAllow, kOpenDeny).value();
  static const Policy off = Policy::create({}, {}).value();
  switch (which) {
    case Which::kMain: return main;
    case Which::kOpen: return open;
    case Which::kOff: break;
  }
  return off;
}

struct Case {
  Which policy;
  std::string host;
  std::uint16_t port;
  bool allowed;
  std::string reason;  // substring of Verdict::reason
};

// Long hosts are cut so a failure stays readable.
std::ostream& operator<<(std::ostream& os, const Case& c) {
  const std::string shown = c.host.size() > 80 ? c.host.substr(0, 80) + "..." : c.host;
  return os << "\"" << shown << "\":" << c.port << " -> " << (c.allowed ? "allowed" : "denied");
}

const std::string kNoRule = "no allow rule matches";
const std::string kInvalid = "invalid host: ";

// An expected reason starting with kInvalid means: the verdict reason starts
// with "invalid host: " and contains the rest somewhere after it.
void expect_verdict(const Verdict& v, const Case& c) {
  EXPECT_EQ(v.allowed, c.allowed) << c << " (reason: " << v.reason << ")";
  std::string want = c.reason;
  if (want.rfind(kInvalid, 0) == 0) {
    EXPECT_EQ(v.reason.rfind(kInvalid, 0), 0u) << c << ": reason \"" << v.reason << "\" is not an invalid host";
    want = want.substr(kInvalid.size());
  }
  EXPECT_NE(v.reason.find(want), std::string::npos) << c << ": reason \"" << v.reason << "\" lacks \"" << want << "\"";
}

class CheckTable : public ::testing::TestWithParam<Case> {};

TEST_P(CheckTable, Verdict) {
  const Case& c = GetParam();
  expect_verdict(policy(c.policy).check(c.host, c.port), c);
}

INSTANTIATE_TEST_SUITE_P(
    Main, CheckTable,
    ::testing::Values(
        Case{Which::kMain, "example.com", 443, true, "allowed by egress.allow[0] \"example.com\""},
        Case{Which::kMain, "example.com", 80, true, "egress.allow[0]"},
        Case{Which::kMain, "example.com", 1, true, "egress.allow[0]"},
        Case{Which::kMain, "EXAMPLE.COM.", 443, true, "egress.allow[0]"},
        Case{Which::kMain, "Example.Com", 8443, true, "egress.allow[0]"},
        Case{Which::kMain, "www.example.com", 443, false, kNoRule},
        Case{Which::kMain, "example.org", 443, false, kNoRule},
        Case{Which::kMain, "s3.amazonaws.com", 443, true, "allowed by egress.allow[1] \"**.amazonaws.com\""},
        Case{Which::kMain, "a.b.amazonaws.com", 443, true, "egress.allow[1]"},
        Case{Which::kMain, "sqs.eu-west-1.amazonaws.com.", 443, true, "egress.allow[1]"},
        Case{Which::kMain, "amazonaws.com", 443, false, kNoRule},
        Case{Which::kMain, "evil.amazonaws.com", 443, false, "denied by egress.deny[0] \"evil.amazonaws.com\""},
        Case{Which::kMain, "EVIL.amazonaws.com.", 443, false, "egress.deny[0]"},
        Case{Which::kMain, "x.internal.amazonaws.com", 443, false, "denied by egress.deny[1]"},
        Case{Which::kMain, "a.b.internal.amazonaws.com", 443, false, "egress.deny[1]"},
        Case{Which::kMain, "internal.amazonaws.com", 443, true, "egress.allow[1]"},
        Case{Which::kMain, "api.github.com", 443, true, "allowed by egress.allow[2] \"*.github.com\""},
        Case{Which::kMain, "github.com", 443, false, kNoRule},
        Case{Which::kMain, "a.b.github.com", 443, false, kNoRule},
        Case{Which::kMain, "api.eu.stripe.com", 443, true, "egress.allow[3]"},
        Case{Which::kMain, "api.stripe.com", 443, false, kNoRule},
        Case{Which::kMain, "api.a.b.stripe.com", 443, false, kNoRule},
        Case{Which::kMain, "bücher.de", 443, true, "allowed by egress.allow[4] \"bücher.de\""},
        Case{Which::kMain, "BÜCHER.DE", 443, true, "egress.allow[4]"},
        Case{Which::kMain, "xn--bcher-kva.de", 443, true, "egress.allow[4]"},
        Case{Which::kMain, "bucher.de", 443, false, kNoRule},
        Case{Which::kMain, "apple.com", 443, true, "egress.allow[11]"},
        Case{Which::kMain, "\xd0\xb0pple.com", 443, false, kNoRule},  // Cyrillic а
        Case{Which::kMain, "1.2.3.4", 443, true, "allowed by egress.allow[5] \"1.2.3.4\""},
        Case{Which::kMain, "[::ffff:1.2.3.4]", 443, true, "egress.allow[5]"},
        Case{Which::kMain, "::ffff:1.2.3.4", 443, true, "egress.allow[5]"},
        Case{Which::kMain, "1.2.3.5", 443, false, kNoRule},
        Case{Which::kMain, "203.0.113.7", 443, true, "egress.allow[6]"},
        Case{Which::kMain, "203.0.113.66", 443, false, "denied by egress.deny[2] \"203.0.113.66\""},
        Case{Which::kMain, "[::ffff:203.0.113.66]", 443, false, "egress.deny[2]"},
        Case{Which::kMain, "[2001:db8::1]", 443, true, "egress.allow[7]"},
        Case{Which::kMain, "[2001:DB8:0:0::1]", 443, true, "egress.allow[7]"},
        Case{Which::kMain, "[2001:db9::1]", 443, false, kNoRule},
        Case{Which::kMain, "169.254.169.254", 80, true, "allowed by egress.allow[8] \"169.254.169.254\""},
        Case{Which::kMain, "[::ffff:169.254.169.254]", 80, true, "egress.allow[8]"},
        Case{Which::kMain, "169.254.169.253", 80, false, kNoRule},
        Case{Which::kMain, "[fd00:ec2::254]", 80, true, "egress.allow[12]"},
        Case{Which::kMain, "10.1.5.5", 5432, true, "allowed by egress.allow[9] \"10.1.0.0/16\""},
        Case{Which::kMain, "10.1.2.3", 5432, false, "denied by egress.deny[3] \"10.1.2.0/24\""},
        Case{Which::kMain, "10.2.0.1", 5432, false, kNoRule},
        Case{Which::kMain, "host", 8080, true, "allowed by egress.allow[10] \"host\""},
        Case{Which::kMain, "HOST.", 8080, true, "egress.allow[10]"},
        Case{Which::kMain, "localhost", 8080, false, kNoRule},
        Case{Which::kMain, "127.0.0.1", 8080, false, kNoRule},
        Case{Which::kMain, "0x7f.1", 443, false, kInvalid + "\"0x7f.1\" is an ambiguous numeric host"},
        Case{Which::kMain, "2130706433", 443, false, "ambiguous numeric"},
        Case{Which::kMain, "127.1", 443, false, "ambiguous numeric"},
        Case{Which::kMain, "0177.0.0.1", 443, false, "ambiguous numeric"},
        Case{Which::kMain, "1.2.3.4.", 443, false, kInvalid},
        Case{Which::kMain, "[1.2.3.4]", 443, false, kInvalid},
        Case{Which::kMain, "example.com@evil.com", 443, false, kInvalid + "'@'"},
        Case{Which::kMain, "example.com%00", 443, false, kInvalid + "'%'"},
        Case{Which::kMain, "*.example.com", 443, false, kInvalid + "'*'"},
        Case{Which::kMain, "example..com", 443, false, kInvalid + "empty label"},
        Case{Which::kMain, "example.com..", 443, false, kInvalid},
        Case{Which::kMain, "", 443, false, kInvalid + "the host is empty"}));

INSTANTIATE_TEST_SUITE_P(
    CatchAll, CheckTable,
    ::testing::Values(
        Case{Which::kOpen, "anything.example", 443, true, "allowed by egress.allow[0] \"**\""},
        Case{Which::kOpen, "a", 443, true, "egress.allow[0]"},
        Case{Which::kOpen, "localhost", 443, true, "egress.allow[0]"},  // the host side checks what it resolves to
        Case{Which::kOpen, "notevil.com", 443, true, "egress.allow[0]"},
        Case{Which::kOpen, "evil.com", 443, false, "denied by egress.deny[0] \"evil.com\""},
        Case{Which::kOpen, "a.evil.com", 443, false, "denied by egress.deny[1] \"**.evil.com\""},
        Case{Which::kOpen, "EVIL.COM.", 443, false, "egress.deny[0]"},
        Case{Which::kOpen, "host", 443, false, "\"host\" listed literally"},
        Case{Which::kOpen, "8.8.8.8", 53, true, "allowed by egress.allow[1] \"0.0.0.0/0\""},
        Case{Which::kOpen, "[2600::1]", 443, true, "allowed by egress.allow[2] \"::/0\""},
        // D1: catch-alls never unlock special ranges.
        Case{Which::kOpen, "127.0.0.1", 443, false, "special range loopback not explicitly allowed"},
        Case{Which::kOpen, "127.0.0.53", 53, false, "special range loopback"},
        Case{Which::kOpen, "[::1]", 443, false, "special range loopback"},
        Case{Which::kOpen, "[::ffff:127.0.0.1]", 443, false, "special range loopback"},
        Case{Which::kOpen, "169.254.169.254", 80, false, "special range link-local"},
        Case{Which::kOpen, "[fe80::1]", 80, false, "special range link-local"},
        Case{Which::kOpen, "10.0.0.1", 443, false, "special range private"},
        Case{Which::kOpen, "172.16.5.5", 443, false, "special range private"},
        Case{Which::kOpen, "192.168.0.1", 443, false, "special range private"},
        Case{Which::kOpen, "100.64.1.1", 443, false, "special range cgnat"},
        Case{Which::kOpen, "224.0.0.1", 443, false, "special range multicast"},
        Case{Which::kOpen, "[ff02::1]", 443, false, "special range multicast"},
        Case{Which::kOpen, "0.0.0.0", 443, false, "special range unspecified"},
        Case{Which::kOpen, "[::]", 443, false, "special range unspecified"},
        Case{Which::kOpen, "255.255.255.255", 443, false, "special range broadcast"},
        Case{Which::kOpen, "[::127.0.0.1]", 443, false, "special range ipv4-compatible"},
        Case{Which::kOpen, "[64:ff9b::7f00:1]", 443, false, "special range nat64"},
        Case{Which::kOpen, "[2002:7f00:1::]", 443, false, "special range 6to4"},
        Case{Which::kOpen, "[2001::1]", 443, false, "special range teredo"},
        Case{Which::kOpen, "[fc00::1]", 443, false, "special range unique-local"},
        Case{Which::kOpen, "[fd00:ec2::254]", 443, false, "special range unique-local"},
        Case{Which::kOpen, "1.1.1.1", 443, true, "egress.allow[1]"}));

INSTANTIATE_TEST_SUITE_P(Off, CheckTable,
                         ::testing::Values(Case{Which::kOff, "example.com", 443, false, "egress is disabled"},
                                           Case{Which::kOff, "1.2.3.4", 443, false, "egress is disabled"},
                                           Case{Which::kOff, "host", 443, false, "egress is disabled"}));

// The matcher-level bypass catalogue: each shape an attacker (or a confused
// client) might use to reach something the policy does not allow, with its
// expected outcome. The proxy's end-to-end catalogue builds on these.
const std::vector<std::string> kBypassAllow = {"allowed.com", "*.allowed.com", "8.8.8.8"};
const std::vector<std::string> kBypassDeny = {"blocked.allowed.com"};

class BypassCatalogue : public ::testing::TestWithParam<Case> {};

TEST_P(BypassCatalogue, Outcome) {
  static const Policy bypass = Policy::create(kBypassAllow, kBypassDeny).value();
  const Case& c = GetParam();
  expect_verdict(bypass.check(c.host, c.port), c);
}

const std::string k63 = std::string(63, 'a');

INSTANTIATE_TEST_SUITE_P(
    Catalogue, BypassCatalogue,
    ::testing::Values(
        // Userinfo and URL pieces smuggled into the host.
        Case{Which::kMain, "allowed.com@evil.com", 443, false, kInvalid + "'@'"},
        Case{Which::kMain, "evil.com#allowed.com", 443, false, kInvalid + "'#'"},
        Case{Which::kMain, "evil.com?allowed.com", 443, false, kInvalid + "'?'"},
        Case{Which::kMain, "evil.com/allowed.com", 443, false, kInvalid + "'/'"},
        Case{Which::kMain, "evil.com\\allowed.com", 443, false, kInvalid},
        Case{Which::kMain, "allowed.com:80", 443, false, kInvalid},
        Case{Which::kMain, "allowed.com evil.com", 443, false, kInvalid + "whitespace"},
        Case{Which::kMain, "allowed.com\r\nHost: evil.com", 443, false, kInvalid},
        Case{Which::kMain, std::string("allowed.com\0.evil.com", 21), 443, false, kInvalid},
        Case{Which::kMain, "allowed.com\t", 443, false, kInvalid},
        Case{Which::kMain, "[allowed.com]", 443, false, kInvalid + "brackets are only for IPv6"},
        // Suffix and prefix tricks.
        Case{Which::kMain, "allowed.com.evil.com", 443, false, kNoRule},
        Case{Which::kMain, "evilallowed.com", 443, false, kNoRule},
        Case{Which::kMain, "allowed.co", 443, false, kNoRule},
        // Trailing dots, empty labels, case.
        Case{Which::kMain, "allowed.com.", 443, true, "egress.allow[0]"},
        Case{Which::kMain, "allowed.com..", 443, false, kInvalid + "empty label"},
        Case{Which::kMain, "a..allowed.com", 443, false, kInvalid + "empty label"},
        Case{Which::kMain, ".allowed.com", 443, false, kInvalid + "empty label"},
        Case{Which::kMain, "ALLOWED.COM", 443, true, "egress.allow[0]"},
        Case{Which::kMain, "BLOCKED.Allowed.Com", 443, false, "denied by egress.deny[0]"},
        Case{Which::kMain, "blocked.allowed.com.", 443, false, "denied by egress.deny[0]"},
        // Wildcard and underscore characters in the request itself.
        Case{Which::kMain, "*.allowed.com", 443, false, kInvalid + "'*'"},
        Case{Which::kMain, "_x.allowed.com", 443, false, kInvalid + "'_'"},
        // Percent-encoding is never decoded (D6).
        Case{Which::kMain, "%61llowed.com", 443, false, kInvalid + "'%'"},
        Case{Which::kMain, "allowed.com%2eevil.com", 443, false, kInvalid + "'%'"},
        // IDN: homographs are other names; full-width forms are the same name.
        Case{Which::kMain, "\xd0\xb0llowed.com", 443, false, kNoRule},
        Case{Which::kMain, "\xef\xbd\x81llowed.com", 443, true, "egress.allow[0]"},  // full-width a
        Case{Which::kMain, "blocked\xe3\x80\x82" "allowed.com", 443, false, "denied by egress.deny[0]"},
        Case{Which::kMain, "xn--allowed-zzzz.com", 443, false, kInvalid + "not a valid IDNA A-label"},
        // Numeric forms of 8.8.8.8 and of special addresses (D5).
        Case{Which::kMain, "134744072", 443, false, kInvalid + "\"134744072\" is an ambiguous numeric host"},
        Case{Which::kMain, "0x08080808", 443, false, kInvalid + "ambiguous numeric"},
        Case{Which::kMain, "8.8.2056", 443, false, kInvalid + "ambiguous numeric"},
        Case{Which::kMain, "010.010.010.010", 443, false, kInvalid + "ambiguous numeric"},
        Case{Which::kMain, "8.8.8.8.", 443, false, kInvalid},
        Case{Which::kMain, "2852039166", 443, false, kInvalid + "ambiguous numeric"},
        Case{Which::kMain, "allowed.com.2130706433", 443, false, kInvalid + "numeric label"},
        // IPv4-mapped and IPv4-compatible IPv6 (the mapped form IS the IPv4 address).
        Case{Which::kMain, "[::ffff:8.8.8.8]", 443, true, "egress.allow[2]"},
        Case{Which::kMain, "[::ffff:808:808]", 443, true, "egress.allow[2]"},
        Case{Which::kMain, "[::8.8.8.8]", 443, false, kNoRule},
        Case{Which::kMain, "[::ffff:127.0.0.1]", 443, false, kNoRule},
        Case{Which::kMain, "[0:0:0:0:0:ffff:7f00:1]", 443, false, kNoRule},
        Case{Which::kMain, "[fe80::1%25eth0]", 443, false, kInvalid + "zone"},
        // Special addresses and names.
        Case{Which::kMain, "127.0.0.1", 443, false, kNoRule},
        Case{Which::kMain, "169.254.169.254", 80, false, kNoRule},
        Case{Which::kMain, "0.0.0.0", 443, false, kNoRule},
        Case{Which::kMain, "localhost", 443, false, kNoRule},
        Case{Which::kMain, "host", 443, false, "\"host\" listed literally"},
        // Very long names.
        Case{Which::kMain, k63 + "." + k63 + "." + k63 + "." + k63 + ".allowed.com", 443, false,
             kInvalid + "at most 253"},
        Case{Which::kMain, std::string(64, 'a') + ".allowed.com", 443, false, kInvalid + "longer than 63"},
        Case{Which::kMain, std::string(5000, 'a'), 443, false, kInvalid + "longer than"}));

// --- Host side: resolved addresses (D1, D2, D3, D9) ---------------------------

struct ResolvedCase {
  Which policy;
  std::string host;     // as requested
  std::string address;  // what the name resolved to
  bool allowed;
  std::string reason;
};

std::ostream& operator<<(std::ostream& os, const ResolvedCase& c) {
  return os << c.host << " -> " << c.address;
}

class ResolvedTable : public ::testing::TestWithParam<ResolvedCase> {};

TEST_P(ResolvedTable, Verdict) {
  const auto& c = GetParam();
  auto host = normalize_host(c.host);
  ASSERT_TRUE(host.ok()) << c.host;
  auto address = parse_ip(c.address);
  ASSERT_TRUE(address.has_value()) << c.address;
  const Verdict v = policy(c.policy).check_resolved(*host, *address, 443);
  EXPECT_EQ(v.allowed, c.allowed) << c << " (reason: " << v.reason << ")";
  EXPECT_NE(v.reason.find(c.reason), std::string::npos) << c << ": \"" << v.reason << "\" lacks \"" << c.reason << "\"";
}

INSTANTIATE_TEST_SUITE_P(
    Main, ResolvedTable,
    ::testing::Values(
        ResolvedCase{Which::kMain, "s3.amazonaws.com", "52.216.1.2", true, "allowed by egress.allow[1]"},
        ResolvedCase{Which::kMain, "s3.amazonaws.com", "127.0.0.1", false,
                     "special range loopback not explicitly allowed (resolved address 127.0.0.1)"},
        ResolvedCase{Which::kMain, "s3.amazonaws.com", "::1", false, "special range loopback"},
        ResolvedCase{Which::kMain, "s3.amazonaws.com", "::ffff:127.0.0.1", false, "special range loopback"},
        ResolvedCase{Which::kMain, "s3.amazonaws.com", "::127.0.0.1", false, "special range ipv4-compatible"},
        ResolvedCase{Which::kMain, "s3.amazonaws.com", "169.254.169.254", true,
                     "allowed by egress.allow[8] \"169.254.169.254\" (resolved address 169.254.169.254)"},
        ResolvedCase{Which::kMain, "s3.amazonaws.com", "169.254.0.1", false, "special range link-local"},
        ResolvedCase{Which::kMain, "s3.amazonaws.com", "10.1.5.5", true, "egress.allow[9]"},
        ResolvedCase{Which::kMain, "s3.amazonaws.com", "10.1.2.3", false,
                     "denied by egress.deny[3] \"10.1.2.0/24\" (resolved address 10.1.2.3)"},
        ResolvedCase{Which::kMain, "s3.amazonaws.com", "10.2.0.1", false, "special range private"},
        ResolvedCase{Which::kMain, "s3.amazonaws.com", "203.0.113.66", false, "denied by egress.deny[2]"},
        ResolvedCase{Which::kMain, "s3.amazonaws.com", "fd00:ec2::254", true, "egress.allow[12]"},
        ResolvedCase{Which::kMain, "s3.amazonaws.com", "fd00::1", false, "special range unique-local"},
        ResolvedCase{Which::kMain, "s3.amazonaws.com", "64:ff9b::a9fe:a9fe", false, "special range nat64"},
        // D3: the name goes through the whole policy first.
        ResolvedCase{Which::kMain, "evil.amazonaws.com", "52.216.1.2", false, "denied by egress.deny[0]"},
        ResolvedCase{Which::kMain, "www.example.com", "93.184.216.34", false, kNoRule},
        // `host` is the parent's loopback.
        ResolvedCase{Which::kMain, "host", "127.0.0.1", true, "egress.allow[10]"},
        ResolvedCase{Which::kMain, "host", "::1", true, "egress.allow[10]"},
        ResolvedCase{Which::kMain, "host", "10.0.0.5", false, "special range private"},
        // IP literals: nothing to resolve, the address is the literal.
        ResolvedCase{Which::kMain, "1.2.3.4", "1.2.3.4", true, "egress.allow[5]"},
        ResolvedCase{Which::kMain, "1.2.3.4", "1.2.3.5", false, "not the requested literal"},
        ResolvedCase{Which::kMain, "169.254.169.254", "169.254.169.254", true, "egress.allow[8]"},
        ResolvedCase{Which::kMain, "[::ffff:10.1.5.5]", "10.1.5.5", true, "egress.allow[9]"}));

INSTANTIATE_TEST_SUITE_P(
    CatchAll, ResolvedTable,
    ::testing::Values(
        ResolvedCase{Which::kOpen, "example.com", "93.184.216.34", true, "egress.allow[0]"},
        ResolvedCase{Which::kOpen, "example.com", "2606:2800:220:1::1", true, "egress.allow[0]"},
        // D1: `**`, 0.0.0.0/0 and ::/0 never unlock special ranges.
        ResolvedCase{Which::kOpen, "example.com", "127.0.0.1", false, "special range loopback"},
        ResolvedCase{Which::kOpen, "example.com", "169.254.169.254", false, "special range link-local"},
        ResolvedCase{Which::kOpen, "example.com", "10.0.0.1", false, "special range private"},
        ResolvedCase{Which::kOpen, "example.com", "fe80::1", false, "special range link-local"},
        ResolvedCase{Which::kOpen, "localhost", "127.0.0.1", false, "special range loopback"},
        ResolvedCase{Which::kOpen, "rebind.example", "0.0.0.0", false, "special range unspecified"},
        ResolvedCase{Which::kOpen, "host", "127.0.0.1", false, "\"host\" listed literally"},
        ResolvedCase{Which::kOpen, "a.evil.com", "93.184.216.34", false, "denied by egress.deny[1]"}));

TEST(CheckResolvedAll, D2OneBadAddressRefusesTheWholeName) {
  const Policy& p = policy(Which::kOpen);
  const Host name = normalize_host("example.com").value();
  const Verdict mixed = p.check_resolved_all(name, {*parse_ip("93.184.216.34"), *parse_ip("10.0.0.1")}, 443);
  EXPECT_FALSE(mixed.allowed);
  EXPECT_NE(mixed.reason.find("special range private"), std::string::npos) << mixed.reason;

  const Verdict good = p.check_resolved_all(name, {*parse_ip("93.184.216.34"), *parse_ip("2606:2800::1")}, 443);
  EXPECT_TRUE(good.allowed) << good.reason;
  EXPECT_NE(good.reason.find("egress.allow[0]"), std::string::npos) << good.reason;

  const Verdict none = p.check_resolved_all(name, {}, 443);
  EXPECT_FALSE(none.allowed);
  EXPECT_NE(none.reason.find("resolved to no address"), std::string::npos) << none.reason;
}

// --- Policy::create -----------------------------------------------------------

struct CreateError {
  std::vector<std::string> allow;
  std::vector<std::string> deny;
  std::string message;  // substring
};

class CreateErrors : public ::testing::TestWithParam<CreateError> {};

TEST_P(CreateErrors, NameTheListAndIndex) {
  const auto& c = GetParam();
  auto p = Policy::create(c.allow, c.deny);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find(c.message), std::string::npos)
      << "\"" << p.error().message << "\" lacks \"" << c.message << "\"";
}

INSTANTIATE_TEST_SUITE_P(
    Table, CreateErrors,
    ::testing::Values(
        CreateError{{"ok.com", "x.com", "a*.com"}, {}, "egress.allow[2]: '*' must be a whole label"},
        CreateError{{"ok.com", "x.com", "a*.com"}, {}, "(pattern \"a*.com\")"},
        CreateError{{"api.**.example.com"}, {}, "egress.allow[0]: '**' may only be the leftmost"},
        CreateError{{"example.com."}, {}, "egress.allow[0]: a pattern is written without a trailing dot"},
        CreateError{{"ok.com"}, {"ok.com", "10.0.0.1/8"}, "egress.deny[1]: \"10.0.0.1/8\" has host bits set"},
        CreateError{{"[2001:db8::]/32"}, {}, "egress.allow[0]: IPv6 patterns are written without brackets"},
        CreateError{{"10.0.0.0/33"}, {}, "egress.allow[0]: prefix length /33 is out of range"},
        CreateError{{"0x7f.1"}, {}, "egress.allow[0]: \"0x7f.1\" looks numeric"},
        CreateError{{"ok.com", "exa mple.com"}, {}, "egress.allow[1]: whitespace"},
        CreateError{{""}, {}, "egress.allow[0]: the pattern is empty"},
        CreateError{{"ok.com"}, {"bad\x01name"}, "(pattern \"bad\\x01name\")"}));

TEST(Create, KeepsPatternsInOrderAndEnablesEgress) {
  auto p = Policy::create({"a.com", "10.0.0.0/8"}, {"b.a.com"});
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_TRUE(p->enabled());
  ASSERT_EQ(p->allow().size(), 2u);
  EXPECT_EQ(p->allow()[1].text, "10.0.0.0/8");
  ASSERT_EQ(p->deny().size(), 1u);
  EXPECT_EQ(p->deny()[0].text, "b.a.com");
}

TEST(Create, EmptyAllowMeansEgressOff) {
  auto p = Policy::create({}, {"evil.com"});
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->enabled());
  EXPECT_FALSE(p->check("example.com", 443).allowed);
}

// --- egress.md, example by example --------------------------------------------

Verdict check(const std::vector<std::string>& allow, const std::vector<std::string>& deny, std::string_view host) {
  auto p = Policy::create(allow, deny);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p->check(host, 443);
}

TEST(SpecExamples, AllowedIffSomeAllowAndNoDenyMatches) {
  EXPECT_TRUE(check({"a.com"}, {}, "a.com").allowed);
  EXPECT_FALSE(check({"a.com"}, {"a.com"}, "a.com").allowed);
  EXPECT_FALSE(check({"a.com"}, {}, "b.com").allowed);
}

TEST(SpecExamples, DoubleStarAmazonaws) {
  EXPECT_TRUE(check({"**.amazonaws.com"}, {}, "s3.amazonaws.com").allowed);
  EXPECT_TRUE(check({"**.amazonaws.com"}, {}, "a.b.amazonaws.com").allowed);
  EXPECT_FALSE(check({"**.amazonaws.com"}, {}, "amazonaws.com").allowed);
}

TEST(SpecExamples, LoneDoubleStarMatchesEveryNameButNeverAnIp) {
  EXPECT_TRUE(check({"**"}, {}, "example.com").allowed);
  EXPECT_TRUE(check({"**"}, {}, "a.b.c.example").allowed);
  EXPECT_FALSE(check({"**"}, {}, "1.2.3.4").allowed);
  EXPECT_FALSE(check({"**"}, {}, "[2001:db8::1]").allowed);
  EXPECT_FALSE(check({"**"}, {}, "host").allowed);
}

TEST(SpecExamples, IpAndCidrPatternsParse) {
  for (const char* text : {"1.2.3.4", "10.0.0.0/8", "2001:db8::/32", "::/0", "0.0.0.0/0"}) {
    auto p = parse_pattern(text);
    ASSERT_TRUE(p.ok()) << text;
    EXPECT_TRUE(std::holds_alternative<Cidr>(p->value)) << text;
  }
}

TEST(SpecExamples, ManifestErrorsAreRefused) {
  for (const char* text : {"a*.com", "api.**.example.com", "**.**.example.com", "example..com", "example.com.",
                           "0x7f.1", "127.1", "2130706433", "[2001:db8::]/32", "10.0.0.0/33", "2001:db8::/129",
                           "10.0.0.1/8", "exa mple.com", " example.com"})
    EXPECT_FALSE(parse_pattern(text).ok()) << text;
  auto p = Policy::create({"a.com", "b.com", "0x7f.1"}, {});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message.rfind("egress.allow[2]: ", 0), 0u) << p.error().message;
}

TEST(SpecExamples, Normalisation) {
  EXPECT_EQ(normalize_host("Example.COM.")->to_string(), "example.com");   // one trailing dot, lower case
  EXPECT_EQ(normalize_host("bücher.de")->to_string(), "xn--bcher-kva.de");  // punycode
  EXPECT_FALSE(normalize_host("💩.la").ok());                               // invalid names are refused
  for (const char* numeric : {"2852039166", "0x7f.1", "127.1", "0177.0.0.1"})
    EXPECT_FALSE(normalize_host(numeric).ok()) << numeric;
  EXPECT_EQ(normalize_host("[::ffff:1.2.3.4]")->to_string(), "1.2.3.4");
  EXPECT_TRUE(normalize_host("[::ffff:1.2.3.4]")->is_ip());
}

TEST(SpecExamples, IpLiteralsMatchIpPatternsOnly) {
  EXPECT_FALSE(check({"1.2.3.4.example"}, {}, "1.2.3.4").allowed);
  EXPECT_TRUE(check({"1.2.3.4"}, {}, "1.2.3.4").allowed);
  EXPECT_FALSE(check({"*.*.*.*"}, {}, "1.2.3.4").allowed);
  EXPECT_FALSE(check({"1.2.3.4"}, {}, "1.2.3.4.example").allowed);
}

TEST(SpecExamples, SpecialRangesNeedExplicitIpAllows) {
  const Host name = normalize_host("svc.example").value();
  auto imds = Policy::create({"svc.example", "169.254.169.254"}, {}).value();
  EXPECT_TRUE(imds.check_resolved(name, *parse_ip("169.254.169.254"), 80).allowed);
  auto vpc = Policy::create({"svc.example", "10.0.0.0/8"}, {}).value();
  EXPECT_TRUE(vpc.check_resolved(name, *parse_ip("10.20.30.40"), 443).allowed);
  auto neither = Policy::create({"svc.example"}, {}).value();
  for (const char* special : {"127.0.0.1", "169.254.169.254", "10.0.0.1", "172.16.0.1", "192.168.0.1",
                              "100.64.0.1", "224.0.0.1", "0.0.0.0", "255.255.255.255", "64:ff9b::1",
                              "2002::1", "2001::1", "fc00::1", "fe80::1", "ff02::1", "::1", "::"})
    EXPECT_FALSE(neither.check_resolved(name, *parse_ip(special), 443).allowed) << special;
}

TEST(SpecExamples, DenyAppliesToResolvedAddresses) {
  auto p = Policy::create({"svc.example"}, {"93.184.216.0/24"}).value();
  const Verdict v = p.check_resolved(normalize_host("svc.example").value(), *parse_ip("93.184.216.34"), 443);
  EXPECT_FALSE(v.allowed);
  EXPECT_NE(v.reason.find("denied by egress.deny[0]"), std::string::npos) << v.reason;
}

TEST(SpecExamples, HostIsTheParentOnlyWhenListedLiterally) {
  EXPECT_TRUE(check({"host"}, {}, "host").allowed);
  EXPECT_FALSE(check({"*"}, {}, "host").allowed);
  EXPECT_FALSE(check({"**"}, {}, "host").allowed);
  EXPECT_FALSE(check({"host"}, {"**"}, "host").allowed);  // deny still applies
  EXPECT_TRUE(check({"*"}, {}, "other").allowed);
}

TEST(SpecExamples, D1UnlockingPatterns) {
  const Host name = normalize_host("svc.example").value();
  for (const char* unlocks : {"10.0.0.0/8", "10.1.0.0/16"}) {
    auto p = Policy::create({"svc.example", unlocks}, {}).value();
    EXPECT_TRUE(p.check_resolved(name, *parse_ip("10.1.2.3"), 443).allowed) << unlocks;
  }
  auto imds = Policy::create({"svc.example", "169.254.169.254"}, {}).value();
  EXPECT_TRUE(imds.check_resolved(name, *parse_ip("169.254.169.254"), 80).allowed);
  for (const char* never : {"0.0.0.0/0", "::/0"}) {
    auto p = Policy::create({"svc.example", never}, {}).value();
    for (const char* addr : {"127.0.0.1", "169.254.1.1", "169.254.169.254", "10.1.2.3", "::1", "fe80::1"})
      EXPECT_FALSE(p.check_resolved(name, *parse_ip(addr), 443).allowed) << never << " vs " << addr;
  }
}

TEST(SpecExamples, CatchAllsAreOnePerFamily) {
  // As in AWS security groups: ::/0 is every IPv6 address, 0.0.0.0/0 every IPv4 one.
  EXPECT_FALSE(check({"::/0"}, {}, "8.8.8.8").allowed);
  EXPECT_FALSE(check({"::/0"}, {}, "[::ffff:8.8.8.8]").allowed);
  EXPECT_TRUE(check({"::/0"}, {}, "[2600::1]").allowed);
  EXPECT_FALSE(check({"0.0.0.0/0"}, {}, "[2600::1]").allowed);
  EXPECT_TRUE(check({"0.0.0.0/0"}, {"::/0"}, "8.8.8.8").allowed);
  EXPECT_TRUE(check({"0.0.0.0/0"}, {}, "[::ffff:8.8.8.8]").allowed);
}

TEST(SpecExamples, D5AmbiguousNumericNames) {
  for (const char* numeric : {"256.0.0.1", "1.2.3.4.5", "01.2.3.4", "1.02.3.4"})
    EXPECT_FALSE(normalize_host(numeric).ok()) << numeric;
}

TEST(SpecExamples, D6PercentIsRefused) {
  const Verdict v = check({"**"}, {}, "ex%61mple.com");
  EXPECT_FALSE(v.allowed);
  EXPECT_NE(v.reason.find("'%'"), std::string::npos) << v.reason;
}

TEST(SpecExamples, D9Ipv4CompatibleIsSpecial) {
  EXPECT_EQ(special_range(*parse_ip("::1.2.3.4")), "ipv4-compatible");
  EXPECT_EQ(special_range(*parse_ip("::")), "unspecified");
  EXPECT_EQ(special_range(*parse_ip("::1")), "loopback");
  EXPECT_FALSE(check({"::/0"}, {}, "[::1.2.3.4]").allowed);
}

TEST(SpecExamples, D12WildcardAndUnderscoreInRequests) {
  EXPECT_FALSE(check({"**"}, {}, "*.example.com").allowed);
  EXPECT_FALSE(check({"**"}, {}, "_dmarc.example.com").allowed);
}

TEST(SpecExamples, D15Literals) {
  EXPECT_TRUE(check({"2001:db8::/32"}, {}, "[2001:0db8:0000::0001]").allowed);
  EXPECT_FALSE(check({"2001:db8::/32"}, {}, "[2001:db8::1%eth0]").allowed);
  EXPECT_TRUE(check({"1.2.3.4"}, {}, "1.2.3.4").allowed);
  EXPECT_FALSE(check({"1.2.3.4"}, {}, "01.2.3.4").allowed);
}

TEST(SpecExamples, UserinfoIsNotATrick) {
  const Verdict v = check({"allowed.com"}, {}, "allowed.com@evil.com");
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.reason.rfind(kInvalid, 0), 0u) << v.reason;
}

}  // namespace
}  // namespace enclaver::policy
