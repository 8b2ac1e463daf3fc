// The memory limit of a simulated enclave (simulation.md §4): a memory
// cgroup below the sleeve's own, cgroup v2 when the unified hierarchy has
// the memory controller, v1 otherwise. The parsers are sans-IO; the class
// does the file system work.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace enclaver::sleeve::sim {

// One line of /proc/<pid>/cgroup: "id:controllers:path".
struct CgroupMembership {
  unsigned hierarchy = 0;
  std::vector<std::string> controllers;  // empty for v2 ("0::/path")
  std::string path;
};
std::vector<CgroupMembership> parse_proc_cgroup(std::string_view text);

// A cgroup file system from /proc/self/mountinfo.
struct CgroupMount {
  std::filesystem::path mount_point;
  std::string root;          // the mount's root within the hierarchy (field 4)
  bool v2 = false;           // cgroup2
  std::vector<std::string> options;  // super options (v1: the controllers)
};
std::vector<CgroupMount> parse_cgroup_mounts(std::string_view mountinfo);

// The "oom_kill N" count of memory.events (v2) or memory.oom_control (v1); 0 if absent.
std::uint64_t parse_oom_kills(std::string_view text);

// Where the memory cgroup of an enclave goes: the hierarchy and the directory.
struct MemoryCgroupPlace {
  bool v2 = false;
  std::filesystem::path parent;  // the sleeve's own cgroup directory
};
// From the two texts and a predicate telling whether a v2 directory offers
// the memory controller (reads cgroup.controllers). Error: no usable hierarchy.
Result<MemoryCgroupPlace> find_memory_cgroup(std::string_view proc_self_cgroup, std::string_view mountinfo,
                                             bool (*v2_has_memory)(const std::filesystem::path&));

class MemoryCgroup {
 public:
  // Creates <parent>/<name> with a limit of `limit_bytes` (swap included
  // where the hierarchy allows). Error: why the limit cannot be enforced.
  static Result<MemoryCgroup> create(const std::string& name, std::uint64_t limit_bytes);
  MemoryCgroup(MemoryCgroup&&) = default;
  MemoryCgroup& operator=(MemoryCgroup&&) = default;

  const std::filesystem::path& path() const { return path_; }
  bool v2() const { return v2_; }
  // Moves `pid` in. Error says why.
  Result<bool> add(pid_t pid) const;
  // How many processes the OOM killer killed in it so far.
  std::uint64_t oom_kills() const;
  // Removes the directory, retrying while its last processes die (up to
  // `patience`); true when it is gone.
  bool remove(std::chrono::milliseconds patience = std::chrono::milliseconds(3000)) const;

 private:
  MemoryCgroup(std::filesystem::path path, bool v2) : path_(std::move(path)), v2_(v2) {}
  std::filesystem::path path_;
  bool v2_ = false;
};

// Removes `dir` once its processes are gone: rmdir() until it succeeds or
// the directory is missing, sleeping between tries, for at most `patience`.
bool remove_cgroup_dir(const std::filesystem::path& dir, std::chrono::milliseconds patience);

}  // namespace enclaver::sleeve::sim
