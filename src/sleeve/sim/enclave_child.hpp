// What happens inside a simulated enclave before its command runs: the part
// of simulation.md §2–3 that the Nitro kernel and init would do. It runs in
// the child the simulator cloned into new mount, PID, network, UTS and IPC
// namespaces, which becomes the enclave's PID 1 by execve().
//
// Everything the enclave gets lives in a tmpfs of its own mount namespace:
// the unpacked ramdisks, its /run with the vsock directory and the NSM
// socket. The host reaches those through /proc/<pid>/root, so when the
// enclave's last process dies the kernel takes the whole tree away with the
// namespace, and nothing can be left behind on the host, whatever killed
// whom.
//
// Handshake with the sleeve over a SOCK_SEQPACKET pair (close-on-exec, so a
// successful execve() reads as EOF on the sleeve's side):
//   sleeve -> child  kPlaced   the child is in its cgroup, with its CPUs
//   child  -> sleeve kReady    root pivoted; /run/... exists for host sockets
//   sleeve -> child  kGo       host sockets bound; run the command
//   child  -> sleeve kFailed + message, then the child exits 127
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace enclaver::sleeve::sim {

// Paths inside the enclave.
inline constexpr const char* kEnclaveVsockDir = "/run/enclaver/vsock";
inline constexpr const char* kEnclaveNsmSocket = "/run/nsm.sock";

enum class Handshake : char { kPlaced = 'c', kReady = 'r', kGo = 'g', kFailed = 'e' };

struct ChildPlan {
  std::vector<std::span<const std::uint8_t>> ramdisks;  // in EIF order (mapped, read-only)
  std::uint32_t cid = 0;
  std::uint64_t memory_mb = 0;  // also bounds the tmpfs
  bool console = false;         // keep the sleeve's stdout/stderr (debug mode)
  int sync_fd = -1;
  std::string hostname;
};

// Sets the enclave up and execs its command; never returns. On failure it
// sends kFailed and the reason, and exits 127.
[[noreturn]] void run_enclave_child(const ChildPlan& plan);

}  // namespace enclaver::sleeve::sim
