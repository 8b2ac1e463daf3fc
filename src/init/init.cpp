// enclaver-init: the enclave's PID 1, a drop-in for the init of Nitro's
// bootstrap ramdisk (shared/spec/eif.md §8, §9). In order:
//   1. mount devtmpfs on /dev and make /dev/console stdin, stdout, stderr;
//   2. load the kernel modules of /modules (sorted by name; our Debian kernel
//      has virtio-mmio and virtio-vsock as modules), then /nsm.ko, deleting
//      each file once loaded;
//   3. boot heartbeat: vsock CID 3 port 9000, send 0xB7, expect 0xB7 back;
//   4. read /cmd and /env, delete both;
//   5. make /rootfs the root: bind-mount it on itself, move it over /,
//      chroot(".") and chdir("/");
//   6. mount /dev, /proc, /run, /tmp, /dev/shm, /dev/pts, /sys,
//      /sys/fs/cgroup and one cgroup-v1 hierarchy per enabled controller;
//   7. fork; the child unblocks signals, calls setsid() and execs argv[0]
//      (searched on the fixed PATH) with exactly the /env environment;
//   8. reap every process; when the application ends, sync and reboot,
//      which ends the enclave.
// Any failure prints "enclaver-init: <what> failed: <cause>" on the console
// and exits; PID 1 exiting panics the kernel, which ends the enclave too.
//
// The kernel passes command-line words it does not know (such as
// "nomodules") to init as arguments: as PID 1 the arguments are ignored.
// Run as anything but PID 1 it refuses to do anything (it would mount over
// /dev and reboot the machine), apart from --version and --help.
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "init/init_lib.hpp"

namespace {

using namespace enclaver::init;

// A test build (target enclaver-init-testing, used by
// tests/integration/init_in_namespace.sh inside a PID and mount namespace)
// writes to a file instead of the machine's console and skips the heartbeat,
// which needs the Nitro parent on vsock. Release builds never define these.
#ifndef ENCLAVER_INIT_TEST_CONSOLE
constexpr const char* kConsole = "/dev/console";
#else
constexpr const char* kConsole = ENCLAVER_INIT_TEST_CONSOLE;
#endif
constexpr const char* kModulesDir = "/modules";
constexpr const char* kNsmModule = "/nsm.ko";
constexpr const char* kCmdFile = "/cmd";
constexpr const char* kEnvFile = "/env";
constexpr const char* kRootfs = "/rootfs";
constexpr const char* kProcCgroups = "/proc/cgroups";

// --- console output: plain write(2), no stdio, no iostreams ----------------

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report it
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

void say(std::string_view message) {
  write_all(STDERR_FILENO, std::string("enclaver-init: ").append(message).append("\n"));
}

[[noreturn]] void die(std::string_view message) {
  say(message);
  ::_exit(1);
}

// "<what> failed: <strerror(errno)>", then exit.
[[noreturn]] void die_errno(std::string_view what) { die(failure(what, errno)); }

void warn_errno(std::string_view what) { say(failure(what, errno)); }

// --- steps ------------------------------------------------------------------

// Init ignores every signal it can (they stay blocked); SIGCHLD still ends
// wait(). The child unblocks them before exec.
void block_all_signals() {
  sigset_t all;
  sigfillset(&all);
  if (::sigprocmask(SIG_BLOCK, &all, nullptr) != 0) die_errno("blocking signals");
}

void mount_devtmpfs() {
  if (::mount("dev", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, nullptr) != 0 && errno != EBUSY) {
    die_errno("mount devtmpfs on /dev");
  }
}

// The kernel could not open a console (the ramdisk has no /dev/console), so
// fds 0-2 are closed: the first open() is fd 0.
void open_console() {
  const int fd = ::open(kConsole, O_RDWR | O_NOCTTY);
  if (fd < 0) die_errno(std::string("open ") + kConsole);
  for (int target = 0; target <= 2; ++target) {
    if (fd != target && ::dup2(fd, target) < 0) die_errno(std::string("dup2 ") + kConsole);
  }
  if (fd > 2) ::close(fd);
}

// finit_module() on `path`, then delete it. Returns false if it does not exist.
bool load_module(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return false;
    die_errno("open kernel module " + path);
  }
  if (::syscall(SYS_finit_module, fd, "", 0) != 0) {
    // EEXIST: already loaded or built in; nothing to do.
    if (errno != EEXIST) die_errno("load kernel module " + path);
    say("kernel module " + path + " is already loaded");
  }
  ::close(fd);
  if (::unlink(path.c_str()) != 0) warn_errno("delete " + path);
  return true;
}

