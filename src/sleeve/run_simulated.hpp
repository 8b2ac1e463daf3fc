// `enclaver-run --simulate`: launches an EIF in the simulator backend, says
// what it launched (the simulator banner, CID, PCRs, where its vsock lives),
// waits for its end and turns that into the sleeve's exit code (wire.md:
// the code, 128+N for signal N, 1 when the enclave could not start).
// SIGINT, SIGTERM and SIGHUP stop the enclave: SIGTERM, then SIGKILL after
// the grace period.
#pragma once

#include <chrono>
#include <filesystem>
#include <ostream>

#include "sleeve/sim/simulated_enclave.hpp"

namespace enclaver::sleeve {

struct SimulateRequest {
  std::filesystem::path manifest;  // cpu_count and memory_mb defaults come from it
  sim::EnclaveOptions enclave;     // eif, nsm_root, debug_mode, cid, module_id
  std::optional<std::uint32_t> cpu_count;   // overrides the manifest
  std::optional<std::uint64_t> memory_mb;   // overrides the manifest
  std::chrono::milliseconds grace{10000};
  std::string ingress_address = "0.0.0.0";  // where the host listens for each ingress port
};

// Returns the sleeve's exit code; messages go to `err`.
int run_simulated(SimulateRequest request, std::ostream& err);

}  // namespace enclaver::sleeve
