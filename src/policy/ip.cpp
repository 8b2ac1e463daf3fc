// IP literals and CIDR networks (egress.md D15): IPv4 only as a canonical
// dotted quad, IPv6 in any form inet_pton takes. No resolver, no inet_aton:
// the whole point is to refuse the forms inet_aton would guess at.
#include <arpa/inet.h>

#include <cstring>

#include "policy/detail.hpp"

namespace enclaver::policy {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Exactly four decimal parts 0..255, no leading zeros, nothing else.
std::optional<IpAddress> parse_dotted_quad(std::string_view text) {
  IpAddress ip;
  std::size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= text.size() || text[pos] != '.') return std::nullopt;
      ++pos;
    }
    const std::size_t start = pos;
    unsigned value = 0;
    while (pos < text.size() && is_digit(text[pos]) && pos - start < 4) {
      value = value * 10 + static_cast<unsigned>(text[pos] - '0');
      ++pos;
    }
    const std::size_t len = pos - start;
    if (len == 0 || len > 3 || value > 255) return std::nullopt;
    if (len > 1 && text[start] == '0') return std::nullopt;  // 010 is octal to inet_aton
    ip.bytes[static_cast<std::size_t>(part)] = static_cast<std::uint8_t>(value);
  }
  if (pos != text.size()) return std::nullopt;
  return ip;
}

// inet_pton(AF_INET6) on a bounded copy (it wants a C string). No mapping.
std::optional<detail::Bits128> parse_v6_bytes(std::string_view text) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  detail::Bits128 bytes{};
  if (inet_pton(AF_INET6, buf, bytes.data()) != 1) return std::nullopt;
  return bytes;
}

bool is_v4_mapped(const detail::Bits128& b) {
  for (int i = 0; i < 10; ++i)
    if (b[static_cast<std::size_t>(i)] != 0) return false;
  return b[10] == 0xff && b[11] == 0xff;
}

IpAddress from_v6_bytes(const detail::Bits128& b) {
  if (is_v4_mapped(b)) return IpAddress::v4(b[12], b[13], b[14], b[15]);
  IpAddress ip;
  ip.v6 = true;
  ip.bytes = b;
  return ip;
}

// Clears every bit after the first `bits`; reports whether any was set.
bool clear_host_bits(detail::Bits128& b, int bits, int total_bits) {
  bool had_host_bits = false;
  for (int i = bits; i < total_bits; ++i) {
    auto& byte = b[static_cast<std::size_t>(i / 8)];
    const auto mask = static_cast<std::uint8_t>(0x80u >> (i % 8));
    if (byte & mask) {
      had_host_bits = true;
      byte = static_cast<std::uint8_t>(byte & ~mask);
    }
  }
  return had_host_bits;
}

}  // namespace

IpAddress IpAddress::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  IpAddress ip;
  ip.bytes[0] = a;
  ip.bytes[1] = b;
  ip.bytes[2] = c;
  ip.bytes[3] = d;
  return ip;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf)) return "?";
  return buf;
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.find(':') == std::string_view::npos) return parse_dotted_quad(text);
  auto bytes = parse_v6_bytes(text);
  if (!bytes) return std::nullopt;
  return from_v6_bytes(*bytes);
}

bool Cidr::contains(const IpAddress& ip) const {
  // Families first: a v6 network never contains an IPv4 address (::/0 is not
  // 0.0.0.0/0). An IpAddress or network built by hand in ::ffff:a.b.c.d form
  // counts as IPv4, like everything parse_ip returns.
  const detail::Bits128 net = detail::to_bits128(network);
  const detail::Bits128 addr = detail::to_bits128(ip);
  const int bits = detail::prefix128(*this);
  const bool net_is_v4 = bits >= 96 && is_v4_mapped(net);
  if (net_is_v4 != is_v4_mapped(addr)) return false;
  return detail::same_prefix(net, addr, bits);
}

