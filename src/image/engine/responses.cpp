#include "image/engine/responses.hpp"

namespace enclaver::image::engine {

namespace {

std::string string_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::vector<std::string> string_list(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

nlohmann::json object(std::string_view body) { return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false); }

std::string_view trim_newlines(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<ImageInfo> parse_image_inspect(std::string_view body) {
  auto j = object(body);
  if (!j.is_object()) return make_error("the engine's image inspection is not a JSON object");
  ImageInfo info;
  info.id = string_field(j, "Id");
  if (info.id.empty()) return make_error("the engine's image inspection has no Id");
  info.repo_tags = string_list(j, "RepoTags");
  info.os = string_field(j, "Os");
  info.architecture = string_field(j, "Architecture");
  if (auto c = j.find("Config"); c != j.end() && c->is_object()) info.config = *c;
  else info.config = nlohmann::json::object();
  info.raw = std::move(j);
  return info;
}

Result<CreatedContainer> parse_create_response(std::string_view body) {
  auto j = object(body);
  if (!j.is_object()) return make_error("the engine's answer to container creation is not a JSON object");
  CreatedContainer out;
  out.id = string_field(j, "Id");
  if (out.id.empty()) return make_error("the engine's answer to container creation has no Id");
  out.warnings = string_list(j, "Warnings");
  return out;
}

Result<WaitResponse> parse_wait_response(std::string_view body) {
  auto j = object(body);
  if (!j.is_object()) return make_error("the engine's answer to waiting for a container is not a JSON object");
  auto code = j.find("StatusCode");
  if (code == j.end() || !code->is_number_integer())
    return make_error("the engine's answer to waiting for a container has no StatusCode");
  WaitResponse out;
  const auto value = code->get<std::int64_t>();
  // Exit codes are 0..255; the engine uses -1 and the like for "unknown".
  out.status_code = value < -1000 || value > 1000 ? -1 : static_cast<int>(value);
  if (auto e = j.find("Error"); e != j.end() && e->is_object()) out.error = string_field(*e, "Message");
  return out;
}

std::optional<std::string> loaded_image(const ProgressEvent& event) {
  if (event.kind != ProgressEvent::Kind::stream) return std::nullopt;
  const std::string_view text = trim_newlines(event.stream);
  for (std::string_view prefix : {std::string_view("Loaded image ID: "), std::string_view("Loaded image: ")})
    if (text.substr(0, prefix.size()) == prefix && text.size() > prefix.size())
      return std::string(text.substr(prefix.size()));
  return std::nullopt;
}

std::optional<std::string> built_image_id(const ProgressEvent& event) {
  if (event.kind == ProgressEvent::Kind::aux && event.aux.is_object()) {
    std::string id = string_field(event.aux, "ID");
    if (!id.empty()) return id;
  }
  if (event.kind == ProgressEvent::Kind::stream) {
    constexpr std::string_view prefix = "Successfully built ";
    const std::string_view text = trim_newlines(event.stream);
    if (text.substr(0, prefix.size()) == prefix && text.size() > prefix.size())
      return std::string(text.substr(prefix.size()));
  }
  return std::nullopt;
}

}  // namespace enclaver::image::engine
