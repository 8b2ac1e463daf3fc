#include "sleeve/sim/simulated_enclave.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/fd.hpp"
#include "init/init_lib.hpp"
#include "sleeve/nsm_server.hpp"
#include "sleeve/sim/cid_lease.hpp"
#include "sleeve/sim/enclave_child.hpp"
#include "sleeve/sim/janitor.hpp"
#include "sleeve/sim/memory_cgroup.hpp"

namespace enclaver::sleeve::sim {
namespace {

constexpr const char* kHowToRun =
    "the simulator creates Linux namespaces and needs root (or CAP_SYS_ADMIN): run it with sudo, "
    "or in Docker with --privileged";

std::runtime_error os_failure(const std::string& what) { return std::runtime_error(what + ": " + std::strerror(errno)); }

// The EIF's bytes, mapped read-only: the child unpacks its ramdisks from here.
class Mapping {
 public:
  Mapping(const std::filesystem::path& path, std::uint64_t expected_size) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) throw os_failure("cannot open " + path.string());
    struct stat st{};
    if (::fstat(fd.get(), &st) != 0) throw os_failure("cannot stat " + path.string());
    if (static_cast<std::uint64_t>(st.st_size) != expected_size)
      throw std::runtime_error(path.string() + " changed while it was being read; try again");
    size_ = expected_size;
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (p == MAP_FAILED) throw os_failure("cannot map " + path.string());
    data_ = static_cast<const std::uint8_t*>(p);
  }
  ~Mapping() { ::munmap(const_cast<std::uint8_t*>(data_), size_); }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  std::span<const std::uint8_t> range(std::uint64_t offset, std::uint64_t size) const { return {data_ + offset, size}; }

 private:
  const std::uint8_t* data_ = nullptr;
  std::uint64_t size_ = 0;
};

// clone3 with new namespaces and a pidfd; the child continues here, as after fork().
pid_t clone_into_namespaces(int* pidfd) {
  constexpr std::uint64_t kNamespaces = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC;
  clone_args args{};
  args.flags = kNamespaces | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<std::uint64_t>(pidfd);
  args.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0 && errno == ENOSYS) {
    // Older kernels, or a seccomp filter that hides clone3 (Docker's default).
    pid = ::syscall(SYS_clone, kNamespaces | SIGCHLD, nullptr, nullptr, nullptr, 0);
    if (pid > 0) *pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  }
  return static_cast<pid_t>(pid);
}

// The first `count` CPUs this process may use; fewer (with a notice) if it has fewer.
cpu_set_t choose_cpus(std::uint32_t count, std::vector<std::string>& notices) {
  cpu_set_t allowed, chosen;
  CPU_ZERO(&chosen);
  if (::sched_getaffinity(0, sizeof allowed, &allowed) != 0) throw os_failure("cannot read this process's CPU affinity");
  std::uint32_t taken = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE && taken < count; ++cpu)
    if (CPU_ISSET(cpu, &allowed)) {
      CPU_SET(cpu, &chosen);
      ++taken;
    }
  if (taken < count)
    notices.push_back("cpu_count is " + std::to_string(count) + " but only " + std::to_string(taken) +
                      " CPUs are available here; the enclave runs on all of them");
  return chosen;
}

void send_handshake(int fd, Handshake h) {
  char byte = static_cast<char>(h);
  if (::send(fd, &byte, 1, MSG_NOSIGNAL) != 1) throw os_failure("the enclave's set-up ended early");
}

// The child's next message: kReady, or nullopt on EOF (it exec'd, or died);
// a kFailed message is thrown as the child's reason.
std::optional<Handshake> receive_handshake(int fd) {
  char buffer[4096];
  ssize_t n;
  do n = ::recv(fd, buffer, sizeof buffer, 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return std::nullopt;
  if (buffer[0] == static_cast<char>(Handshake::kFailed))
    throw std::runtime_error("the enclave could not start: " + std::string(buffer + 1, static_cast<std::size_t>(n - 1)));
  return static_cast<Handshake>(buffer[0]);
}

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

}  // namespace

int EnclaveExit::exit_code() const { return init::shell_exit_code(wait_status); }

