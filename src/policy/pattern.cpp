// Allow/deny patterns (egress.md "Policy"): a domain pattern with `*` (one
// label) and a leftmost `**` (one or more labels), or an IP / CIDR. Anything
// else is refused with a sentence saying what is wrong and what is expected,
// so a manifest author can fix the field the manifest layer names.
#include "policy/detail.hpp"

namespace enclaver::policy {

namespace {

bool ascii_iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

Result<DomainPattern> parse_domain_pattern(std::string_view text) {
  if (text.back() == '.')
    return make_error("a pattern is written without a trailing dot (example.com, not example.com.)");
  std::string ascii;
  if (detail::is_ascii(text)) {
    ascii.assign(text);
  } else {
    // libidn2 passes '*' through (no STD3 rules), so the whole pattern can be
    // converted at once, like a requested name.
    auto converted = detail::idna_to_ascii(text);
    if (!converted) return converted.error();
    ascii = std::move(converted.value());
    if (!ascii.empty() && ascii.back() == '.')  // e.g. a trailing U+3002 ideographic full stop
      return make_error("a pattern is written without a trailing dot (example.com, not example.com.)");
  }
  for (char& c : ascii)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (ascii.size() > detail::kMaxNameLength)
    return make_error("the pattern is " + std::to_string(ascii.size()) +
                      " bytes long; names have at most 253");

  DomainPattern pattern;
  bool has_wildcard = false;
  bool concrete_all_numeric = true;
  std::size_t concrete = 0;
  std::string_view rest = ascii;
  while (true) {
    const std::size_t dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    if (label == "**") {
      if (!pattern.labels.empty())
        return make_error("'**' may only be the leftmost label, and only once (as in **.example.com)");
      has_wildcard = true;
    } else if (label == "*") {
      has_wildcard = true;
    } else if (label.find('*') != std::string_view::npos) {
      return make_error("'*' must be a whole label (*.example.com), not part of one (\"" +
                        detail::printable(label) + "\")");
    } else {
      if (auto why = detail::label_error(label)) return make_error(*why);
      ++concrete;
      concrete_all_numeric = concrete_all_numeric && detail::is_numeric_label(label);
    }
    pattern.labels.emplace_back(label);
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }

  if (concrete > 0 && concrete_all_numeric) {
    if (has_wildcard)
      return make_error("a domain pattern cannot match IP addresses; write a CIDR such as 10.0.0.0/8");
    return make_error(detail::quoted(ascii) +
                      " looks numeric but is not a canonical IPv4 address (four decimal parts 0..255 "
                      "without leading zeros, such as 127.0.0.1)");
  }
  if (detail::is_numeric_label(pattern.labels.back()))
    return make_error(detail::quoted(ascii) +
                      " ends in a numeric label; such hosts are refused as ambiguous, so it could never match");
  return pattern;
}

}  // namespace

namespace detail {

bool split_labels(std::string_view name, NameLabels& out) {
  out.count = 0;
  if (name.empty()) return false;
  std::size_t end = name.size();
  while (true) {
    const std::size_t dot = name.rfind('.', end - 1);
    const std::size_t start = dot == std::string_view::npos ? 0 : dot + 1;
    if (start == end || out.count == out.reversed.size()) return false;
    out.reversed[out.count++] = name.substr(start, end - start);
    if (dot == std::string_view::npos) return true;
    end = dot;
    if (end == 0) return false;  // leading dot
  }
}

bool matches(const DomainPattern& pattern, const NameLabels& name) {
  // Hot path: compare wildcards by size and bytes, not via strlen + memcmp.
  const auto is_star = [](const std::string& s) { return s.size() == 1 && s[0] == '*'; };
  const auto& labels = pattern.labels;
  if (labels.empty()) return false;
  const bool leading_any = labels.front().size() == 2 && labels.front()[0] == '*' && labels.front()[1] == '*';
  const std::size_t fixed = labels.size() - (leading_any ? 1 : 0);
  // `**` stands for one or more labels; without it the counts must agree.
  if (leading_any ? name.count <= fixed : name.count != fixed) return false;
  for (std::size_t i = 0; i < fixed; ++i) {
    const std::string& want = labels[labels.size() - 1 - i];
    if (!is_star(want) && !ascii_iequal(want, name.reversed[i])) return false;
  }
  return true;
}

}  // namespace detail

bool DomainPattern::matches(std::string_view name) const {
  detail::NameLabels split;
  return detail::split_labels(name, split) && detail::matches(*this, split);
}

std::string DomainPattern::to_string() const {
  std::string out;
  for (const auto& label : labels) {
    if (!out.empty()) out += '.';
    out += label;
  }
  return out;
}

Result<Pattern> parse_pattern(std::string_view text) {
  if (text.empty()) return make_error("the pattern is empty");
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f)
      return make_error("whitespace or control characters are not allowed in a pattern");
  }
  if (text.size() > detail::kMaxRawInput)
    return make_error("the pattern is longer than " + std::to_string(detail::kMaxRawInput) + " bytes");
  if (text.find_first_of("[]") != std::string_view::npos)
    return make_error("IPv6 patterns are written without brackets (2001:db8::/32, not [2001:db8::]/32)");
  if (text.find('%') != std::string_view::npos)
    return make_error("'%' is not allowed in a pattern (no percent-encoding, no IPv6 zone ids)");
  if (text.find("://") != std::string_view::npos)
    return make_error("a pattern is a host name or address, not a URL (example.com, not https://example.com)");

  Pattern pattern;
  pattern.text = std::string(text);
  if (text.find_first_of("/:") != std::string_view::npos || parse_ip(text)) {
    auto cidr = detail::parse_cidr(text);
    if (!cidr) return cidr.error();
    pattern.value = cidr.value();
    return pattern;
  }
  auto domain = parse_domain_pattern(text);
  if (!domain) return domain.error();
  pattern.value = std::move(domain.value());
  return pattern;
}

}  // namespace enclaver::policy
