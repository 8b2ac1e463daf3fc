// IP literals and CIDR containment (egress.md D15, "::ffff:a.b.c.d is IPv4").
#include <gtest/gtest.h>

#include "policy/policy.hpp"

namespace enclaver::policy {
namespace {

struct IpCase {
  const char* text;
  const char* canonical;  // nullptr: must be refused
  bool v6;
};

class ParseIp : public ::testing::TestWithParam<IpCase> {};

TEST_P(ParseIp, AcceptsOnlyCanonicalForms) {
  const IpCase& c = GetParam();
  auto ip = parse_ip(c.text);
  if (!c.canonical) {
    EXPECT_FALSE(ip.has_value()) << c.text << " parsed as " << ip->to_string();
    return;
  }
  ASSERT_TRUE(ip.has_value()) << c.text;
  EXPECT_EQ(ip->to_string(), c.canonical);
  EXPECT_EQ(ip->v6, c.v6);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseIp,
    ::testing::Values(
        // Canonical dotted quads.
        IpCase{"1.2.3.4", "1.2.3.4", false}, IpCase{"0.0.0.0", "0.0.0.0", false},
        IpCase{"255.255.255.255", "255.255.255.255", false}, IpCase{"10.0.0.1", "10.0.0.1", false},
        // Everything inet_aton would guess at (D5, D15).
        IpCase{"127.1", nullptr, false}, IpCase{"0x7f.1", nullptr, false},
        IpCase{"0x7f.0.0.1", nullptr, false}, IpCase{"0177.0.0.1", nullptr, false},
        IpCase{"2130706433", nullptr, false}, IpCase{"2852039166", nullptr, false},
        IpCase{"01.2.3.4", nullptr, false}, IpCase{"1.2.3.04", nullptr, false},
        IpCase{"256.0.0.1", nullptr, false}, IpCase{"1.2.3.4.5", nullptr, false},
        IpCase{"1.2.3", nullptr, false}, IpCase{"1.2.3.", nullptr, false}, IpCase{"1.2.3.4.", nullptr, false},
        IpCase{".1.2.3.4", nullptr, false}, IpCase{"1..2.3", nullptr, false}, IpCase{"+1.2.3.4", nullptr, false},
        IpCase{"1.2.3.-4", nullptr, false}, IpCase{" 1.2.3.4", nullptr, false}, IpCase{"1.2.3.4 ", nullptr, false},
        IpCase{"1000.2.3.4", nullptr, false}, IpCase{"", nullptr, false},
        // IPv6: any form inet_pton takes, no brackets, no zone id.
        IpCase{"::1", "::1", true}, IpCase{"::", "::", true}, IpCase{"2001:DB8::1", "2001:db8::1", true},
        IpCase{"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1", true},
        IpCase{"fe80::1", "fe80::1", true}, IpCase{"::1.2.3.4", "::1.2.3.4", true},
        IpCase{"[::1]", nullptr, true}, IpCase{"fe80::1%eth0", nullptr, true}, IpCase{"fe80::1%25eth0", nullptr, true},
        IpCase{":::1", nullptr, true}, IpCase{"1:2:3:4:5:6:7:8:9", nullptr, true}, IpCase{"::g", nullptr, true},
        IpCase{"::ffff:01.2.3.4", nullptr, true},
        // IPv4-mapped IPv6 is the IPv4 address.
        IpCase{"::ffff:1.2.3.4", "1.2.3.4", false}, IpCase{"::FFFF:127.0.0.1", "127.0.0.1", false},
        IpCase{"::ffff:7f00:1", "127.0.0.1", false},
        IpCase{"0:0:0:0:0:ffff:a9fe:a9fe", "169.254.169.254", false}));

TEST(IpAddress, MappedAndPlainIpv4AreEqual) {
  EXPECT_EQ(*parse_ip("::ffff:10.1.2.3"), IpAddress::v4(10, 1, 2, 3));
  EXPECT_EQ(*parse_ip("10.1.2.3"), IpAddress::v4(10, 1, 2, 3));
}

TEST(IpAddress, EmbeddedNulIsRefused) {
  EXPECT_FALSE(parse_ip(std::string_view("::1\0x", 5)).has_value());
  EXPECT_FALSE(parse_ip(std::string_view("1.2.3.4\0", 8)).has_value());
}

Cidr cidr_of(const char* text) {
  auto p = parse_pattern(text);
  EXPECT_TRUE(p.ok()) << text << ": " << (p.ok() ? "" : p.error().message);
  return std::get<Cidr>(p.value().value);
}

struct ContainsCase {
  const char* cidr;
  const char* ip;
  bool inside;
};

class CidrContains : public ::testing::TestWithParam<ContainsCase> {};

TEST_P(CidrContains, Table) {
  const auto& c = GetParam();
  EXPECT_EQ(cidr_of(c.cidr).contains(*parse_ip(c.ip)), c.inside) << c.cidr << " vs " << c.ip;
}

INSTANTIATE_TEST_SUITE_P(
    Table, CidrContains,
    ::testing::Values(ContainsCase{"10.0.0.0/8", "10.255.1.2", true}, ContainsCase{"10.0.0.0/8", "11.0.0.0", false},
                      ContainsCase{"10.0.0.0/8", "9.255.255.255", false}, ContainsCase{"1.2.3.4", "1.2.3.4", true},
                      ContainsCase{"1.2.3.4", "1.2.3.5", false}, ContainsCase{"0.0.0.0/0", "8.8.8.8", true},
                      ContainsCase{"172.16.0.0/12", "172.31.255.255", true},
                      ContainsCase{"172.16.0.0/12", "172.32.0.0", false},
                      ContainsCase{"2001:db8::/32", "2001:db8:ffff::1", true},
                      ContainsCase{"2001:db8::/32", "2001:db9::1", false}, ContainsCase{"::/0", "2600::1", true},
                      // ::ffff:a.b.c.d is IPv4, so IPv4 and its mapped form agree both ways.
                      ContainsCase{"::ffff:10.0.0.0/104", "10.9.9.9", true},
                      ContainsCase{"10.0.0.0/8", "::ffff:10.9.9.9", true},
                      // Families do not mix: ::/0 is every IPv6 address, not IPv4 too.
                      ContainsCase{"::/0", "8.8.8.8", false}, ContainsCase{"::/0", "::ffff:8.8.8.8", false},
                      ContainsCase{"::/64", "10.0.0.1", false}, ContainsCase{"2001:db8::/32", "8.8.8.8", false},
                      ContainsCase{"0.0.0.0/0", "2600::1", false}, ContainsCase{"::1", "127.0.0.1", false},
                      ContainsCase{"10.0.0.0/9", "10.128.0.0", false}, ContainsCase{"10.0.0.0/9", "10.127.0.0", true},
                      ContainsCase{"fe80::/10", "febf::1", true}, ContainsCase{"fe80::/10", "fec0::1", false}));

TEST(Cidr, MappedIpv6PatternIsStoredAsIpv4) {
  const Cidr c = cidr_of("::ffff:10.0.0.0/104");
  EXPECT_FALSE(c.network.v6);
  EXPECT_EQ(c.prefix, 8);
  EXPECT_EQ(c.to_string(), "10.0.0.0/8");
}

TEST(Cidr, HandBuiltMappedNetworkIsIpv4) {
  IpAddress network;
  network.v6 = true;
  network.bytes = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 0};
  const Cidr c{network, 104};
  EXPECT_TRUE(c.contains(IpAddress::v4(10, 1, 1, 1)));
  EXPECT_FALSE(c.contains(IpAddress::v4(11, 1, 1, 1)));
  EXPECT_FALSE(c.contains(*parse_ip("::a01:101")));  // ::10.1.1.1, IPv4-compatible: IPv6
}

TEST(Cidr, SingleAddressesAreFullLengthPrefixes) {
  EXPECT_EQ(cidr_of("1.2.3.4").to_string(), "1.2.3.4/32");
  EXPECT_EQ(cidr_of("2001:db8::1").to_string(), "2001:db8::1/128");
  EXPECT_EQ(cidr_of("::ffff:1.2.3.4").to_string(), "1.2.3.4/32");
}

}  // namespace
}  // namespace enclaver::policy
