// normalise_target() on arbitrary bytes: it must never crash, and a path it
// accepts must be in normal form (a leading '/', no empty, '.' or '..'
// segments, printable ASCII only, no '?' or '#') and its own normal form.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/path.hpp"

namespace {

bool normal_form(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  for (char ch : path) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#' || c == '\\') return false;
  }
  if (path.find("//") != std::string_view::npos) return false;
  // Each segment between slashes (the last one may be empty: a trailing '/').
  for (std::size_t at = 1; at <= path.size();) {
    auto slash = path.find('/', at);
    auto segment = path.substr(at, slash == std::string_view::npos ? std::string_view::npos : slash - at);
    if (segment == "." || segment == "..") return false;
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto target = enclaver::http::normalise_target(input);
  if (!target) {
    if (target.error().message.rfind("bad request target: ", 0) != 0) __builtin_trap();
    return 0;
  }
  if (!normal_form(target->path)) __builtin_trap();
  for (char ch : target->query) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '#') __builtin_trap();
  }
  auto again = enclaver::http::normalise_target(target->path);
  if (!again || again->path != target->path || !again->query.empty()) __builtin_trap();
  return 0;
}
