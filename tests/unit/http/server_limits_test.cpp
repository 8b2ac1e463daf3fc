// The server's limits over real sockets: body and head sizes, the three
// timeouts (slowloris, stalled body, idle keep-alive), stop(), and many
// connections at once.
#include <gmock/gmock.h>

#include "tests/unit/http/server_harness.hpp"

namespace enclaver::http::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::size_t kTwoMiB = 2 * 1024 * 1024;

std::string chunked(std::size_t total, std::size_t chunk) {
  std::string out;
  char size_line[32];
  for (std::size_t done = 0; done < total; done += chunk) {
    std::size_t n = std::min(chunk, total - done);
    std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
    out += size_line;
    out += std::string(n, 'a');
    out += "\r\n";
  }
  return out + "0\r\n\r\n";
}

// The client writes the whole request before it reads (as a naive client
// does): the 413 must still be readable in full, then a clean close.
void expect_413(std::uint16_t port, const std::string& request, bool half_close) {
  Fd fd = connect_to(port);
  send_text(fd.get(), request);  // may stop early once the server has closed: fine
  if (half_close) ::shutdown(fd.get(), SHUT_WR);
  auto answer = read_to_end(fd.get());
  EXPECT_EQ(answer.end_errno, 0) << "reset: " << std::strerror(answer.end_errno);
  EXPECT_THAT(answer.bytes, StartsWith("HTTP/1.1 413 Payload Too Large\r\n"));
  EXPECT_THAT(answer.bytes, HasSubstr("Content-Type: application/json\r\n"));
  EXPECT_THAT(answer.bytes, HasSubstr("Connection: close\r\n"));
  EXPECT_EQ(body_of(answer.bytes), R"({"error":"the body is over 1048576 bytes"})");
}

TEST(HttpServerLimits, BodyOverTheLimitIs413WithContentLength) {
  ServerUnderTest server;
  std::string request = "POST /v1/size HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(kTwoMiB) + "\r\n\r\n";
  expect_413(server.port(), request + std::string(kTwoMiB, 'a'), true);
  expect_413(server.port(), request + std::string(kTwoMiB, 'a'), false);  // the drain's own time bound closes
  expect_413(server.port(), request, true);                                // refused before the body is sent
}

TEST(HttpServerLimits, ChunkedBodyOverTheLimitIs413) {
  ServerUnderTest server;
  std::string request = "POST /v1/size HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  expect_413(server.port(), request + chunked(kTwoMiB, 64 * 1024), true);
  expect_413(server.port(), request + chunked(kTwoMiB, 1000), false);
}

TEST(HttpServerLimits, AnUnknownPathIsReadWithTheDefaultLimit) {
  ServerUnderTest server;
  std::string request = "POST /v1/nothing HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(kTwoMiB) + "\r\n\r\n";
  auto answer = raw_exchange(server.port(), request);
  EXPECT_THAT(answer.bytes, StartsWith("HTTP/1.1 413 Payload Too Large\r\n"));
  auto small = raw_exchange(server.port(), "POST /v1/nothing HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc");
  EXPECT_THAT(small.bytes, StartsWith("HTTP/1.1 404 Not Found\r\n"));
}

TEST(HttpServerLimits, ARouteCanAllowMore) {
  ServerUnderTest server;
  std::string body(kTwoMiB, 'b');
  BeastClient client(server.port());
  auto response = client.request(verb::post, "/v1/big", body);
  EXPECT_EQ(response.result(), beast_http::status::ok);
  EXPECT_EQ(response.body(), R"({"size":2097152})");
  auto over = raw_exchange(server.port(), "POST /v1/big HTTP/1.1\r\nHost: x\r\nContent-Length: 8388609\r\n\r\n");
  EXPECT_EQ(json_of(over.bytes)["error"], "the body is over 8388608 bytes");
}

TEST(HttpServerLimits, ExactlyTheLimitIsAccepted) {
  ServerUnderTest server;
  BeastClient client(server.port());
  auto response = client.request(verb::post, "/v1/size", std::string(1 << 20, 'c'));
  EXPECT_EQ(response.body(), R"({"size":1048576})");
}

