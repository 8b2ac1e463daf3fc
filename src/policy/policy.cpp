// The decision (egress.md "Policy", "Host side", D1-D3, D9): allowed iff at
// least one allow pattern matches and no deny pattern does. Domain patterns
// see names only, IP/CIDR patterns see addresses only. An address in a
// special range needs an allow IP/CIDR pattern that lies wholly inside
// special ranges, so a catch-all such as 0.0.0.0/0 never opens the parent's
// loopback, the VPC or the metadata service by accident.
//
// Verdict reasons name the rule ("allowed by egress.allow[1] \"...\"",
// "denied by egress.deny[0] \"...\"") so a refusal in a log says what to edit.
#include <charconv>

#include "policy/detail.hpp"

namespace enclaver::policy {

namespace {

constexpr std::string_view kParentName = "host";

// `<verb> egress.<list>[<index>] "<pattern>"`, built with one allocation:
// this is on every request's path.
std::string rule(std::string_view verb, std::string_view list, std::size_t index, const Pattern& p) {
  char digits[24];
  const auto n = static_cast<std::size_t>(std::to_chars(digits, digits + sizeof digits, index).ptr - digits);
  std::string out;
  out.reserve(verb.size() + list.size() + n + p.text.size() + 8);
  out.append(verb).append(list).append("[").append(digits, n).append("] \"");
  out.append(p.text).append("\"");
  return out;
}

Verdict allowed_by(std::size_t index, const Pattern& p) { return {true, rule("allowed by ", "egress.allow", index, p)}; }
Verdict denied_by(std::size_t index, const Pattern& p) { return {false, rule("denied by ", "egress.deny", index, p)}; }

const DomainPattern* as_domain(const Pattern& p) { return std::get_if<DomainPattern>(&p.value); }
const Cidr* as_cidr(const Pattern& p) { return std::get_if<Cidr>(&p.value); }

bool is_literal_parent(const DomainPattern& d) { return d.labels.size() == 1 && d.labels[0] == kParentName; }

std::string special_refusal(const char* range) {
  return std::string("special range ") + range + " not explicitly allowed";
}

}  // namespace

Result<Policy> Policy::create(const std::vector<std::string>& allow, const std::vector<std::string>& deny) {
  Policy policy;
  auto parse_list = [](std::string_view list, const std::vector<std::string>& texts,
                       std::vector<Pattern>& out) -> std::optional<Error> {
    out.reserve(texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
      auto pattern = parse_pattern(texts[i]);
      if (!pattern)
        return make_error(std::string(list) + "[" + std::to_string(i) + "]: " + pattern.error().message +
                          " (pattern \"" + detail::printable(texts[i]) + "\")");
      out.push_back(std::move(pattern.value()));
    }
    return std::nullopt;
  };
  if (auto error = parse_list("egress.allow", allow, policy.allow_)) return *error;
  if (auto error = parse_list("egress.deny", deny, policy.deny_)) return *error;
  return policy;
}

Verdict Policy::check(std::string_view requested_host, std::uint16_t port) const {
  if (!enabled()) return {false, "egress is disabled (egress.allow is empty)"};
  auto host = normalize_host(requested_host);
  if (!host) return {false, "invalid host: " + host.error().message};
  return check(host.value(), port);
}

Verdict Policy::check(const Host& host, std::uint16_t /*port*/) const {
  // Patterns carry no port (egress.md): every port of an allowed host is allowed.
  if (!enabled()) return {false, "egress is disabled (egress.allow is empty)"};

  if (const auto* name = std::get_if<std::string>(&host.value)) {
    detail::NameLabels labels;
    if (!detail::split_labels(*name, labels)) return {false, "invalid host: not a normalised name"};
    for (std::size_t i = 0; i < deny_.size(); ++i)
      if (const auto* d = as_domain(deny_[i]); d && detail::matches(*d, labels)) return denied_by(i, deny_[i]);
    // `host` is the parent's loopback: only a literal `host` allow opens it,
    // never `*` or `**`.
    const bool parent = *name == kParentName;
    for (std::size_t i = 0; i < allow_.size(); ++i) {
      const auto* d = as_domain(allow_[i]);
      if (d && (parent ? is_literal_parent(*d) : detail::matches(*d, labels))) return allowed_by(i, allow_[i]);
    }
    if (parent) return {false, "the name host (the parent's loopback) needs \"host\" listed literally in egress.allow"};
    return {false, "no allow rule matches"};
  }

  const IpAddress& ip = std::get<IpAddress>(host.value);
  for (std::size_t i = 0; i < deny_.size(); ++i)
    if (const auto* c = as_cidr(deny_[i]); c && c->contains(ip)) return denied_by(i, deny_[i]);
  const char* special = detail::special_range_name(ip);
  bool covered_by_catch_all = false;
  for (std::size_t i = 0; i < allow_.size(); ++i) {
    const auto* c = as_cidr(allow_[i]);
    if (!c || !c->contains(ip)) continue;
    if (!special || detail::within_special_ranges(*c)) return allowed_by(i, allow_[i]);
    covered_by_catch_all = true;  // D1: e.g. 0.0.0.0/0 does not unlock 127.0.0.1
  }
  if (covered_by_catch_all) return {false, special_refusal(special)};
  return {false, "no allow rule matches"};
}

Verdict Policy::check_resolved(const Host& host, const IpAddress& address, std::uint16_t port) const {
  // D3: the host side does not trust odyn; the name goes through everything.
  Verdict verdict = check(host, port);
  if (!verdict.allowed) return verdict;

  if (const auto* literal = std::get_if<IpAddress>(&host.value)) {
    // Nothing to resolve: the only acceptable address is the literal itself,
    // which check() has just judged (deny, special ranges, allow).
    if (!(address == *literal))
      return {false, "address " + address.to_string() + " is not the requested literal " + literal->to_string()};
    return verdict;
  }

  const std::string suffix = " (resolved address " + address.to_string() + ")";
  for (std::size_t i = 0; i < deny_.size(); ++i)
    if (const auto* c = as_cidr(deny_[i]); c && c->contains(address))
      return {false, denied_by(i, deny_[i]).reason + suffix};

  const char* special = detail::special_range_name(address);
  if (!special) return verdict;
  // `host` allowed literally means "the parent's loopback", so loopback is the point.
  if (std::get<std::string>(host.value) == kParentName && std::string_view(special) == "loopback") return verdict;
  for (std::size_t i = 0; i < allow_.size(); ++i) {
    const auto* c = as_cidr(allow_[i]);
    if (c && c->contains(address) && detail::within_special_ranges(*c))
      return {true, allowed_by(i, allow_[i]).reason + suffix};
  }
  return {false, special_refusal(special) + suffix};
}

Verdict Policy::check_resolved_all(const Host& host, const std::vector<IpAddress>& addresses,
                                   std::uint16_t port) const {
  if (addresses.empty()) return {false, host.to_string() + " resolved to no address"};
  Verdict first;
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    Verdict verdict = check_resolved(host, addresses[i], port);
    if (!verdict.allowed) return verdict;  // D2: never "the acceptable subset"
    if (i == 0) first = std::move(verdict);
  }
  return first;
}

}  // namespace enclaver::policy