void load_modules() {
  auto modules = list_modules(kModulesDir);
  if (!modules) die(modules.error().message);
  for (const auto& path : *modules) load_module(path);
  if (!modules->empty() && ::rmdir(kModulesDir) != 0) warn_errno(std::string("remove ") + kModulesDir);
  load_module(kNsmModule);
}

[[maybe_unused]] void heartbeat() {
  const std::string where =
      "vsock CID " + std::to_string(kHeartbeatCid) + " port " + std::to_string(kHeartbeatPort);
  const int fd = ::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die_errno("heartbeat: vsock socket");
  sockaddr_vm addr{};
  addr.svm_family = AF_VSOCK;
  addr.svm_cid = kHeartbeatCid;
  addr.svm_port = kHeartbeatPort;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    die_errno("heartbeat: connect to " + where);
  }
  unsigned char byte = kHeartbeat;
  ssize_t n;
  do n = ::write(fd, &byte, 1); while (n < 0 && errno == EINTR);
  if (n != 1) die_errno("heartbeat: write to " + where);
  byte = 0;
  do n = ::read(fd, &byte, 1); while (n < 0 && errno == EINTR);
  if (n < 0) die_errno("heartbeat: read from " + where);
  if (n == 0) die("heartbeat: the parent closed " + where + " without answering");
  if (byte != kHeartbeat) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", byte);
    die("heartbeat: the parent answered " + std::string(hex) + " instead of 0xB7 on " + where);
  }
  ::close(fd);
}

// The lines of /cmd or /env; both must exist.
std::vector<std::string> read_lines(const char* path) {
  auto text = read_file(path);
  if (!text) die(text.error().message);
  return parse_lines(*text);
}

void switch_root() {
  const std::string rootfs = kRootfs;
  if (::mount(kRootfs, kRootfs, nullptr, MS_BIND, nullptr) != 0) die_errno("bind-mount " + rootfs + " on itself");
  if (::chdir(kRootfs) != 0) die_errno("chdir " + rootfs);
  if (::mount(".", "/", nullptr, MS_MOVE, nullptr) != 0) die_errno("move " + rootfs + " over /");
  if (::chroot(".") != 0) die_errno("chroot " + rootfs);
  if (::chdir("/") != 0) die_errno("chdir / in the new root");
}

void run_step(const FsStep& step) {
  int rc = 0;
  std::string what;
  switch (step.kind) {
    case FsStep::Kind::kMount:
      rc = ::mount(step.source, step.target, step.fstype, step.flags, step.data);
      what = std::string("mount ") + step.fstype + " on " + step.target;
      break;
    case FsStep::Kind::kMkdir:
      rc = ::mkdir(step.target, step.mode);
      what = std::string("mkdir ") + step.target;
      break;
    case FsStep::Kind::kSymlink:
      rc = ::symlink(step.source, step.target);
      what = std::string("symlink ") + step.target + " -> " + step.source;
      break;
  }
  if (rc != 0 && !(step.tolerated_errno != 0 && errno == step.tolerated_errno)) die_errno(what);
}

