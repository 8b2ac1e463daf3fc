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
#include <fstream>
#include <sstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "tests/integration/enclave/sleeve_process.hpp"
#include "tests/integration/support/files.hpp"
#include "tests/integration/support/net.hpp"
#include "tests/integration/support/process.hpp"

namespace enclaver::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;


std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> text_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
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
    if (!base_.empty()) run({"/usr/bin/docker", "rmi", base_});
    fs::remove_all(dir_);
  }

  // Runs `image` with `enclaver run --simulate`, waits for the app, runs
  // `checks`, stops it with Ctrl-C and returns its exit code.
  template <class Checks>
  int run_and_stop(const std::string& image, Checks checks) {
    SleeveProcess enclave({program("enclaver"), "run", image, "--simulate"}, {"HOME=" + dir_.string()}, /*capture_stdout=*/true);
    EXPECT_TRUE(enclave.wait_for("the app is running", std::chrono::seconds(60))) << enclave.stderr_text();
    checks(enclave);
    enclave.signal(SIGINT);
    auto code = enclave.wait_exit(std::chrono::seconds(60));
    EXPECT_TRUE(code) << enclave.stderr_text();
    return code.value_or(-1);
  }

  // "The app is running" means odyn started it, not that it listens yet:
  // until it does, odyn closes ingress connections at once (an empty reply),
  // which is worth retrying (nothing reached the app).
  ProcessResult get(const std::string& path) {
    return run({"/usr/bin/curl", "-sS", "--max-time", "10", "--retry", "10", "--retry-all-errors", "--retry-delay", "1",
                "http://127.0.0.1:" + port_ + path});
  }

  std::string sha256_of(const fs::path& file) {
    auto r = run({"/usr/bin/sha256sum", file.string()});
    return r.out.substr(0, 64);
  }

  ProcessResult build(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {program("enclaver"), "build", "-f", (dir_ / "enclaver.yaml").string(), "--blobs",
                                     (dir_ / "blobs").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run(argv);
  }

  fs::path dir_;
  std::string app_, target_, port_;
  std::string base_;  // an image the test built app_ from
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
  auto answer = run({"/usr/bin/curl", "-sS", "--max-time", "10", "--retry", "10", "--retry-all-errors", "--retry-delay", "1",
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

TEST_F(BuildRun, TheReleaseImageHoldsExactlyTheSleeveTheEifAndTheManifest) {
  auto first = build({"--eif", (dir_ / "first.eif").string()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto second = build({"--eif", (dir_ / "second.eif").string()});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(sha256_of(dir_ / "first.eif"), sha256_of(dir_ / "second.eif")) << "two builds, the same EIF bytes";
  // The release image's one layer, from the engine's own export.
  fs::create_directories(dir_ / "saved");
  ASSERT_EQ(run({"/usr/bin/sh", "-c", "/usr/bin/docker save " + target_ + " | tar -C " + (dir_ / "saved").string() + " -xf -"}).exit_code, 0);
  auto manifest = nlohmann::json::parse(read_file(dir_ / "saved/manifest.json"));
  ASSERT_EQ(manifest[0]["Layers"].size(), 1u);
  auto listing = run({"/usr/bin/tar", "-tf", (dir_ / "saved" / manifest[0]["Layers"][0].get<std::string>()).string()});
  std::vector<std::string> files;
  for (const auto& line : text_lines(listing.out))
    if (!line.ends_with("/")) files.push_back(line);
  EXPECT_THAT(files, ::testing::UnorderedElementsAre("enclave/application.eif", "enclave/enclaver.yaml", "usr/local/bin/enclaver-run"));
  auto config = nlohmann::json::parse(read_file(dir_ / "saved" / manifest[0]["Config"].get<std::string>()));
  EXPECT_EQ(config["config"]["Entrypoint"], nlohmann::json::array({"/usr/local/bin/enclaver-run"}));
  // The PCRs printed are the EIF's, as describe-eif reads them from the image's copy.
  fs::create_directories(dir_ / "layer");
  ASSERT_EQ(run({"/usr/bin/tar", "-C", (dir_ / "layer").string(), "-xf",
                 (dir_ / "saved" / manifest[0]["Layers"][0].get<std::string>()).string()}).exit_code, 0);
  auto described = run({program("enclaver"), "describe-eif", (dir_ / "layer/enclave/application.eif").string()});
  ASSERT_EQ(described.exit_code, 0) << described.err;
  for (int i : {0, 1, 2}) EXPECT_THAT(described.out, HasSubstr(pcr(first.out, i))) << "PCR" << i;
  EXPECT_EQ(sha256_of(dir_ / "layer/enclave/application.eif"), sha256_of(dir_ / "first.eif"));
  EXPECT_EQ(read_file(dir_ / "layer/enclave/enclaver.yaml"), read_file(dir_ / "enclaver.yaml"));
}

TEST_F(BuildRun, AnEngineThatIsNotRunningIsNamed) {
  auto r = run({"/usr/bin/env", "DOCKER_HOST=unix://" + (dir_ / "no-engine.sock").string(), program("enclaver"), "build", "-f",
                (dir_ / "enclaver.yaml").string(), "--blobs", (dir_ / "blobs").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr((dir_ / "no-engine.sock").string()));
}

// Three layers made by hand as `docker save` writes them and loaded with
// `docker load`: a file deleted by a whiteout, a directory made opaque.
TEST_F(BuildRun, WhiteoutsAndOpaqueDirectoriesAcrossLayersAreHonoured) {
  const fs::path layers = dir_ / "layers";
  auto put = [&](const std::string& path, const std::string& text) { write_file(layers / path, text); };
  put("1/data/keep", "kept\n");
  put("1/data/gone", "deleted in layer 2\n");
  put("1/opq/old", "hidden by the opaque directory\n");
  fs::create_directories(layers / "1/bin");
  fs::copy_file(TEST_APP, layers / "1/app");
  put("2/data/.wh.gone", "");
  put("2/opq/.wh..wh..opq", "");
  put("2/opq/new", "above the opaque marker\n");
  put("3/data/added", "layer 3\n");
  nlohmann::json diff_ids = nlohmann::json::array(), layer_paths = nlohmann::json::array();
  fs::create_directories(dir_ / "image");
  for (const char* n : {"1", "2", "3"}) {
    const std::string name = std::string("layer") + n + ".tar";
    ASSERT_EQ(run({"/usr/bin/tar", "-C", (layers / n).string(), "--owner=0", "--group=0", "--sort=name", "-cf",
                   (dir_ / "image" / name).string(), "."}).exit_code, 0);
    diff_ids.push_back("sha256:" + sha256_of(dir_ / "image" / name));
    layer_paths.push_back(name);
  }
  nlohmann::json config = {{"architecture", "amd64"}, {"os", "linux"},
                           {"config", {{"Entrypoint", {"/app"}}, {"Cmd", {port_}}}},
                           {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  write_file(dir_ / "image/config.json", config.dump());
  write_file(dir_ / "image/manifest.json",
             nlohmann::json::array({{{"Config", "config.json"}, {"RepoTags", {app_}}, {"Layers", layer_paths}}}).dump());
  run({"/usr/bin/docker", "rmi", app_});  // the fixture's image: docker load retags app_ and would orphan it
  auto loaded = run({"/usr/bin/sh", "-c", "tar -C " + (dir_ / "image").string() + " -cf - . | /usr/bin/docker load"});
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  auto built = build();
  ASSERT_EQ(built.exit_code, 0) << built.err;
  const int code = run_and_stop(target_, [&](SleeveProcess&) {
    EXPECT_EQ(get("/exists/data/keep").out, "yes\n");
    EXPECT_EQ(get("/exists/data/gone").out, "no\n") << "the whiteout deleted it";
    EXPECT_EQ(get("/exists/data/.wh.gone").out, "no\n") << "whiteouts are markers, not files";
    EXPECT_EQ(get("/exists/opq/old").out, "no\n") << "the opaque directory hid it";
    EXPECT_EQ(get("/exists/opq/new").out, "yes\n");
    EXPECT_EQ(get("/exists/data/added").out, "yes\n");
    EXPECT_EQ(get("/exists/sbin/odyn").out, "yes\n");
    EXPECT_EQ(get("/pcr/0").out, pcr(built.out, 0) + "\n") << "the enclave's NSM reports the PCRs the build printed";
    EXPECT_EQ(get("/pcr/2").out, pcr(built.out, 2) + "\n");
    EXPECT_EQ(get("/exit/7").out, "exiting\n");
  });
  EXPECT_EQ(code, 7) << "the app's exit code reaches `enclaver run`";
}

// An ordinary distribution image: Debian bookworm made with debootstrap
// (scripts/debian-rootfs), a dynamically linked app found on the image's
// PATH, a user by name from its /etc/passwd, a WORKDIR, and files a later
// layer deleted.
TEST_F(BuildRun, ADebianImageWithADynamicAppAUserAndAWorkdirRunsAsDockerWouldRunIt) {
  const std::string base = "enclaver-test/debian-base:" + app_.substr(app_.find(':') + 1);
  ASSERT_EQ(run({ENCLAVER_SOURCE_DIR "/scripts/debian-rootfs", (dir_ / "debian.tar").string()}).exit_code, 0);
  auto imported = run({"/usr/bin/docker", "import", (dir_ / "debian.tar").string(), base});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  fs::create_directories(dir_ / "context");
  fs::copy_file(TEST_APP_DYNAMIC, dir_ / "context/app");
  write_file(dir_ / "context/Dockerfile",
             "FROM " + base + "\n"
             "COPY app /usr/local/bin/app\n"
             "RUN useradd --uid 1234 --home-dir /srv --create-home worker && mkdir /srv/work && chown worker /srv/work"
             " && rm -rf /usr/share/doc\n"
             "USER worker\n"
             "WORKDIR /srv/work\n"
             "ENTRYPOINT [\"app\"]\n"
             "CMD [\"--exit-on-sigterm\", \"0\", \"" + port_ + "\"]\n");
  run({"/usr/bin/docker", "rmi", app_});  // the fixture's image: the build retags app_ and would orphan it
  auto built_app = run({"/usr/bin/env", "DOCKER_BUILDKIT=0", "/usr/bin/docker", "build", "-q", "--network", "host", "-t", app_,
                        (dir_ / "context").string()});
  base_ = base;  // removed after app_, its child
  ASSERT_EQ(built_app.exit_code, 0) << built_app.err;
  auto built = build();
  ASSERT_EQ(built.exit_code, 0) << built.err;
  const int code = run_and_stop(target_, [&](SleeveProcess& enclave) {
    auto who = get("/whoami");
    EXPECT_THAT(who.out, HasSubstr("uid 1234\n")) << who.err << enclave.stderr_text();
    EXPECT_THAT(who.out, HasSubstr("cwd /srv/work\n"));
    EXPECT_EQ(get("/exists/bin/sh").out, "yes\n");
    EXPECT_EQ(get("/exists/usr/share/doc").out, "no\n") << "deleted by a later layer";
    EXPECT_EQ(get("/exists/usr/share/doc/dpkg").out, "no\n");
  });
  EXPECT_EQ(code, 0) << "the app exits 0 on SIGTERM";
}

// sources.odyn: a local file, or an image holding odyn, whose odyn then
// runs the enclave.
TEST_F(BuildRun, SourcesOdynTakesALocalFileOrAnImage) {
  const std::string manifest = read_file(dir_ / "enclaver.yaml");
  const std::string app_line = "  app: " + app_ + "\n";
  auto with_odyn = [&](const std::string& odyn) {
    std::string text = manifest;
    text.replace(text.find(app_line), app_line.size(), app_line + "  odyn: " + odyn + "\n");
    write_file(dir_ / "enclaver.yaml", text);
  };
  fs::copy_file(program("odyn"), dir_ / "odyn-copy");
  with_odyn("./odyn-copy");
  auto local = build();
  ASSERT_EQ(local.exit_code, 0) << local.err;
  run({"/usr/bin/docker", "rmi", target_});  // the next build retags target_ and would orphan it
  const std::string odyn_image = "enclaver-test/odyn:" + app_.substr(app_.find(':') + 1);
  fs::create_directories(dir_ / "odyn-root/usr/local/bin");
  fs::copy_file(program("odyn"), dir_ / "odyn-root/usr/local/bin/odyn");
  ASSERT_EQ(run({"/usr/bin/tar", "-C", (dir_ / "odyn-root").string(), "-cf", (dir_ / "odyn.tar").string(), "."}).exit_code, 0);
  ASSERT_EQ(run({"/usr/bin/docker", "import", (dir_ / "odyn.tar").string(), odyn_image}).exit_code, 0);
  with_odyn(odyn_image);
  auto from_image = build();
  run({"/usr/bin/docker", "rmi", odyn_image});
  ASSERT_EQ(from_image.exit_code, 0) << from_image.err;
  const int code = run_and_stop(target_, [&](SleeveProcess&) {
    EXPECT_EQ(get("/").out, "Hello from an enclave! (request 1)\n");
  });
  EXPECT_EQ(code, 0);
  with_odyn("./absent");
  auto absent = build();
  EXPECT_EQ(absent.exit_code, 1);
  EXPECT_THAT(absent.err, HasSubstr("absent is not a file"));
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
