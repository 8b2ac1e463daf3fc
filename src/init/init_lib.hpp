// The testable parts of enclaver-init, the enclave's PID 1 (see
// shared/spec/eif.md §8 and §9): parsing /cmd and /env, the search for the
// executable on the fixed PATH, parsing /proc/cgroups, the list of kernel
// modules to load, and the filesystem set-up of the new root as data.
// Failures are values (Result); nothing here exits, logs or throws on bad
// input (only std::bad_alloc can escape).
#pragma once

#include <sys/types.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace enclaver::init {

// The executable is searched on this PATH, never on the image's (a bare
// `node` living in /usr/local/bin is not found, as with Nitro's init).
inline constexpr std::string_view kFixedPath = "/sbin:/usr/sbin:/bin:/usr/bin";
// The whole environment of the application when /env is empty.
inline constexpr std::string_view kDefaultPathEnv = "PATH=/sbin:/usr/sbin:/bin:/usr/bin";
// The program run when /cmd is empty.
inline constexpr std::string_view kDefaultCommand = "sh";

// Boot heartbeat (§9): connect to the parent, send kHeartbeat, expect it back.
inline constexpr unsigned kHeartbeatCid = 3;
inline constexpr unsigned kHeartbeatPort = 9000;
inline constexpr unsigned char kHeartbeat = 0xB7;

// Splits the text of /cmd or /env into elements, one per line, as Nitro's
// init reads them with getline(): a '\n' ends a line and is dropped; nothing
// else is stripped or interpreted (no quoting, no escapes, a '\r' before the
// '\n' stays). A last line without '\n' is still an element, an empty line
// is an empty element, and an empty text has no elements.
std::vector<std::string> parse_lines(std::string_view text);

// The argv of the application: the /cmd elements, or {"sh"} when there are none.
std::vector<std::string> command_or_default(std::vector<std::string> cmd);
// The environment of the application: exactly the /env elements, or only
// {"PATH=/sbin:/usr/sbin:/bin:/usr/bin"} when there are none.
std::vector<std::string> environment_or_default(std::vector<std::string> env);

// The file execve() must run for argv[0] = `name`, as execvpe() finds it: a
// name containing '/' is used as is (execve reports whether it exists);
// otherwise the first entry of `search_path` (':'-separated; an empty entry
// means the current directory) holding a regular file (after following
// symlinks) with an execute bit set. Directories and non-executable files are
// skipped. Errors: an empty name; no such executable (the message names the
// program and the PATH searched).
Result<std::string> find_executable(std::string_view name, std::string_view search_path = kFixedPath);

// The cgroup controllers to mount, from the text of /proc/cgroups: every
// line "name hierarchy num_cgroups enabled" (whitespace-separated) whose
// `enabled` is not 0, in file order. Lines starting with '#' (the header) and
// blank lines are skipped. Errors: a line without four fields, a field that
// is not a number, or a name that cannot be a directory name ("", ".", "..",
// containing '/').
Result<std::vector<std::string>> parse_enabled_cgroups(std::string_view proc_cgroups);

// The path a controller's hierarchy is mounted on: /sys/fs/cgroup/<name>.
std::string cgroup_mount_point(std::string_view controller);

// One step of the filesystem set-up inside the new root.
struct FsStep {
  enum class Kind { kMount, kMkdir, kSymlink };
  Kind kind;
  // kMount: mount(source, target, fstype, flags, data).
  // kMkdir: mkdir(target, mode).
  // kSymlink: symlink(source, target), i.e. target -> source.
  const char* source;
  const char* target;
  const char* fstype;
  unsigned long flags;
  const char* data;
  mode_t mode;
  // The errno that means "already done" and is not a failure (0: none).
  int tolerated_errno;
};

// The set-up of the new root, in order (Nitro's init does the same): /dev
// (devtmpfs; EBUSY tolerated, it may be mounted already), /proc, the
// /dev/{fd,stdin,stdout,stderr} symlinks, tmpfs on /run (mode 0755) and /tmp,
// /dev/shm, devpts on /dev/pts, sysfs on /sys, a tmpfs (mode 0755) on
// /sys/fs/cgroup. The cgroup-v1 hierarchies come after, from /proc/cgroups.
std::span<const FsStep> new_root_steps();

// The mount flags of every cgroup-v1 hierarchy.
unsigned long cgroup_mount_flags();

// The kernel modules to load from `dir` before /nsm.ko: the regular files
// whose name ends in ".ko", sorted by name (the blobs name them NN-name.ko,
// so the name gives the load order), as full paths. A missing `dir` gives no
// modules. Errors: `dir` exists but cannot be read.
Result<std::vector<std::string>> list_modules(const std::string& dir);

// The whole content of a file. Errors name the file and the cause.
Result<std::string> read_file(const std::string& path);

// "<what> failed: <strerror(err)>", the body of every failure line.
std::string failure(std::string_view what, int err);

// What the parent reports when the application ends, from a wait() status:
// "the application exited with status N" / "was killed by signal N (NAME)".
std::string describe_exit(int wait_status);

// The exit code a shell (and Docker) gives for a wait() status: the code,
// 128+N for signal N, 1 otherwise.
int shell_exit_code(int wait_status);

// A NULL-terminated array of pointers into `strings`, for execve(). The
// pointers stay valid as long as `strings` is not modified.
std::vector<char*> to_exec_array(std::vector<std::string>& strings);

}  // namespace enclaver::init
