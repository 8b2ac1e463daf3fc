// The demo's app: a tiny HTTP server, an ordinary program that knows
// nothing of enclaves. It answers every GET with a greeting, logs a line per
// request on stdout, and exits 0 on SIGTERM, as a well-behaved container
// does. Built static so that its image can be FROM scratch.
//
//   GET /                 a greeting
//   GET /fetch/URL        fetches http://URL through $http_proxy, as any app
//                         that honours the proxy variables does (in an
//                         enclave odyn sets them: egress), and says what came back
//
//   hello [PORT]      (default 8080, all interfaces)
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {

struct Proxy {
  std::string host;
  std::string port;
};

// "http://127.0.0.1:10000" (what odyn sets) -> 127.0.0.1, 10000.
std::optional<Proxy> proxy_from(const char* value) {
  if (!value) return std::nullopt;
  std::string v = value;
  if (v.rfind("http://", 0) == 0) v = v.substr(7);
  if (!v.empty() && v.back() == '/') v.pop_back();
  const auto colon = v.rfind(':');
  if (colon == std::string::npos) return Proxy{v, "80"};
  return Proxy{v.substr(0, colon), v.substr(colon + 1)};
}

// GET `url` through the proxy; the status line and the start of the body.
asio::awaitable<std::string> fetch(const std::optional<Proxy>& proxy, const std::string& url) {
  if (!proxy) co_return "no http_proxy: this app has no way out\n";
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  tcp::socket socket(executor);
  auto endpoints = co_await resolver.async_resolve(proxy->host, proxy->port, asio::use_awaitable);
  co_await asio::async_connect(socket, endpoints, asio::use_awaitable);
  http::request<http::empty_body> request(http::verb::get, url, 11);
  request.set(http::field::host, "via-proxy");
  request.set(http::field::connection, "close");
  co_await http::async_write(socket, request, asio::use_awaitable);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  co_await http::async_read(socket, buffer, response, asio::use_awaitable);
  std::string body = response.body().substr(0, 200);
  co_return std::to_string(response.result_int()) + " " + std::string(response.reason()) + ": " + body +
      (body.empty() || body.back() != '\n' ? "\n" : "");
}

asio::awaitable<void> serve(tcp::socket socket, unsigned long& served, const std::optional<Proxy>& proxy) {
  boost::beast::flat_buffer buffer;
  try {
    for (;;) {
      http::request<http::string_body> request;
      co_await http::async_read(socket, buffer, request, asio::use_awaitable);
      const unsigned long n = ++served;
      std::cout << "hello: request " << n << ": " << request.method_string() << " " << request.target() << std::endl;
      http::response<http::string_body> response(http::status::ok, request.version());
      response.set(http::field::content_type, "text/plain");
      response.keep_alive(request.keep_alive());
      const std::string target(request.target());
      if (target.rfind("/fetch/", 0) == 0) {
        try {
          response.body() = co_await fetch(proxy, "http://" + target.substr(7));
        } catch (const std::exception& e) {
          response.body() = std::string("fetch failed: ") + e.what() + "\n";
        }
        std::cout << "hello: fetched " << target.substr(7) << ": " << response.body() << std::flush;
      } else {
        response.body() = "Hello from an enclave! (request " + std::to_string(n) + ")\n";
      }
      response.prepare_payload();
      co_await http::async_write(socket, response, asio::use_awaitable);
      if (!response.keep_alive()) break;
    }
  } catch (const std::exception&) {
    // The client went away: nothing to do.
  }
}

asio::awaitable<void> listen(tcp::acceptor& acceptor, unsigned long& served, const std::optional<Proxy>& proxy) {
  for (;;) {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), served, proxy), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int port = argc > 1 ? std::atoi(argv[1]) : 8080;
  if (port <= 0 || port > 65535) {
    std::cerr << "usage: hello [PORT]\n";
    return 2;
  }
  asio::io_context io;
  tcp::acceptor acceptor(io, {tcp::v4(), static_cast<unsigned short>(port)});
  unsigned long served = 0;
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int signal) {
    std::cout << "hello: " << (signal == SIGTERM ? "SIGTERM" : "SIGINT") << " after " << served << " requests, goodbye" << std::endl;
    io.stop();
  });
  const auto proxy = proxy_from(std::getenv("http_proxy"));
  asio::co_spawn(io, listen(acceptor, served, proxy), asio::detached);
  std::cout << "hello: listening on port " << port << std::endl;
  io.run();
  return 0;
}
