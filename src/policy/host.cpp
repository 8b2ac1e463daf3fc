// Normalisation of a requested host (egress.md "Normalisation", D5, D6, D12,
// D15). One canonical form per destination, so that matching is a plain
// label comparison and no spelling of an address or name slips past a rule:
//  - "[v6]" -> IPv6 address (::ffff:a.b.c.d -> IPv4). A bare IPv6 literal
//    (no brackets) is accepted too, because the egress tunnel request carries
//    IP literals without brackets; it means the same address either way.
//  - a canonical dotted quad -> IPv4 address;
//  - otherwise a name: Unicode -> A-labels via libidn2 (UTS #46
//    non-transitional), one trailing dot stripped, lower-cased, then our own
//    LDH check. "xn--" labels written in ASCII are checked to be exactly what
//    libidn2 produces from their Unicode form, so both spellings of an IDN
//    give the same host and bogus A-labels are refused.
//  - names that some resolver could read as a number (every label numeric or
//    0x-hex, or a numeric last label) are refused as ambiguous, never sent to
//    DNS and never matched as names.
#include <idn2.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "policy/detail.hpp"

namespace enclaver::policy {

namespace detail {

namespace {

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

struct Idn2Free {
  void operator()(char* p) const { idn2_free(p); }
};
using Idn2String = std::unique_ptr<char, Idn2Free>;

constexpr int kIdnaFlags = IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT;

// libidn2 wants C strings; an embedded NUL would silently cut the input.
std::optional<std::string> c_string(std::string_view s) {
  if (s.find('\0') != std::string_view::npos) return std::nullopt;
  return std::string(s);
}

// An A-label is valid when decoding it and encoding the result again (with
// the same UTS #46 processing a Unicode request gets) gives the label back.
// This refuses bad punycode, A-labels of pure ASCII ("xn--abc-"), of
// upper-case or otherwise unmapped text, and of disallowed code points.
bool is_valid_a_label(const std::string& label) {
  char* unicode_raw = nullptr;
  if (idn2_to_unicode_8z8z(label.c_str(), &unicode_raw, 0) != IDN2_OK) {
    idn2_free(unicode_raw);
    return false;
  }
  Idn2String unicode(unicode_raw);
  if (!unicode || unicode.get()[0] == '\0') return false;
  char* ascii_raw = nullptr;
  if (idn2_to_ascii_8z(unicode.get(), &ascii_raw, kIdnaFlags) != IDN2_OK) {
    idn2_free(ascii_raw);
    return false;
  }
  Idn2String ascii(ascii_raw);
  return ascii && label == ascii.get();
}

std::string describe_char(char c) {
  switch (c) {
    case '*': return "'*' is not allowed in a host name (wildcards belong in patterns)";
    case '_': return "'_' is not allowed in a host name (only letters, digits and '-')";
    case '@': return "'@' is not allowed in a host name (userinfo is not part of the host)";
    case '%': return "'%' is not allowed in a host name (percent-encoding is never decoded)";
    default: break;
  }
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u == 0x7f) return "whitespace or control characters are not allowed in a host name";
  return "character '" + printable(std::string_view(&c, 1)) +
         "' is not allowed in a host name (only letters, digits, '-' and '.')";
}

}  // namespace

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

bool is_numeric_label(std::string_view label) {
  if (label.size() >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X')) {
    for (char c : label.substr(2))
      if (!is_hex(c)) return false;
    return true;
  }
  if (label.empty()) return false;
  for (char c : label)
    if (c < '0' || c > '9') return false;
  return true;
}

Result<std::string> idna_to_ascii(std::string_view utf8) {
  auto input = c_string(utf8);
  if (!input) return make_error("NUL bytes are not allowed in a host name");
  char* out_raw = nullptr;
  const int rc = idn2_to_ascii_8z(input->c_str(), &out_raw, kIdnaFlags);
  Idn2String out(out_raw);
  if (rc != IDN2_OK || !out)
    return make_error(std::string("not a valid internationalised domain name (IDNA 2008, UTS #46): ") +
                      idn2_strerror(rc));
  std::string result(out.get());
  for (char& c : result)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return result;
}

std::optional<std::string> label_error(std::string_view label) {
  if (label.empty()) return "empty label (a leading dot or two dots in a row)";
  if (label.size() > kMaxLabelLength)
    return "label of " + std::to_string(label.size()) + " bytes is longer than 63";
  for (char c : label) {
    const bool ldh = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ldh) return describe_char(c);
  }
  if (label.front() == '-' || label.back() == '-')
    return "label \"" + std::string(label) + "\" starts or ends with '-'";
  if (label.size() >= 4 && label.substr(0, 4) == "xn--" && !is_valid_a_label(std::string(label)))
    return "label \"" + std::string(label) + "\" is not a valid IDNA A-label";
  return std::nullopt;
}