TEST(HttpServerLimits, HeadOver16KiBIs431) {
  ServerUnderTest server;
  std::string request = "GET /v1/hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(17 * 1024, 'h') + "\r\n\r\n";
  auto answer = raw_exchange(server.port(), request);
  EXPECT_EQ(answer.end_errno, 0);
  EXPECT_THAT(answer.bytes, StartsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
  EXPECT_EQ(json_of(answer.bytes)["error"], "the request head is over 16384 bytes");
  // A head that never ends (no empty line) is refused at the same size.
  auto endless = raw_exchange(server.port(), "GET /v1/hello HTTP/1.1\r\nX-Big: " + std::string(20 * 1024, 'h'));
  EXPECT_THAT(endless.bytes, StartsWith("HTTP/1.1 431 "));
  // Just under the limit is fine.
  std::string fits = "GET /v1/hello HTTP/1.1\r\nConnection: close\r\nX-Big: " + std::string(15 * 1024, 'h') + "\r\n\r\n";
  EXPECT_THAT(raw_exchange(server.port(), fits).bytes, StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST(HttpServerLimits, SlowlorisIsClosedAtTheHeadTimeout) {
  ServerUnderTest server([](ServerOptions& o) { o.limits.head_timeout = 300ms; });
  Fd fd = connect_to(server.port());
  const auto start = Clock::now();
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    std::string head = "GET /v1/hello HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(100, 's') + "\r\n\r\n";
    for (char c : head) {
      if (done || !send_text(fd.get(), std::string_view(&c, 1))) return;
      std::this_thread::sleep_for(100ms);
    }
  });
  auto took = time_to_close(fd.get(), start);
  done = true;
  trickle.join();
  EXPECT_GE(took, 250ms);
  EXPECT_LE(took, 1000ms);
}

TEST(HttpServerLimits, SilentConnectionIsClosedAtTheHeadTimeout) {
  ServerUnderTest server([](ServerOptions& o) { o.limits.head_timeout = 300ms; });
  Fd fd = connect_to(server.port());
  std::string bytes;
  auto took = time_to_close(fd.get(), Clock::now(), &bytes);
  EXPECT_GE(took, 250ms);
  EXPECT_LE(took, 1000ms);
  EXPECT_EQ(bytes, "");  // closed without an answer
}

TEST(HttpServerLimits, StalledBodyIsClosedAtTheBodyTimeout) {
  ServerUnderTest server([](ServerOptions& o) { o.limits.body_timeout = 300ms; });
  Fd fd = connect_to(server.port());
  ASSERT_TRUE(send_text(fd.get(), "POST /v1/size HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"));
  const auto start = Clock::now();
  std::string bytes;
  auto took = time_to_close(fd.get(), start, &bytes);
  EXPECT_GE(took, 250ms);
  EXPECT_LE(took, 1000ms);
  EXPECT_EQ(bytes, "");
}

TEST(HttpServerLimits, IdleKeepAliveIsClosedAtTheIdleTimeout) {
  ServerUnderTest server([](ServerOptions& o) {
    o.limits.idle_timeout = 300ms;
    o.limits.head_timeout = 5s;
  });
  Fd fd = connect_to(server.port());
  std::string pending;
  ASSERT_TRUE(send_text(fd.get(), "GET /v1/hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  read_response(fd.get(), pending);
  auto took = time_to_close(fd.get(), Clock::now());
  EXPECT_GE(took, 250ms);
  EXPECT_LE(took, 1000ms);
}

TEST(HttpServerLimits, TheHeadTimeoutOfALaterRequestStartsWithItsFirstByte) {
  ServerUnderTest server([](ServerOptions& o) {
    o.limits.idle_timeout = 2s;
    o.limits.head_timeout = 500ms;
  });
  Fd fd = connect_to(server.port());
  std::string pending;
  ASSERT_TRUE(send_text(fd.get(), "GET /v1/hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  read_response(fd.get(), pending);
  std::this_thread::sleep_for(700ms);  // idle, longer than a head timeout
  ASSERT_TRUE(send_text(fd.get(), "GET /v1/hello HTTP/1.1\r\n"));
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(send_text(fd.get(), "Host: x\r\n\r\n"));
  auto response = read_response(fd.get(), pending);
  EXPECT_THAT(response.head, StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST(HttpServerLimits, StopClosesIdleConnectionsAndTheListener) {
  ServerUnderTest server;
  Fd fd = connect_to(server.port());
  std::string pending;
  ASSERT_TRUE(send_text(fd.get(), "GET /v1/hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  read_response(fd.get(), pending);
  Fd silent = connect_to(server.port());  // never sends anything
  std::this_thread::sleep_for(50ms);      // accepted by now
  const auto port = server.port();
  const auto start = Clock::now();
  server.stop();
  EXPECT_LE(time_to_close(fd.get(), start), 1000ms);
  EXPECT_LE(time_to_close(silent.get(), start), 1000ms);
  EXPECT_THROW(connect_to(port), std::runtime_error);
}

TEST(HttpServerLimits, ManyConcurrentConnectionsAreServed) {
  ServerUnderTest server;
  constexpr int kConnections = 200;
  std::vector<Fd> clients;
  for (int i = 0; i < kConnections; ++i) clients.push_back(connect_to(server.port()));
  // All open at once, each with a request in flight, before any answer is read.
  for (auto& fd : clients) ASSERT_TRUE(send_text(fd.get(), "GET /v1/slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto start = Clock::now();
  int ok = 0;
  for (auto& fd : clients) {
    std::string pending;
    auto response = read_response(fd.get(), pending);
    if (response.body == R"({"slow":true})") ++ok;
  }
  EXPECT_EQ(ok, kConnections);
  EXPECT_LT(Clock::now() - start, 5s);  // concurrently: 200 x 200 ms in series would be 40 s
}

TEST(HttpServerLimits, OverMaxConnectionsIs503AndClose) {
  ServerUnderTest server([](ServerOptions& o) { o.limits.max_connections = 2; });
  std::vector<Fd> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(connect_to(server.port()));
    std::string pending;
    ASSERT_TRUE(send_text(held.back().get(), "GET /v1/hello HTTP/1.1\r\nHost: x\r\n\r\n"));
    read_response(held.back().get(), pending);
  }
  auto refused = raw_exchange(server.port(), "GET /v1/hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(refused.end_errno, 0);
  EXPECT_THAT(refused.bytes, StartsWith("HTTP/1.1 503 Service Unavailable\r\n"));
  EXPECT_THAT(refused.bytes, HasSubstr("Connection: close\r\n"));
  EXPECT_EQ(body_of(refused.bytes), R"({"error":"too many connections"})");
  auto log = server.log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0], "test: over 2 open connections: new ones are answered 503");
  // A slot freed is a connection served again.
  held.pop_back();
  std::this_thread::sleep_for(100ms);
  auto served = raw_exchange(server.port(), "GET /v1/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(served.bytes, StartsWith("HTTP/1.1 200 OK\r\n"));
}

}  // namespace
}  // namespace enclaver::http::testing
