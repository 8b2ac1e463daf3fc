// Removes a simulated enclave's cgroup directory after the sleeve is gone,
// however it went (kill -9 included): the only thing of an enclave that
// lives in a host file system and that the kernel does not take away by
// itself (simulation.md §5). A small forked process in its own session
// (Ctrl-C does not reach it) waits for EOF on a pipe whose write end only
// the sleeve holds, then removes the directory once the enclave's last
// processes have died, and exits.
#pragma once

#include <filesystem>

#include "common/fd.hpp"

namespace enclaver::sleeve::sim {

class Janitor {
 public:
  // Forks the janitor; call while the process has one thread. Throws
  // std::system_error if it cannot.
  static Janitor start(const std::filesystem::path& cgroup_dir);
  // Closing the pipe lets the janitor do its work now.
  ~Janitor() = default;
  Janitor(Janitor&&) = default;
  Janitor& operator=(Janitor&&) = default;

 private:
  explicit Janitor(Fd write_end) : write_end_(std::move(write_end)) {}
  Fd write_end_;
};

}  // namespace enclaver::sleeve::sim
