// The sleeve's Nitro backend (`enclaver-run` without --simulate) against a
// stand-in nitro-cli (tests/integration/nitro/fake-nitro-cli), which checks
// the arguments it gets and answers as nitro-cli documents. The host's vsock
// is put on the simulated transport (ENCLAVER_VSOCK_DIR) where no enclave
// listens: these tests are about launching, watching and terminating. The
// backend is untested on Nitro hardware.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/integration/enclave/sleeve_process.hpp"
#include "tests/integration/support/files.hpp"
#include "tests/integration/support/process.hpp"

namespace enclaver::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kEnclaveId = "i-0123456789abcdef0-enc0123456789abcdef";

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class Nitro : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_test_dir("enclaver-nitro-");
    fs::create_directories(dir_ / "bin");
    fs::create_directories(dir_ / "vsock");
    fs::create_symlink(ENCLAVER_SOURCE_DIR "/tests/integration/nitro/fake-nitro-cli", dir_ / "bin/nitro-cli");
    write_tiny_blobs(dir_ / "blobs", "console=ttyS0");
    fs::create_directories(dir_ / "rootfs");
    write_file(dir_ / "rootfs/hello", "hi\n");
    auto built = run({program("enclaver"), "eif", "build", "--blobs", (dir_ / "blobs").string(), "--rootfs", (dir_ / "rootfs").string(),
                      "-o", (dir_ / "app.eif").string(), "--", "/sbin/odyn"});
    ASSERT_EQ(built.exit_code, 0) << built.err;
    // No ingress: the host's ports are not what this test is about.
    write_file(dir_ / "enclaver.yaml", "version: v1\nname: nitro\ntarget: nitro:latest\nsources:\n  app: nitro:latest\n"
                                       "defaults:\n  memory_mb: 256\n  cpu_count: 2\n");
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::unique_ptr<SleeveProcess> start(std::vector<std::string> extra_args = {}, std::vector<std::string> extra_env = {},
                                       bool with_nitro_cli = true) {
    std::vector<std::string> argv = {program("enclaver-run"), "--eif", (dir_ / "app.eif").string(), "--manifest",
                                     (dir_ / "enclaver.yaml").string(), "--grace-period", "1"};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    std::vector<std::string> env = {"FAKE_NITRO_DIR=" + dir_.string(), "ENCLAVER_VSOCK_DIR=" + (dir_ / "vsock").string(),
                                    "ENCLAVER_VSOCK_CID=3",
                                    "PATH=" + (with_nitro_cli ? (dir_ / "bin").string() + ":" : "") + "/usr/bin:/bin"};
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    return std::make_unique<SleeveProcess>(argv, env);
  }
  std::string calls() { return read_text(dir_ / "calls.log"); }

  fs::path dir_;
};

TEST_F(Nitro, LaunchesWithTheRightArgumentsAndTerminatesOnSigterm) {
  auto sleeve = start({"--cpu-count", "4", "--memory", "512", "--debug-mode", "--cid", "21"});
  ASSERT_TRUE(sleeve->wait_for("PCR2 [0-9a-f]+\n")) << sleeve->stderr_text();
  EXPECT_THAT(sleeve->stderr_text(), HasSubstr(std::string("Nitro enclave ") + kEnclaveId + ", CID 21, 4 CPUs, 512 MiB"));
  EXPECT_THAT(sleeve->stderr_text(), HasSubstr("PCR0 "));
  // It watches the enclave while it runs.
  for (int i = 0; i < 50 && calls().find("describe-enclaves") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  sleeve->signal(SIGTERM);
  auto code = sleeve->wait_exit();
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1) << "no final status from odyn: 1" << sleeve->stderr_text();
  const std::string log = calls();
  EXPECT_THAT(log, HasSubstr("run-enclave --eif-path " + (dir_ / "app.eif").string() +
                             " --cpu-count 4 --memory 512 --enclave-cid 21 --debug-mode\n"));
  EXPECT_THAT(log, HasSubstr("describe-enclaves\n"));
  EXPECT_THAT(log, HasSubstr(std::string("terminate-enclave --enclave-id ") + kEnclaveId + "\n"));
  EXPECT_FALSE(fs::exists(dir_ / "running")) << "the enclave outlived the sleeve";
  EXPECT_THAT(sleeve->stderr_text(), HasSubstr("odyn did not take the stop request"));
}

TEST_F(Nitro, AnEnclaveThatEndsOnItsOwnIsNoticedAndTheSleeveExits) {
  auto sleeve = start();
  ASSERT_TRUE(sleeve->wait_for("Nitro enclave")) << sleeve->stderr_text();
  fs::remove(dir_ / "running");  // the enclave is gone, as after a crash
  auto code = sleeve->wait_exit(std::chrono::seconds(15));
  ASSERT_TRUE(code) << sleeve->stderr_text();
  EXPECT_EQ(*code, 1);
  EXPECT_THAT(sleeve->stderr_text(), HasSubstr("is no longer running"));
  EXPECT_THAT(calls(), HasSubstr("run-enclave --eif-path " + (dir_ / "app.eif").string() + " --cpu-count 2 --memory 256\n"))
      << "the manifest's defaults are used without flags";
}

TEST_F(Nitro, ARunEnclaveFailureIsShownAsNitroCliSaysIt) {
  auto sleeve = start({}, {"FAKE_NITRO_FAIL=1"});
  auto code = sleeve->wait_exit();
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1);
  EXPECT_THAT(sleeve->stderr_text(), HasSubstr("nitro-cli run-enclave failed (exit code 1)"));
  EXPECT_THAT(sleeve->stderr_text(), HasSubstr("[ E26 ] Insufficient memory requested."));
  EXPECT_THAT(calls(), Not(HasSubstr("terminate-enclave"))) << "nothing was launched, nothing to terminate";
}

TEST_F(Nitro, WithoutNitroCliTheMessageSaysWhatToDo) {
  auto sleeve = start({}, {}, /*with_nitro_cli=*/false);
  auto code = sleeve->wait_exit();
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1);
  EXPECT_THAT(sleeve->stderr_text(), HasSubstr("nitro-cli is not installed"));
  EXPECT_THAT(sleeve->stderr_text(), HasSubstr("--simulate"));
}

}  // namespace
}  // namespace enclaver::testing
