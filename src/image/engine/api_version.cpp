#include "image/engine/api_version.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

#include "common/text.hpp"

namespace enclaver::image::engine {

namespace {

bool parse_number(std::string_view digits, unsigned& out) {
  if (digits.empty() || digits.size() > 6) return false;  // no leading sign, no overflow
  for (char c : digits)
    if (c < '0' || c > '9') return false;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  return ec == std::errc{} && end == digits.data() + digits.size();
}

std::string string_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

}  // namespace

Result<ApiVersion> parse_api_version(std::string_view text) {
  const auto dot = text.find('.');
  ApiVersion v;
  if (dot == std::string_view::npos || !parse_number(text.substr(0, dot), v.major) ||
      !parse_number(text.substr(dot + 1), v.minor))
    return make_error("not an API version (MAJOR.MINOR): " + text::quote(text));
  return v;
}

Result<EngineVersion> parse_version_response(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return make_error("the engine's GET /version answer is not a JSON object");
  EngineVersion out;
  out.version = string_field(j, "Version");
  out.os = string_field(j, "Os");
  out.arch = string_field(j, "Arch");
  auto api = parse_api_version(string_field(j, "ApiVersion"));
  if (!api) return make_error("the engine's GET /version answer has no usable ApiVersion: " + api.error().message);
  out.api = *api;
  if (auto min_text = string_field(j, "MinAPIVersion"); !min_text.empty()) {
    auto min = parse_api_version(min_text);
    if (!min) return make_error("the engine's GET /version answer has a bad MinAPIVersion: " + min.error().message);
    out.min_api = *min;
  }
  return out;
}

Result<ApiVersion> negotiate(const EngineVersion& engine, ApiVersion ours_min, ApiVersion ours_max) {
  const std::string release = engine.version.empty() ? "" : " (Docker " + engine.version + ")";
  const ApiVersion chosen = std::min(engine.api, ours_max);
  if (chosen < ours_min)
    return make_error("the Docker engine" + release + " serves API version " + engine.api.to_string() + ", enclaver needs " +
                      ours_min.to_string() + " or newer: upgrade Docker to 20.10 or later");
  if (engine.min_api && chosen < *engine.min_api)
    return make_error("the Docker engine" + release + " no longer serves API version " + chosen.to_string() +
                      " (its oldest is " + engine.min_api->to_string() + "): upgrade enclaver");
  return chosen;
}

}  // namespace enclaver::image::engine
