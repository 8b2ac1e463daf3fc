// What the sleeve needs of a running enclave, whichever backend launched it
// (the simulator, or Nitro through nitro-cli), and what a backend is.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "eif/eif_reader.hpp"
#include "transport/vsock.hpp"

namespace enclaver::sleeve {

struct EnclaveEnd {
  int exit_code = 1;        // used when odyn reported no end of the app
  std::string description;  // "exited with code 3", "is gone (nitro-cli describe-enclaves)"
};

class Enclave {
 public:
  virtual ~Enclave() = default;
  virtual std::uint32_t cid() const = 0;
  // The host's side of the enclave's vsock.
  virtual const transport::Vsock& host_vsock() const = 0;
  // Stops the enclave gracefully: the app gets SIGTERM through odyn; after
  // `grace` the enclave is ended for good. Returns once that is under way;
  // wait() reports the end.
  virtual boost::asio::awaitable<void> stop(std::chrono::milliseconds grace) = 0;
  // Completes when the enclave has ended.
  virtual boost::asio::awaitable<EnclaveEnd> wait() = 0;
  // Called on every exit path of the sleeve, after wait() or instead of it:
  // nothing of the enclave may outlive the sleeve.
  virtual boost::asio::awaitable<void> release() = 0;
};

struct LaunchRequest {
  std::filesystem::path eif;
  const eif::EifInfo* info = nullptr;  // the EIF, read and measured
  std::uint32_t cpu_count = 2;
  std::uint64_t memory_mb = 4096;
  bool debug_mode = false;
  std::optional<std::uint32_t> cid;
  std::uint16_t status_port = 17000;  // where odyn takes requests ("stop")
};

// What the host must set up before the enclave's program runs (the
// listeners odyn connects to at its start), given the host's vsock.
using BeforeRun = std::function<void(const transport::Vsock& host_vsock)>;

class Backend {
 public:
  virtual ~Backend() = default;
  // Launches the enclave, says on `err` what was launched (CID, PCRs, ...).
  // Throws std::runtime_error with the reason when it cannot.
  virtual boost::asio::awaitable<std::unique_ptr<Enclave>> launch(const LaunchRequest& request, const BeforeRun& before_run,
                                                                  std::ostream& err) = 0;
};

// "enclaver-run: PCR0 <hex>" lines for PCR0, 1, 2 (and 8 when signed).
void print_measurements(std::ostream& err, const eif::Measurements& m);

// Asks odyn to stop the app (the "stop" request on the status stream);
// false if odyn could not be reached.
boost::asio::awaitable<bool> request_stop(const transport::Vsock& host, transport::VsockAddress status);

}  // namespace enclaver::sleeve
