// nitro-cli's command lines and JSON answers (wire.md, "Launching on
// Nitro"), sans-IO: what the Nitro backend runs and how it reads the
// answers. The shapes are those nitro-cli documents:
//   run-enclave       {"EnclaveName":..,"EnclaveID":"i-...-enc...","ProcessID":..,"EnclaveCID":16,
//                      "NumberOfCPUs":2,"CPUIDs":[1,3],"MemoryMiB":512}
//   describe-enclaves [{"EnclaveID":..,"EnclaveCID":..,"State":"RUNNING",...}, ...]
//   terminate-enclave {"EnclaveID":..,"Terminated":true}
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace enclaver::sleeve::nitro {

inline constexpr const char* kNitroCli = "nitro-cli";

struct RunEnclaveRequest {
  std::filesystem::path eif;
  std::uint32_t cpu_count = 2;
  std::uint64_t memory_mb = 4096;
  bool debug_mode = false;
  std::optional<std::uint32_t> cid;
};

std::vector<std::string> run_enclave_argv(const RunEnclaveRequest& request);
std::vector<std::string> describe_enclaves_argv();
std::vector<std::string> terminate_enclave_argv(const std::string& enclave_id);

struct LaunchedEnclave {
  std::string id;
  std::uint32_t cid = 0;
  std::uint32_t cpus = 0;
  std::uint64_t memory_mib = 0;
};

// run-enclave's stdout. nitro-cli prints progress lines before the JSON
// object on some versions ("Start allocating memory..."): the object is
// taken from the first line that starts with '{' to the end.
Result<LaunchedEnclave> parse_run_enclave(std::string_view out);

struct DescribedEnclave {
  std::string id;
  std::string state;  // RUNNING, TERMINATING, ...
};
Result<std::vector<DescribedEnclave>> parse_describe_enclaves(std::string_view out);

}  // namespace enclaver::sleeve::nitro
