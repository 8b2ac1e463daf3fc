// The runtime end to end in the simulator: odyn as PID 1 running
// enclave-test-app (enclave/test_app.cpp) from a real EIF, the sleeve
// (`enclaver-run --simulate`) in front: ingress through host TCP -> sleeve
// -> vsock -> odyn -> app, checked with curl; the log stream; status and
// exit codes; signals; reaping; the image's user and working directory; a
// bad manifest. Needs root (namespaces); skipped otherwise.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <regex>

#include "tests/integration/enclave/sleeve_process.hpp"
#include "tests/integration/support/files.hpp"
#include "tests/integration/support/net.hpp"
#include "tests/integration/support/process.hpp"

namespace enclaver::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;


class Runtime : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the simulator needs root";
    dir_ = fresh_test_dir("enclaver-runtime-");
    write_tiny_blobs(dir_ / "blobs", "console=ttyS0");
    fs::create_directories(dir_ / "rootfs/sbin");
    fs::create_directories(dir_ / "rootfs/srv");
    fs::copy_file(program("odyn"), dir_ / "rootfs/sbin/odyn");
    fs::copy_file(TEST_APP, dir_ / "rootfs/app");
    write_file(dir_ / "rootfs/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nworker:x:1234:4321:W:/srv:/bin/sh\n");
    write_file(dir_ / "rootfs/etc/group", "root:x:0:\nworkers:x:4321:\n");
    port_ = free_port();
    manifest_ = "version: v1\nname: runtime\ntarget: runtime:latest\nsources:\n  app: runtime:latest\ndefaults:\n  memory_mb: 256\n"
                "ingress:\n  - listen_port: " + port_ + "\n";
  }
  void TearDown() override {
    sleeve_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Builds the EIF (odyn with `odyn_args`, then `-- /app APP_ARGS PORT`)
  // unless image.json is given, and starts the sleeve; waits for the app.
  void start(const std::vector<std::string>& odyn_args, const std::vector<std::string>& app_args, bool wait_running = true,
             const std::vector<std::string>& sleeve_args = {}) {
    write_file(dir_ / "rootfs/etc/enclaver/enclaver.yaml", manifest_);
    write_file(dir_ / "enclaver.yaml", manifest_);
    std::vector<std::string> argv = {program("enclaver"), "eif", "build", "--blobs", (dir_ / "blobs").string(), "--rootfs",
                                     (dir_ / "rootfs").string(), "-o", (dir_ / "app.eif").string(), "--", "/sbin/odyn"};
    argv.insert(argv.end(), odyn_args.begin(), odyn_args.end());
    if (!fs::exists(dir_ / "rootfs/etc/enclaver/image.json")) {
      argv.insert(argv.end(), {"--", "/app"});
      argv.insert(argv.end(), app_args.begin(), app_args.end());
      argv.push_back(port_);
    }
    auto built = run(argv);
    ASSERT_EQ(built.exit_code, 0) << built.err;
    std::vector<std::string> sleeve = {program("enclaver-run"), "--simulate", "--eif", (dir_ / "app.eif").string(), "--manifest",
                                       (dir_ / "enclaver.yaml").string(), "--sim-root", (dir_ / "sim-root.pem").string(),
                                       "--ingress-address", "127.0.0.1", "--grace-period", "5"};
    sleeve.insert(sleeve.end(), sleeve_args.begin(), sleeve_args.end());
    sleeve_ = std::make_unique<SleeveProcess>(sleeve, std::vector<std::string>{}, /*capture_stdout=*/true);
    if (wait_running) {
      ASSERT_TRUE(sleeve_->wait_for("the app is running")) << sleeve_->stderr_text();
    }
  }

  ProcessResult curl(const std::string& path, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {"/usr/bin/curl", "-sS", "--max-time", "10", "--retry", "20", "--retry-connrefused",
                                     "--retry-delay", "1", "--retry-max-time", "20"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("http://127.0.0.1:" + port_ + path);
    return run(argv);
  }

  fs::path dir_;
  std::string port_;
  std::string manifest_;
  std::unique_ptr<SleeveProcess> sleeve_;
};

TEST_F(Runtime, TheAppAnswersThroughTheIngressPathAndItsLogReachesTheHostInOrder) {
  start({}, {});
  EXPECT_EQ(curl("/hello").out, "hello from the enclave\n");
  EXPECT_EQ(curl("/echo", {"--data-binary", "ping pong"}).out, "ping pong");
  EXPECT_THAT(curl("/whoami").out, HasSubstr("IN_ENCLAVE true"));
  EXPECT_EQ(curl("/exit/0").out, "exiting\n");
  EXPECT_EQ(sleeve_->wait_exit(), 0) << sleeve_->stderr_text();
  auto log = sleeve_->stdout_text();
  auto starting = log.find("app starting"), first = log.find("request 1: GET /hello"), last = log.find("request 4: GET /exit/0");
  EXPECT_NE(starting, std::string::npos) << log;
  EXPECT_LT(starting, first) << "output written before the sleeve connected comes first";
  EXPECT_LT(first, last) << log;
  EXPECT_THAT(log, HasSubstr("[odyn] started the app"));
  EXPECT_THAT(log, HasSubstr("[odyn] clock sync: this enclave may not set its clock"))
      << "odyn asked the sleeve's clock server and found CAP_SYS_TIME dropped";
  EXPECT_THAT(sleeve_->stderr_text(), HasSubstr("the app exited with code 0"));
}

TEST_F(Runtime, ASlowLogReaderGetsTheDropMarkerAndTheAppNeverBlocks) {
  start({}, {});
  sleeve_->hold_stdout(true);
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(curl("/burst/2000000").out, "burst 2000000\n");
  EXPECT_EQ(curl("/burst/2000000").out, "burst 2000000\n");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(8))
      << "the app's writes did not wait for the log reader";
  sleeve_->hold_stdout(false);
  EXPECT_EQ(curl("/exit/0").out, "exiting\n");
  EXPECT_EQ(sleeve_->wait_exit(), 0) << sleeve_->stderr_text();
  // (Checked as booleans: the log holds megabytes of 'x'.)
  auto log = sleeve_->stdout_text();
  EXPECT_TRUE(std::regex_search(log, std::regex("\\n\\[odyn: [0-9]+ bytes of log dropped\\]\\n"))) << "no drop marker";
  EXPECT_NE(log.find("request 3: GET /exit/0"), std::string::npos) << "the log goes on after the drop";
}

