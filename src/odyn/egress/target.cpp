#include "odyn/egress/target.hpp"

#include <arpa/inet.h>

#include <algorithm>

namespace enclaver::odyn::egress {
namespace {

Refusal bad(std::string reason) { return Refusal{400, std::move(reason), {}, 0}; }

bool is_control_or_space(unsigned char c) { return c <= 0x20 || c == 0x7f; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

struct Authority {
  std::string host;  // as written, brackets kept
  std::optional<std::uint16_t> port;
};

// host [":" port], IPv6 in brackets. The host's own spelling is judged by
// normalize_host() later (403); here only what cannot be a host in this
// position at all (400): delimiters of other URI parts, whitespace and
// control bytes, misplaced brackets, zone ids, a bad port.
std::variant<Authority, Refusal> parse_authority(std::string_view text) {
  if (text.empty()) return bad("the target has no host");
  Authority out;
  std::string_view host, rest;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return bad("'[' without ']' in the target's host");
    std::string inner(text.substr(1, close - 1));
    if (inner.find('%') != std::string::npos) return bad("IPv6 zone ids are not allowed in a target");
    unsigned char scratch[16];
    if (::inet_pton(AF_INET6, inner.c_str(), scratch) != 1)
      return bad("brackets in a target's host must enclose an IPv6 address");
    host = text.substr(0, close + 1);
    rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return bad("unexpected characters after ']' in the target's host");
  } else {
    auto colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos)
      return bad("IPv6 literals must be written in brackets, as in [2001:db8::1]:443");
    host = text.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
    if (host.empty()) return bad("the target has no host");
    for (char c : host) {
      auto u = static_cast<unsigned char>(c);
      if (is_control_or_space(u)) return bad("whitespace or control characters in the target's host");
      if (c == '[' || c == ']') return bad("brackets in a target's host must enclose a whole IPv6 address");
      if (c == '/' || c == '?' || c == '#' || c == '\\' || c == '@')
        return bad(std::string("'") + c + "' in the target's host");
    }
  }
  out.host = std::string(host);
  if (!rest.empty()) {  // ":" port
    auto port = parse_port(rest.substr(1));
    if (!port) return bad("the port must be a decimal number from 1 to 65535");
    out.port = *port;
  }
  return out;
}

bool has_control_or_space(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) { return is_control_or_space(static_cast<unsigned char>(c)); });
}

// Normalises the host (D4: a host that fails is 403) and fills the target.
Decision finish(Target target) {
  auto normalized = policy::normalize_host(target.host);
  if (!normalized) return Refusal{403, normalized.error().message, target.host, target.port};
  target.dial_host = normalized->to_string();
  target.dial_host_is_ip = normalized->is_ip();
  return target;
}

Decision parse_connect(std::string_view target) {
  if (target.find('@') != std::string_view::npos) return bad("a CONNECT target carries no userinfo ('@')");
  if (has_control_or_space(target)) return bad("whitespace or control characters in the target");
  auto authority = parse_authority(target);
  if (auto* refusal = std::get_if<Refusal>(&authority)) return *refusal;
  auto& a = std::get<Authority>(authority);
  if (!a.port) return bad("CONNECT needs a port (host:port)");
  Target out;
  out.scheme = Scheme::connect;
  out.host = a.host;
  out.port = *a.port;
  return finish(std::move(out));
}

Decision parse_absolute(std::string_view target) {
  auto sep = target.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    if (!target.empty() && target.front() == '/')
      return bad("origin-form target: a proxy request must name its destination (http://host/path)");
    return bad("the target is not an absolute http:// or https:// URI");
  }
  std::string_view scheme_text = target.substr(0, sep);
  Target out;
  std::uint16_t default_port = 0;
  if (iequals(scheme_text, "http")) {
    out.scheme = Scheme::http;
    default_port = 80;
  } else if (iequals(scheme_text, "https")) {
    out.scheme = Scheme::https;
    default_port = 443;
  } else {
    return bad("unsupported scheme (only http and https)");
  }
  if (has_control_or_space(target)) return bad("whitespace or control characters in the target");
  if (target.find('#') != std::string_view::npos) return bad("a fragment ('#') is not allowed in a request target");
  if (std::count(target.begin(), target.end(), '@') > 1) return bad("more than one '@' in the URI");
  std::string_view rest = target.substr(sep + 3);
  auto end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  std::string_view path = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  // WHATWG parsers read '\\' as '/' and so end the authority earlier than
  // RFC 3986 does: such a URI means different hosts to different parsers.
  if (authority.find('\\') != std::string_view::npos) return bad("'\\' in the target's authority");
  // Userinfo is dropped (never forwarded): the host after '@' is the destination.
  if (auto at = authority.find('@'); at != std::string_view::npos) authority = authority.substr(at + 1);
  auto parsed = parse_authority(authority);
  if (auto* refusal = std::get_if<Refusal>(&parsed)) return *refusal;
  auto& a = std::get<Authority>(parsed);
  out.host = a.host;
  out.port = a.port.value_or(default_port);
  if (path.empty()) out.path = "/";
  else if (path.front() == '?') out.path = "/" + std::string(path);
  else out.path = std::string(path);
  out.host_header = out.port == default_port ? out.host : out.host + ":" + std::to_string(out.port);
  return finish(std::move(out));
}

}  // namespace

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
    if (value > 65535) return std::nullopt;  // checked per digit: no overflow however long
  }
  if (value == 0) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

Decision parse_target(std::string_view method, std::string_view target) {
  if (target.empty()) return bad("empty request target");
  if (method == "CONNECT") return parse_connect(target);
  return parse_absolute(target);
}

Decision decide(std::string_view method, std::string_view target, const policy::Policy& policy) {
  auto decision = parse_target(method, target);
  auto* t = std::get_if<Target>(&decision);
  if (!t) return decision;
  auto verdict = policy.check(t->host, t->port);
  if (!verdict.allowed) return Refusal{403, verdict.reason, t->host, t->port};
  return decision;
}

std::string host_port(const Refusal& refusal) { return refusal.host + ":" + std::to_string(refusal.port); }
std::string host_port(const Target& target) { return target.host + ":" + std::to_string(target.port); }

}  // namespace enclaver::odyn::egress