std::string EnclaveExit::describe(std::uint64_t memory_mb) const {
  std::string text;
  if (WIFEXITED(wait_status))
    text = "exited with code " + std::to_string(WEXITSTATUS(wait_status));
  else if (WIFSIGNALED(wait_status))
    text = "was killed by signal " + std::to_string(WTERMSIG(wait_status)) + " (" + signal_name(WTERMSIG(wait_status)) + ")";
  else
    text = "ended with wait status " + std::to_string(wait_status);
  if (oom_killed)
    text += "; the OOM killer acted: the enclave used more than its memory_mb (" + std::to_string(memory_mb) +
            " MiB, root file system included); raise memory_mb in enclaver.yaml or --memory";
  return text;
}

Result<bool> check_simulator_privileges() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    std::uint64_t caps = std::stoull(line.substr(7), nullptr, 16);
    if (caps & (1ull << 21 /* CAP_SYS_ADMIN */)) return true;
    return make_error(kHowToRun);
  }
  return make_error("cannot read the capabilities of this process from /proc/self/status; " + std::string(kHowToRun));
}

struct SimulatedEnclave::State {
  State(const boost::asio::any_io_executor& executor, const EnclaveOptions& options, CidLease lease)
      : options(options), lease(std::move(lease)), exit_watch(executor) {}
  EnclaveOptions options;
  CidLease lease;
  std::optional<MemoryCgroup> cgroup;
  std::optional<Janitor> janitor;
  std::vector<std::string> notices;
  pid_t pid = -1;
  boost::asio::posix::stream_descriptor exit_watch;  // the pidfd
  std::optional<EnclaveExit> exit;
  std::optional<SimNsm> nsm;
  std::unique_ptr<NsmServer> nsm_server;
  std::optional<transport::Vsock> host_vsock;

  // Reaps PID 1 (it has exited: the pidfd said so, or it was SIGKILLed).
  void reap() {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    EnclaveExit result{status, cgroup && cgroup->oom_kills() > 0};
    exit = result;
    if (nsm_server) nsm_server->stop();
    if (cgroup) cgroup->remove();
  }
};