TEST_F(Runtime, InADebugEnclaveTheAppsOutputReachesTheConsoleToo) {
  start({}, {}, true, {"--debug-mode"});
  EXPECT_EQ(curl("/exit/0").out, "exiting\n");
  EXPECT_EQ(sleeve_->wait_exit(), 0);
  EXPECT_THAT(sleeve_->stderr_text(), HasSubstr("[odyn] debug enclave (PCR0 reads zeros)"));
  EXPECT_THAT(sleeve_->stderr_text(), HasSubstr("\napp starting\n")) << "the console (stderr in the simulator) carries the app";
  EXPECT_THAT(sleeve_->stdout_text(), HasSubstr("app starting")) << "and the log stream still does";
}

TEST_F(Runtime, ExitCodesAndSignalsReachTheHost) {
  start({}, {});
  curl("/exit/3");
  EXPECT_EQ(sleeve_->wait_exit(), 3) << sleeve_->stderr_text();
  start({}, {});
  curl("/signal/9");
  EXPECT_EQ(sleeve_->wait_exit(), 137) << sleeve_->stderr_text();
  EXPECT_THAT(sleeve_->stderr_text(), HasSubstr("killed by signal 9 (SIGKILL)"));
}

TEST_F(Runtime, SigtermToTheSleeveReachesTheApp) {
  start({}, {"--exit-on-sigterm", "42"});
  EXPECT_EQ(curl("/hello").exit_code, 0);
  sleeve_->signal(SIGTERM);
  EXPECT_EQ(sleeve_->wait_exit(), 42) << sleeve_->stderr_text();
}

