// `enclaver-run --simulate` running real EIFs, built with `enclaver eif
// build` from enclave-probe (tests/integration/enclave/probe.cpp), as the
// enclave's PID 1: isolation, vsock both ways, NSM PCRs, resources, exit
// codes and signals, and that nothing is left behind on any exit path.
// Needs root (the simulator creates namespaces); skipped otherwise.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <sys/un.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include "tests/integration/enclave/sleeve_process.hpp"
#include "tests/integration/support/files.hpp"
#include "tests/integration/support/process.hpp"
#include "transport/vsock.hpp"

namespace enclaver::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using nlohmann::json;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string link_of(const fs::path& path) {
  std::error_code ec;
  auto target = fs::read_symlink(path, ec);
  return ec ? "" : target.string();
}

// What an enclave could leave on the host: processes in its PID namespace,
// mounts, files under its temporary directory, its cgroup.
struct HostTrace {
  std::string pid_namespace;  // "pid:[N]" of the enclave
  std::uint32_t cid = 0;
  std::string cgroup;         // the memory cgroup's name: enclaver-sim-<cid>-<sleeve pid>
};

std::vector<pid_t> processes_in_namespace(const std::string& ns) {
  std::vector<pid_t> found;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (link_of(entry.path() / "ns/pid") == ns) found.push_back(std::stoi(name));
  }
  return found;
}

std::vector<fs::path> cgroups_named(const std::string& name) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator("/sys/fs/cgroup", fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() > 6) it.disable_recursion_pending();
    if (it->is_directory(ec) && it->path().filename() == name) found.push_back(it->path());
  }
  return found;
}

