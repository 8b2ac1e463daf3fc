// The capabilities a simulated enclave's PID 1 loses. A Nitro guest's PID 1
// is root in its own kernel; in the simulator the kernel is the host's, so
// what acts on host-wide state goes: the clock (the enclave shares the
// host's; odyn's clock sync must find it may not set it, wire.md), kernel
// modules, raw I/O ports, device nodes, the kernel log, audit, MAC policy,
// process accounting, BPF and perf, suspend and wake alarms, tty
// configuration. What a guest's PID 1 needs stays: mounts and
// RNDADDENTROPY (CAP_SYS_ADMIN), its network (CAP_NET_ADMIN, own
// namespace), users and groups for the app (CAP_SETUID/SETGID), signals,
// file ownership.
#pragma once

#include <span>
#include <string>

#include "common/result.hpp"

namespace enclaver::sleeve::sim {

// The CAP_* numbers removed, in ascending order.
std::span<const int> dropped_capabilities();

// Removes them from the bounding, ambient, inheritable, permitted and
// effective sets of the calling process (before execve). Error: which step
// failed and why.
Result<bool> drop_capabilities();

}  // namespace enclaver::sleeve::sim