// One cgroup-v1 hierarchy per enabled controller. Unlike Nitro's init, a
// controller that cannot be mounted is reported and skipped rather than
// fatal: kernels built without v1 support for some controllers (6.12 with
// CONFIG_MEMCG_V1 or CONFIG_CPUSETS_V1 unset) must still boot the app.
void mount_cgroups() {
  auto text = read_file(kProcCgroups);
  if (!text) {
    say(text.error().message + " (no cgroup-v1 hierarchies mounted)");
    return;
  }
  auto controllers = parse_enabled_cgroups(*text);
  if (!controllers) {
    say(controllers.error().message + " (no cgroup-v1 hierarchies mounted)");
    return;
  }
  for (const auto& name : *controllers) {
    const std::string dir = cgroup_mount_point(name);
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      warn_errno("mkdir " + dir);
      continue;
    }
    if (::mount(name.c_str(), dir.c_str(), "cgroup", cgroup_mount_flags(), name.c_str()) != 0) {
      warn_errno("mount cgroup " + name + " on " + dir + " (skipped)");
    }
  }
}

// In the child: runs the application; never returns.
[[noreturn]] void exec_application(std::vector<std::string> argv, std::vector<std::string> env) {
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_UNBLOCK, &all, nullptr);
  if (::setsid() < 0) warn_errno("setsid");
  auto path = find_executable(argv.front());
  if (!path) {
    say(path.error().message);
    ::_exit(127);
  }
  auto c_argv = to_exec_array(argv);
  auto c_env = to_exec_array(env);
  ::execve(path->c_str(), c_argv.data(), c_env.data());
  const int err = errno;
  say(failure("exec " + *path, err));
  ::_exit(err == ENOENT ? 127 : 126);
}

pid_t launch(std::vector<std::string> argv, std::vector<std::string> env) {
  const pid_t pid = ::fork();
  if (pid < 0) die_errno("fork");
  if (pid == 0) exec_application(std::move(argv), std::move(env));
  return pid;
}

// Reaps every child (orphans are re-parented to init) until `main_child`
// ends; returns its wait status.
int reap_until(pid_t main_child) {
  while (true) {
    int status = 0;
    const pid_t pid = ::wait(&status);
    if (pid < 0) {
      if (errno == EINTR) continue;
      die_errno("wait");
    }
    if (pid == main_child) return status;
  }
}

[[noreturn]] void end_enclave() {
  ::sync();
  ::reboot(RB_AUTOBOOT);
  die_errno("reboot");
}

int main_when_not_pid1(int argc, char** argv) {
  const std::string_view arg = argc > 1 ? argv[1] : "";
  if (arg == "--version") {
#ifdef ENCLAVER_INIT_TEST_NO_HEARTBEAT
    write_all(STDOUT_FILENO, std::string("enclaver-init ") + ENCLAVER_VERSION + " (test build: no heartbeat)\n");
#else
    write_all(STDOUT_FILENO, std::string("enclaver-init ") + ENCLAVER_VERSION + "\n");
#endif
    return 0;
  }
  const std::string usage =
      "enclaver-init is the init (PID 1) of a Nitro enclave built by enclaver; it mounts\n"
      "filesystems, switches to /rootfs and reboots when the application ends, so it only\n"
      "runs as PID 1. Options (when not PID 1): --version, --help.\n";
  if (arg == "--help" || arg == "-h") {
    write_all(STDOUT_FILENO, usage);
    return 0;
  }
  write_all(STDERR_FILENO, "enclaver-init: not PID 1, refusing to run\n" + usage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (::getpid() != 1) return main_when_not_pid1(argc, argv);

  block_all_signals();
  mount_devtmpfs();
  open_console();
  load_modules();
#ifndef ENCLAVER_INIT_TEST_NO_HEARTBEAT
  heartbeat();
#endif

  auto cmd = read_lines(kCmdFile);
  auto env = read_lines(kEnvFile);
  if (::unlink(kEnvFile) != 0) warn_errno(std::string("delete ") + kEnvFile);
  if (::unlink(kCmdFile) != 0) warn_errno(std::string("delete ") + kCmdFile);

  switch_root();
  for (const FsStep& step : new_root_steps()) run_step(step);
  mount_cgroups();

  const pid_t child = launch(command_or_default(std::move(cmd)), environment_or_default(std::move(env)));
  say(describe_exit(reap_until(child)));
  end_enclave();
}
