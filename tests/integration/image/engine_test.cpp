// DockerEngine against the real engine (DOCKER_HOST, the "docker" CTest
// fixture). No registry is reachable: images are built here, FROM scratch,
// around engine-test-app (static). Every name is unique to this process,
// and every image and container is removed on every exit path.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <optional>
#include <variant>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "common/temp_dir.hpp"
#include "image/engine/docker_engine.hpp"

namespace enclaver::image::engine {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Contains;

EngineAddress address() {
  const char* host = std::getenv("DOCKER_HOST");
  auto parsed = parse_docker_host(host ? host : "");
  if (!parsed) throw std::runtime_error(parsed.error().message);
  return *parsed;
}

// Runs f(engine) to completion, bounded: the engine must not hang us.
// (awaitable_operators' || waits for the first *success*, so f's exception
// is carried out as a value, or the timer would outwait it.)
template <class F>
auto run(F&& f, std::chrono::seconds limit = 120s) {
  using Awaitable = decltype(f(std::declval<DockerEngine&>()));
  using T = typename Awaitable::value_type;
  using Value = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
  asio::io_context io;
  DockerEngine engine(io.get_executor(), address());
  // A struct, not a variant: the operators flatten nested variants.
  struct Outcome {
    std::optional<Value> value;
    std::exception_ptr error;
  };
  auto guarded = [&]() -> asio::awaitable<Outcome> {
    try {
      if constexpr (std::is_void_v<T>) {
        co_await f(engine);
        co_return Outcome{Value{}, nullptr};
      } else {
        // (Not inside the braces: g++ 12 miscompiles co_await there.)
        auto value = co_await f(engine);
        co_return Outcome{std::move(value), nullptr};
      }
    } catch (...) {
      co_return Outcome{std::nullopt, std::current_exception()};
    }
  };
  auto bounded = [&]() -> asio::awaitable<Value> {
    asio::steady_timer timer(io, limit);
    auto result = co_await (guarded() || timer.async_wait(asio::use_awaitable));
    if (result.index() == 1) throw std::runtime_error("timed out");
    Outcome outcome = std::get<0>(std::move(result));
    if (outcome.error) std::rethrow_exception(outcome.error);
    co_return std::move(*outcome.value);
  };
  auto future = asio::co_spawn(io, bounded(), asio::use_future);
  io.run();
  if constexpr (std::is_void_v<T>) future.get();
  else return future.get();
}

std::string unique(const std::string& what) {
  static int counter = 0;
  return "enclaver-test/engine-" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

// ---- a tar archive, for build contexts ---------------------------------------

void tar_entry(std::string& tar, const std::string& name, const std::string& content, unsigned mode) {
  char h[512] = {};
  std::snprintf(h, 100, "%s", name.c_str());
  std::snprintf(h + 100, 8, "%07o", mode);
  std::snprintf(h + 108, 8, "%07o", 0);
  std::snprintf(h + 116, 8, "%07o", 0);
  std::snprintf(h + 124, 12, "%011o", static_cast<unsigned>(content.size()));
  std::snprintf(h + 136, 12, "%011o", 0);
  std::memset(h + 148, ' ', 8);
  h[156] = '0';
  std::memcpy(h + 257, "ustar", 6);
  std::memcpy(h + 263, "00", 2);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(h + 148, 8, "%06o", sum);
  tar.append(h, sizeof h);
  tar += content;
  tar.append((512 - content.size() % 512) % 512, '\0');
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The names in a tar archive.
std::vector<std::string> tar_names(const std::string& tar) {
  std::vector<std::string> names;
  for (std::size_t at = 0; at + 512 <= tar.size();) {
    const char* h = tar.data() + at;
    if (h[0] == '\0') break;
    names.emplace_back(h, strnlen(h, 100));
    const std::size_t size = std::strtoull(std::string(h + 124, 12).c_str(), nullptr, 8);
    at += 512 + (size + 511) / 512 * 512;
  }
  return names;
}

Producer context_of(const std::string& dockerfile) {
  std::string tar;
  tar_entry(tar, "Dockerfile", dockerfile, 0644);
  tar_entry(tar, "app", read_file(ENGINE_TEST_APP), 0755);
  tar.append(1024, '\0');
  return [tar](ByteSink& sink) { sink.write({reinterpret_cast<const std::uint8_t*>(tar.data()), tar.size()}); };
}

const char* kDockerfile = "FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\nCMD [\"exit\", \"0\"]\n";

// Removes what a test made, whatever happened in it.
struct Cleanup {
  std::vector<std::string> images, containers;
  ~Cleanup() {
    for (const auto& c : containers) ignore_missing([&](DockerEngine& e) { return e.remove_container(c, true); });
    for (const auto& i : images) ignore_missing([&](DockerEngine& e) { return e.remove_image(i, true); });
  }
  template <class F>
  static void ignore_missing(F f) {
    try {
      run(f, 60s);
    } catch (const EngineError& e) {
      if (!e.not_found()) ADD_FAILURE() << "cleanup: " << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cleanup: " << e.what();
    }
  }
};

// ---- the engine, no image needed ---------------------------------------------

TEST(EngineBasics, VersionNegotiation) {
  auto [engine, api] = run([](DockerEngine& e) -> asio::awaitable<std::pair<EngineVersion, ApiVersion>> {
    auto v = co_await e.version();
    auto api = co_await e.api_version();
    co_return std::make_pair(v, api);
  });
  EXPECT_FALSE(engine.version.empty());
  EXPECT_EQ(engine.os, "linux");
  EXPECT_GE(engine.api, kMinApiVersion);
  EXPECT_EQ(api, std::min(engine.api, kMaxApiVersion));
}

TEST(EngineBasics, AMissingImageIsNotFoundAndOtherErrorsAreNot) {
  const std::string missing = unique("missing") + ":1";
  try {
    run([&](DockerEngine& e) -> asio::awaitable<void> { co_await e.inspect_image(missing); });
    FAIL() << "inspected a missing image";
  } catch (const EngineError& e) {
    EXPECT_TRUE(e.not_found()) << e.what();
    EXPECT_THAT(e.engine_message(), HasSubstr("No such image"));
    EXPECT_THAT(e.what(), HasSubstr("inspecting image " + missing));
  }
  EXPECT_FALSE(run([&](DockerEngine& e) -> asio::awaitable<bool> { co_return (co_await e.find_image(missing)).has_value(); }));
  try {
    run([&](DockerEngine& e) -> asio::awaitable<void> {
      ContainerSpec spec;
      spec.image = "Not A Valid/Reference:1";
      co_await e.create_container(spec);
    });
    FAIL() << "created a container from an invalid reference";
  } catch (const EngineError& e) {
    EXPECT_FALSE(e.not_found()) << e.what();
    EXPECT_EQ(e.status(), 400u) << e.what();
    EXPECT_THAT(e.engine_message(), HasSubstr("invalid reference format"));
  }
  try {
    run([&](DockerEngine& e) -> asio::awaitable<void> { co_await e.kill_container(unique("nobody"), "SIGTERM"); });
    FAIL();
  } catch (const EngineError& e) {
    EXPECT_TRUE(e.not_found()) << e.what();
    EXPECT_THAT(e.engine_message(), HasSubstr("No such container"));
  }
}

TEST(EngineBasics, APullFromAnUnreachableRegistryFailsWithTheEnginesMessage) {
  // Port 9 on loopback: refused at once, whatever the network.
  const std::string reference = "127.0.0.1:9/" + unique("nothing") + ":1";
  std::vector<ProgressEvent> events;
  try {
    run([&](DockerEngine& e) -> asio::awaitable<void> {
      co_await e.pull_image(reference, [&](const ProgressEvent& ev) { events.push_back(ev); });
    }, 90s);
    FAIL() << "pulled from nowhere";
  } catch (const EngineError& e) {
    EXPECT_FALSE(e.engine_message().empty());
    EXPECT_THAT(e.engine_message(), HasSubstr("127.0.0.1:9")) << e.what();
    std::printf("pull failed as expected: %s\n", e.what());
  }
}

// ---- images ------------------------------------------------------------------

TEST(EngineImages, BuildInspectTagExportRemoveLoad) {
  Cleanup cleanup;
  const std::string name = unique("app") + ":1";
  const std::string other = unique("copy") + ":2";
  cleanup.images = {name, other};
  TempDir dir;

  std::vector<std::string> build_output;
  const std::string id = run([&](DockerEngine& e) -> asio::awaitable<std::string> {
    BuildOptions options;
    options.tags = {name};
    co_return co_await e.build_image(options, context_of(kDockerfile), [&](const ProgressEvent& ev) {
      if (ev.kind == ProgressEvent::Kind::stream) build_output.push_back(ev.stream);
    });
  });
  EXPECT_THAT(id, HasSubstr("sha256:"));
  EXPECT_FALSE(build_output.empty()) << "the build's steps came as progress";

  auto info = run([&](DockerEngine& e) -> asio::awaitable<ImageInfo> { co_return co_await e.inspect_image(name); });
  EXPECT_EQ(info.id, id);
  EXPECT_THAT(info.repo_tags, Contains(name));
  EXPECT_EQ(info.config["Entrypoint"], nlohmann::json::array({"/app"}));

  const auto archive = dir / "image.tar";
  run([&](DockerEngine& e) -> asio::awaitable<void> {
    co_await e.tag_image(name, other);
    EXPECT_EQ((co_await e.inspect_image(other)).id, id);
    co_await e.export_image(other, archive);
    co_await e.remove_image(other);
    EXPECT_FALSE((co_await e.find_image(other)).has_value()) << "untagged";
  });
  const std::string tar = read_file(archive);
  EXPECT_THAT(tar_names(tar), Contains("manifest.json"));

  // Back from the file, then from a producer.
  auto loaded = run([&](DockerEngine& e) -> asio::awaitable<std::vector<std::string>> { co_return co_await e.load_image(archive); });
  EXPECT_THAT(loaded, Contains(other));
  run([&](DockerEngine& e) -> asio::awaitable<void> {
    EXPECT_EQ((co_await e.inspect_image(other)).id, id);
    co_await e.remove_image(other);
  });
  loaded = run([&](DockerEngine& e) -> asio::awaitable<std::vector<std::string>> {
    co_return co_await e.load_image([&](ByteSink& sink) {
      for (std::size_t at = 0; at < tar.size(); at += 4096)
        sink.write({reinterpret_cast<const std::uint8_t*>(tar.data()) + at, std::min<std::size_t>(4096, tar.size() - at)});
    });
  });
  EXPECT_THAT(loaded, Contains(other));
  EXPECT_EQ(run([&](DockerEngine& e) -> asio::awaitable<std::string> { co_return (co_await e.inspect_image(other)).id; }), id);
}

TEST(EngineImages, ABuildFailureCarriesTheEnginesMessage) {
  Cleanup cleanup;
  const std::string name = unique("broken") + ":1";
  cleanup.images = {name};
  try {
    run([&](DockerEngine& e) -> asio::awaitable<std::string> {
      BuildOptions options;
      options.tags = {name};
      co_return co_await e.build_image(options, context_of("FROM scratch\nCOPY missing-file /x\n"));
    });
    FAIL() << "built with a missing file";
  } catch (const EngineError& e) {
    EXPECT_EQ(e.kind(), EngineErrorKind::stream) << e.what();
    EXPECT_THAT(e.engine_message(), HasSubstr("missing-file"));
  }
}

TEST(EngineImages, LoadingGarbageIsRefusedWithTheEnginesMessage) {
  try {
    run([&](DockerEngine& e) -> asio::awaitable<std::vector<std::string>> {
      co_return co_await e.load_image([](ByteSink& sink) {
        std::string junk(4096, 'j');
        sink.write({reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size()});
      });
    });
    FAIL() << "loaded junk";
  } catch (const EngineError& e) {
    EXPECT_FALSE(e.engine_message().empty()) << e.what();
    std::printf("load failed as expected: %s\n", e.what());
  }
}

// ---- containers --------------------------------------------------------------

class EngineContainers : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    image_ = new std::string(unique("run") + ":1");
    BuildOptions options;
    options.tags = {*image_};
    run([&](DockerEngine& e) -> asio::awaitable<std::string> { co_return co_await e.build_image(options, context_of(kDockerfile)); });
  }
  static void TearDownTestSuite() {
    Cleanup cleanup;
    cleanup.images = {*image_};
    delete image_;
    image_ = nullptr;
  }
  ContainerSpec spec(std::vector<std::string> cmd) {
    ContainerSpec s;
    s.image = *image_;
    s.name = unique("c").substr(std::string("enclaver-test/").size());
    s.cmd = std::move(cmd);
    s.labels = {{"enclaver-test", "engine"}};
    return s;
  }
  static std::string* image_;
};
std::string* EngineContainers::image_ = nullptr;

struct Output {
  std::string out, err;
  OutputHandler handler() {
    return [this](OutputStream s, std::span<const std::uint8_t> b) { (s == OutputStream::stderr_ ? err : out).append(b.begin(), b.end()); };
  }
};

TEST_F(EngineContainers, OutputOnBothStreamsAndTheExitCode) {
  Cleanup cleanup;
  Output output;
  ContainerSpec s = spec({"exit", "3"});
  const int code = run([&](DockerEngine& e) -> asio::awaitable<int> {
    auto created = co_await e.create_container(s);
    cleanup.containers.push_back(created.id);
    auto attached = co_await e.attach_container(created.id);
    auto exit = co_await e.begin_wait(created.id, WaitCondition::next_exit);
    co_await e.start_container(created.id);
    const int code = co_await (attached.stream(output.handler()) && exit.exit_code());
    co_await e.remove_container(created.id);
    co_return code;
  });
  EXPECT_EQ(code, 3);
  EXPECT_EQ(output.out, "to stdout\n");
  EXPECT_EQ(output.err, "to stderr\n");
}

TEST_F(EngineContainers, SigtermStopsALongRunningContainer) {
  Cleanup cleanup;
  Output output;
  ContainerSpec s = spec({"wait"});
  const int code = run([&](DockerEngine& e) -> asio::awaitable<int> {
    auto created = co_await e.create_container(s);
    cleanup.containers.push_back(created.id);
    auto attached = co_await e.attach_container(created.id);
    auto exit = co_await e.begin_wait(created.id, WaitCondition::next_exit);
    co_await e.start_container(created.id);
    auto control = [&]() -> asio::awaitable<int> {
      asio::steady_timer timer(co_await asio::this_coro::executor);
      while (output.out.find("waiting\n") == std::string::npos) {
        timer.expires_after(20ms);
        co_await timer.async_wait(asio::use_awaitable);
      }
      co_await e.kill_container(created.id, "SIGTERM");
      co_return co_await exit.exit_code();
    };
    const int code = co_await (attached.stream(output.handler()) && control());
    co_return code;
  }, 60s);
  EXPECT_EQ(code, 42);
  EXPECT_EQ(output.out, "waiting\ngot SIGTERM\n");
}

// The simulator's container: privileged, host network. Only created: a
// privileged container cannot start where the engine itself runs
// unprivileged (as in the project's own test container).
TEST_F(EngineContainers, APrivilegedContainerIsCreatedAsAsked) {
  Cleanup cleanup;
  ContainerSpec s = spec({"exit", "0"});
  s.privileged = true;
  s.env = {"ENCLAVER_TEST=1"};
  auto state = run([&](DockerEngine& e) -> asio::awaitable<nlohmann::json> {
    auto created = co_await e.create_container(s);
    cleanup.containers.push_back(created.id);
    auto state = co_await e.inspect_container(created.id);
    co_await e.remove_container(created.id);
    co_return state;
  });
  EXPECT_EQ(state["HostConfig"]["Privileged"], true);
  EXPECT_EQ(state["HostConfig"]["NetworkMode"], "host");
  EXPECT_THAT(state["Config"]["Env"].dump(), HasSubstr("ENCLAVER_TEST=1"));
  EXPECT_EQ(state["Config"]["Cmd"], nlohmann::json::array({"exit", "0"}));
}

TEST_F(EngineContainers, AnAutoRemovedContainerIsGoneAfterItsExit) {
  Output output;
  ContainerSpec s = spec({"exit", "0"});
  s.auto_remove = true;
  Cleanup cleanup;
  cleanup.containers.push_back(s.name);
  bool gone = false;
  const int code = run([&](DockerEngine& e) -> asio::awaitable<int> {
    auto created = co_await e.create_container(s);
    auto attached = co_await e.attach_container(created.id);
    auto exit = co_await e.begin_wait(created.id, WaitCondition::removed);
    co_await e.start_container(created.id);
    const int code = co_await (attached.stream(output.handler()) && exit.exit_code());
    try {
      co_await e.inspect_container(created.id);
    } catch (const EngineError& err) {
      gone = err.not_found();
    }
    co_return code;
  });
  EXPECT_EQ(code, 0);
  EXPECT_EQ(output.out, "to stdout\n");
  EXPECT_TRUE(gone) << "AutoRemove removed it";
}

}  // namespace
}  // namespace enclaver::image::engine