// The host's stop request on the status stream (what the Nitro backend
// sends, as the host cannot signal an enclave's PID 1) stops the app as
// SIGTERM does.
TEST_F(Runtime, AStopRequestOnTheStatusStreamStopsTheAppGracefully) {
  start({}, {"--exit-on-sigterm", "42"});
  std::smatch dir, cid;
  const std::string banner = sleeve_->stderr_text();
  ASSERT_TRUE(std::regex_search(banner, dir, std::regex("vsock directory (\\S+) ")));
  ASSERT_TRUE(std::regex_search(banner, cid, std::regex("enclave CID ([0-9]+)")));
  const std::string socket_path = dir[1].str() + "/" + cid[1].str() + "/17000.sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  ASSERT_LT(socket_path.size(), sizeof sa.sun_path);
  std::memcpy(sa.sun_path, socket_path.c_str(), socket_path.size());
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0) << socket_path;
  ASSERT_EQ(::write(fd, "stop\n", 5), 5);
  EXPECT_EQ(sleeve_->wait_exit(), 42) << sleeve_->stderr_text();
  ::close(fd);
  EXPECT_THAT(sleeve_->stdout_text(), HasSubstr("[odyn] the host asks the enclave to stop"));
}

TEST_F(Runtime, AnAppIgnoringSigtermIsKilledAfterOdynsGracePeriod) {
  start({"--grace-period", "0.5"}, {"--ignore-sigterm"});
  EXPECT_EQ(curl("/hello").exit_code, 0);
  sleeve_->signal(SIGINT);
  EXPECT_EQ(sleeve_->wait_exit(std::chrono::seconds(20)), 137) << sleeve_->stderr_text();
  EXPECT_THAT(sleeve_->stdout_text(), HasSubstr("[odyn] the app did not stop within the grace period: SIGKILL"));
}

TEST_F(Runtime, OrphanedGrandchildrenAreReaped) {
  start({}, {});
  EXPECT_EQ(curl("/orphan").out, "orphaned\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(curl("/zombies").out, "0\n");
  curl("/exit/0");
  EXPECT_EQ(sleeve_->wait_exit(), 0);
}

TEST_F(Runtime, TheImagesUserAndWorkingDirectoryAreHonoured) {
  write_file(dir_ / "rootfs/etc/enclaver/image.json",
             R"({"entrypoint":["/app"],"cmd":[")" + port_ + R"("],"env":["FROM_IMAGE=1"],"user":"worker","working_dir":"/srv"})");
  start({}, {});
  auto who = curl("/whoami").out;
  EXPECT_THAT(who, HasSubstr("uid 1234\ngid 4321\ncwd /srv\n"));
  curl("/exit/0");
  EXPECT_EQ(sleeve_->wait_exit(), 0);
}

// A CA and a certificate for 127.0.0.1 made with the openssl CLI, installed
// where the build puts them (/etc/enclaver/tls/server/<port>/): odyn
// terminates TLS, the app speaks plain HTTP, curl checks the chain.
TEST_F(Runtime, HttpsIsTerminatedByOdynAndVerifiedByCurl) {
  const fs::path pki = dir_ / "pki", tls = dir_ / "rootfs/etc/enclaver/tls/server" / port_;
  fs::create_directories(pki);
  fs::create_directories(tls);
  auto openssl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");
    auto r = run(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  };
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=test CA",
           "-keyout", (pki / "ca.key").string(), "-out", (pki / "ca.pem").string()});
  openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=enclave", "-keyout",
           (tls / "key.pem").string(), "-out", (pki / "server.csr").string()});
  write_file(pki / "ext.cnf", "subjectAltName=IP:127.0.0.1\n");
  openssl({"x509", "-req", "-in", (pki / "server.csr").string(), "-CA", (pki / "ca.pem").string(), "-CAkey",
           (pki / "ca.key").string(), "-CAcreateserial", "-days", "1", "-extfile", (pki / "ext.cnf").string(), "-out",
           (tls / "cert.pem").string()});
  manifest_ += "    tls:\n      cert_file: cert.pem\n      key_file: key.pem\n";
  start({}, {});
  const std::string url = "https://127.0.0.1:" + port_;
  auto https = [&](const std::string& path, std::vector<std::string> extra) {
    std::vector<std::string> argv = {"/usr/bin/curl", "-sS", "--max-time", "10", "--retry", "20", "--retry-connrefused",
                                     "--retry-delay", "1", "--retry-max-time", "20"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(url + path);
    return run(argv);
  };
  auto verified = https("/hello", {"--cacert", (pki / "ca.pem").string()});
  EXPECT_EQ(verified.out, "hello from the enclave\n") << verified.err;
  std::string big(300000, 'z');
  write_file(pki / "big", big);
  auto echoed = https("/echo", {"--cacert", (pki / "ca.pem").string(), "--data-binary", "@" + (pki / "big").string()});
  EXPECT_TRUE(echoed.out == big) << "echo of 300 kB through TLS came back with " << echoed.out.size() << " bytes: " << echoed.err;
  // Without the CA, curl refuses the server: the certificate is what it checks.
  auto untrusted = https("/hello", {});
  EXPECT_NE(untrusted.exit_code, 0);
  EXPECT_THAT(untrusted.err, HasSubstr("certificate"));
  // Plain HTTP on the TLS port does not reach the app.
  auto plain = curl("/hello", {"--retry", "0"});
  EXPECT_NE(plain.out, "hello from the enclave\n");
  EXPECT_EQ(https("/exit/0", {"--cacert", (pki / "ca.pem").string()}).out, "exiting\n");
  EXPECT_EQ(sleeve_->wait_exit(), 0) << sleeve_->stderr_text();
  auto log = sleeve_->stdout_text();
  EXPECT_THAT(log, HasSubstr("TLS terminated"));
  EXPECT_THAT(log, HasSubstr("TLS handshake failed")) << "the untrusted and the plain clients are reported";
}