std::string Cidr::to_string() const { return network.to_string() + "/" + std::to_string(prefix); }

namespace detail {

Bits128 to_bits128(const IpAddress& ip) {
  if (ip.v6) return ip.bytes;
  Bits128 b{};
  b[10] = 0xff;
  b[11] = 0xff;
  std::memcpy(&b[12], ip.bytes.data(), 4);
  return b;
}

int prefix128(const Cidr& cidr) { return cidr.network.v6 ? cidr.prefix : 96 + cidr.prefix; }

bool same_prefix(const Bits128& a, const Bits128& b, int bits) {
  const int whole = bits / 8;
  for (int i = 0; i < whole; ++i)
    if (a[static_cast<std::size_t>(i)] != b[static_cast<std::size_t>(i)]) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xffu << (8 - rest));
  return (a[static_cast<std::size_t>(whole)] & mask) == (b[static_cast<std::size_t>(whole)] & mask);
}

Result<Cidr> parse_cidr(std::string_view text) {
  const std::size_t slash = text.find('/');
  const std::string_view addr_text = text.substr(0, slash);
  const bool v6_text = addr_text.find(':') != std::string_view::npos;
  const int max_prefix = v6_text ? 128 : 32;

  if (addr_text.find('%') != std::string_view::npos)
    return make_error("an IPv6 zone id ('%') is not allowed in a pattern; write the address alone");

  Bits128 bytes{};
  if (v6_text) {
    auto parsed = parse_v6_bytes(addr_text);
    if (!parsed)
      return make_error(quoted(addr_text) +
                        " is not a valid IPv6 address (expected a form such as 2001:db8::1)");
    bytes = *parsed;
  } else {
    auto parsed = parse_dotted_quad(addr_text);
    if (!parsed)
      return make_error(quoted(addr_text) +
                        " is not a canonical IPv4 address (expected four decimal parts 0..255 "
                        "without leading zeros, such as 10.0.0.0)");
    std::memcpy(bytes.data(), parsed->bytes.data(), 4);
  }

  int prefix = max_prefix;
  if (slash != std::string_view::npos) {
    const std::string_view p = text.substr(slash + 1);
    bool digits = !p.empty() && p.size() <= 3;
    for (char c : p) digits = digits && is_digit(c);
    if (!digits || (p.size() > 1 && p[0] == '0'))
      return make_error("prefix length \"" + printable(p) + "\" is not a decimal number 0.." +
                        std::to_string(max_prefix));
    prefix = std::stoi(std::string(p));
    if (prefix > max_prefix)
      return make_error("prefix length /" + std::to_string(prefix) + " is out of range (0.." +
                        std::to_string(max_prefix) + " for " + (v6_text ? "IPv6" : "IPv4") + ")");
  }

  Bits128 network = bytes;
  if (clear_host_bits(network, prefix, max_prefix)) {
    Cidr fixed;
    if (v6_text) {
      fixed.network.v6 = true;
      fixed.network.bytes = network;
    } else {
      std::memcpy(fixed.network.bytes.data(), network.data(), 4);
    }
    fixed.prefix = prefix;
    return make_error(quoted(text) + " has host bits set after the /" +
                      std::to_string(prefix) + " prefix (did you mean " + fixed.to_string() + "?)");
  }

  Cidr cidr;
  cidr.prefix = prefix;
  if (!v6_text) {
    std::memcpy(cidr.network.bytes.data(), network.data(), 4);
  } else if (is_v4_mapped(network) && prefix >= 96) {
    // ::ffff:10.0.0.0/104 is exactly 10.0.0.0/8; store it that way.
    cidr.network = from_v6_bytes(network);
    cidr.prefix = prefix - 96;
  } else {
    cidr.network.v6 = true;
    cidr.network.bytes = network;
  }
  return cidr;
}

}  // namespace detail

}  // namespace enclaver::policy
