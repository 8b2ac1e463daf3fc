// The HTTP/1.1 server every odyn service runs (internal API, aux API, and
// later the KMS proxy, S3 and JSON-RPC): one coroutine per connection on
// the caller's executor, no threads.
//
// Per connection, request after request (keep-alive; pipelined requests
// are read one at a time, so responses go out in order):
//  - The head is read within limits.max_head bytes (over: 431, then close).
//    The first request's head must be complete within head_timeout of the
//    accept; later ones within head_timeout of their first byte, which must
//    come within idle_timeout of the previous response. A timeout closes
//    the connection without a response (a client that stalls mid-head
//    would not read one either).
//  - Malformed requests are 400 {"error": "<why>"} and close: a bad request
//    line or header (Beast's parser), Content-Length together with
//    Transfer-Encoding, a Transfer-Encoding not ending in chunked, bad
//    chunking, an HTTP version other than 1.0 and 1.1, a target
//    normalise_target() refuses.
//  - The body limit is the route's (Router::body_limit; kDefaultMaxBody for
//    an unknown path, which then gets its 404): a Content-Length over it is
//    413 {"error":"the body is over N bytes"} before the body is read; a
//    chunked body is 413 as soon as it passes it. Then close.
//    "Expect: 100-continue" gets its 100 once the body is accepted.
//  - The whole body must arrive within body_timeout: else close.
//  - Every response carries Content-Length and Content-Type (a handler's
//    response without a type gets application/octet-stream), except a 204
//    or 304, which carries neither (RFC 9110 forbids Content-Length there).
//    A response to HEAD keeps its Content-Length and drops its body. The
//    response's version is the request's; HTTP/1.0 without keep-alive and
//    Connection: close end the connection after the response.
//  - A response must be taken by the client within idle_timeout: else close.
//  - Whenever the server closes after a response it shuts down its sending
//    side and reads and discards what the client still sends, for up to
//    2 s, before closing: so the client can always read the response (no
//    reset destroys it while the client is still sending a refused body).
//  - Over limits.max_connections open connections, a new one is accepted,
//    answered 503 {"error":"too many connections"} and closed (the same
//    gentle close, up to 1 s): the client learns why instead of waiting in
//    the backlog.
//  - cors (the aux API): every response gets
//    "Access-Control-Allow-Origin: *"; OPTIONS on a known path is the
//    preflight answer 204 with Access-Control-Allow-Methods (the path's
//    methods and OPTIONS), Access-Control-Allow-Headers: content-type,
//    Access-Control-Max-Age: 86400; OPTIONS on an unknown path is 404.
//    Without cors, OPTIONS is a method like any other (405 on known paths).
//  - Every 5xx response is logged through options.log as
//    "<name>: <METHOD> <path> -> <status> <body>".
//
// Threading: the server, its connections and the router's handlers run on
// `executor`, which must not run handlers concurrently (one thread, or a
// strand). stop() may be called from any thread: it posts to the executor.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/result.hpp"
#include "http/router.hpp"

namespace enclaver::http {

struct ServerLimits {
  std::size_t max_head = 16 * 1024;               // request line and header fields
  std::chrono::milliseconds head_timeout{30000};  // see the top of this file
  std::chrono::milliseconds body_timeout{60000};
  std::chrono::milliseconds idle_timeout{60000};  // keep-alive wait, and a response's write
  std::size_t max_connections = 1024;
};

struct ServerOptions {
  ServerLimits limits;
  bool cors = false;
  std::string name;                              // prefixes log lines ("api", "aux api")
  std::function<void(const std::string&)> log;  // may be empty
};

class Server {
 public:
  // Serves connections from `acceptor` (listening already) until stop(), or
  // until the executor stops. The returned handle is only needed for
  // local_endpoint() and stop(): dropping it does not stop the server.
  static std::shared_ptr<Server> start(boost::asio::any_io_executor executor, boost::asio::ip::tcp::acceptor acceptor,
                                       std::shared_ptr<const Router> router, ServerOptions options);

  boost::asio::ip::tcp::endpoint local_endpoint() const { return endpoint_; }

  // Closes the acceptor and every open connection (a handler running keeps
  // running; its response is not sent). Idempotent.
  void stop();

  struct State;  // shared with the accept loop and the connections

 private:
  Server(std::shared_ptr<State> state, boost::asio::ip::tcp::endpoint endpoint)
      : state_(std::move(state)), endpoint_(endpoint) {}
  std::shared_ptr<State> state_;
  boost::asio::ip::tcp::endpoint endpoint_;
};

// A TCP acceptor listening on 127.0.0.1:port (0: a port the kernel picks),
// with SO_REUSEADDR. The Error names the port and the reason.
Result<boost::asio::ip::tcp::acceptor> listen_loopback(boost::asio::any_io_executor executor, std::uint16_t port);

}  // namespace enclaver::http
