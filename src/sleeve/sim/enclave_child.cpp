#include "sleeve/sim/enclave_child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "eif/cpio.hpp"
#include "init/init_lib.hpp"
#include "sleeve/sim/capabilities.hpp"

namespace enclaver::sleeve::sim {
namespace {

namespace fs = std::filesystem;

struct ChildFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(bool ok, const std::string& what) {
  if (!ok) throw ChildFailure(init::failure(what, errno));
}

void do_mount(const char* source, const fs::path& target, const char* type, unsigned long flags, const char* data = nullptr) {
  check(::mount(source, target.c_str(), type, flags, data) == 0,
        std::string("mount ") + (type ? type : "bind") + " " + (source ? source : "") + " on " + target.string());
}

void make_dir(const fs::path& path, mode_t mode) {
  check(::mkdir(path.c_str(), mode) == 0 || errno == EEXIST, "mkdir " + path.string());
}

void make_symlink(const char* target, const fs::path& link) {
  check(::symlink(target, link.c_str()) == 0 || errno == EEXIST, "symlink " + link.string());
}

Handshake receive(int fd) {
  char byte = 0;
  ssize_t n;
  do n = ::recv(fd, &byte, 1, 0);
  while (n < 0 && errno == EINTR);
  // The sleeve is gone (or broke the protocol): nothing to run for.
  if (n != 1) ::_exit(127);
  return static_cast<Handshake>(byte);
}

void send_byte(int fd, Handshake h) {
  char byte = static_cast<char>(h);
  (void)!::send(fd, &byte, 1, MSG_NOSIGNAL);
}

// A minimal /dev (simulation.md §3): a tmpfs with the host's harmless
// character devices bound in, a private devpts and /dev/shm.
void populate_dev(const fs::path& dev) {
  do_mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755");
  for (const char* node : {"null", "zero", "full", "random", "urandom", "tty"}) {
    fs::path target = dev / node;
    int fd = ::open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
    check(fd >= 0, "create " + target.string());
    ::close(fd);
    do_mount((std::string("/dev/") + node).c_str(), target, nullptr, MS_BIND);
  }
  make_dir(dev / "pts", 0755);
  do_mount("devpts", dev / "pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620");
  make_symlink("pts/ptmx", dev / "ptmx");
  make_dir(dev / "shm", 01777);
  do_mount("shm", dev / "shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  make_symlink("/proc/self/fd", dev / "fd");
  make_symlink("/proc/self/fd/0", dev / "stdin");
  make_symlink("/proc/self/fd/1", dev / "stdout");
  make_symlink("/proc/self/fd/2", dev / "stderr");
}

// What Nitro's init mounts in the new root (eif.md §8), with the simulator's
// /dev; plus the directories that the host shares (vsock, NSM socket).
void populate_root(const fs::path& root, std::uint32_t cid) {
  constexpr unsigned long kNoDevSuidExec = MS_NODEV | MS_NOSUID | MS_NOEXEC;
  for (const char* dir : {"proc", "sys", "dev", "run", "tmp"}) make_dir(root / dir, 0755);
  do_mount("proc", root / "proc", "proc", kNoDevSuidExec);
  do_mount("sysfs", root / "sys", "sysfs", kNoDevSuidExec);
  populate_dev(root / "dev");
  do_mount("tmpfs", root / "run", "tmpfs", kNoDevSuidExec, "mode=0755");
  do_mount("tmpfs", root / "tmp", "tmpfs", kNoDevSuidExec, "mode=1777");
  fs::path vsock = root / fs::path(kEnclaveVsockDir).relative_path();
  make_dir(vsock.parent_path(), 0755);
  make_dir(vsock, 0755);
  make_dir(vsock / "3", 0755);
  make_dir(vsock / std::to_string(cid), 0755);
}

// Where the enclave's tmpfs is mounted before the pivot: any directory that
// exists will do, since the mount is visible only in this namespace; /tmp
// where there is one, else /sys (a scratch image has no /tmp, every
// container has /sys).
fs::path staging_mount_point() {
  struct stat st{};
  if (::stat("/tmp", &st) == 0 && S_ISDIR(st.st_mode)) return "/tmp";
  return "/sys";
}

void pivot_into(const fs::path& root) {
  // pivot_root(".", ".") stacks the old root under the new one, and the
  // detach below drops it: no put_old directory is needed in the image.
  check(::chdir(root.c_str()) == 0, "chdir " + root.string());
  check(::syscall(SYS_pivot_root, ".", ".") == 0, "pivot_root into " + root.string());
  check(::umount2(".", MNT_DETACH) == 0, "detach the old root");
  check(::chdir("/") == 0, "chdir /");
}

void redirect_stdio(bool console) {
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  check(null >= 0, "open /dev/null");
  check(::dup2(null, 0) == 0, "dup2 stdin");
  if (!console) {
    check(::dup2(null, 1) == 1, "dup2 stdout");
    check(::dup2(null, 2) == 2, "dup2 stderr");
  }
  ::close(null);
}

std::vector<std::string> lines_of_file(const fs::path& path) {
  auto text = init::read_file(path);
  if (!text) throw ChildFailure(text.error().message + " (the EIF's customer ramdisk must hold /cmd and /env, eif.md)");
  return init::parse_lines(*text);
}

[[noreturn]] void set_up_and_exec(const ChildPlan& plan) {
  check(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0, "make the mounts private");
  fs::path stage = staging_mount_point();
  std::string size = "mode=0755,size=" + std::to_string(plan.memory_mb) + "m";
  do_mount("enclave", stage, "tmpfs", MS_NOSUID | MS_NODEV, size.c_str());
  for (auto ramdisk : plan.ramdisks) {
    auto unpacked = cpio::unpack(ramdisk, stage);
    if (!unpacked) throw ChildFailure("unpacking a ramdisk: " + unpacked.error().message);
  }
  auto argv = init::command_or_default(lines_of_file(stage / "cmd"));
  auto env = init::environment_or_default(lines_of_file(stage / "env"));
  fs::path root = stage / "rootfs";
  check(fs::is_directory(root), "find /rootfs in the customer ramdisk");
  do_mount(root.c_str(), root, nullptr, MS_BIND | MS_REC);  // pivot_root wants a mount point
  populate_root(root, plan.cid);
  check(::sethostname(plan.hostname.data(), plan.hostname.size()) == 0, "sethostname");
  pivot_into(root);

  send_byte(plan.sync_fd, Handshake::kReady);
  if (receive(plan.sync_fd) != Handshake::kGo) ::_exit(127);

  auto executable = init::find_executable(argv[0]);
  if (!executable) throw ChildFailure(executable.error().message);
  env.push_back(std::string("ENCLAVER_VSOCK_DIR=") + kEnclaveVsockDir);
  env.push_back("ENCLAVER_VSOCK_CID=" + std::to_string(plan.cid));
  env.push_back(std::string("ENCLAVER_NSM_SOCKET=") + kEnclaveNsmSocket);
  redirect_stdio(plan.console);
  auto dropped = drop_capabilities();
  if (!dropped) throw ChildFailure(dropped.error().message);
  // Only the standard streams cross into the enclave's command.
  ::syscall(SYS_close_range, 3u, ~0u, 4u /* CLOSE_RANGE_CLOEXEC */);
  ::signal(SIGPIPE, SIG_DFL);
  auto exec_argv = init::to_exec_array(argv);
  auto exec_env = init::to_exec_array(env);
  ::execve(executable->c_str(), exec_argv.data(), exec_env.data());
  throw ChildFailure(init::failure("execve " + *executable, errno));
}

}  // namespace

void run_enclave_child(const ChildPlan& plan) {
  // Die with the sleeve (SIGKILL when it goes), and if it went already
  // between clone and now, go too: the pair is closed then.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  pollfd p{plan.sync_fd, POLLIN, 0};
  if (::poll(&p, 1, 0) == 1 && (p.revents & POLLHUP)) ::_exit(127);
  // Its own session: the terminal's Ctrl-C goes to the sleeve, which
  // forwards SIGTERM, not straight to the enclave.
  ::setsid();
  // Default signal handling for the enclave, whatever the sleeve set.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);

  if (receive(plan.sync_fd) != Handshake::kPlaced) ::_exit(127);
  try {
    set_up_and_exec(plan);
  } catch (const std::exception& e) {
    std::string message = std::string(1, static_cast<char>(Handshake::kFailed)) + e.what();
    (void)!::send(plan.sync_fd, message.data(), message.size(), MSG_NOSIGNAL);
  }
  ::_exit(127);
}

}  // namespace enclaver::sleeve::sim
