// The simulator backend of the sleeve (simulation.md "The enclave"): runs an
// EIF's command as PID 1 of new mount, PID, network, UTS and IPC namespaces,
// rooted at the EIF's unpacked root file system, with the simulated NSM at
// /run/nsm.sock and simulated vsock under /run/enclaver/vsock.
//
// Lifetime: the enclave dies with this object and with its sleeve process
// (PR_SET_PDEATHSIG), and the kernel removes its file tree with its mount
// namespace. The memory cgroup, the only host-side trace, is removed on every
// path (by a janitor process when the sleeve is killed).
//
// Errors while launching are std::runtime_error messages that say what
// failed and what to do (no privileges, bad EIF, no /cmd, exec failure, ...).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "eif/eif_reader.hpp"
#include "sleeve/sim_nsm.hpp"
#include "transport/vsock.hpp"

namespace enclaver::sleeve::sim {

struct EnclaveOptions {
  std::filesystem::path eif;
  std::uint32_t cpu_count = 2;
  std::uint64_t memory_mb = 4096;
  bool debug_mode = false;             // NSM reads PCR0/1/2/8 as zeros; console to our stderr
  std::optional<std::uint32_t> cid;    // default: the first free from 16
  std::filesystem::path nsm_root;      // simulator root CA (created when absent)
  std::string module_id;               // default: random "sim-..."
};

// How the enclave's PID 1 ended.
struct EnclaveExit {
  int wait_status = 0;
  bool oom_killed = false;  // the memory cgroup saw the OOM killer act
  // The sleeve's exit code: the code, or 128+N for signal N.
  int exit_code() const;
  // "exited with code 3", "was killed by signal 9 (SIGKILL): out of memory ..."
  std::string describe(std::uint64_t memory_mb) const;
};

// Whether this process may create the namespaces: an error with how to
// run it (root or CAP_SYS_ADMIN; sudo; docker run --privileged) if not.
Result<bool> check_simulator_privileges();

class SimulatedEnclave {
 public:
  // What the host must set up after the enclave's tree exists and before its
  // command runs (listeners the enclave connects to at start).
  using BeforeRun = std::function<void(const transport::Vsock& host_vsock)>;

  // Measures `info`'s EIF (already read), takes a CID, sets the enclave up,
  // serves its NSM on `executor`, calls `before_run`, and runs its command.
  // Call while the process has a single thread.
  static std::unique_ptr<SimulatedEnclave> launch(const boost::asio::any_io_executor& executor, const EnclaveOptions& options,
                                                  const eif::EifInfo& info, const BeforeRun& before_run = {});
  ~SimulatedEnclave();
  SimulatedEnclave(const SimulatedEnclave&) = delete;
  SimulatedEnclave& operator=(const SimulatedEnclave&) = delete;

  std::uint32_t cid() const;
  pid_t pid() const;  // PID 1 of the enclave, as the host sees it
  // The host's view of the enclave's vsock: CID 3 is us, cid() the enclave.
  const transport::Vsock& host_vsock() const;
  const SimNsm& nsm() const;
  // Things the user should know once (memory limit not enforced, fewer CPUs than asked).
  const std::vector<std::string>& notices() const;

  // Completes when PID 1 has exited (and with it every process of the enclave).
  boost::asio::awaitable<EnclaveExit> wait();
  // SIGTERM to PID 1, SIGKILL after `grace` if it is still there; completes with its end.
  boost::asio::awaitable<EnclaveExit> terminate(std::chrono::milliseconds grace);
  // Sends `signal` to PID 1 (nothing once it has ended).
  void signal(int signal);

 private:
  struct State;
  explicit SimulatedEnclave(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace enclaver::sleeve::sim
