#include "odyn/egress/head_check.hpp"

#include <algorithm>
#include <cctype>

namespace enclaver::odyn::egress {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The last coding of a Transfer-Encoding list ("gzip, chunked" -> "chunked").
std::string_view last_coding(std::string_view value) {
  auto comma = value.rfind(',');
  return trim(comma == std::string_view::npos ? value : value.substr(comma + 1));
}

}  // namespace

std::optional<std::size_t> find_head_end(std::string_view bytes) {
  auto end = bytes.find("\r\n\r\n");
  if (end == std::string_view::npos) return std::nullopt;
  return end + 4;
}

std::optional<std::string> check_head_bytes(std::string_view head) {
  bool first = true;
  for (std::size_t i = 0; i < head.size(); ++i) {
    char c = head[i];
    if (c == '\0') return "NUL byte in the request head";
    if (c == '\r' && (i + 1 >= head.size() || head[i + 1] != '\n')) return "CR without LF in the request head";
    if (c == '\n' && (i == 0 || head[i - 1] != '\r')) return "LF without CR in the request head";
    if (c != '\n') continue;
    std::size_t next = i + 1;
    if (next < head.size() && (head[next] == ' ' || head[next] == '\t')) {
      return first ? "whitespace between the request line and the first header field"
                   : "obsolete line folding (a header line starting with whitespace)";
    }
    first = false;
  }
  return std::nullopt;
}

std::optional<std::string> check_fields(const std::vector<Field>& fields, std::size_t max_fields) {
  if (fields.size() > max_fields)
    return "more than " + std::to_string(max_fields) + " header fields";
  int hosts = 0;
  bool has_length = false, has_transfer = false;
  std::string_view length, coding;
  for (const auto& f : fields) {
    if (iequals(f.name, "host")) {
      if (++hosts > 1) return "more than one Host header";
    } else if (iequals(f.name, "content-length")) {
      // Beast refuses lists that disagree within and across fields; a
      // repeated identical value is allowed by RFC 9110 and passes.
      std::string_view v = trim(f.value);
      if (has_length && v != length) return "conflicting Content-Length headers";
      has_length = true;
      length = v;
    } else if (iequals(f.name, "transfer-encoding")) {
      has_transfer = true;
      coding = last_coding(f.value);  // the last field's last coding is the final one
    }
  }
  if (has_length && has_transfer) return "both Content-Length and Transfer-Encoding";
  if (has_transfer && !iequals(coding, "chunked")) return "Transfer-Encoding does not end in chunked";
  return std::nullopt;
}

}  // namespace enclaver::odyn::egress
