#include "sleeve/nitro/nitro_cli.hpp"

#include <limits>

#include <nlohmann/json.hpp>

namespace enclaver::sleeve::nitro {
namespace {

// From the first line that opens a JSON value to the end.
std::string_view json_part(std::string_view out, char opener) {
  for (std::size_t at = 0; at < out.size();) {
    if (out[at] == opener) return out.substr(at);
    at = out.find('\n', at);
    if (at == std::string_view::npos) break;
    ++at;
  }
  return {};
}

template <class T>
std::optional<T> unsigned_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return std::nullopt;
  auto value = it->get<std::uint64_t>();
  if (value > std::numeric_limits<T>::max()) return std::nullopt;
  return static_cast<T>(value);
}

}  // namespace

std::vector<std::string> run_enclave_argv(const RunEnclaveRequest& r) {
  std::vector<std::string> argv = {kNitroCli,     "run-enclave",  "--eif-path", r.eif.string(), "--cpu-count",
                                   std::to_string(r.cpu_count), "--memory", std::to_string(r.memory_mb)};
  if (r.cid) argv.insert(argv.end(), {"--enclave-cid", std::to_string(*r.cid)});
  if (r.debug_mode) argv.push_back("--debug-mode");
  return argv;
}

std::vector<std::string> describe_enclaves_argv() { return {kNitroCli, "describe-enclaves"}; }

std::vector<std::string> terminate_enclave_argv(const std::string& enclave_id) {
  return {kNitroCli, "terminate-enclave", "--enclave-id", enclave_id};
}

Result<LaunchedEnclave> parse_run_enclave(std::string_view out) {
  auto j = nlohmann::json::parse(json_part(out, '{'), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("nitro-cli run-enclave printed no JSON object: " + std::string(out.substr(0, 200)));
  LaunchedEnclave e;
  auto id = j.find("EnclaveID");
  if (id == j.end() || !id->is_string() || id->get<std::string>().empty())
    return make_error("nitro-cli run-enclave's answer has no EnclaveID");
  e.id = id->get<std::string>();
  auto cid = unsigned_field<std::uint32_t>(j, "EnclaveCID");
  if (!cid || *cid < 4) return make_error("nitro-cli run-enclave's answer has no valid EnclaveCID (enclave " + e.id + ")");
  e.cid = *cid;
  e.cpus = unsigned_field<std::uint32_t>(j, "NumberOfCPUs").value_or(0);
  e.memory_mib = unsigned_field<std::uint64_t>(j, "MemoryMiB").value_or(0);
  return e;
}

Result<std::vector<DescribedEnclave>> parse_describe_enclaves(std::string_view out) {
  auto j = nlohmann::json::parse(json_part(out, '['), nullptr, false);
  if (j.is_discarded() || !j.is_array()) return make_error("nitro-cli describe-enclaves printed no JSON array");
  std::vector<DescribedEnclave> enclaves;
  for (const auto& entry : j) {
    if (!entry.is_object()) return make_error("nitro-cli describe-enclaves: an entry is not an object");
    auto id = entry.find("EnclaveID");
    auto state = entry.find("State");
    if (id == entry.end() || !id->is_string()) return make_error("nitro-cli describe-enclaves: an entry has no EnclaveID");
    enclaves.push_back({id->get<std::string>(), state != entry.end() && state->is_string() ? state->get<std::string>() : ""});
  }
  return enclaves;
}

}  // namespace enclaver::sleeve::nitro
