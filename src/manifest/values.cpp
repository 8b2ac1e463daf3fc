#include "manifest/values.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

namespace enclaver::manifest::values {
namespace {

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) return parts;
    start = pos + 1;
  }
}

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := . | _ | __ | -+
bool valid_path_component(std::string_view c) {
  if (c.empty() || !lower_alnum(c.front()) || !lower_alnum(c.back())) return false;
  std::size_t i = 0;
  while (i < c.size()) {
    if (lower_alnum(c[i])) { ++i; continue; }
    std::size_t j = i;
    while (j < c.size() && !lower_alnum(c[j])) ++j;
    const std::string_view sep = c.substr(i, j - i);
    const bool ok = sep == "." || sep == "_" || sep == "__" || std::all_of(sep.begin(), sep.end(), [](char x) { return x == '-'; });
    if (!ok) return false;
    i = j;
  }
  return true;
}

bool valid_port_text(std::string_view p) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  return !p.empty() && ec == std::errc() && end == p.data() + p.size() && value >= 1 && value <= 65535;
}

// host := DNS-ish name or [IPv6], optionally :port. Loose on purpose: the
// egress policy decides what may be reached; this only catches typos.
bool valid_host_port(std::string_view hp) {
  std::string_view host = hp;
  if (!hp.empty() && hp.front() == '[') {
    const std::size_t close = hp.find(']');
    if (close == std::string_view::npos) return false;
    host = hp.substr(1, close - 1);
    std::string_view rest = hp.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !valid_port_text(rest.substr(1)))) return false;
    return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.'; });
  }
  const std::size_t colon = hp.rfind(':');
  if (colon != std::string_view::npos) {
    if (!valid_port_text(hp.substr(colon + 1))) return false;
    host = hp.substr(0, colon);
  }
  if (host.empty() || host.size() > 253) return false;
  for (auto label : split(host, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    if (!std::all_of(label.begin(), label.end(), [](char c) { return alnum(c) || c == '-'; })) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> check_image_reference(std::string_view ref) {
  const std::string expected =
      "expected an image reference such as `app:latest`, `registry.example.com:5000/team/app:1.2` or `app@sha256:<64 hex>`";
  if (ref.empty()) return "empty image reference; " + expected;
  if (std::any_of(ref.begin(), ref.end(), [](unsigned char c) { return c <= 0x20 || c >= 0x7F; }))
    return "image reference contains whitespace or non-ASCII characters; " + expected;
  std::string_view name = ref;
  if (auto at = name.find('@'); at != std::string_view::npos) {
    const std::string_view digest = name.substr(at + 1);
    name = name.substr(0, at);
    const bool sha = digest.size() == 71 && digest.substr(0, 7) == "sha256:" &&
                     std::all_of(digest.begin() + 7, digest.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
    if (!sha) return "bad digest " + std::string(digest) + "; expected sha256: and 64 lower-case hex digits";
  }
  std::vector<std::string_view> parts = split(name, '/');
  // A tag is after the last ':' of the last component.
  std::string_view& last = parts.back();
  if (auto colon = last.find(':'); colon != std::string_view::npos) {
    const std::string_view tag = last.substr(colon + 1);
    last = last.substr(0, colon);
    const bool ok = !tag.empty() && tag.size() <= 128 && (alnum(tag[0]) || tag[0] == '_') &&
                    std::all_of(tag.begin(), tag.end(), [](char c) { return alnum(c) || c == '_' || c == '.' || c == '-'; });
    if (!ok) return "bad tag " + std::string(tag) + "; tags are up to 128 of A-Z a-z 0-9 _ . - and do not start with . or -";
  }
  std::size_t first_path = 0;
  // The first component is a registry if it has a '.' or ':' or is localhost.
  if (parts.size() > 1 && (parts[0].find_first_of(".:") != std::string_view::npos || parts[0] == "localhost")) {
    if (!valid_host_port(parts[0])) return "bad registry " + std::string(parts[0]) + "; " + expected;
    first_path = 1;
  }
  for (std::size_t i = first_path; i < parts.size(); ++i)
    if (!valid_path_component(parts[i]))
      return "bad name component " + std::string(parts[i].empty() ? "(empty)" : parts[i]) +
             "; names are lower case a-z 0-9 separated by . _ __ or -; " + expected;
  return std::nullopt;
}

bool is_local_path(std::string_view v) {
  return v.starts_with("/") || v.starts_with("./") || v.starts_with("../");
}

std::optional<std::string> check_http_url(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("https://")) rest = url.substr(8);
  else if (url.starts_with("http://")) rest = url.substr(7);
  else return "expected an http:// or https:// URL";
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= 0x20 || c >= 0x7F; }))
    return "URL contains whitespace or non-ASCII characters";
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  const std::size_t at = authority.rfind('@');
  if (!valid_host_port(at == std::string_view::npos ? authority : authority.substr(at + 1)))
    return "URL has no valid host[:port]";
  return std::nullopt;
}

