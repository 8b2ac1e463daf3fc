// Private helpers shared by the policy sources. Not part of the interface:
// other components include only policy.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "policy/policy.hpp"

namespace enclaver::policy::detail {

// --- Addresses (ip.cpp) -----------------------------------------------------

// Addresses and networks are compared in one 128-bit space: an IPv4 address
// a.b.c.d is the IPv4-mapped ::ffff:a.b.c.d and an IPv4 /p is a /96+p, so
// special ranges of both families live in one table. (Cidr::contains also
// checks the family: an IPv6 network such as ::/0 holds no IPv4 address.)
using Bits128 = std::array<std::uint8_t, 16>;

Bits128 to_bits128(const IpAddress& ip);
int prefix128(const Cidr& cidr);
// True when the first `bits` bits of a and b agree.
bool same_prefix(const Bits128& a, const Bits128& b, int bits);

// Parses "address/prefix" (prefix decimal, no sign, no leading zeros) or a
// bare address (a /32 or /128). IPv6 networks inside ::ffff:0:0/96 with a
// prefix of 96 or more become the equivalent IPv4 network. The error says
// what is wrong, without the field name.
Result<Cidr> parse_cidr(std::string_view text);

// --- Special ranges (special_ranges.cpp) ------------------------------------

// The name of the special range containing ip, without allocating.
const char* special_range_name(const IpAddress& ip);
// D1: true when every address of `cidr` lies in some special range (the
// union of them, not necessarily a single one). 0.0.0.0/0 and ::/0 are not.
bool within_special_ranges(const Cidr& cidr);

// --- Matching (pattern.cpp) -------------------------------------------------

// A name cut into labels once, so that matching it against many patterns
// does not rescan it per pattern. Stored right to left (TLD first), which is
// the order patterns are compared in. 127 labels is the most 253 bytes hold.
struct NameLabels {
  std::array<std::string_view, 127> reversed;
  std::size_t count = 0;
};
// False when the name is empty, has an empty label or too many labels: such
// a name is not normalised and matches nothing.
bool split_labels(std::string_view name, NameLabels& out);
bool matches(const DomainPattern& pattern, const NameLabels& name);

// --- Names (host.cpp) -------------------------------------------------------

// Longest accepted name (without the trailing dot) and label (RFC 1035).
inline constexpr std::size_t kMaxNameLength = 253;
inline constexpr std::size_t kMaxLabelLength = 63;
// Longest raw input given to libidn2; anything longer cannot fit in 253
// bytes once converted, and capping it keeps the work per request bounded.
inline constexpr std::size_t kMaxRawInput = 1024;

bool is_ascii(std::string_view s);
// "123" or "0x7f" / "0x": a label some address parsers (inet_aton, WHATWG
// URL) read as a number.
bool is_numeric_label(std::string_view label);

// UTS #46 non-transitional IDNA via libidn2 for a non-ASCII name (or label).
// Returns the lower-case ASCII form, not yet LDH-checked.
Result<std::string> idna_to_ascii(std::string_view utf8);
// Checks one lower-case ASCII label: 1..63 bytes of [a-z0-9-], no leading or
// trailing hyphen, and an "xn--" label must be a valid A-label that libidn2
// produces again from its Unicode form. Returns why not, or nullopt if fine.
std::optional<std::string> label_error(std::string_view label);

// Renders untrusted input for an error message: printable ASCII as is,
// anything else as \xNN, cut to a sane length. Reasons end up in HTTP bodies
// and logs, so raw control bytes must never reach them.
std::string printable(std::string_view s);
// printable(s) in double quotes. (Built by appending: g++ 12 -O2 warns
// falsely, -Wrestrict, on `"\"" + std::string`.)
std::string quoted(std::string_view s);

}  // namespace enclaver::policy::detail
