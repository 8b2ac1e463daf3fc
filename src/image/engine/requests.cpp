#include "image/engine/requests.hpp"

#include "common/text.hpp"

namespace enclaver::image::engine {

namespace {

bool unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

std::string percent_encode(std::string_view s, std::string_view keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (unreserved(c) || keep.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

nlohmann::json string_map(const std::map<std::string, std::string>& m) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}

std::string port_key(const PortBinding& p) { return std::to_string(p.container_port) + "/" + p.protocol; }

}  // namespace

std::string encode_path(std::string_view name) { return percent_encode(name, "/:@"); }
std::string encode_query(std::string_view value) { return percent_encode(value, ""); }

std::string target(const std::optional<ApiVersion>& version, std::string_view path, const Query& query) {
  std::string out = version ? "/v" + version->to_string() : std::string{};
  out += path;
  char sep = '?';
  for (const auto& [k, v] : query) {
    out += sep;
    out += encode_query(k);
    out += '=';
    out += encode_query(v);
    sep = '&';
  }
  return out;
}

std::string ImageReference::to_string() const {
  std::string out = repository;
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

Result<ImageReference> split_reference(std::string_view reference) {
  ImageReference out;
  std::string_view rest = reference;
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    out.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (out.digest.empty()) return make_error("image reference " + text::quote(reference) + " has an empty digest");
  }
  const auto slash = rest.rfind('/');
  const auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    out.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (out.tag.empty()) return make_error("image reference " + text::quote(reference) + " has an empty tag");
  } else if (out.digest.empty()) {
    // The engine pulls every tag of a repository named without one; the
    // docker CLI means "latest", and so do we.
    out.tag = "latest";
  }
  if (rest.empty()) return make_error("image reference " + text::quote(reference) + " has no repository name");
  out.repository = std::string(rest);
  return out;
}

nlohmann::json container_create_body(const ContainerSpec& spec) {
  nlohmann::json body = {
      {"Image", spec.image},
      {"Tty", spec.tty},
      {"AttachStdin", false},
      {"AttachStdout", true},
      {"AttachStderr", true},
      {"OpenStdin", false},
      {"Labels", string_map(spec.labels)},
  };
  if (spec.entrypoint) body["Entrypoint"] = *spec.entrypoint;
  if (spec.cmd) body["Cmd"] = *spec.cmd;
  if (!spec.env.empty()) body["Env"] = spec.env;

  nlohmann::json host = {
      {"Privileged", spec.privileged},
      {"NetworkMode", spec.network_mode},
      {"AutoRemove", spec.auto_remove},
  };
  if (!spec.binds.empty()) host["Binds"] = spec.binds;
  if (!spec.cap_add.empty()) host["CapAdd"] = spec.cap_add;
  if (!spec.cap_drop.empty()) host["CapDrop"] = spec.cap_drop;
  if (!spec.security_opt.empty()) host["SecurityOpt"] = spec.security_opt;
  if (spec.unmasked_paths) {  // what the CLI's --security-opt systempaths=unconfined sends
    host["MaskedPaths"] = nlohmann::json::array();
    host["ReadonlyPaths"] = nlohmann::json::array();
  }
  if (!spec.devices.empty()) {
    nlohmann::json devices = nlohmann::json::array();
    for (const auto& d : spec.devices)
      devices.push_back({{"PathOnHost", d}, {"PathInContainer", d}, {"CgroupPermissions", "rwm"}});
    host["Devices"] = devices;
  }
  if (!spec.ports.empty()) {
    nlohmann::json exposed = nlohmann::json::object();
    nlohmann::json bindings = nlohmann::json::object();
    for (const auto& p : spec.ports) {
      exposed[port_key(p)] = nlohmann::json::object();
      bindings[port_key(p)].push_back({{"HostIp", p.host_ip}, {"HostPort", std::to_string(p.host_port)}});
    }
    body["ExposedPorts"] = exposed;
    host["PortBindings"] = bindings;
  }
  body["HostConfig"] = host;
  return body;
}

Query build_query(const BuildOptions& options) {
  Query q;
  for (const auto& t : options.tags) q.emplace_back("t", t);
  // The classic builder: BuildKit (version=2) needs a gRPC session over a
  // hijacked connection, which this client does not speak.
  q.emplace_back("version", "1");
  q.emplace_back("dockerfile", options.dockerfile);
  if (!options.build_args.empty()) q.emplace_back("buildargs", string_map(options.build_args).dump());
  if (!options.labels.empty()) q.emplace_back("labels", string_map(options.labels).dump());
  if (options.no_cache) q.emplace_back("nocache", "1");
  q.emplace_back("rm", options.remove_intermediate ? "1" : "0");
  q.emplace_back("forcerm", options.remove_intermediate ? "1" : "0");
  if (!options.platform.empty()) q.emplace_back("platform", options.platform);
  return q;
}

}  // namespace enclaver::image::engine
