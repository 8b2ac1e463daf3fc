#include "cli/destination.hpp"

#include <algorithm>
#include <charconv>

namespace enclaver::cli {

Result<Destination> parse_destination(std::string_view text) {
  Destination d;
  std::string_view host = text, port;
  if (text.starts_with("[")) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return make_error("unclosed '[' in " + std::string(text));
    host = text.substr(0, close + 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(":")) return make_error("expected :PORT after ']' in " + std::string(text));
      port = rest.substr(1);
      if (port.empty()) return make_error("empty port in " + std::string(text));
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const auto colon = text.find(':');
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty()) return make_error("empty port in " + std::string(text));
  } else if (text.find(':') != std::string_view::npos) {
    return make_error("IPv6 addresses go in brackets: [" + std::string(text) + "]:443");
  }
  if (host.empty()) return make_error("empty host in " + std::string(text));
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535)
      return make_error("port must be a number 1..65535, got " + std::string(port));
    d.port = static_cast<std::uint16_t>(value);
  }
  d.host = std::string(host);
  return d;
}

}  // namespace enclaver::cli
