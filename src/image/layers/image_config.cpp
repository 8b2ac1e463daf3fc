#include "image/layers/image_config.hpp"

#include <algorithm>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "common/text.hpp"

namespace enclaver::image {
namespace {

using nlohmann::json;

const json* field(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::optional<std::vector<std::string>> list(const json& j, const char* key, const char* where) {
  const json* v = field(j, key);
  if (!v) return std::nullopt;
  // Docker once allowed a bare string for Cmd/Entrypoint in the JSON; it
  // means a one-element list.
  if (v->is_string()) return std::vector<std::string>{v->get<std::string>()};
  if (!v->is_array()) throw std::runtime_error(std::string("image config: ") + where + key + " must be a list of strings");
  std::vector<std::string> out;
  for (const auto& item : *v) {
    if (!item.is_string()) throw std::runtime_error(std::string("image config: ") + where + key + " must be a list of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::string str(const json& j, const char* key, const char* where) {
  const json* v = field(j, key);
  if (!v) return {};
  if (!v->is_string()) throw std::runtime_error(std::string("image config: ") + where + key + " must be a string");
  return v->get<std::string>();
}

}  // namespace

ImageConfig parse_image_config(std::string_view json_text) {
  const json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw std::runtime_error("image config: not a JSON object");
  ImageConfig c;
  c.architecture = str(j, "architecture", "");
  c.variant = str(j, "variant", "");
  c.os = str(j, "os", "");
  if (const json* rootfs = field(j, "rootfs")) {
    if (!rootfs->is_object()) throw std::runtime_error("image config: rootfs must be an object");
    c.diff_ids = list(*rootfs, "diff_ids", "rootfs.").value_or(std::vector<std::string>{});
  }
  const json* cfg = field(j, "config");
  if (!cfg) return c;
  if (!cfg->is_object()) throw std::runtime_error("image config: config must be an object");
  c.entrypoint = list(*cfg, "Entrypoint", "config.");
  c.cmd = list(*cfg, "Cmd", "config.");
  c.env = list(*cfg, "Env", "config.").value_or(std::vector<std::string>{});
  for (const auto& e : c.env)
    if (e.empty() || e.front() == '=' || e.find('=') == std::string::npos)
      throw std::runtime_error("image config: config.Env entry " + text::quote(e) + " is not NAME=VALUE");
  c.user = str(*cfg, "User", "config.");
  c.working_dir = str(*cfg, "WorkingDir", "config.");
  if (const json* ports = field(*cfg, "ExposedPorts")) {
    if (!ports->is_object()) throw std::runtime_error("image config: config.ExposedPorts must be an object");
    for (const auto& [port, _] : ports->items()) c.exposed_ports.push_back(port);
    std::sort(c.exposed_ports.begin(), c.exposed_ports.end());
  }
  if (const json* labels = field(*cfg, "Labels")) {
    if (!labels->is_object()) throw std::runtime_error("image config: config.Labels must be an object");
    for (const auto& [k, v] : labels->items()) {
      if (!v.is_string()) throw std::runtime_error("image config: label " + text::quote(k) + " is not a string");
      c.labels[k] = v.get<std::string>();
    }
  }
  return c;
}

void check_platform(const ImageConfig& c, std::string_view architecture) {
  const std::string os = c.os.empty() ? "linux" : c.os;
  const std::string arch = c.architecture.empty() ? "amd64" : c.architecture;
  if (os == "linux" && arch == architecture) return;
  std::string shown = os + "/" + arch + (c.variant.empty() ? "" : "/" + c.variant);
  throw std::runtime_error("the app image is built for " + shown + ", but the enclave runs linux/" +
                           std::string(architecture) + "; build or pull the image for that platform "
                           "(docker pull --platform linux/" + std::string(architecture) + " ...)");
}

std::string odyn_image_json(const ImageConfig& c) {
  // nlohmann's ordered_json keeps insertion order: the documented key order.
  nlohmann::ordered_json j;
  j["entrypoint"] = c.entrypoint.value_or(std::vector<std::string>{});
  j["cmd"] = c.cmd.value_or(std::vector<std::string>{});
  j["env"] = c.env;
  j["user"] = c.user;
  std::string dir = c.working_dir;
  if (!dir.empty() && dir.front() != '/') dir.insert(dir.begin(), '/');
  j["working_dir"] = dir;
  return j.dump();
}

std::vector<std::string> docker_argv(const ImageConfig& c) {
  std::vector<std::string> argv = c.entrypoint.value_or(std::vector<std::string>{});
  const auto cmd = c.cmd.value_or(std::vector<std::string>{});
  argv.insert(argv.end(), cmd.begin(), cmd.end());
  return argv;
}

}  // namespace enclaver::image
