// Special ranges (egress.md "Host side", D1, D9).
#include <gtest/gtest.h>

#include "policy/detail.hpp"
#include "policy/policy.hpp"

namespace enclaver::policy {
namespace {

struct RangeCase {
  const char* ip;
  const char* range;  // nullptr: an ordinary public address
};

class SpecialRange : public ::testing::TestWithParam<RangeCase> {};

TEST_P(SpecialRange, NamesTheRange) {
  const auto& c = GetParam();
  auto ip = parse_ip(c.ip);
  ASSERT_TRUE(ip.has_value()) << c.ip;
  auto range = special_range(*ip);
  if (c.range) {
    ASSERT_TRUE(range.has_value()) << c.ip << " should be " << c.range;
    EXPECT_EQ(*range, c.range) << c.ip;
  } else {
    EXPECT_FALSE(range.has_value()) << c.ip << " is public but reported as " << *range;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, SpecialRange,
    ::testing::Values(
        // The egress.md list, IPv4.
        RangeCase{"127.0.0.1", "loopback"}, RangeCase{"127.255.255.254", "loopback"},
        RangeCase{"169.254.169.254", "link-local"}, RangeCase{"169.254.0.1", "link-local"},
        RangeCase{"10.0.0.1", "private"}, RangeCase{"172.16.0.1", "private"}, RangeCase{"172.31.255.255", "private"},
        RangeCase{"192.168.1.1", "private"}, RangeCase{"100.64.0.1", "cgnat"}, RangeCase{"100.127.255.255", "cgnat"},
        RangeCase{"224.0.0.1", "multicast"}, RangeCase{"239.255.255.255", "multicast"},
        RangeCase{"0.0.0.0", "unspecified"}, RangeCase{"0.1.2.3", "unspecified"},
        RangeCase{"255.255.255.255", "broadcast"},
        // Documented extra.
        RangeCase{"240.0.0.1", "reserved"},
        // IPv4-mapped IPv6 is the IPv4 address, so it lands in the same range.
        RangeCase{"::ffff:127.0.0.1", "loopback"}, RangeCase{"::ffff:169.254.169.254", "link-local"},
        // IPv6.
        RangeCase{"::1", "loopback"}, RangeCase{"::", "unspecified"}, RangeCase{"fe80::1", "link-local"},
        RangeCase{"ff02::1", "multicast"}, RangeCase{"64:ff9b::7f00:1", "nat64"},
        RangeCase{"64:ff9b:1::1", "nat64"}, RangeCase{"2002:7f00:1::1", "6to4"},
        RangeCase{"2001:0:4136:e378::1", "teredo"}, RangeCase{"fc00::1", "unique-local"},
        RangeCase{"fd00:ec2::254", "unique-local"}, RangeCase{"fec0::1", "site-local"},
        // D9: IPv4-compatible ::a.b.c.d.
        RangeCase{"::1.2.3.4", "ipv4-compatible"}, RangeCase{"::127.0.0.1", "ipv4-compatible"},
        RangeCase{"::2", "ipv4-compatible"},
        // Public addresses, including the neighbours of each range.
        RangeCase{"8.8.8.8", nullptr}, RangeCase{"1.1.1.1", nullptr}, RangeCase{"126.255.255.255", nullptr},
        RangeCase{"128.0.0.0", nullptr}, RangeCase{"169.253.255.255", nullptr}, RangeCase{"169.255.0.0", nullptr},
        RangeCase{"172.15.255.255", nullptr}, RangeCase{"172.32.0.0", nullptr}, RangeCase{"192.167.255.255", nullptr},
        RangeCase{"192.169.0.0", nullptr}, RangeCase{"100.63.255.255", nullptr}, RangeCase{"100.128.0.0", nullptr},
        RangeCase{"223.255.255.255", nullptr}, RangeCase{"11.0.0.0", nullptr}, RangeCase{"1.0.0.0", nullptr},
        RangeCase{"2600:1f18::1", nullptr}, RangeCase{"2001:4860:4860::8888", nullptr},
        RangeCase{"2001:1::1", nullptr}, RangeCase{"2003::1", nullptr}, RangeCase{"fe00::1", nullptr},
        RangeCase{"fbff::1", nullptr}, RangeCase{"::1:0:0:0", nullptr}, RangeCase{"64:ff9b:2::1", nullptr}));

struct CoverCase {
  const char* cidr;
  bool inside;
};

class WithinSpecialRanges : public ::testing::TestWithParam<CoverCase> {};

TEST_P(WithinSpecialRanges, D1) {
  const auto& c = GetParam();
  auto p = parse_pattern(c.cidr);
  ASSERT_TRUE(p.ok()) << c.cidr;
  EXPECT_EQ(detail::within_special_ranges(std::get<Cidr>(p.value().value)), c.inside) << c.cidr;
}

INSTANTIATE_TEST_SUITE_P(
    Table, WithinSpecialRanges,
    ::testing::Values(
        // egress.md D1: these unlock...
        CoverCase{"10.0.0.0/8", true}, CoverCase{"10.1.0.0/16", true}, CoverCase{"169.254.169.254", true},
        CoverCase{"127.0.0.1", true}, CoverCase{"fd00:ec2::254", true}, CoverCase{"::1", true},
        CoverCase{"fc00::/7", true}, CoverCase{"fd00::/8", true}, CoverCase{"::ffff:10.0.0.0/104", true},
        // ...because the union counts: 224/4 multicast + 240/4 reserved = 224/3.
        CoverCase{"224.0.0.0/3", true},
        // ...and these never do.
        CoverCase{"0.0.0.0/0", false}, CoverCase{"::/0", false}, CoverCase{"8.0.0.0/7", false},
        CoverCase{"172.0.0.0/11", false}, CoverCase{"169.254.0.0/15", false}, CoverCase{"8.8.8.8", false},
        CoverCase{"::/64", false}, CoverCase{"::ffff:0:0/96", false}, CoverCase{"fc00::/6", false},
        CoverCase{"2000::/3", false}));

}  // namespace
}  // namespace enclaver::policy
