// The demo's app: a tiny HTTP server, an ordinary program that knows
// nothing of enclaves. It answers every GET with a greeting, logs a line per
// request on stdout, and exits 0 on SIGTERM, as a well-behaved container
// does. Built static so that its image can be FROM scratch.
//
//   GET /                 a greeting
//   GET /fetch/URL        fetches http://URL through $http_proxy, as any app
//                         that honours the proxy variables does (in an
//                         enclave odyn sets them: egress), and says what came back
//   GET /attestation/HEX  asks odyn's internal API ($ENCLAVER_API) for an
//                         attestation document binding the nonce HEX, and
//                         answers it as is (CBOR)
//   GET /sign/TEXT        asks the internal API to sign TEXT with the
//                         enclave's Ethereum key (EIP-191), answers its JSON
//
//   hello [PORT]      (default 8080, all interfaces)
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <stdexcept>
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

struct Endpoint {
  std::string host;
  std::string port;
};

// "http://127.0.0.1:10000" (what odyn sets in http_proxy and ENCLAVER_API)
// -> 127.0.0.1, 10000.
std::optional<Endpoint> endpoint_from(const char* value) {
  if (!value) return std::nullopt;
  std::string v = value;
  if (v.rfind("http://", 0) == 0) v = v.substr(7);
  if (!v.empty() && v.back() == '/') v.pop_back();
  const auto colon = v.rfind(':');
  if (colon == std::string::npos) return Endpoint{v, "80"};
  return Endpoint{v.substr(0, colon), v.substr(colon + 1)};
}

// One request to `to`, one response.
asio::awaitable<http::response<http::string_body>> exchange(const Endpoint& to, http::request<http::string_body> request) {
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  tcp::socket socket(executor);
  auto endpoints = co_await resolver.async_resolve(to.host, to.port, asio::use_awaitable);
  co_await asio::async_connect(socket, endpoints, asio::use_awaitable);
  request.set(http::field::connection, "close");
  request.prepare_payload();
  co_await http::async_write(socket, request, asio::use_awaitable);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  co_await http::async_read(socket, buffer, response, asio::use_awaitable);
  co_return response;
}

// GET `url` through the proxy; the status line and the start of the body.
asio::awaitable<std::string> fetch(const std::optional<Endpoint>& proxy, const std::string& url) {
  if (!proxy) co_return "no http_proxy: this app has no way out\n";
  http::request<http::string_body> request(http::verb::get, url, 11);
  request.set(http::field::host, "via-proxy");
  auto response = co_await exchange(*proxy, std::move(request));
  std::string body = response.body().substr(0, 200);
  co_return std::to_string(response.result_int()) + " " + std::string(response.reason()) + ": " + body +
      (body.empty() || body.back() != '\n' ? "\n" : "");
}

// A POST of JSON to odyn's internal API.
asio::awaitable<http::response<http::string_body>> call_api(const std::optional<Endpoint>& api, const char* path, std::string json) {
  if (!api) throw std::runtime_error("no ENCLAVER_API: the manifest has no api section");
  http::request<http::string_body> request(http::verb::post, path, 11);
  request.set(http::field::host, "odyn");
  request.set(http::field::content_type, "application/json");
  request.body() = std::move(json);
  co_return co_await exchange(*api, std::move(request));
}

// Hex digits to base64, for the attestation nonce.
std::string hex_to_base64(const std::string& hex) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    unsigned group = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) group |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) group |= static_cast<unsigned char>(bytes[i + 2]);
    for (std::size_t k = 0; k < 4; ++k) out += i + k <= bytes.size() ? alphabet[(group >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

// TEXT as a JSON string (the demo's messages are plain words).
std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out + "\"";
}

struct Context {
  unsigned long served = 0;
  std::optional<Endpoint> proxy;
  std::optional<Endpoint> api;
};

// The app's answer to one request.
asio::awaitable<void> answer(const Context& context, const std::string& target, http::response<http::string_body>& response) {
  if (target.rfind("/fetch/", 0) == 0) {
    response.body() = co_await fetch(context.proxy, "http://" + target.substr(7));
    std::cout << "hello: fetched " << target.substr(7) << ": " << response.body() << std::flush;
  } else if (target.rfind("/attestation/", 0) == 0) {
    auto api = co_await call_api(context.api, "/v1/attestation", "{\"nonce\":\"" + hex_to_base64(target.substr(13)) + "\"}");
    response.result(api.result());
    response.set(http::field::content_type, api[http::field::content_type]);
    response.body() = std::move(api.body());
    std::cout << "hello: got an attestation document of " << response.body().size() << " bytes from odyn" << std::endl;
  } else if (target.rfind("/sign/", 0) == 0) {
    auto api = co_await call_api(context.api, "/v1/eth/sign", "{\"message\":" + json_string(target.substr(6)) + "}");
    response.result(api.result());
    response.set(http::field::content_type, api[http::field::content_type]);
    response.body() = std::move(api.body());
    std::cout << "hello: odyn signed \"" << target.substr(6) << "\"" << std::endl;
  } else {
    response.body() = "Hello from an enclave! (request " + std::to_string(context.served) + ")\n";
  }
}

asio::awaitable<void> serve(tcp::socket socket, Context& context) {
  boost::beast::flat_buffer buffer;
  try {
    for (;;) {
      http::request<http::string_body> request;
      co_await http::async_read(socket, buffer, request, asio::use_awaitable);
      const unsigned long n = ++context.served;
      std::cout << "hello: request " << n << ": " << request.method_string() << " " << request.target() << std::endl;
      http::response<http::string_body> response(http::status::ok, request.version());
      response.set(http::field::content_type, "text/plain");
      response.keep_alive(request.keep_alive());
      try {
        co_await answer(context, std::string(request.target()), response);
      } catch (const std::exception& e) {
        response.result(http::status::bad_gateway);
        response.body() = std::string("failed: ") + e.what() + "\n";
      }
      response.prepare_payload();
      co_await http::async_write(socket, response, asio::use_awaitable);
      if (!response.keep_alive()) break;
    }
  } catch (const std::exception&) {
    // The client went away: nothing to do.
  }
}

asio::awaitable<void> listen(tcp::acceptor& acceptor, Context& context) {
  for (;;) {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), context), asio::detached);
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
  Context context;
  context.proxy = endpoint_from(std::getenv("http_proxy"));
  context.api = endpoint_from(std::getenv("ENCLAVER_API"));
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int signal) {
    std::cout << "hello: " << (signal == SIGTERM ? "SIGTERM" : "SIGINT") << " after " << context.served << " requests, goodbye" << std::endl;
    io.stop();
  });
  asio::co_spawn(io, listen(acceptor, context), asio::detached);
  std::cout << "hello: listening on port " << port << std::endl;
  io.run();
  return 0;
}
