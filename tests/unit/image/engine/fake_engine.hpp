// A fake Docker engine for DockerEngine's unit tests: a Beast HTTP server
// on a Unix socket in a temporary directory, on its own thread. Each route
// answers with raw bytes (any status, framing or upgrade the test wants)
// and records what the client sent, so the tests check OUR client: targets
// and version prefixes, headers, chunked uploads, connection handling. The
// real engine is the integration tests' business.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "common/temp_dir.hpp"
#include "image/engine/docker_engine.hpp"

namespace enclaver::image::engine::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using local = asio::local::stream_protocol;

struct Recorded {
  std::string method;
  std::string target;
  std::string body;
  std::map<std::string, std::string> headers;
  bool complete = true;  // the whole body arrived (false: cut short)
};

struct Reply {
  std::string bytes;    // written as is: status line, headers, body
  bool hang = false;    // then keep the connection open until the client closes it
};

// "HTTP/1.1 <status>" with a JSON (or other) body and Content-Length.
inline Reply json_reply(int status, const std::string& body, const std::string& type = "application/json") {
  return {"HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + type + "\r\nContent-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body};
}

// A chunked 200 answer whose chunks are `pieces`.
inline Reply chunked_reply(const std::vector<std::string>& pieces, const std::string& type = "application/json") {
  std::string out = "HTTP/1.1 200 OK\r\nContent-Type: " + type + "\r\nTransfer-Encoding: chunked\r\n\r\n";
  char size[32];
  for (const auto& p : pieces) {
    if (p.empty()) continue;
    std::snprintf(size, sizeof size, "%zx\r\n", p.size());
    out += size + p + "\r\n";
  }
  out += "0\r\n\r\n";
  return {out};
}

class FakeEngine {
 public:
  using Handler = std::function<Reply(const Recorded&)>;

  FakeEngine() : acceptor_(io_) {
    const std::string path = (dir_ / "docker.sock").string();
    acceptor_.open(local());
    acceptor_.bind(local::endpoint(path));
    acceptor_.listen();
    address_ = EngineAddress{path};
    route("GET /version", [](const Recorded&) {
      return json_reply(200, R"({"Version":"26.1.0","ApiVersion":"1.45","MinAPIVersion":"1.24","Os":"linux","Arch":"amd64"})");
    });
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~FakeEngine() {
    asio::post(io_, [this] { io_.stop(); });
    thread_.join();
  }

  const EngineAddress& address() const { return address_; }

  // "METHOD /target-without-query" -> handler. before_body: answer once the
  // header has arrived, without reading the body (an engine refusing an upload).
  void route(const std::string& key, Handler handler, bool before_body = false) {
    std::lock_guard lock(mu_);
    routes_[key] = {std::move(handler), before_body};
  }

  std::vector<Recorded> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  // Waits (bounded) until `n` hung connections were closed by the client.
  bool wait_client_closed(int n, std::chrono::seconds limit = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return client_closed_ >= n; });
  }

 private:
  struct Route {
    Handler handler;
    bool before_body = false;
  };

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(local::socket socket) {
    boost::beast::flat_buffer buffer;
    http::request_parser<http::string_body> parser;
    parser.body_limit(1ull << 32);
    auto [ec, n] = co_await http::async_read_header(socket, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    Recorded r;
    const auto& h = parser.get();
    r.method = std::string(h.method_string());
    r.target = std::string(h.target());
    for (const auto& f : h) r.headers[std::string(f.name_string())] = std::string(f.value());
    const std::string key = r.method + " " + r.target.substr(0, r.target.find('?'));
    Route route;
    {
      std::lock_guard lock(mu_);
      auto it = routes_.find(key);
      if (it != routes_.end()) route = it->second;
    }
    if (!route.before_body) {
      auto [ec2, n2] = co_await http::async_read(socket, buffer, parser, asio::as_tuple(asio::use_awaitable));
      r.complete = !ec2;
      r.body = parser.get().body();
    }
    {
      std::lock_guard lock(mu_);
      requests_.push_back(r);
    }
    Reply reply = route.handler ? route.handler(r) : json_reply(404, R"({"message":"fake engine: no route )" + key + "\"}");
    co_await asio::async_write(socket, asio::buffer(reply.bytes), asio::as_tuple(asio::use_awaitable));
    if (reply.hang) {
      char sink[4096];
      for (;;) {
        auto [rec, got] = co_await socket.async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable));
        if (rec) break;
      }
      std::lock_guard lock(mu_);
      ++client_closed_;
      cv_.notify_all();
    }
    boost::system::error_code ignored;
    socket.shutdown(local::socket::shutdown_both, ignored);
  }

  TempDir dir_;
  asio::io_context io_;
  local::acceptor acceptor_;
  EngineAddress address_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Route> routes_;
  std::vector<Recorded> requests_;
  int client_closed_ = 0;
};

// Runs `f(engine)` (a coroutine) to completion with a DockerEngine for
// `address` on a fresh io_context; returns its result or rethrows.
template <class F>
auto run(const EngineAddress& address, F&& f) {
  asio::io_context io;
  DockerEngine engine(io.get_executor(), address);
  auto future = asio::co_spawn(io, f(engine), asio::use_future);
  io.run();
  return future.get();
}

}  // namespace enclaver::image::engine::testing
