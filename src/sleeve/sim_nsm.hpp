// The simulated NSM of one enclave, wired together: PCRs measured from the
// EIF, the machine's simulator root (created once), an intermediate and a
// leaf of this enclave, and attestation documents issued in AWS's layout.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "eif/pcr.hpp"
#include "nsm/sim_module.hpp"

namespace enclaver::sleeve {

struct SimNsmOptions {
  std::filesystem::path eif;
  std::filesystem::path root;  // PEM certificate + key; created when absent
  bool debug_mode = false;
  std::string module_id;       // empty: "sim-" and 16 random hex digits
};

struct SimNsm {
  std::unique_ptr<nsm::sim::SimulatedNsm> module;
  std::filesystem::path root_path;
  bool root_created = false;
  std::string module_id;
};

// Throws std::runtime_error saying what failed (EIF unreadable, root corrupt, ...).
SimNsm make_sim_nsm(const SimNsmOptions& options);
// The same for an EIF already measured (options.eif is not read).
SimNsm make_sim_nsm(const SimNsmOptions& options, const eif::Measurements& measurements);

}  // namespace enclaver::sleeve
