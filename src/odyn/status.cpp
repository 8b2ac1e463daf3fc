#include "odyn/status.hpp"

#include <csignal>
#include <cstring>

#include <nlohmann/json.hpp>

#include "common/text.hpp"

namespace enclaver::odyn {
namespace {

using nlohmann::json;

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "SIG" + std::to_string(sig);
}

// Cuts `text` to at most `bytes`, never inside a UTF-8 sequence.
std::string cut_utf8(const std::string& text, std::size_t bytes) {
  if (text.size() <= bytes) return text;
  std::size_t end = bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace

std::string encode_status_line(const Status& s) {
  json j = std::visit(
      [](const auto& v) -> json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, status::Starting>) return {{"status", "starting"}};
        if constexpr (std::is_same_v<T, status::Running>) return {{"status", "running"}, {"pid", v.pid}};
        if constexpr (std::is_same_v<T, status::Exited>) return {{"status", "exited"}, {"code", v.code}};
        if constexpr (std::is_same_v<T, status::Signaled>)
          return {{"status", "signaled"}, {"signal", v.signal}, {"name", signal_name(v.signal)}};
        if constexpr (std::is_same_v<T, status::Fatal>) return {{"status", "fatal"}, {"error", v.error}};
      },
      s);
  // Invalid UTF-8 in an error message (a file name, say) must not make the line unencodable.
  std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  if (line.size() <= kMaxStatusLine) return line;
  const auto& error = std::get<status::Fatal>(s).error;  // only a fatal error can be this long
  std::size_t excess = line.size() - kMaxStatusLine;
  std::string shorter = error;
  while (line.size() > kMaxStatusLine) {
    shorter = cut_utf8(shorter, shorter.size() > excess + 3 ? shorter.size() - excess - 3 : 0);
    line = json{{"status", "fatal"}, {"error", shorter + "..."}}.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    excess = line.size() > kMaxStatusLine ? line.size() - kMaxStatusLine : 0;
  }
  return line;
}

Result<Status> decode_status_line(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("status line is not a JSON object: " + text::quote(line));
  auto field = j.find("status");
  if (field == j.end() || !field->is_string()) return make_error("status line has no \"status\" string: " + text::quote(line));
  auto integer = [&](const char* key) -> std::optional<std::int64_t> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<std::int64_t>();
  };
  const std::string& kind = field->get_ref<const std::string&>();
  if (kind == "starting") return Status{status::Starting{}};
  if (kind == "running") {
    if (auto pid = integer("pid")) return Status{status::Running{*pid}};
  } else if (kind == "exited") {
    if (auto code = integer("code")) return Status{status::Exited{static_cast<int>(*code)}};
  } else if (kind == "signaled") {
    if (auto sig = integer("signal")) return Status{status::Signaled{static_cast<int>(*sig)}};
    // Upstream's odyn sent the name in "signal"; read it too.
    auto name = j.find("signal");
    if (name != j.end() && name->is_string())
      for (int sig = 1; sig < NSIG; ++sig)
        if (signal_name(sig) == name->get_ref<const std::string&>()) return Status{status::Signaled{sig}};
  } else if (kind == "fatal") {
    auto error = j.find("error");
    if (error != j.end() && error->is_string()) return Status{status::Fatal{error->get<std::string>()}};
  } else {
    return make_error("unknown status " + text::quote(kind));
  }
  return make_error("status " + text::quote(kind) + " lacks its field or has the wrong type: " + text::quote(line));
}

bool is_final(const Status& s) {
  return std::holds_alternative<status::Exited>(s) || std::holds_alternative<status::Signaled>(s) ||
         std::holds_alternative<status::Fatal>(s);
}

}  // namespace enclaver::odyn
