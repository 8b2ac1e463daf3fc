// Pattern grammar and domain matching (egress.md "Policy").
#include <gtest/gtest.h>

#include <string>

#include "policy/policy.hpp"

namespace enclaver::policy {
namespace {

struct Valid {
  std::string text;
  std::string canonical;  // DomainPattern::to_string or Cidr::to_string
  bool cidr;
};

std::ostream& operator<<(std::ostream& os, const Valid& c) { return os << "\"" << c.text << "\""; }

class PatternAccepts : public ::testing::TestWithParam<Valid> {};

TEST_P(PatternAccepts, Parses) {
  const auto& c = GetParam();
  auto p = parse_pattern(c.text);
  ASSERT_TRUE(p.ok()) << c.text << ": " << p.error().message;
  EXPECT_EQ(p->text, c.text);  // kept as written, for verdict reasons
  if (c.cidr) {
    ASSERT_TRUE(std::holds_alternative<Cidr>(p->value)) << c.text;
    EXPECT_EQ(std::get<Cidr>(p->value).to_string(), c.canonical);
  } else {
    ASSERT_TRUE(std::holds_alternative<DomainPattern>(p->value)) << c.text;
    EXPECT_EQ(std::get<DomainPattern>(p->value).to_string(), c.canonical);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, PatternAccepts,
    ::testing::Values(
        Valid{"example.com", "example.com", false}, Valid{"Example.COM", "example.com", false},
        Valid{"*.example.com", "*.example.com", false}, Valid{"**.amazonaws.com", "**.amazonaws.com", false},
        Valid{"**", "**", false}, Valid{"*", "*", false}, Valid{"api.*.example.com", "api.*.example.com", false},
        Valid{"*.*", "*.*", false}, Valid{"**.*.example.com", "**.*.example.com", false},
        Valid{"host", "host", false}, Valid{"localhost", "localhost", false},
        Valid{"bücher.de", "xn--bcher-kva.de", false}, Valid{"*.bücher.de", "*.xn--bcher-kva.de", false},
        Valid{"xn--bcher-kva.de", "xn--bcher-kva.de", false},
        Valid{"s3.eu-west-1.amazonaws.com", "s3.eu-west-1.amazonaws.com", false},
        // egress.md's IP and CIDR examples.
        Valid{"1.2.3.4", "1.2.3.4/32", true}, Valid{"10.0.0.0/8", "10.0.0.0/8", true},
        Valid{"2001:db8::/32", "2001:db8::/32", true}, Valid{"::/0", "::/0", true},
        Valid{"0.0.0.0/0", "0.0.0.0/0", true}, Valid{"169.254.169.254", "169.254.169.254/32", true},
        Valid{"10.1.0.0/16", "10.1.0.0/16", true}, Valid{"::1", "::1/128", true},
        Valid{"2001:DB8::/32", "2001:db8::/32", true}, Valid{"::ffff:10.0.0.0/104", "10.0.0.0/8", true},
        Valid{"10.0.0.0/32", "10.0.0.0/32", true}));

struct Invalid {
  std::string text;
  std::string why;  // substring of the error
};

std::ostream& operator<<(std::ostream& os, const Invalid& c) { return os << "\"" << c.text << "\""; }

class PatternRefuses : public ::testing::TestWithParam<Invalid> {};

TEST_P(PatternRefuses, WithAReason) {
  const auto& c = GetParam();
  auto p = parse_pattern(c.text);
  ASSERT_FALSE(p.ok()) << c.text << " was accepted";
  EXPECT_NE(p.error().message.find(c.why), std::string::npos)
      << c.text << ": \"" << p.error().message << "\" lacks \"" << c.why << "\"";
}

INSTANTIATE_TEST_SUITE_P(
    Table, PatternRefuses,
    ::testing::Values(
        Invalid{"", "empty"},
        // `*` inside a label; `**` not leftmost or twice.
        Invalid{"a*.com", "whole label"}, Invalid{"*a.example.com", "whole label"},
        Invalid{"***.example.com", "whole label"}, Invalid{"api.**.example.com", "leftmost"},
        Invalid{"**.**.example.com", "leftmost"}, Invalid{"example.**", "leftmost"},
        // Empty labels, trailing dot.
        Invalid{"example.com.", "trailing dot"}, Invalid{"example..com", "empty label"},
        Invalid{".example.com", "empty label"}, Invalid{"**.", "trailing dot"}, Invalid{".", "trailing dot"},
        // Numeric-looking but not canonical.
        Invalid{"0x7f.1", "not a canonical IPv4"}, Invalid{"127.1", "not a canonical IPv4"},
        Invalid{"2130706433", "not a canonical IPv4"}, Invalid{"0177.0.0.1", "not a canonical IPv4"},
        Invalid{"256.0.0.1", "not a canonical IPv4"}, Invalid{"1.2.3.4.5", "not a canonical IPv4"},
        Invalid{"10.*.*.*", "CIDR"}, Invalid{"*.0.0.1", "CIDR"}, Invalid{"example.123", "numeric label"},
        // Brackets, prefixes, host bits, zone ids.
        Invalid{"[2001:db8::]/32", "without brackets"}, Invalid{"[::1]", "without brackets"},
        Invalid{"10.0.0.0/33", "out of range"}, Invalid{"2001:db8::/129", "out of range"},
        Invalid{"10.0.0.0/", "not a decimal number"}, Invalid{"10.0.0.0/-1", "not a decimal number"},
        Invalid{"10.0.0.0/08", "not a decimal number"}, Invalid{"10.0.0.0/8/8", "not a decimal number"},
        Invalid{"10.0.0.1/8", "host bits"}, Invalid{"10.0.0.1/8", "10.0.0.0/8"},
        Invalid{"2001:db8::1/32", "host bits"}, Invalid{"fe80::1%eth0", "'%'"},
        Invalid{"127.1/8", "not a canonical IPv4"}, Invalid{"example.com/8", "not a canonical IPv4"},
        Invalid{"2001:db8::g/32", "not a valid IPv6"}, Invalid{"example.com:443", "not a valid IPv6"},
        // Whitespace and other characters.
        Invalid{" example.com", "whitespace"}, Invalid{"example.com ", "whitespace"},
        Invalid{"exa mple.com", "whitespace"}, Invalid{"example.com\n", "whitespace"},
        Invalid{"a_b.example.com", "'_'"}, Invalid{"user@example.com", "'@'"},
        Invalid{"https://example.com", "not a URL"}, Invalid{"-a.example.com", "'-'"},
        Invalid{std::string(64, 'a') + ".com", "longer than 63"}, Invalid{"xn--a.com", "A-label"},
        Invalid{"💩.la", "internationalised"}));

bool matches(const char* pattern, const char* name) {
  auto p = parse_pattern(pattern);
  EXPECT_TRUE(p.ok()) << pattern;
  return std::get<DomainPattern>(p->value).matches(name);
}

struct MatchCase {
  const char* pattern;
  const char* name;
  bool match;
};

class DomainMatch : public ::testing::TestWithParam<MatchCase> {};

TEST_P(DomainMatch, Table) {
  const auto& c = GetParam();
  EXPECT_EQ(matches(c.pattern, c.name), c.match) << c.pattern << " vs " << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Table, DomainMatch,
    ::testing::Values(
        // egress.md: `**.amazonaws.com` matches these, not amazonaws.com.
        MatchCase{"**.amazonaws.com", "s3.amazonaws.com", true},
        MatchCase{"**.amazonaws.com", "a.b.amazonaws.com", true},
        MatchCase{"**.amazonaws.com", "amazonaws.com", false},
        MatchCase{"**.amazonaws.com", "evilamazonaws.com", false},
        MatchCase{"**.amazonaws.com", "amazonaws.com.evil.com", false},
        // `*` is exactly one non-empty label.
        MatchCase{"*.example.com", "a.example.com", true}, MatchCase{"*.example.com", "example.com", false},
        MatchCase{"*.example.com", "a.b.example.com", false}, MatchCase{"*.example.com", ".example.com", false},
        MatchCase{"api.*.example.com", "api.eu.example.com", true},
        MatchCase{"api.*.example.com", "api.example.com", false}, MatchCase{"*.*", "a.b", true},
        MatchCase{"*.*", "a", false}, MatchCase{"*", "localhost", true}, MatchCase{"*", "a.b", false},
        MatchCase{"**.*.example.com", "a.b.example.com", true},
        MatchCase{"**.*.example.com", "a.example.com", false},
        // Lone `**`: every name.
        MatchCase{"**", "example.com", true}, MatchCase{"**", "a", true}, MatchCase{"**", "a.b.c.d.e", true},
        // Exact names; case-insensitive; no suffix tricks.
        MatchCase{"example.com", "example.com", true}, MatchCase{"example.com", "EXAMPLE.com", true},
        MatchCase{"example.com", "www.example.com", false}, MatchCase{"example.com", "notexample.com", false},
        MatchCase{"example.com", "example.co", false}, MatchCase{"example.com", "example.com.evil", false},
        MatchCase{"example.com", "", false}, MatchCase{"example.com", "com", false},
        MatchCase{"bücher.de", "xn--bcher-kva.de", true}));

TEST(DomainPattern, ToStringJoinsLabels) {
  DomainPattern p{{"**", "amazonaws", "com"}};
  EXPECT_EQ(p.to_string(), "**.amazonaws.com");
}

}  // namespace
}  // namespace enclaver::policy
