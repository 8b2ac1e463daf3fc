#include "http/path.hpp"

#include <vector>

namespace enclaver::http {
namespace {

Error refuse(std::string why) { return make_error("bad request target: " + std::move(why)); }

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 pchar minus the escape itself: what may stand unescaped in a
// segment, so decoding its escape changes no meaning.
bool decodes_to_itself(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-': case '.': case '_': case '~':                                         // unreserved
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+':  // sub-delims
    case ',': case ';': case '=':
    case ':': case '@': return true;
    default: return false;
  }
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// One segment with its escapes decoded as the header says; the raw bytes
// were checked before.
Result<std::string> decode_segment(std::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      out += raw[i];
      continue;
    }
    if (i + 2 >= raw.size()) return refuse("'%' not followed by two hex digits");
    int high = hex_value(raw[i + 1]);
    int low = hex_value(raw[i + 2]);
    if (high < 0 || low < 0) return refuse("'%' not followed by two hex digits");
    auto c = static_cast<unsigned char>(high * 16 + low);
    if (c == 0) return refuse("an encoded NUL (%00)");
    if (is_control(c)) return refuse("an encoded control character");
    if (c == '/' || c == '\\') return refuse("an encoded '/' or '\\' in the path");
    if (decodes_to_itself(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
    i += 2;
  }
  return out;
}

}  // namespace

Result<Target> normalise_target(std::string_view target) {
  if (target.empty()) return refuse("empty");
  if (target == "*") return refuse("asterisk-form (*) is not accepted");
  for (char ch : target) {
    auto c = static_cast<unsigned char>(ch);
    if (is_control(c)) return refuse("a control character");
    if (c == ' ') return refuse("a space");
    if (c >= 0x80) return refuse("a non-ASCII byte");
    if (c == '#') return refuse("a fragment ('#')");
    if (c == '\\') return refuse("a backslash");
  }

  std::string_view rest = target;
  if (rest.front() != '/') {
    std::size_t scheme = 0;
    if (starts_with_nocase(rest, "http://")) scheme = 7;
    else if (starts_with_nocase(rest, "https://")) scheme = 8;
    else if (rest.find("://") != std::string_view::npos) return refuse("only http:// and https:// URLs are accepted");
    else return refuse("must be a path starting with '/' or an http(s) URL (authority-form is not accepted)");
    rest.remove_prefix(scheme);
    auto authority_end = rest.find_first_of("/?");
    if (authority_end == 0) return refuse("a URL without a host");
    rest.remove_prefix(authority_end == std::string_view::npos ? rest.size() : authority_end);
  }

  Target out;
  std::string_view raw_path = rest;
  if (auto question = rest.find('?'); question != std::string_view::npos) {
    raw_path = rest.substr(0, question);
    out.query = std::string(rest.substr(question + 1));
  }

  // Segments after the leading '/' (absolute-form may have none at all).
  std::vector<std::string> segments;
  bool trailing_slash = false;
  std::size_t at = raw_path.empty() ? std::string_view::npos : 1;
  while (at != std::string_view::npos) {
    auto slash = raw_path.find('/', at);
    std::string_view raw = raw_path.substr(at, slash == std::string_view::npos ? std::string_view::npos : slash - at);
    at = slash == std::string_view::npos ? std::string_view::npos : slash + 1;
    const bool last = at == std::string_view::npos;
    auto segment = decode_segment(raw);
    if (!segment) return segment.error();
    const bool dot_dot = *segment == "..";
    const bool names_a_directory = dot_dot || segment->empty() || *segment == ".";
    // Ending in '/', '.' or '..' names a directory: the slash stays.
    if (last) trailing_slash = names_a_directory;
    if (dot_dot) {
      if (!segments.empty()) segments.pop_back();
    } else if (!names_a_directory) {
      segments.push_back(std::move(*segment));
    }
  }

  out.path = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.path += '/';
    out.path += segments[i];
  }
  if (trailing_slash && !segments.empty()) out.path += '/';
  return out;
}

}  // namespace enclaver::http