class Simulator : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the simulator needs root";
    dir_ = fresh_test_dir("enclaver-sim-");
    fs::create_directories(dir_ / "tmp");
    write_tiny_blobs(dir_ / "blobs", "console=ttyS0");
    fs::create_directories(dir_ / "rootfs");
    fs::copy_file(ENCLAVE_PROBE, dir_ / "rootfs/probe");
    write_file(dir_ / "enclaver.yaml",
               "version: v1\nname: probe\ntarget: probe:latest\nsources:\n  app: probe:latest\ndefaults:\n  cpu_count: 2\n  memory_mb: 256\n");
    write_file(dir_ / "host-only-marker", "the enclave must not see this");
    mounts_before_ = read_text("/proc/self/mounts");
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // An EIF whose command is /probe ARGS..., with PROBE_FROM_EIF=yes in its environment.
  fs::path eif(const std::string& name, const std::vector<std::string>& probe_args) {
    fs::path out = dir_ / (name + ".eif");
    std::vector<std::string> argv = {program("enclaver"), "eif", "build", "--blobs", (dir_ / "blobs").string(), "--rootfs",
                                     (dir_ / "rootfs").string(), "--env", "PROBE_FROM_EIF=yes", "-o", out.string(), "--", "/probe"};
    argv.insert(argv.end(), probe_args.begin(), probe_args.end());
    auto built = run(argv);
    EXPECT_EQ(built.exit_code, 0) << built.err;
    return out;
  }

  std::unique_ptr<SleeveProcess> launch(const fs::path& eif_path, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {program("enclaver-run"), "--simulate", "--eif", eif_path.string(), "--manifest",
                                     (dir_ / "enclaver.yaml").string(), "--sim-root", (dir_ / "sim-root.pem").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<SleeveProcess>(argv, std::vector<std::string>{"TMPDIR=" + (dir_ / "tmp").string()});
  }

  // Waits for the banner; records what the enclave could leave behind.
  HostTrace started(SleeveProcess& sleeve) {
    auto vsock = sleeve.wait_for("vsock directory (\\S+)");
    EXPECT_TRUE(vsock) << sleeve.stderr_text();
    HostTrace trace;
    if (!vsock) return trace;
    trace.cid = std::stoul(*sleeve.wait_for("enclave CID (\\d+)"));
    trace.cgroup = "enclaver-sim-" + std::to_string(trace.cid) + "-" + std::to_string(sleeve.pid());
    auto pid = *sleeve.wait_for("\\(PID (\\d+) on the host\\)");
    trace.pid_namespace = link_of("/proc/" + pid + "/ns/pid");
    vsock_dir_ = *vsock;
    return trace;
  }

  // Nothing of the enclave remains: no process in its PID namespace, no
  // mount changed on the host, nothing in the temporary directory, no cgroup.
  void expect_nothing_left(const HostTrace& trace) {
    ASSERT_FALSE(trace.pid_namespace.empty());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline &&
           (!processes_in_namespace(trace.pid_namespace).empty() ||
            !cgroups_named(trace.cgroup).empty()))
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_THAT(processes_in_namespace(trace.pid_namespace), ::testing::IsEmpty());
    EXPECT_THAT(cgroups_named(trace.cgroup), ::testing::IsEmpty());
    // Other tests may mount things meanwhile: look for ours (the enclave's
    // tmpfs is named "enclave"; anything below the test's directory).
    std::set<std::string> before, added;
    std::istringstream old_lines(mounts_before_), new_lines(read_text("/proc/self/mounts"));
    for (std::string line; std::getline(old_lines, line);) before.insert(line);
    for (std::string line; std::getline(new_lines, line);)
      if (!before.count(line) && (line.rfind("enclave ", 0) == 0 || line.find(dir_.string()) != std::string::npos)) added.insert(line);
    EXPECT_THAT(added, ::testing::IsEmpty());
    EXPECT_TRUE(fs::is_empty(dir_ / "tmp"));
    EXPECT_FALSE(fs::exists(vsock_dir_));
  }

  // Accepts one connection on the host side (CID 3) of `port` and returns all it sends.
  std::string receive_on_host(std::uint32_t port) {
    auto path = fs::path(vsock_dir_) / "3" / (std::to_string(port) + ".sock");
    int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
    EXPECT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0) << path << ": " << std::strerror(errno);
    ::listen(listener, 1);
    int connection = ::accept(listener, nullptr, nullptr);
    std::string data;
    char buffer[65536];
    ssize_t n;
    while (connection >= 0 && (n = ::read(connection, buffer, sizeof buffer)) > 0) data.append(buffer, static_cast<std::size_t>(n));
    ::close(connection);
    ::close(listener);
    return data;
  }

  json report_of(const fs::path& eif_path, std::vector<std::string> extra = {}, HostTrace* trace_out = nullptr) {
    auto sleeve = launch(eif_path, extra);
    auto trace = started(*sleeve);
    auto text = receive_on_host(5000);
    EXPECT_EQ(sleeve->wait_exit(), 0) << sleeve->stderr_text();
    expect_nothing_left(trace);
    if (trace_out) *trace_out = trace;
    return json::parse(text);
  }

  fs::path dir_;
  std::string mounts_before_;
  std::string vsock_dir_;
};

TEST_F(Simulator, TheProgramIsPid1WithOnlyLoDownAndNothingOfTheHost) {
  auto report = report_of(eif("report", {"report", "5000", (dir_ / "host-only-marker").string()}));
  EXPECT_EQ(report["pid"], 1);
  EXPECT_EQ(report["interfaces_at_start"], json::parse(R"([{"name":"lo","up":false}])"));
  EXPECT_TRUE(report["lo_works_after_up"]);
  EXPECT_EQ(report["interfaces_after_up"], json::parse(R"([{"name":"lo","up":true}])"));
  EXPECT_FALSE(report["hidden_path_visible"]);
  std::set<std::string> pids;
  for (const auto& name : report["proc"])
    if (name.get<std::string>().find_first_not_of("0123456789") == std::string::npos) pids.insert(name);
  EXPECT_EQ(pids, std::set<std::string>{"1"});
  EXPECT_EQ(report["dev"], json::parse(R"(["fd","full","null","ptmx","pts","random","shm","stderr","stdin","stdout","tty","urandom","zero"])"));
  EXPECT_EQ(report["root"], json::parse(R"(["dev","probe","proc","run","sys","tmp","var"])"));
  EXPECT_EQ(report["env"]["PROBE_FROM_EIF"], "yes");
  EXPECT_EQ(report["env"]["ENCLAVER_NSM_SOCKET"], "/run/nsm.sock");
  EXPECT_EQ(report["env"]["ENCLAVER_VSOCK_DIR"], "/run/enclaver/vsock");
  EXPECT_EQ(report["cpus"], 2);
  std::uint64_t caps = std::stoull(report["cap_eff"].get<std::string>(), nullptr, 16);
  EXPECT_EQ(caps & (1ull << 25), 0u) << "CAP_SYS_TIME must be dropped";
  EXPECT_EQ(caps & (1ull << 16), 0u) << "CAP_SYS_MODULE must be dropped";
  EXPECT_NE(caps & (1ull << 21), 0u) << "CAP_SYS_ADMIN stays (mounts, RNDADDENTROPY)";
  EXPECT_NE(caps & (1ull << 12), 0u) << "CAP_NET_ADMIN stays (bringing lo up)";
}

