// The simulator as a sleeve backend (sim/simulated_enclave.hpp): the
// enclave is a set of Linux namespaces on this machine.
#pragma once

#include <filesystem>
#include <string>

#include "sleeve/enclave.hpp"

namespace enclaver::sleeve {

struct SimulatorOptions {
  std::filesystem::path nsm_root;  // simulator root CA (created when absent)
  std::string module_id;           // default: random "sim-..."
};

class SimulatorBackend final : public Backend {
 public:
  explicit SimulatorBackend(SimulatorOptions options) : options_(std::move(options)) {}
  boost::asio::awaitable<std::unique_ptr<Enclave>> launch(const LaunchRequest& request, const BeforeRun& before_run,
                                                          std::ostream& err) override;

 private:
  SimulatorOptions options_;
};

}  // namespace enclaver::sleeve
