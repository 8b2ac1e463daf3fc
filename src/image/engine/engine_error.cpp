#include "image/engine/engine_error.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/text.hpp"

namespace enclaver::image::engine {

namespace {

std::string what_of(EngineErrorKind kind, const std::string& call, unsigned status, const std::string& message) {
  std::string out = call + ": " + message;
  if (kind == EngineErrorKind::response) out += " (HTTP " + std::to_string(status) + ")";
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

EngineError::EngineError(EngineErrorKind kind, std::string call, unsigned status, std::string message)
    : std::runtime_error(what_of(kind, call, status, message)),
      kind_(kind),
      call_(std::move(call)),
      status_(status),
      message_(std::move(message)) {}

std::string printable_message(std::string_view text, std::size_t max_len) {
  text = trim(text);
  const bool utf8 = !text::first_invalid_utf8(text);
  std::string out;
  for (unsigned char c : text) {
    if (out.size() >= max_len) {
      out += "...";
      break;
    }
    if ((c >= 0x20 && c < 0x7F) || c == '\n' || c == '\t' || (utf8 && c >= 0x80)) {
      out += static_cast<char>(c);
      continue;
    }
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += buf;
  }
  return out;
}

std::string error_body_message(unsigned status, std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::string message;
  if (j.is_object()) {
    auto it = j.find("message");
    if (it != j.end() && it->is_string()) message = printable_message(it->get_ref<const std::string&>());
  } else if (j.is_discarded()) {
    // A proxy or an old engine may answer in plain text.
    message = printable_message(body);
  }
  return message.empty() ? "HTTP " + std::to_string(status) : message;
}

}  // namespace enclaver::image::engine
