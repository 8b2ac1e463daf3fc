// Internal to the server: what it shares with its connections, and one
// connection's life (server.hpp says what clients see).
#pragma once

#include <cstddef>
#include <memory>
#include <set>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "http/server.hpp"

namespace enclaver::http {
namespace detail {
class Connection;
}

struct Server::State {
  State(boost::asio::any_io_executor executor, boost::asio::ip::tcp::acceptor acceptor,
        std::shared_ptr<const Router> router, ServerOptions options)
      : executor(std::move(executor)),
        acceptor(std::move(acceptor)),
        router(std::move(router)),
        options(std::move(options)) {}

  boost::asio::any_io_executor executor;
  boost::asio::ip::tcp::acceptor acceptor;
  std::shared_ptr<const Router> router;
  ServerOptions options;
  std::set<detail::Connection*> connections;  // every open one, 503 refusals included (stop() closes them)
  std::size_t serving = 0;                    // those counted against max_connections
  bool saturated = false;                     // refusing with 503 (logged once per episode)
  bool stopped = false;

  void log(const std::string& line) const {
    if (options.log) options.log((options.name.empty() ? std::string("http") : options.name) + ": " + line);
  }
};

namespace detail {

// Serves one accepted connection until it ends; never throws. `busy`: the
// server is at max_connections, so the connection is only answered 503;
// it is not counted in State::serving (the others are, while they last).
boost::asio::awaitable<void> serve_connection(std::shared_ptr<Server::State> state, boost::asio::ip::tcp::socket socket,
                                              bool busy);

// Closes a connection's socket: its pending operations end, and so does it.
void close_connection(Connection& connection) noexcept;

}  // namespace detail
}  // namespace enclaver::http