TEST_F(Simulator, PcrsFromTheNsmSocketEqualDescribeEif) {
  auto path = eif("report", {"report", "5000"});
  auto described = run({program("enclaver"), "describe-eif", path.string(), "--json"});
  ASSERT_EQ(described.exit_code, 0) << described.err;
  auto measurements = json::parse(described.out)["Measurements"];
  auto report = report_of(path);
  EXPECT_EQ(report["pcrs"]["0"], measurements["PCR0"]);
  EXPECT_EQ(report["pcrs"]["1"], measurements["PCR1"]);
  EXPECT_EQ(report["pcrs"]["2"], measurements["PCR2"]);

  auto debug = report_of(path, {"--debug-mode"});
  EXPECT_EQ(debug["pcrs"]["0"], std::string(96, '0')) << "debug enclaves read PCR0 as zeros";
}

TEST_F(Simulator, CpuCountBecomesTheAffinityMask) {
  auto report = report_of(eif("report", {"report", "5000"}), {"--cpu-count", "1"});
  EXPECT_EQ(report["cpus"], 1);
}

TEST_F(Simulator, TheHostReachesTheEnclaveAtItsCidAndCtrlCStopsIt) {
  auto sleeve = launch(eif("serve", {"--term-exit", "42", "serve", "7000"}));
  auto trace = started(*sleeve);
  auto host = transport::Vsock::simulated(vsock_dir_, transport::kCidParent);
  boost::asio::io_context io;
  auto talk = boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<std::string> {
        std::optional<transport::Socket> socket;
        for (int i = 0; i < 200 && !socket; ++i) {
          try {
            socket.emplace(co_await host.connect({trace.cid, 7000}));
          } catch (const std::system_error&) {
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
          }
        }
        if (!socket) co_return "never connected";
        boost::asio::streambuf buffer;
        co_await boost::asio::async_write(*socket, boost::asio::buffer(std::string("ping\n")), boost::asio::use_awaitable);
        co_await boost::asio::async_read_until(*socket, buffer, "ping\n", boost::asio::use_awaitable);
        co_return std::string(boost::asio::buffers_begin(buffer.data()), boost::asio::buffers_end(buffer.data()));
      },
      boost::asio::use_future);
  io.run();
  EXPECT_EQ(talk.get(), "cid " + std::to_string(trace.cid) + "\nping\n");

  // A port nobody listens on is refused at once, as with vsock.
  io.restart();
  auto refused = boost::asio::co_spawn(
      io, [&]() -> boost::asio::awaitable<void> { co_await host.connect({trace.cid, 7001}); }, boost::asio::use_future);
  io.run();
  try {
    refused.get();
    ADD_FAILURE() << "connecting to a port nobody listens on succeeded";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ECONNREFUSED) << e.what();
  }

  sleeve->signal(SIGINT);
  EXPECT_EQ(sleeve->wait_exit(), 42) << sleeve->stderr_text();
  EXPECT_THAT(sleeve->stderr_text(), HasSubstr("exited with code 42"));
  expect_nothing_left(trace);
}

