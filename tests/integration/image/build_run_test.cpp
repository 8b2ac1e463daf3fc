// `enclaver build` and `enclaver run` with the real Docker engine (the
// "docker" fixture): the example app (examples/hello, static) as a FROM
// scratch image made with `docker import`, built into a release image, run
// in the simulator inside a privileged container, answering curl through
// the ingress. Needs root (the simulator); skipped otherwise.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <regex>

#include <nlohmann/json.hpp>

#include "tests/integration/enclave/sleeve_process.hpp"
#include "tests/integration/support/files.hpp"
#include "tests/integration/support/process.hpp"

namespace enclaver::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof sa;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &length) != 0)
    throw std::runtime_error("no free port");
  ::close(fd);
  return std::to_string(ntohs(sa.sin_port));
}

std::string pcr(const std::string& text, int index) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("PCR" + std::to_string(index) + " ([0-9a-f]{96})"))) return "";
  return m[1];
}

class BuildRun : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the simulator needs root";
    dir_ = fresh_test_dir("enclaver-build-");
    const std::string unique = std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::string lower;
    for (char c : unique) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    app_ = "enclaver-test/hello-app:" + lower;
    target_ = "enclaver-test/hello-enclave:" + lower;
    port_ = free_port();
    write_tiny_blobs(dir_ / "blobs", "console=ttyS0");
    // The app image: the static hello binary alone, as a non-root user.
    fs::create_directories(dir_ / "app/usr/local/bin");
    fs::copy_file(HELLO_APP, dir_ / "app/usr/local/bin/hello");
    auto tar = run({"/usr/bin/tar", "-C", (dir_ / "app").string(), "--owner=0", "--group=0", "-cf", (dir_ / "app.tar").string(), "."});
    ASSERT_EQ(tar.exit_code, 0) << tar.err;
    auto imported = run({"/usr/bin/docker", "import", "--change", "ENTRYPOINT [\"/usr/local/bin/hello\"]", "--change", "CMD [\"" + port_ + "\"]",
                         "--change", "USER 1000:1000", (dir_ / "app.tar").string(), app_});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    write_file(dir_ / "enclaver.yaml", "version: v1\nname: hello\ntarget: " + target_ + "\nsources:\n  app: " + app_ +
                                           "\ndefaults:\n  memory_mb: 256\ningress:\n  - listen_port: " + port_ + "\n");
  }
  void TearDown() override {
    if (dir_.empty()) return;
    run({"/usr/bin/docker", "rmi", "-f", app_, target_});
    fs::remove_all(dir_);
  }

  ProcessResult build(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {program("enclaver"), "build", "-f", (dir_ / "enclaver.yaml").string(), "--blobs",
                                     (dir_ / "blobs").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run(argv);
  }

  fs::path dir_;
  std::string app_, target_, port_;
};

TEST_F(BuildRun, BuildsAReproducibleReleaseImageWithThePcrsAsLabels) {
  auto first = build();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("built " + target_));
  const std::string pcr0 = pcr(first.out, 0), pcr2 = pcr(first.out, 2);
  ASSERT_FALSE(pcr0.empty()) << first.out;
  auto labels = run({"/usr/bin/docker", "image", "inspect", "-f", "{{index .Config.Labels \"dev.enclaver.pcr0\"}} {{json .Config.Entrypoint}}", target_});
  ASSERT_EQ(labels.exit_code, 0) << labels.err;
  EXPECT_EQ(labels.out, pcr0 + " [\"/usr/local/bin/enclaver-run\"]\n");
  auto id = [&] { return run({"/usr/bin/docker", "image", "inspect", "-f", "{{.Id}}", target_}).out; };
  const std::string first_id = id();
  auto second = build({"--json", "--no-progress"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  auto j = nlohmann::json::parse(second.out);
  EXPECT_EQ(j["Measurements"]["PCR0"], pcr0) << "the same inputs give the same EIF";
  EXPECT_EQ(j["Measurements"]["PCR2"], pcr2);
  EXPECT_EQ(id(), first_id) << "the same inputs give the same release image";
  EXPECT_EQ(second.err, "") << "--no-progress prints nothing but the result";
}

TEST_F(BuildRun, TheReleaseImageRunsInTheSimulatorAndAnswersThroughIngress) {
  auto built = build();
  ASSERT_EQ(built.exit_code, 0) << built.err;
  SleeveProcess enclave({program("enclaver"), "run", target_, "--simulate"}, {"HOME=" + dir_.string()}, /*capture_stdout=*/true);
  ASSERT_TRUE(enclave.wait_for("the app is running", std::chrono::seconds(60))) << enclave.stderr_text();
  auto answer = run({"/usr/bin/curl", "-sS", "--max-time", "10", "--retry", "10", "--retry-connrefused", "--retry-delay", "1",
                     "http://127.0.0.1:" + port_ + "/"});
  EXPECT_EQ(answer.out, "Hello from an enclave! (request 1)\n") << answer.err << enclave.stderr_text();
  enclave.signal(SIGINT);
  auto code = enclave.wait_exit(std::chrono::seconds(60));
  ASSERT_TRUE(code) << enclave.stderr_text();
  EXPECT_EQ(*code, 0) << "hello exits 0 on SIGTERM: " << enclave.stderr_text();
  EXPECT_THAT(enclave.stdout_text(), HasSubstr("hello: request 1: GET /"));
  EXPECT_THAT(enclave.stdout_text(), HasSubstr("hello: SIGTERM after 1 requests, goodbye"));
  EXPECT_TRUE(fs::exists(dir_ / ".local/share/enclaver/sim-root.pem")) << "the simulator's root CA stays on the host";
  auto left = run({"/usr/bin/docker", "ps", "-aq", "--filter", "ancestor=" + target_});
  EXPECT_EQ(left.out, "") << "the container was removed";
}

TEST_F(BuildRun, ABadManifestNamesFileLineAndField) {
  write_file(dir_ / "enclaver.yaml", "version: v1\nname: hello\ntarget: x:1\nsources:\n  ap: " + app_ + "\n");
  auto r = build();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr((dir_ / "enclaver.yaml").string() + ":5:3"));
  EXPECT_THAT(r.err, HasSubstr("ap"));
}

TEST_F(BuildRun, AnImageTheEngineCannotGetIsTheEnginesMessage) {
  write_file(dir_ / "enclaver.yaml", "version: v1\nname: hello\ntarget: " + target_ +
                                         "\nsources:\n  app: localhost:1/enclaver-test/absent:1\n");
  auto r = build();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("localhost:1"));
  EXPECT_EQ(run({"/usr/bin/docker", "image", "inspect", target_}).exit_code, 1) << "nothing was tagged";
}

}  // namespace
}  // namespace enclaver::testing
