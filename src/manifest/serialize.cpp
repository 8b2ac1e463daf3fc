#include "manifest/serialize.hpp"

#include <yaml-cpp/yaml.h>

namespace enclaver::manifest {
namespace {

using json = nlohmann::ordered_json;

json ports_json(const Manifest& m) {
  return {{"status_port", m.vsock_ports.status_port},
          {"app_log_port", m.vsock_ports.app_log_port},
          {"http_egress_port", m.vsock_ports.http_egress_port},
          {"clock_sync_port", m.vsock_ports.clock_sync_port}};
}

json helios_json(const HeliosRpc& h) {
  json j = {{"enabled", h.enabled}};
  if (!h.kind.empty()) j["kind"] = h.kind;
  j["listen_port"] = h.listen_port;
  if (!h.network.empty()) j["network"] = h.network;
  if (!h.execution_rpc.empty()) j["execution_rpc"] = h.execution_rpc;
  if (h.consensus_rpc) j["consensus_rpc"] = *h.consensus_rpc;
  if (h.checkpoint) j["checkpoint"] = *h.checkpoint;
  return j;
}

// YAML from the JSON tree, so that both outputs always say the same thing.
// Strings are always quoted: a value like `on` or `0777` must not change
// type when read back.
void emit(YAML::Emitter& out, const json& j) {
  switch (j.type()) {
    case json::value_t::object:
      out << YAML::BeginMap;
      for (auto it = j.begin(); it != j.end(); ++it) {
        out << YAML::Key << it.key() << YAML::Value;
        emit(out, it.value());
      }
      out << YAML::EndMap;
      break;
    case json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& item : j) emit(out, item);
      out << YAML::EndSeq;
      break;
    case json::value_t::string: out << YAML::DoubleQuoted << j.get<std::string>(); break;
    case json::value_t::boolean: out << (j.get<bool>() ? "true" : "false"); break;
    case json::value_t::number_unsigned: out << j.get<std::uint64_t>(); break;
    case json::value_t::number_integer: out << j.get<std::int64_t>(); break;
    default: out << YAML::Null; break;
  }
}

}  // namespace

nlohmann::ordered_json to_json(const Manifest& m) {
  json j;
  j["version"] = m.version;
  j["name"] = m.name;
  j["target"] = m.target;
  json sources = {{"app", m.sources.app}};
  if (m.sources.odyn) sources["odyn"] = *m.sources.odyn;
  if (m.sources.sleeve) sources["sleeve"] = *m.sources.sleeve;
  j["sources"] = sources;
  if (m.signature) j["signature"] = {{"certificate", m.signature->certificate}, {"key", m.signature->key}};
  j["defaults"] = {{"cpu_count", m.defaults.cpu_count}, {"memory_mb", m.defaults.memory_mb}};
  json ingress = json::array();
  for (const auto& i : m.ingress) {
    json e = {{"listen_port", i.listen_port}};
    if (i.tls) e["tls"] = {{"cert_file", i.tls->cert_file}, {"key_file", i.tls->key_file}};
    ingress.push_back(e);
  }
  j["ingress"] = ingress;
  if (m.egress) j["egress"] = {{"proxy_port", m.egress->proxy_port}, {"allow", m.egress->allow}, {"deny", m.egress->deny}};
  if (m.kms_proxy) {
    json endpoints = json::object();
    for (const auto& [region, endpoint] : m.kms_proxy->endpoints) endpoints[region] = endpoint;
    j["kms_proxy"] = {{"listen_port", m.kms_proxy->listen_port}, {"endpoints", endpoints}};
  }
  if (m.api) j["api"] = {{"listen_port", m.api->listen_port}};
  if (m.aux_api) j["aux_api"] = {{"listen_port", m.aux_api->listen_port}};
  if (m.helios_rpc) j["helios_rpc"] = helios_json(*m.helios_rpc);
  if (m.s3) {
    json s3 = {{"enabled", m.s3->enabled}};
    if (!m.s3->bucket.empty()) s3["bucket"] = m.s3->bucket;
    s3["prefix"] = m.s3->prefix;
    if (m.s3->region) s3["region"] = *m.s3->region;
    j["storage"] = {{"s3", s3}};
  }
  j["vsock_ports"] = ports_json(m);
  j["clock_sync"] = {{"enabled", m.clock_sync.enabled}, {"interval_secs", m.clock_sync.interval_secs}};
  return j;
}

std::string to_yaml(const Manifest& manifest) {
  YAML::Emitter out;
  emit(out, to_json(manifest));
  return std::string(out.c_str()) + "\n";
}

nlohmann::ordered_json to_json(const Diagnostics& diagnostics) {
  json errors = json::array();
  for (const auto& d : diagnostics)
    errors.push_back({{"file", d.file}, {"line", d.line}, {"column", d.column}, {"path", d.path}, {"message", d.message}});
  return errors;
}

}  // namespace enclaver::manifest