TEST_F(Runtime, ACertificateThatDoesNotLoadIsFatal) {
  fs::create_directories(dir_ / "rootfs/etc/enclaver/tls/server" / port_);
  write_file(dir_ / "rootfs/etc/enclaver/tls/server" / port_ / "cert.pem", "not a certificate\n");
  write_file(dir_ / "rootfs/etc/enclaver/tls/server" / port_ / "key.pem", "not a key\n");
  manifest_ += "    tls:\n      cert_file: cert.pem\n      key_file: key.pem\n";
  start({}, {}, /*wait_running=*/false);
  EXPECT_EQ(sleeve_->wait_exit(), 1) << sleeve_->stderr_text();
  EXPECT_THAT(sleeve_->stderr_text(), HasSubstr("cannot load the TLS certificate /etc/enclaver/tls/server/" + port_ + "/cert.pem"));
}

TEST_F(Runtime, ABadManifestIsAFatalStatusAndExitCode1) {
  write_file(dir_ / "rootfs/etc/enclaver/enclaver.yaml", "version: v1\ningres: []\n");
  write_file(dir_ / "enclaver.yaml", manifest_);
  auto built = run({program("enclaver"), "eif", "build", "--blobs", (dir_ / "blobs").string(), "--rootfs", (dir_ / "rootfs").string(),
                    "-o", (dir_ / "app.eif").string(), "--", "/sbin/odyn", "--", "/app", port_});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  SleeveProcess sleeve({program("enclaver-run"), "--simulate", "--eif", (dir_ / "app.eif").string(), "--manifest",
                        (dir_ / "enclaver.yaml").string(), "--sim-root", (dir_ / "sim-root.pem").string(), "--ingress-address",
                        "127.0.0.1"});
  EXPECT_EQ(sleeve.wait_exit(), 1) << sleeve.stderr_text();
  EXPECT_THAT(sleeve.stderr_text(), HasSubstr("odyn could not go on: the manifest is invalid"));
  EXPECT_THAT(sleeve.stderr_text(), HasSubstr("did you mean `ingress`?"));
}

}  // namespace
}  // namespace enclaver::testing
