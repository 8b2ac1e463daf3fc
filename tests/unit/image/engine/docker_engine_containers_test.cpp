// DockerEngine's container calls against the fake engine: creation,
// attach (upgraded or not, TTY or multiplexed), wait, kill, and
// cancellation closing the connection.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include "fake_engine.hpp"

namespace enclaver::image::engine {
namespace {

using namespace testing;
using namespace boost::asio::experimental::awaitable_operators;
using ::testing::HasSubstr;

std::string frame(std::uint8_t stream, const std::string& payload) {
  std::string out{static_cast<char>(stream), 0, 0, 0};
  const auto n = static_cast<std::uint32_t>(payload.size());
  for (int shift : {24, 16, 8, 0}) out += static_cast<char>((n >> shift) & 0xFF);
  return out + payload;
}

Reply inspect_reply(bool tty) {
  return json_reply(200, std::string(R"({"Id":"c1","Config":{"Tty":)") + (tty ? "true" : "false") + "}}");
}

// The output collected per stream.
struct Output {
  std::string out, err;
  OutputHandler handler() {
    return [this](OutputStream s, std::span<const std::uint8_t> b) {
      (s == OutputStream::stderr_ ? err : out).append(b.begin(), b.end());
    };
  }
};

TEST(DockerEngineContainers, CreateSendsTheSpec) {
  FakeEngine fake;
  fake.route("POST /v1.45/containers/create",
             [](const Recorded&) { return json_reply(201, R"({"Id":"c1","Warnings":["Published ports are discarded"]})"); });
  ContainerSpec spec;
  spec.image = "release:1";
  spec.name = "enclaver-run-1";
  spec.devices = {"/dev/nitro_enclaves"};
  auto created = run(fake.address(), [&](DockerEngine& e) -> asio::awaitable<CreatedContainer> {
    co_return co_await e.create_container(spec);
  });
  EXPECT_EQ(created.id, "c1");
  EXPECT_EQ(created.warnings.size(), 1u);
  auto r = fake.requests().back();
  EXPECT_EQ(r.target, "/v1.45/containers/create?name=enclaver-run-1");
  EXPECT_EQ(r.headers["Content-Type"], "application/json");
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["HostConfig"]["Devices"][0]["PathOnHost"], "/dev/nitro_enclaves");
}

TEST(DockerEngineContainers, AttachUpgradedDemultiplexesStdoutAndStderr) {
  FakeEngine fake;
  fake.route("GET /v1.45/containers/c1/json", [](const Recorded&) { return inspect_reply(false); });
  // Frames straight after the 101 header: some arrive with it.
  fake.route("POST /v1.45/containers/c1/attach", [](const Recorded&) {
    return Reply{"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\n"
                 "Upgrade: tcp\r\n\r\n" +
                 frame(1, "hello\n") + frame(2, "oops\n") + frame(1, std::string(200000, 'o'))};
  });
  Output output;
  run(fake.address(), [&](DockerEngine& e) -> asio::awaitable<void> {
    auto attached = co_await e.attach_container("c1");
    co_await attached.stream(output.handler());
  });
  EXPECT_EQ(output.out, "hello\n" + std::string(200000, 'o'));
  EXPECT_EQ(output.err, "oops\n");
  auto r = fake.requests().back();
  EXPECT_EQ(r.target, "/v1.45/containers/c1/attach?stream=1&stdout=1&stderr=1");
  EXPECT_EQ(r.headers["Upgrade"], "tcp");
}

TEST(DockerEngineContainers, AttachWithoutUpgradeAndWithATty) {
  FakeEngine fake;
  fake.route("GET /v1.45/containers/c1/json", [](const Recorded&) { return inspect_reply(true); });
  // An engine that answers 200 and streams the raw TTY output until it closes.
  fake.route("POST /v1.45/containers/c1/attach", [](const Recorded&) {
    return Reply{"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n\x01raw tty\r\n"};
  });
  Output output;
  run(fake.address(), [&](DockerEngine& e) -> asio::awaitable<void> {
    auto attached = co_await e.attach_container("c1");
    co_await attached.stream(output.handler());
  });
  EXPECT_EQ(output.out, "\x01raw tty\r\n");
  EXPECT_EQ(output.err, "");
}

TEST(DockerEngineContainers, AMalformedStreamAndASystemErrorFrameAreErrors) {
  FakeEngine fake;
  fake.route("GET /v1.45/containers/c1/json", [](const Recorded&) { return inspect_reply(false); });
  fake.route("POST /v1.45/containers/c1/attach",
             [](const Recorded&) { return Reply{"HTTP/1.1 101 UPGRADED\r\n\r\n" + frame(1, "ok") + "garbage!"}; });
  Output output;
  try {
    run(fake.address(), [&](DockerEngine& e) -> asio::awaitable<void> {
      auto attached = co_await e.attach_container("c1");
      co_await attached.stream(output.handler());
    });
    FAIL();
  } catch (const EngineError& e) {
    EXPECT_EQ(e.kind(), EngineErrorKind::protocol);
    EXPECT_THAT(e.what(), HasSubstr("not a multiplexed stream frame header"));
  }
  EXPECT_EQ(output.out, "ok");

  fake.route("POST /v1.45/containers/c1/attach", [](const Recorded&) {
    return Reply{"HTTP/1.1 101 UPGRADED\r\n\r\n" + frame(1, "a") + frame(3, "error from daemon in stream: boom")};
  });
  try {
    run(fake.address(), [&](DockerEngine& e) -> asio::awaitable<void> {
      auto attached = co_await e.attach_container("c1");
      co_await attached.stream(output.handler());
    });
    FAIL();
  } catch (const EngineError& e) {
    EXPECT_EQ(e.kind(), EngineErrorKind::stream);
    EXPECT_EQ(e.engine_message(), "error from daemon in stream: boom");
  }
}

TEST(DockerEngineContainers, AttachToAMissingContainerIsNotFound) {
  FakeEngine fake;
  fake.route("GET /v1.45/containers/nope/json", [](const Recorded&) { return json_reply(404, R"({"message":"No such container: nope"})"); });
  try {
    run(fake.address(), [&](DockerEngine& e) -> asio::awaitable<void> { co_await e.attach_container("nope"); });
    FAIL();
  } catch (const EngineError& e) {
    EXPECT_TRUE(e.not_found());
    EXPECT_EQ(e.engine_message(), "No such container: nope");
  }
}

TEST(DockerEngineContainers, WaitStartKill) {
  FakeEngine fake;
  fake.route("POST /v1.45/containers/c1/start", [](const Recorded&) { return json_reply(304, ""); });
  // The engine sends the header at once and the body at the exit.
  fake.route("POST /v1.45/containers/c1/wait", [](const Recorded&) { return chunked_reply({R"({"StatusCode":3,"Error":null})"}); });
  fake.route("POST /v1.45/containers/c1/kill",
             [](const Recorded&) { return json_reply(409, R"({"message":"container c1 is not running"})"); });
  fake.route("DELETE /v1.45/containers/c1", [](const Recorded&) { return json_reply(204, ""); });
  auto code = run(fake.address(), [&](DockerEngine& e) -> asio::awaitable<int> {
    co_await e.start_container("c1");  // 304: already started, no error
    auto exit = co_await e.begin_wait("c1", WaitCondition::next_exit);
    const int code = co_await exit.exit_code();
    try {
      co_await e.kill_container("c1", "SIGTERM");
      ADD_FAILURE() << "kill of a stopped container succeeded";
    } catch (const EngineError& err) {
      EXPECT_TRUE(err.conflict());
      EXPECT_EQ(err.engine_message(), "container c1 is not running");
    }
    co_await e.remove_container("c1", true);
    co_return code;
  });
  EXPECT_EQ(code, 3);
  auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 5u);
  EXPECT_EQ(reqs[2].target, "/v1.45/containers/c1/wait?condition=next-exit");
  EXPECT_EQ(reqs[3].target, "/v1.45/containers/c1/kill?signal=SIGTERM");
  EXPECT_EQ(reqs[4].target, "/v1.45/containers/c1?v=1&force=1");
}