TEST_F(Simulator, ExitCodesAreTheSleevesExitCodes) {
  auto sleeve = launch(eif("exit", {"exit", "3"}));
  auto trace = started(*sleeve);
  EXPECT_EQ(sleeve->wait_exit(), 3) << sleeve->stderr_text();
  expect_nothing_left(trace);
}

TEST_F(Simulator, ACrashIsReportedAs128PlusTheSignal) {
  auto sleeve = launch(eif("crash", {"crash"}));
  auto trace = started(*sleeve);
  EXPECT_EQ(sleeve->wait_exit(), 128 + SIGSEGV) << sleeve->stderr_text();
  EXPECT_THAT(sleeve->stderr_text(), HasSubstr("killed by signal 11 (SIGSEGV)"));
  expect_nothing_left(trace);
}

TEST_F(Simulator, CtrlCKillsAProgramThatIgnoresSigtermAfterTheGracePeriod) {
  auto sleeve = launch(eif("sleep", {"sleep", "3"}), {"--grace-period", "0.3"});
  auto trace = started(*sleeve);
  for (int i = 0; i < 200 && processes_in_namespace(trace.pid_namespace).size() < 4; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  EXPECT_EQ(processes_in_namespace(trace.pid_namespace).size(), 4u) << "PID 1 and its three children";
  sleeve->signal(SIGINT);
  EXPECT_EQ(sleeve->wait_exit(std::chrono::seconds(10)), 128 + SIGKILL) << sleeve->stderr_text();
  expect_nothing_left(trace);
}

TEST_F(Simulator, KillingTheSleeveKillsTheEnclaveAndLeavesNothing) {
  auto sleeve = launch(eif("sleep", {"sleep", "3"}));
  auto trace = started(*sleeve);
  sleeve->signal(SIGKILL);
  EXPECT_EQ(sleeve->wait_exit(), 128 + SIGKILL);
  expect_nothing_left(trace);
}

TEST_F(Simulator, TheMemoryLimitIsEnforcedAndTheOomKillReported) {
  auto sleeve = launch(eif("alloc", {"alloc"}), {"--memory", "64"});
  auto trace = started(*sleeve);
  auto code = sleeve->wait_exit(std::chrono::seconds(60));
  if (sleeve->stderr_text().find("memory_mb is not enforced") != std::string::npos)
    GTEST_SKIP() << "no writable memory cgroup here: " << sleeve->stderr_text();
  EXPECT_EQ(code, 128 + SIGKILL) << sleeve->stderr_text();
  EXPECT_THAT(sleeve->stderr_text(), HasSubstr("OOM killer"));
  expect_nothing_left(trace);
}

TEST_F(Simulator, TwoEnclavesAtOnceHaveTheirOwnCidsAndDoNotSeeEachOther) {
  auto path = eif("report", {"report", "5000"});
  auto first = launch(eif("serve", {"--term-exit", "0", "serve", "7000"}));
  auto first_trace = started(*first);
  auto second_report = report_of(path);
  std::set<std::string> numeric;
  for (const auto& name : second_report["proc"])
    if (name.get<std::string>().find_first_not_of("0123456789") == std::string::npos) numeric.insert(name);
  EXPECT_EQ(numeric, std::set<std::string>{"1"});
  auto second_cid = second_report["env"]["ENCLAVER_VSOCK_CID"].get<std::string>();
  EXPECT_NE(second_cid, std::to_string(first_trace.cid));
  EXPECT_EQ(second_report["vsock_dir"].get<std::set<std::string>>(), (std::set<std::string>{"3", second_cid}))
      << "only the host and itself";
  first->signal(SIGTERM);
  EXPECT_TRUE(first->wait_exit(std::chrono::seconds(20)));
}

TEST_F(Simulator, WithoutPrivilegesTheErrorSaysHowToRunIt) {
  auto r = run({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", program("enclaver-run"),
                "--simulate", "--eif", eif("exit", {"exit", "0"}).string(), "--manifest", (dir_ / "enclaver.yaml").string(),
                "--sim-root", (dir_ / "sim-root.pem").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("needs root (or CAP_SYS_ADMIN)"));
  EXPECT_THAT(r.err, HasSubstr("--privileged"));
}

}  // namespace
}  // namespace enclaver::testing