std::string printable(std::string_view s) {
  constexpr std::size_t kMax = 80;
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
    const auto u = static_cast<unsigned char>(s[i]);
    if (u >= 0x20 && u < 0x7f && u != '\\' && u != '"') {
      out += static_cast<char>(u);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    }
  }
  if (s.size() > kMax) out += "...";
  return out;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  out += printable(s);
  out += '"';
  return out;
}

}  // namespace detail

namespace {

Result<Host> bracketed_ipv6(std::string_view requested) {
  if (requested.back() != ']')
    return make_error("'[' must enclose a whole IPv6 literal, as in [2001:db8::1]");
  const std::string_view inner = requested.substr(1, requested.size() - 2);
  if (inner.find('%') != std::string_view::npos)
    return make_error("IPv6 zone ids ('%') are not allowed in a host");
  if (inner.find(':') == std::string_view::npos)
    return make_error("brackets are only for IPv6 literals; write IPv4 addresses and names without them");
  auto ip = parse_ip(inner);
  if (!ip) return make_error(detail::quoted(inner) + " is not a valid IPv6 address");
  return Host{*ip};
}

}  // namespace

Result<Host> normalize_host(std::string_view requested) {
  if (requested.empty()) return make_error("the host is empty");
  if (requested.size() > detail::kMaxRawInput)
    return make_error("the host is longer than " + std::to_string(detail::kMaxRawInput) + " bytes");
  if (requested.front() == '[') return bracketed_ipv6(requested);
  if (requested.find_first_of("[]") != std::string_view::npos)
    return make_error("'[' and ']' may only enclose a whole IPv6 literal, as in [2001:db8::1]");
  if (requested.find('%') != std::string_view::npos)
    return make_error("'%' is not allowed in a host (percent-encoding is never decoded)");
  if (requested.find(':') != std::string_view::npos) {
    // Bare IPv6 (how the tunnel request carries it); anything else with a
    // colon is a host:port or garbage.
    if (auto ip = parse_ip(requested)) return Host{*ip};
    return make_error(detail::quoted(requested) +
                      " is neither a host name nor an IPv6 address (a port does not belong in the host)");
  }
  if (auto ip = parse_ip(requested)) return Host{*ip};

  std::string name;
  if (detail::is_ascii(requested)) {
    name.assign(requested);
  } else {
    auto converted = detail::idna_to_ascii(requested);
    if (!converted) return converted.error();
    name = std::move(converted.value());
  }
  if (!name.empty() && name.back() == '.') name.pop_back();  // one trailing dot only
  if (name.empty()) return make_error("the host is empty");
  for (char& c : name)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');

  bool all_numeric = true;
  std::string_view last_label;
  std::string_view rest = name;
  while (true) {
    const std::size_t dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    if (auto why = detail::label_error(label)) return make_error(*why);
    all_numeric = all_numeric && detail::is_numeric_label(label);
    last_label = label;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (name.size() > detail::kMaxNameLength)
    return make_error("the name is " + std::to_string(name.size()) + " bytes long; at most 253 are allowed");
  if (all_numeric && parse_ip(name))
    return make_error(detail::is_ascii(requested)
                          ? "an IPv4 literal is written without a trailing dot"
                          : detail::quoted(requested) + " becomes the address " + detail::quoted(name) +
                                " only after IDNA mapping; IPv4 literals must be written as a plain "
                                "dotted quad");
  if (all_numeric)
    return make_error(detail::quoted(name) +
                      " is an ambiguous numeric host; IPv4 addresses must be a canonical dotted quad "
                      "(four decimal parts 0..255 without leading zeros)");
  if (detail::is_numeric_label(last_label))
    return make_error(detail::quoted(name) + " ends in a numeric label, which some resolvers read as an address");
  return Host{std::move(name)};
}

std::string Host::to_string() const {
  if (const auto* name = std::get_if<std::string>(&value)) return *name;
  return std::get<IpAddress>(value).to_string();
}

}  // namespace enclaver::policy