TEST(DockerEngineContainers, AWaitErrorIsTheEngines) {
  FakeEngine fake;
  fake.route("POST /v1.45/containers/c1/wait",
             [](const Recorded&) { return chunked_reply({R"({"StatusCode":-1,"Error":{"Message":"container was removed"}})"}); });
  try {
    run(fake.address(), [](DockerEngine& e) -> asio::awaitable<int> { co_return co_await e.wait_container("c1"); });
    FAIL();
  } catch (const EngineError& e) {
    EXPECT_EQ(e.kind(), EngineErrorKind::stream);
    EXPECT_EQ(e.engine_message(), "container was removed");
  }
}

TEST(DockerEngineContainers, CancellingAWaitOrAStreamClosesTheConnection) {
  FakeEngine fake;
  // Headers, then nothing: a container that never exits, output that never comes.
  fake.route("POST /v1.45/containers/c1/wait",
             [](const Recorded&) { return Reply{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true}; });
  fake.route("GET /v1.45/containers/c1/json", [](const Recorded&) { return inspect_reply(false); });
  fake.route("POST /v1.45/containers/c1/attach",
             [](const Recorded&) { return Reply{"HTTP/1.1 101 UPGRADED\r\n\r\n" + frame(1, "started\n"), true}; });
  Output output;
  auto cancelled = run(fake.address(), [&](DockerEngine& e) -> asio::awaitable<int> {
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
    auto attached = co_await e.attach_container("c1");
    auto first = co_await ((e.wait_container("c1") && attached.stream(output.handler())) || timer.async_wait(asio::use_awaitable));
    co_return static_cast<int>(first.index());
  });
  EXPECT_EQ(cancelled, 1) << "the timer ended it";
  EXPECT_EQ(output.out, "started\n");
  EXPECT_TRUE(fake.wait_client_closed(2)) << "both connections were closed by the client";
}

}  // namespace
}  // namespace enclaver::image::engine
