// The demo's app: a tiny HTTP server, an ordinary program that knows
// nothing of enclaves. It answers every GET with a greeting, logs a line per
// request on stdout, and exits 0 on SIGTERM, as a well-behaved container
// does. Built static so that its image can be FROM scratch.
//
//   hello [PORT]      (default 8080, all interfaces)
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {

asio::awaitable<void> serve(tcp::socket socket, unsigned long& served) {
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
      response.body() = "Hello from an enclave! (request " + std::to_string(n) + ")\n";
      response.prepare_payload();
      co_await http::async_write(socket, response, asio::use_awaitable);
      if (!response.keep_alive()) break;
    }
  } catch (const std::exception&) {
    // The client went away: nothing to do.
  }
}

asio::awaitable<void> listen(tcp::acceptor& acceptor, unsigned long& served) {
  for (;;) {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), served), asio::detached);
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
  asio::co_spawn(io, listen(acceptor, served), asio::detached);
  std::cout << "hello: listening on port " << port << std::endl;
  io.run();
  return 0;
}
