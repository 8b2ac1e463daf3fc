// odyn as PID 1 (runtime issue; architecture.md "Bootstrap Phase"):
//   1. the status (17000) and log (17001) servers come up first, so that
//      whatever happens next reaches the host;
//   2. the manifest is loaded; a bad one is a `fatal` status with the
//      diagnostics, then exit 1, never a silent exit;
//   3. bootstrap: `lo` up, the kernel RNG seeded from the NSM;
//   4. the services, in architecture.md's order (ingress last);
//   5. the app, as `docker run` would start it; `running`;
//   6. reaping every child (orphans included), forwarding SIGTERM, SIGINT,
//      SIGHUP, SIGUSR1 and SIGUSR2 to the app, SIGKILL after the grace
//      period on SIGTERM/SIGINT;
//   7. the app's end: `exited` or `signaled`, delivered to connected
//      readers, then odyn exits with the app's code (128+N for signal N).
// One event loop, coroutines; no thread per connection.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "transport/vsock.hpp"

namespace enclaver::odyn {

struct SupervisorOptions {
  std::filesystem::path manifest = "/etc/enclaver/enclaver.yaml";
  std::filesystem::path image_config = "/etc/enclaver/image.json";
  std::filesystem::path etc = "/etc";        // passwd and group of the app image
  std::filesystem::path tls_dir = "/etc/enclaver/tls/server";  // <port>/cert.pem, key.pem
  std::filesystem::path extra_ca_file;       // ENCLAVER_EXTRA_CA_FILE: trusted by the egress proxy's TLS too
  std::vector<std::string> fallback_argv;    // used when image_config is absent
  std::vector<std::string> own_environment;  // ... with this environment
  transport::Vsock vsock = transport::Vsock::native();
  std::optional<std::string> nsm_socket;     // the simulator's; else /dev/nsm
  std::chrono::milliseconds grace{10000};    // SIGTERM to SIGKILL for the app
  std::size_t log_ring_bytes = 128 * 1024;
  // How long to wait, after the app's end, for the host to read the final
  // status before exiting anyway.
  std::chrono::milliseconds final_status_wait{30000};
  // When odyn started (main's first moment): the app's launch line says how
  // long odyn took to get there.
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

// Runs everything; returns odyn's exit code. Messages also go to `err`
// (odyn's own console).
int run_supervisor(const SupervisorOptions& options, std::ostream& err);

}  // namespace enclaver::odyn