std::unique_ptr<SimulatedEnclave> SimulatedEnclave::launch(const boost::asio::any_io_executor& executor,
                                                           const EnclaveOptions& options, const eif::EifInfo& info,
                                                           const BeforeRun& before_run) {
  if (auto allowed = check_simulator_privileges(); !allowed) throw std::runtime_error(allowed.error().message);
  auto lease = options.cid ? CidLease::acquire_exactly(*options.cid) : CidLease::acquire();
  auto state = std::make_unique<State>(executor, options, std::move(lease));
  const std::uint32_t cid = state->lease.cid();

  Mapping eif(options.eif, info.file_size);
  ChildPlan plan;
  for (const auto& ramdisk : info.ramdisks()) plan.ramdisks.push_back(eif.range(ramdisk.data_offset, ramdisk.size));
  plan.cid = cid;
  plan.memory_mb = options.memory_mb;
  plan.console = options.debug_mode;
  plan.hostname = "(none)";  // what a Nitro enclave's kernel reports: nobody sets one

  // Named after the CID and this sleeve: a CID is reused as soon as it is
  // free, possibly before the janitor has removed the last owner's cgroup.
  auto cgroup = MemoryCgroup::create("enclaver-sim-" + std::to_string(cid) + "-" + std::to_string(::getpid()),
                                     options.memory_mb * 1024 * 1024);
  if (cgroup) {
    state->cgroup.emplace(std::move(*cgroup));
    state->janitor.emplace(Janitor::start(state->cgroup->path()));
  } else {
    state->notices.push_back("memory_mb is not enforced: " + cgroup.error().message);
  }
  cpu_set_t cpus = choose_cpus(options.cpu_count, state->notices);

  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) throw os_failure("cannot create the set-up channel");
  Fd ours(pair[0]), theirs(pair[1]);
  int pidfd = -1;
  pid_t pid = clone_into_namespaces(&pidfd);
  if (pid == 0) {
    ours.reset();
    plan.sync_fd = theirs.get();
    run_enclave_child(plan);
  }
  if (pid < 0) {
    if (errno == EPERM) throw std::runtime_error(kHowToRun);
    throw os_failure("cannot create the enclave's namespaces");
  }
  theirs.reset();
  if (pidfd < 0) {
    int err = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    errno = err;
    throw os_failure("cannot watch the enclave's PID 1 (pidfd_open)");
  }
  state->pid = pid;
  state->exit_watch.assign(pidfd);
  auto enclave = std::unique_ptr<SimulatedEnclave>(new SimulatedEnclave(std::move(state)));
  State& s = *enclave->state_;

  if (s.cgroup) {
    if (auto added = s.cgroup->add(pid); !added) s.notices.push_back("memory_mb is not enforced: " + added.error().message);
  }
  if (::sched_setaffinity(pid, sizeof cpus, &cpus) != 0) s.notices.push_back(std::string("cpu_count is not enforced: ") + std::strerror(errno));
  send_handshake(ours.get(), Handshake::kPlaced);
  if (receive_handshake(ours.get()) != Handshake::kReady) throw std::runtime_error("the enclave ended during its set-up");

  std::filesystem::path root = "/proc/" + std::to_string(pid) + "/root";
  s.host_vsock = transport::Vsock::simulated(root / std::filesystem::path(kEnclaveVsockDir).relative_path(), transport::kCidParent);
  SimNsmOptions nsm_options{options.eif, options.nsm_root, options.debug_mode, options.module_id};
  s.nsm = make_sim_nsm(nsm_options, info.measurements);
  auto* module = s.nsm->module.get();
  s.nsm_server = std::make_unique<NsmServer>(executor, root / std::filesystem::path(kEnclaveNsmSocket).relative_path(),
                                             [module](std::span<const std::uint8_t> request) { return module->handle_bytes(request); });
  if (before_run) before_run(*s.host_vsock);
  send_handshake(ours.get(), Handshake::kGo);
  // EOF: execve() succeeded (the channel is close-on-exec) or the child died.
  receive_handshake(ours.get());
  return enclave;
}

SimulatedEnclave::SimulatedEnclave(std::unique_ptr<State> state) : state_(std::move(state)) {}

SimulatedEnclave::~SimulatedEnclave() {
  if (state_->pid > 0 && !state_->exit) {
    ::syscall(SYS_pidfd_send_signal, state_->exit_watch.native_handle(), SIGKILL, nullptr, 0);
    state_->reap();
  }
}

std::uint32_t SimulatedEnclave::cid() const { return state_->lease.cid(); }
pid_t SimulatedEnclave::pid() const { return state_->pid; }
const transport::Vsock& SimulatedEnclave::host_vsock() const { return *state_->host_vsock; }
const SimNsm& SimulatedEnclave::nsm() const { return *state_->nsm; }
const std::vector<std::string>& SimulatedEnclave::notices() const { return state_->notices; }

void SimulatedEnclave::signal(int sig) {
  if (state_->exit) return;
  ::syscall(SYS_pidfd_send_signal, state_->exit_watch.native_handle(), sig, nullptr, 0);
}

boost::asio::awaitable<EnclaveExit> SimulatedEnclave::wait() {
  if (!state_->exit) {
    co_await state_->exit_watch.async_wait(boost::asio::posix::stream_descriptor::wait_read, boost::asio::use_awaitable);
    if (!state_->exit) state_->reap();
  }
  co_return *state_->exit;
}

boost::asio::awaitable<EnclaveExit> SimulatedEnclave::terminate(std::chrono::milliseconds grace) {
  signal(SIGTERM);
  auto timer = std::make_shared<boost::asio::steady_timer>(co_await boost::asio::this_coro::executor, grace);
  boost::asio::co_spawn(
      timer->get_executor(),
      [timer, this]() -> boost::asio::awaitable<void> {
        boost::system::error_code ec;
        co_await timer->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        if (!ec) signal(SIGKILL);
      },
      boost::asio::detached);
  auto exit = co_await wait();
  timer->cancel();
  co_return exit;
}

}  // namespace enclaver::sleeve::sim
