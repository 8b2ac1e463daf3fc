// `enclaver-run`: launches an EIF through a backend (the simulator, or
// Nitro through nitro-cli), serves the host halves (ingress listeners, the
// clock server), follows odyn's status and log streams, and turns the app's
// end into the sleeve's exit code (wire.md: the code, 128+N for signal N, 1
// for an odyn fatal error or an enclave that could not start).
// SIGINT, SIGTERM and SIGHUP stop the enclave gracefully (Enclave::stop).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

#include "sleeve/enclave.hpp"

namespace enclaver::sleeve {

// Where the host publishes one ingress port: `--publish
// [ADDRESS:]HOST_PORT:ENCLAVE_PORT` (as docker run -p; an IPv6 address in
// brackets). Without one, an ingress port is published on its own number at
// RunRequest::ingress_address.
struct Publish {
  std::string address;  // empty: RunRequest::ingress_address
  std::uint16_t host_port = 0;
  std::uint16_t enclave_port = 0;
};
Result<Publish> parse_publish(std::string_view spec);

struct RunRequest {
  std::filesystem::path manifest;  // cpu_count and memory_mb defaults come from it
  std::filesystem::path eif;
  std::optional<std::uint32_t> cpu_count;  // overrides the manifest
  std::optional<std::uint64_t> memory_mb;  // overrides the manifest
  bool debug_mode = false;
  std::optional<std::uint32_t> cid;
  std::chrono::milliseconds grace{10000};
  std::string ingress_address = "0.0.0.0";  // where the host listens for each ingress port
  std::vector<Publish> publish;             // each names an ingress port of the manifest
  // The egress host side resolves names with this hosts-format file instead
  // of DNS (tests: names that resolve to private addresses, for real).
  std::optional<std::filesystem::path> egress_hosts;
};

// Returns the sleeve's exit code; messages go to `err`, the app's log to stdout.
int run_enclave(const RunRequest& request, Backend& backend, std::ostream& err);

}  // namespace enclaver::sleeve
