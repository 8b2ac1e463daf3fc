#include "odyn/launch/image_config.hpp"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "common/text.hpp"

namespace enclaver::odyn {
namespace {

using nlohmann::json;

Result<std::vector<std::string>> string_list(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::vector<std::string>{};
  if (!it->is_array()) return make_error(std::string("image.json: \"") + key + "\" must be a list of strings");
  std::vector<std::string> out;
  for (const auto& item : *it) {
    if (!item.is_string()) return make_error(std::string("image.json: \"") + key + "\" must be a list of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

Result<std::string> string_field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string{};
  if (!it->is_string()) return make_error(std::string("image.json: \"") + key + "\" must be a string");
  return it->get<std::string>();
}

std::optional<std::uint32_t> as_number(std::string_view s) {
  std::uint32_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

using text::split;

// The lines of a passwd/group file as fields; comments and blank lines skipped.
std::vector<std::vector<std::string_view>> records(std::string_view text) {
  std::vector<std::vector<std::string_view>> out;
  for (auto line : split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    out.push_back(split(line, ':'));
  }
  return out;
}

}  // namespace

Result<ImageConfig> parse_image_config(std::string_view json_text) {
  json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("image.json is not a JSON object");
  ImageConfig config;
  auto entrypoint = string_list(j, "entrypoint");
  if (!entrypoint) return entrypoint.error();
  auto cmd = string_list(j, "cmd");
  if (!cmd) return cmd.error();
  auto env = string_list(j, "env");
  if (!env) return env.error();
  auto user = string_field(j, "user");
  if (!user) return user.error();
  auto dir = string_field(j, "working_dir");
  if (!dir) return dir.error();
  config.entrypoint = std::move(*entrypoint);
  config.cmd = std::move(*cmd);
  config.env = std::move(*env);
  config.user = std::move(*user);
  config.working_dir = std::move(*dir);
  for (const auto& e : config.env)
    if (e.find('=') == std::string::npos || e.front() == '=')
      return make_error("image.json: \"env\" entry " + text::quote(e) + " is not NAME=VALUE");
  if (!config.working_dir.empty() && config.working_dir.front() != '/')
    return make_error("image.json: \"working_dir\" must be an absolute path, not " + text::quote(config.working_dir));
  return config;
}

Result<std::vector<std::string>> app_argv(const ImageConfig& config) {
  std::vector<std::string> argv = config.entrypoint;
  argv.insert(argv.end(), config.cmd.begin(), config.cmd.end());
  if (argv.empty()) return make_error("the image has neither an entrypoint nor a command: nothing to run");
  return argv;
}

Result<UserSpec> parse_user_spec(std::string_view spec) {
  UserSpec out;
  auto colon = spec.find(':');
  out.user = std::string(spec.substr(0, colon));
  if (colon != std::string_view::npos) {
    out.group = std::string(spec.substr(colon + 1));
    if (out.group->empty() || out.group->find(':') != std::string::npos)
      return make_error("image user " + text::quote(spec) + " is not user[:group]");
    if (out.user.empty()) return make_error("image user " + text::quote(spec) + " names a group but no user");
  }
  return out;
}

Result<Identity> resolve_identity(const UserSpec& spec, std::string_view passwd, std::string_view group) {
  Identity id;
  auto users = records(passwd);
  auto groups = records(group);
  std::string user_name;
  if (spec.user.empty()) {
    user_name = "root";
    id.home = "/root";
  }
  auto number = as_number(spec.user);
  bool found = false;
  for (const auto& r : users) {
    if (r.size() < 7) continue;
    auto uid = as_number(r[2]);
    auto gid = as_number(r[3]);
    if (!uid || !gid) continue;
    bool match = spec.user.empty() ? *uid == 0 : (number ? *uid == *number : r[0] == spec.user);
    if (!match) continue;
    id.uid = *uid;
    id.gid = *gid;
    id.home = r[5].empty() ? "/" : std::string(r[5]);
    user_name = std::string(r[0]);
    found = true;
    break;
  }
  if (!found && !spec.user.empty()) {
    if (!number) return make_error("image user " + text::quote(spec.user) + " is not in the image's /etc/passwd");
    id.uid = *number;
    id.gid = 0;
    id.home = "/";
  }
  if (spec.group) {
    if (auto gid = as_number(*spec.group)) {
      id.gid = *gid;
    } else {
      auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& r) { return r.size() >= 3 && r[0] == *spec.group; });
      if (it == groups.end() || !as_number((*it)[2]))
        return make_error("image group " + text::quote(*spec.group) + " is not in the image's /etc/group");
      id.gid = *as_number((*it)[2]);
    }
  }
  id.groups.push_back(id.gid);
  if (!user_name.empty())
    for (const auto& r : groups) {
      if (r.size() < 4) continue;
      auto gid = as_number(r[2]);
      if (!gid) continue;
      for (auto member : split(r[3], ','))
        if (member == user_name && std::find(id.groups.begin(), id.groups.end(), *gid) == id.groups.end())
          id.groups.push_back(*gid);
    }
  return id;
}

std::optional<std::string> env_value(const std::vector<std::string>& env, std::string_view name) {
  for (const auto& e : env)
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=')
      return e.substr(name.size() + 1);
  return std::nullopt;
}

std::vector<std::string> app_environment(const std::vector<std::string>& image_env, const manifest::Manifest& manifest,
                                         const Identity& identity) {
  std::vector<std::string> env = image_env;
  auto set = [&env](std::string_view name, const std::string& value) {
    auto it = std::find_if(env.begin(), env.end(), [&](const std::string& e) {
      return e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=';
    });
    std::string entry = std::string(name) + "=" + value;
    if (it != env.end()) *it = entry;
    else env.push_back(entry);
  };
  if (!env_value(env, "PATH")) set("PATH", std::string(kDockerDefaultPath));
  if (!env_value(env, "HOME")) set("HOME", identity.home);
  set("IN_ENCLAVE", "true");
  if (manifest.egress && manifest.egress->enabled()) {
    std::string proxy = "http://127.0.0.1:" + std::to_string(manifest.egress->proxy_port);
    for (const char* name : {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"}) set(name, proxy);
    for (const char* name : {"no_proxy", "NO_PROXY"}) set(name, "localhost,127.0.0.1");
  }
  if (manifest.kms_proxy) {
    std::string url = "http://127.0.0.1:" + std::to_string(manifest.kms_proxy->listen_port);
    set("AWS_KMS_ENDPOINT", url);
    set("AWS_ENDPOINT_URL_KMS", url);
  }
  if (manifest.api) set("ENCLAVER_API", "http://127.0.0.1:" + std::to_string(manifest.api->listen_port));
  return env;
}

}  // namespace enclaver::odyn
