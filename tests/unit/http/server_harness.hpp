// The server under test on its own io_context thread, listening on
// 127.0.0.1, with a router of test routes; and blocking clients: raw
// sockets that write exact bytes, and Beast's synchronous client.
//
// Routes:
//   GET  /v1/hello        200 {"hello":"world"}
//   POST /v1/echo         the body parsed with parse_json_object: 200
//                         {"got": <object>} or 400 {"error": ...}
//   POST /v1/size         200 {"size": <body bytes>} (default 1 MiB limit)
//   POST /v1/big          the same with an 8 MiB limit
//   GET  /v1/slow         200 {"slow":true} after 200 ms (on a timer)
//   GET  /v1/throw        throws std::runtime_error("boom")
//   GET, POST /v1/both    200 {"method": "<method>"}
//   HEAD /v1/head         200 {"head":"x"} (the body is dropped on the wire)
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/fd.hpp"
#include "http/json.hpp"
#include "http/server.hpp"
#include "tests/support/raw_client.hpp"

namespace enclaver::http::testing {

namespace asio = boost::asio;
using asio::ip::tcp;
using verb = beast_http::verb;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline std::shared_ptr<Router> test_router() {
  auto router = std::make_shared<Router>();
  router->add(verb::get, "/v1/hello", [](RouteContext) -> asio::awaitable<Response> {
    co_return json_response(beast_http::status::ok, {{"hello", "world"}});
  });
  router->add(verb::post, "/v1/echo", [](RouteContext context) -> asio::awaitable<Response> {
    auto body = parse_json_object(context.request.body());
    if (!body) co_return error_response(beast_http::status::bad_request, body.error().message);
    co_return json_response(beast_http::status::ok, {{"got", *body}});
  });
  auto size = [](RouteContext context) -> asio::awaitable<Response> {
    co_return json_response(beast_http::status::ok, {{"size", context.request.body().size()}});
  };
  router->add(verb::post, "/v1/size", size);
  router->add(verb::post, "/v1/big", size, 8 << 20);
  router->add(verb::get, "/v1/slow", [](RouteContext context) -> asio::awaitable<Response> {
    asio::steady_timer timer(context.executor, 200ms);
    co_await timer.async_wait(asio::use_awaitable);
    co_return json_response(beast_http::status::ok, {{"slow", true}});
  });
  router->add(verb::get, "/v1/throw", [](RouteContext) -> asio::awaitable<Response> {
    throw std::runtime_error("boom");
    co_return Response{};
  });
  auto method = [](RouteContext context) -> asio::awaitable<Response> {
    co_return json_response(beast_http::status::ok, {{"method", std::string(context.request.method_string())}});
  };
  router->add(verb::get, "/v1/both", method);
  router->add(verb::post, "/v1/both", method);
  router->add(verb::head, "/v1/head", [](RouteContext) -> asio::awaitable<Response> {
    co_return json_response(beast_http::status::ok, {{"head", "x"}});
  });
  return router;
}

class ServerUnderTest {
 public:
  explicit ServerUnderTest(std::function<void(ServerOptions&)> adjust = {}) {
    ServerOptions options;
    options.name = "test";
    options.log = [this](const std::string& line) {
      std::lock_guard lock(mutex_);
      log_.push_back(line);
    };
    if (adjust) adjust(options);
    auto acceptor = listen_loopback(io_.get_executor(), 0);
    if (!acceptor) throw std::runtime_error(acceptor.error().message);
    server_ = Server::start(io_.get_executor(), std::move(*acceptor), test_router(), std::move(options));
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ServerUnderTest() {
    server_->stop();
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return server_->local_endpoint().port(); }
  void stop() { server_->stop(); }
  std::vector<std::string> log() const {
    std::lock_guard lock(mutex_);
    return log_;
  }

 private:
  asio::io_context io_;
  std::shared_ptr<Server> server_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<std::string> log_;
};

// ---- raw clients -------------------------------------------------------------

using enclaver::testing::connect_to;
using enclaver::testing::raw_exchange;
using enclaver::testing::read_to_end;
using enclaver::testing::Received;
using enclaver::testing::send_text;

// One response read off a raw connection (its Content-Length body), leaving
// what follows in `pending`. Throws when the connection ends first.
struct RawResponse {
  std::string head;
  std::string body;
};
inline RawResponse read_response(int fd, std::string& pending) {
  auto fill = [&] {
    char buffer[16 * 1024];
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) throw std::runtime_error("the connection ended before a whole response");
    pending.append(buffer, static_cast<std::size_t>(n));
  };
  std::size_t end;
  while ((end = pending.find("\r\n\r\n")) == std::string::npos) fill();
  RawResponse out;
  out.head = pending.substr(0, end + 4);
  pending.erase(0, end + 4);
  std::size_t length = 0;
  auto at = out.head.find("Content-Length: ");
  if (at != std::string::npos) length = std::stoul(out.head.substr(at + 16));
  while (pending.size() < length) fill();
  out.body = pending.substr(0, length);
  pending.erase(0, length);
  return out;
}

inline std::string body_of(const std::string& answer) {
  auto at = answer.find("\r\n\r\n");
  return at == std::string::npos ? "" : answer.substr(at + 4);
}

// The answer's body as JSON (null when it is not JSON).
inline nlohmann::json json_of(const std::string& answer) {
  return nlohmann::json::parse(body_of(answer), nullptr, false);
}

// Waits until the server closes `fd` (recv returns 0 or an error other than
// the 10 s timeout) and returns how long that took from `since`; the bytes
// received meanwhile go to `bytes`.
inline std::chrono::milliseconds time_to_close(int fd, Clock::time_point since, std::string* bytes = nullptr) {
  char buffer[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      if (bytes) bytes->append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return std::chrono::milliseconds::max();
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since);
  }
}

// ---- Beast's client ------------------------------------------------------------

class BeastClient {
 public:
  explicit BeastClient(std::uint16_t port) : socket_(io_) {
    socket_.connect({asio::ip::address_v4::loopback(), port});
  }
  Response request(verb method, const std::string& target, std::string body = "",
                   std::function<void(Request&)> adjust = {}) {
    Request request{method, target, 11};
    request.set(beast_http::field::host, "127.0.0.1");
    if (!body.empty()) request.set(beast_http::field::content_type, "application/json");
    request.body() = std::move(body);
    request.prepare_payload();
    if (adjust) adjust(request);
    beast_http::write(socket_, request);
    beast_http::response_parser<beast_http::string_body> parser;
    if (method == verb::head) parser.skip(true);
    beast_http::read(socket_, buffer_, parser);
    return parser.release();
  }
  tcp::socket& socket() { return socket_; }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace enclaver::http::testing
