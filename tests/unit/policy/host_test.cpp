// Normalisation of requested hosts (egress.md "Normalisation", D5, D6, D12, D15).
#include <gtest/gtest.h>

#include <string>

#include "policy/policy.hpp"

namespace enclaver::policy {
namespace {

struct Accepted {
  std::string requested;
  std::string canonical;
  bool is_ip;
};

std::ostream& operator<<(std::ostream& os, const Accepted& c) { return os << "\"" << c.requested << "\""; }

class NormalizeAccepts : public ::testing::TestWithParam<Accepted> {};

TEST_P(NormalizeAccepts, ToCanonicalForm) {
  const auto& c = GetParam();
  auto host = normalize_host(c.requested);
  ASSERT_TRUE(host.ok()) << c.requested << ": " << host.error().message;
  EXPECT_EQ(host->to_string(), c.canonical);
  EXPECT_EQ(host->is_ip(), c.is_ip);
  // Idempotent: the canonical form is its own normal form.
  std::string again = host->to_string();
  if (c.is_ip && again.find(':') != std::string::npos) again = std::string("[").append(again).append("]");
  auto twice = normalize_host(again);
  ASSERT_TRUE(twice.ok()) << again;
  EXPECT_EQ(twice->to_string(), c.canonical);
}

INSTANTIATE_TEST_SUITE_P(
    Table, NormalizeAccepts,
    ::testing::Values(
        Accepted{"example.com", "example.com", false},
        // One trailing dot is stripped; case is folded.
        Accepted{"example.com.", "example.com", false}, Accepted{"EXAMPLE.Com", "example.com", false},
        Accepted{"S3.AmazonAWS.com.", "s3.amazonaws.com", false},
        Accepted{"localhost", "localhost", false}, Accepted{"host", "host", false}, Accepted{"HOST.", "host", false},
        Accepted{"a-b.c-d.example", "a-b.c-d.example", false},
        Accepted{"r3---sn-abc.googlevideo.com", "r3---sn-abc.googlevideo.com", false},
        Accepted{"123.example.com", "123.example.com", false}, Accepted{"0x7f.example.com", "0x7f.example.com", false},
        Accepted{"1.2.3.com", "1.2.3.com", false}, Accepted{"a.1b", "a.1b", false},
        // Unicode names become A-labels (IDNA 2008 / UTS #46 via libidn2).
        Accepted{"bücher.de", "xn--bcher-kva.de", false}, Accepted{"BÜCHER.de.", "xn--bcher-kva.de", false},
        Accepted{"xn--bcher-kva.de", "xn--bcher-kva.de", false}, Accepted{"XN--BCHER-KVA.DE", "xn--bcher-kva.de", false},
        Accepted{"faß.de", "xn--fa-hia.de", false},  // non-transitional: ß is kept, not "fass"
        Accepted{"ＥＸＡＭＰＬＥ.com", "example.com", false},  // full-width letters map to ASCII
        Accepted{"ex\xe3\x80\x82" "com", "ex.com", false},     // U+3002 ideographic full stop is a dot
        Accepted{"аpple.com", "xn--pple-43d.com", false},     // Cyrillic а: a different name
        // IP literals.
        Accepted{"1.2.3.4", "1.2.3.4", true}, Accepted{"127.0.0.1", "127.0.0.1", true},
        Accepted{"[::1]", "::1", true}, Accepted{"[2001:DB8::1]", "2001:db8::1", true},
        Accepted{"[::ffff:1.2.3.4]", "1.2.3.4", true}, Accepted{"[::ffff:169.254.169.254]", "169.254.169.254", true},
        Accepted{"[::1.2.3.4]", "::1.2.3.4", true},
        // Bare IPv6 (tunnel requests carry literals without brackets).
        Accepted{"::1", "::1", true}, Accepted{"2001:db8::1", "2001:db8::1", true},
        Accepted{"::ffff:127.0.0.1", "127.0.0.1", true}));

struct Refused {
  std::string requested;
  std::string why;  // substring of the error
};

std::ostream& operator<<(std::ostream& os, const Refused& c) {
  return os << "\"" << (c.requested.size() > 80 ? c.requested.substr(0, 80) + "..." : c.requested) << "\"";
}

class NormalizeRefuses : public ::testing::TestWithParam<Refused> {};

TEST_P(NormalizeRefuses, WithAReason) {
  const auto& c = GetParam();
  auto host = normalize_host(c.requested);
  ASSERT_FALSE(host.ok()) << c.requested << " became " << host->to_string();
  EXPECT_NE(host.error().message.find(c.why), std::string::npos)
      << c.requested << ": \"" << host.error().message << "\" lacks \"" << c.why << "\"";
}

INSTANTIATE_TEST_SUITE_P(
    Table, NormalizeRefuses,
    ::testing::Values(
        Refused{"", "empty"}, Refused{".", "empty"}, Refused{"..", "empty label"},
        // D5: numeric forms some resolvers read as addresses.
        Refused{"2130706433", "ambiguous numeric"}, Refused{"2852039166", "ambiguous numeric"},
        Refused{"0x7f.1", "ambiguous numeric"}, Refused{"0X7F.0.0.1", "ambiguous numeric"},
        Refused{"127.1", "ambiguous numeric"}, Refused{"0177.0.0.1", "ambiguous numeric"},
        Refused{"256.0.0.1", "ambiguous numeric"}, Refused{"1.2.3.4.5", "ambiguous numeric"},
        Refused{"01.2.3.4", "ambiguous numeric"}, Refused{"1.2.3", "ambiguous numeric"},
        Refused{"0x7f000001", "ambiguous numeric"}, Refused{"1.2.3.4.", "without a trailing dot"},
        Refused{"foo.123", "numeric label"}, Refused{"foo.0x1f", "numeric label"},
        Refused{"\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.0.0.1", "only after IDNA mapping"},  // full-width 127
        // D6, zone ids, brackets.
        Refused{"example.com%2f", "'%'"}, Refused{"%65xample.com", "'%'"}, Refused{"[fe80::1%eth0]", "zone"},
        Refused{"[fe80::1%25eth0]", "zone"}, Refused{"[1.2.3.4]", "only for IPv6"}, Refused{"[example.com]", "only for IPv6"},
        Refused{"[::1", "whole IPv6 literal"}, Refused{"::1]", "whole IPv6 literal"}, Refused{"[]", "only for IPv6"},
        Refused{"[::g]", "not a valid IPv6"}, Refused{"[::1]:443", "whole IPv6 literal"},
        Refused{"example.com:443", "neither a host name nor an IPv6"},
        // D12 and LDH.
        Refused{"*.example.com", "'*'"}, Refused{"a_b.example.com", "'_'"}, Refused{"allowed.com@evil.com", "'@'"},
        Refused{"a b.com", "whitespace"}, Refused{"a\tb.com", "whitespace"}, Refused{"a\r\nb.com", "whitespace"},
        Refused{std::string("a\0b.com", 7), "control"}, Refused{"a/b.com", "'/'"}, Refused{"a\\b.com", "'\\x5c'"},
        Refused{"example..com", "empty label"}, Refused{".example.com", "empty label"},
        Refused{"example.com..", "empty label"}, Refused{"-a.com", "'-'"}, Refused{"a-.com", "'-'"},
        Refused{std::string(64, 'a') + ".com", "longer than 63"},
        Refused{std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                    std::string(63, 'd') + ".com",
                "at most 253"},
        Refused{std::string(2000, 'a'), "longer than"},
        // Bogus A-labels and invalid IDNs.
        Refused{"xn--abc-.com", "'-'"}, Refused{"xn--a.com", "A-label"}, Refused{"xn--.com", "'-'"},
        Refused{"xn--zz-zzzz.com", "A-label"}, Refused{"xn--ls8h.la", "A-label"},
        Refused{"💩.la", "internationalised"}, Refused{"\xff\xfe.com", "internationalised"},
        Refused{"ü.xn--abc-.com", "internationalised"}));

TEST(Normalize, UnicodeAndALabelFormsGiveTheSameHost) {
  auto unicode = normalize_host("Bücher.example");
  auto a_label = normalize_host("xn--bcher-kva.example");
  ASSERT_TRUE(unicode.ok());
  ASSERT_TRUE(a_label.ok());
  EXPECT_EQ(unicode->to_string(), a_label->to_string());
}

TEST(Normalize, HomographIsNotTheAsciiName) {
  // Cyrillic U+0430 in place of the Latin 'a'.
  auto homograph = normalize_host("\xd0\xb0pple.com");
  ASSERT_TRUE(homograph.ok());
  EXPECT_NE(homograph->to_string(), "apple.com");
  EXPECT_EQ(homograph->to_string().rfind("xn--", 0), 0u);
}

TEST(Normalize, LongestNamesAreAccepted) {
  const std::string label(63, 'a');
  const std::string name = label + "." + label + "." + label + "." + std::string(61, 'b');  // 253 bytes
  ASSERT_EQ(name.size(), 253u);
  auto host = normalize_host(name + ".");
  ASSERT_TRUE(host.ok()) << host.error().message;
  EXPECT_EQ(host->to_string(), name);
  EXPECT_FALSE(normalize_host(name + "b").ok());
}

TEST(Normalize, ErrorsNeverEchoControlBytes) {
  auto host = normalize_host("[\x01\x02::zz]");
  ASSERT_FALSE(host.ok());
  for (char c : host.error().message) EXPECT_GE(static_cast<unsigned char>(c), 0x20);
}

}  // namespace
}  // namespace enclaver::policy
