// An enclave for integration tests: enclave-test-app (TEST_APP) behind odyn,
// in an EIF built by `enclaver eif build`, run by `enclaver-run --simulate`
// with ingress on 127.0.0.1. The manifest's sections after `defaults` and
// `ingress` are the test's, and so are extra programs (installed with their
// libraries), files, and sleeve arguments. Needs root (the simulator).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/enclave/sleeve_process.hpp"
#include "tests/integration/support/files.hpp"
#include "tests/integration/support/net.hpp"
#include "tests/integration/support/process.hpp"
#include "tests/integration/support/rootfs.hpp"

namespace enclaver::testing {

struct TestEnclaveSpec {
  std::string name = "test";
  std::string sections;                   // YAML after `ingress`, e.g. "egress:\n  allow: [...]\n"
  std::vector<std::filesystem::path> programs;  // installed at the same path, with their libraries
  std::vector<std::pair<std::filesystem::path, std::filesystem::path>> files;  // host file -> path in the rootfs
  std::vector<std::string> sleeve_args;
  int memory_mb = 768;
};

struct TestEnclave {
  std::filesystem::path dir;
  std::string app_port = free_port();
  std::unique_ptr<SleeveProcess> sleeve;
  bool ready = false;
  std::string why;

  TestEnclave(std::filesystem::path directory, const TestEnclaveSpec& spec) : dir(std::move(directory)) {
    namespace fs = std::filesystem;
    write_tiny_blobs(dir / "blobs", "console=ttyS0");
    const fs::path root = dir / "rootfs";
    fs::create_directories(root / "sbin");
    fs::create_directories(root / "tmp");
    fs::copy_file(program("odyn"), root / "sbin/odyn");
    fs::copy_file(TEST_APP, root / "app");
    for (const auto& p : spec.programs) install_program(root, p);
    for (const auto& [from, to] : spec.files) {
      fs::create_directories((root / to.relative_path()).parent_path());
      fs::copy_file(from, root / to.relative_path());
    }
    const std::string manifest = "version: v1\nname: " + spec.name + "\ntarget: " + spec.name + ":latest\nsources:\n  app: " + spec.name +
                                 ":latest\ndefaults:\n  memory_mb: " + std::to_string(spec.memory_mb) +
                                 "\ningress:\n  - listen_port: " + app_port + "\n" + spec.sections;
    write_file(root / "etc/enclaver/enclaver.yaml", manifest);
    write_file(dir / "enclaver.yaml", manifest);
    auto built = run({program("enclaver"), "eif", "build", "--blobs", (dir / "blobs").string(), "--rootfs", root.string(), "-o",
                      (dir / "app.eif").string(), "--", "/sbin/odyn", "--", "/app", app_port});
    if (built.exit_code != 0) {
      why += built.err;
      return;
    }
    std::vector<std::string> argv = {program("enclaver-run"), "--simulate", "--eif", (dir / "app.eif").string(), "--manifest",
                                     (dir / "enclaver.yaml").string(), "--sim-root", sim_root().string(), "--ingress-address", "127.0.0.1"};
    argv.insert(argv.end(), spec.sleeve_args.begin(), spec.sleeve_args.end());
    sleeve = std::make_unique<SleeveProcess>(argv, std::vector<std::string>{}, /*capture_stdout=*/true);
    if (!sleeve->wait_for("the app is running", std::chrono::seconds(60))) {
      why += "sleeve: " + sleeve->stderr_text();
      return;
    }
    ready = true;
  }

  std::filesystem::path sim_root() const { return dir / "sim-root.pem"; }

  // POST to the app inside the enclave, through ingress.
  ProcessResult app(const std::string& path, const std::string& body) const {
    return run({"/usr/bin/curl", "-sS", "--max-time", "120", "--data-binary", "@-", "http://127.0.0.1:" + app_port + path}, body);
  }

  // odyn's PID on the host, as the sleeve reports it: its network namespace
  // is the enclave's.
  pid_t odyn_pid() const {
    std::smatch match;
    const std::string text = sleeve ? sleeve->stderr_text() : "";
    if (!std::regex_search(text, match, std::regex(R"(\(PID (\d+) on the host\))"))) return -1;
    return static_cast<pid_t>(std::stol(match[1]));
  }

  // argv run inside the enclave's network namespace (so 127.0.0.1 is the
  // enclave's loopback), as a program of the app would reach odyn's services.
  ProcessResult in_enclave_network(std::vector<std::string> argv, const std::string& input = "") const {
    argv.insert(argv.begin(), {"/usr/bin/nsenter", "--net=/proc/" + std::to_string(odyn_pid()) + "/ns/net", "--"});
    return run(argv, input);
  }
};

}  // namespace enclaver::testing
