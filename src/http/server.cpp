#include "http/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>

#include "http/connection.hpp"
#include "transport/accept.hpp"

namespace enclaver::http {
namespace asio = boost::asio;
using asio::ip::tcp;

std::shared_ptr<Server> Server::start(asio::any_io_executor executor, tcp::acceptor acceptor,
                                      std::shared_ptr<const Router> router, ServerOptions options) {
  auto state = std::make_shared<State>(executor, std::move(acceptor), std::move(router), std::move(options));
  boost::system::error_code ec;
  tcp::endpoint endpoint = state->acceptor.local_endpoint(ec);
  auto on_accepted = [state](tcp::socket socket) {
    if (state->stopped) return;  // dropped: closes it
    const bool busy = state->serving >= state->options.limits.max_connections;
    if (busy && !state->saturated) {
      state->saturated = true;
      state->log("over " + std::to_string(state->options.limits.max_connections) +
                 " open connections: new ones are answered 503");
    }
    asio::co_spawn(state->executor, detail::serve_connection(state, std::move(socket), busy), asio::detached);
  };
  // A plain lambda returning the awaitable: the coroutine's frame owns the
  // acceptor's State through on_accepted.
  asio::co_spawn(
      executor, [state, on_accepted]() { return transport::accept_each(state->acceptor, on_accepted); },
      asio::detached);
  return std::shared_ptr<Server>(new Server(std::move(state), endpoint));
}

void Server::stop() {
  asio::dispatch(state_->executor, [state = state_] {
    if (state->stopped) return;
    state->stopped = true;
    boost::system::error_code ignored;
    state->acceptor.close(ignored);
    for (auto* connection : state->connections) detail::close_connection(*connection);
  });
}

Result<tcp::acceptor> listen_loopback(asio::any_io_executor executor, std::uint16_t port) {
  tcp::acceptor acceptor(executor);
  const tcp::endpoint endpoint(asio::ip::address_v4::loopback(), port);
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error("cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + ec.message());
  return acceptor;
}

}  // namespace enclaver::http
