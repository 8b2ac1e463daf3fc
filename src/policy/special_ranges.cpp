// Special ranges (egress.md "Host side", D1, D9): addresses that reach the
// parent instance itself, its VPC, the metadata service, or that embed or
// tunnel to another address. A resolved or literal address in one of them is
// refused unless an allow IP/CIDR pattern inside special ranges names it.
//
// Beyond the list in egress.md this also refuses, as clearly named extras:
//  - 240.0.0.0/4 "reserved" (future use; not routable on the Internet),
//  - fec0::/10 "site-local" (deprecated predecessor of unique-local),
//  - 64:ff9b:1::/48 "nat64" (local-use NAT64, RFC 8215, like 64:ff9b::/96).
// Documentation and benchmarking ranges are deliberately not listed: they are
// harmless and tests commonly use them as stand-ins for public addresses.
#include "policy/detail.hpp"

namespace enclaver::policy {

namespace {

struct Range {
  detail::Bits128 network;  // 128-bit space, IPv4 as ::ffff:a.b.c.d
  int prefix;               // in the same space
  const char* name;
};

constexpr Range v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, int prefix,
                   const char* name) {
  return Range{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d}, 96 + prefix, name};
}

constexpr Range v6(std::uint16_t g0, std::uint16_t g1, std::uint16_t g2, std::uint16_t last, int prefix,
                   const char* name) {
  auto hi = [](std::uint16_t g) { return static_cast<std::uint8_t>(g >> 8); };
  auto lo = [](std::uint16_t g) { return static_cast<std::uint8_t>(g & 0xff); };
  return Range{{hi(g0), lo(g0), hi(g1), lo(g1), hi(g2), lo(g2), 0, 0, 0, 0, 0, 0, 0, 0, hi(last), lo(last)},
               prefix, name};
}

// First match wins, so the more specific entries come first where ranges
// nest (broadcast inside reserved; :: and ::1 inside ::/96).
constexpr Range kRanges[] = {
    v4(0, 0, 0, 0, 8, "unspecified"),
    v4(127, 0, 0, 0, 8, "loopback"),
    v4(169, 254, 0, 0, 16, "link-local"),
    v4(10, 0, 0, 0, 8, "private"),
    v4(172, 16, 0, 0, 12, "private"),
    v4(192, 168, 0, 0, 16, "private"),
    v4(100, 64, 0, 0, 10, "cgnat"),
    v4(224, 0, 0, 0, 4, "multicast"),
    v4(255, 255, 255, 255, 32, "broadcast"),
    v4(240, 0, 0, 0, 4, "reserved"),
    v6(0, 0, 0, 0, 128, "unspecified"),
    v6(0, 0, 0, 1, 128, "loopback"),
    v6(0, 0, 0, 0, 96, "ipv4-compatible"),
    v6(0xfe80, 0, 0, 0, 10, "link-local"),
    v6(0xfec0, 0, 0, 0, 10, "site-local"),
    v6(0xff00, 0, 0, 0, 8, "multicast"),
    v6(0x64, 0xff9b, 0, 0, 96, "nat64"),
    v6(0x64, 0xff9b, 1, 0, 48, "nat64"),
    v6(0x2002, 0, 0, 0, 16, "6to4"),
    v6(0x2001, 0, 0, 0, 32, "teredo"),
    v6(0xfc00, 0, 0, 0, 7, "unique-local"),
};

// Is the network (bits, prefix) covered by the union of kRanges? Either one
// range contains it whole, or it is split in halves that are each covered.
// Splitting only continues while some range lies strictly inside, so the
// recursion is bounded by the ranges' prefix lengths.
bool covered(const detail::Bits128& net, int prefix) {
  bool some_range_inside = false;
  for (const Range& r : kRanges) {
    if (r.prefix <= prefix && detail::same_prefix(r.network, net, r.prefix)) return true;
    if (r.prefix > prefix && detail::same_prefix(r.network, net, prefix)) some_range_inside = true;
  }
  if (!some_range_inside || prefix >= 128) return false;
  detail::Bits128 upper = net;
  upper[static_cast<std::size_t>(prefix / 8)] |= static_cast<std::uint8_t>(0x80u >> (prefix % 8));
  return covered(net, prefix + 1) && covered(upper, prefix + 1);
}

}  // namespace

namespace detail {

const char* special_range_name(const IpAddress& ip) {
  const Bits128 bits = to_bits128(ip);
  for (const Range& r : kRanges)
    if (same_prefix(r.network, bits, r.prefix)) return r.name;
  return nullptr;
}

bool within_special_ranges(const Cidr& cidr) {
  return covered(to_bits128(cidr.network), prefix128(cidr));
}

}  // namespace detail

std::optional<std::string> special_range(const IpAddress& ip) {
  if (const char* name = detail::special_range_name(ip)) return std::string(name);
  return std::nullopt;
}

}  // namespace enclaver::policy
