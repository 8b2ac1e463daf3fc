// Nitro as a sleeve backend: the enclave is launched, watched and
// terminated with nitro-cli (wire.md, "Launching on Nitro"):
//   - launch: `nitro-cli run-enclave ...`; its enclave ID and CID are read
//     from its JSON; its failure (exit code and stderr) is shown as it is;
//   - watch: `nitro-cli describe-enclaves` every poll_interval: the enclave
//     has ended when its ID is no longer listed as RUNNING;
//   - stop: odyn is asked over the status stream to stop the app (SIGTERM,
//     its grace, SIGKILL), since the host cannot signal an enclave's
//     process; after `grace` plus a margin, `nitro-cli terminate-enclave`;
//   - release: `nitro-cli terminate-enclave --enclave-id ID` on every exit
//     path, unless the enclave was seen gone.
// Untested on hardware: tests drive it with a stand-in nitro-cli.
#pragma once

#include <chrono>

#include "sleeve/enclave.hpp"

namespace enclaver::sleeve {

struct NitroOptions {
  transport::Vsock host_vsock = transport::Vsock::native();
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::seconds command_timeout{300};  // run-enclave allocates and loads; generous
};

class NitroBackend final : public Backend {
 public:
  explicit NitroBackend(NitroOptions options) : options_(std::move(options)) {}
  boost::asio::awaitable<std::unique_ptr<Enclave>> launch(const LaunchRequest& request, const BeforeRun& before_run,
                                                          std::ostream& err) override;

 private:
  NitroOptions options_;
};

}  // namespace enclaver::sleeve