std::optional<std::string> check_kms_endpoint(std::string_view endpoint) {
  std::string_view hp = endpoint;
  if (endpoint.starts_with("https://")) hp = endpoint.substr(8);
  else if (endpoint.starts_with("http://")) hp = endpoint.substr(7);
  else if (endpoint.find("://") != std::string_view::npos) return "expected host, host:port, or http(s)://host[:port]; other schemes are not supported";
  if (!hp.empty() && hp.back() == '/') hp.remove_suffix(1);
  if (!valid_host_port(hp)) return "expected host, host:port, or http(s)://host[:port] (no path)";
  return std::nullopt;
}

std::optional<std::string> check_region(std::string_view region) {
  // partition-area-number, e.g. us-east-1, eu-central-2, us-gov-west-1, ap-southeast-5
  const auto parts = split(region, '-');
  bool ok = parts.size() >= 3 && parts.front().size() == 2;
  for (std::size_t i = 0; ok && i + 1 < parts.size(); ++i)
    ok = !parts[i].empty() && std::all_of(parts[i].begin(), parts[i].end(), [](char c) { return c >= 'a' && c <= 'z'; });
  ok = ok && !parts.back().empty() && parts.back().size() <= 2 &&
       std::all_of(parts.back().begin(), parts.back().end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!ok) return "expected an AWS region name such as us-east-1";
  return std::nullopt;
}

std::optional<std::string> check_bucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return "bucket names are 3 to 63 characters long";
  if (!std::all_of(b.begin(), b.end(), [](char c) { return lower_alnum(c) || c == '.' || c == '-'; }))
    return "bucket names use only a-z, 0-9, '.' and '-'";
  if (!lower_alnum(b.front()) || !lower_alnum(b.back())) return "bucket names start and end with a letter or digit";
  if (b.find("..") != std::string_view::npos) return "bucket names have no two adjacent dots";
  const auto parts = split(b, '.');
  if (parts.size() == 4 && std::all_of(parts.begin(), parts.end(), [](std::string_view p) {
        return !p.empty() && std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; });
      }))
    return "bucket names must not look like an IP address";
  return std::nullopt;
}

PrefixResult normalize_s3_prefix(std::string_view prefix) {
  while (prefix.starts_with("/")) prefix.remove_prefix(1);
  if (prefix.empty()) return {"", std::nullopt};
  std::string_view body = prefix.ends_with("/") ? prefix.substr(0, prefix.size() - 1) : prefix;
  for (auto segment : split(body, '/')) {
    if (segment.empty()) return {"", "empty path segment (\"//\") in prefix"};
    if (segment == "." || segment == "..") return {"", "\".\" and \"..\" segments are not allowed in a prefix"};
  }
  if (std::any_of(body.begin(), body.end(), [](unsigned char c) { return c < 0x20 || c == 0x7F; }))
    return {"", "control characters are not allowed in a prefix"};
  return {std::string(body) + "/", std::nullopt};
}

PrefixResult normalize_checkpoint(std::string_view cp) {
  const bool ok = cp.size() == 66 && (cp.starts_with("0x") || cp.starts_with("0X")) &&
                  std::all_of(cp.begin() + 2, cp.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
  if (!ok) return {"", "expected 0x followed by 64 hex digits (a 32-byte finalized block root)"};
  std::string out(cp);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return {out, std::nullopt};
}

}  // namespace enclaver::manifest::values
