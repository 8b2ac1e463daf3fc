// Port forwarding: accept connections and relay each one to a connection
// made for it. Both ingress halves have this shape: the sleeve accepts TCP
// on the host and connects vsock (enclave CID, port); odyn accepts vsock and
// connects TCP 127.0.0.1:port, where the app listens (wire.md, "Ingress").
// A connection that cannot be made (the app is not listening yet) closes
// the accepted one at once; such failures are reported once until a
// connection succeeds again, not once per client.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <type_traits>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "transport/accept.hpp"
#include "transport/relay.hpp"

namespace enclaver::transport {

struct ForwardEvents {
  // Connecting failed (the first failure after a success, or ever).
  std::function<void(const std::string& error)> unreachable;
  // Connecting works again after failures.
  std::function<void()> reachable;
};

// Socket buffers for legs that never leave the machine (vsock, and the
// enclave's loopback to its app): modest fixed buffers keep the bytes in
// flight in the CPU cache, which autotuned ones (up to tcp_rmem's maximum)
// do not; bench/relay_bench.py measured 20 Gbit/s against 13 on one stream.
// A TCP socket facing a real network keeps the kernel's autotuning. For TCP,
// size before connecting: the window scale is agreed in the handshake.
inline constexpr int kLocalSocketBuffer = 256 * 1024;

template <class Socket>
void use_local_buffers(Socket& socket) {
  boost::system::error_code ignored;
  socket.set_option(boost::asio::socket_base::send_buffer_size(kLocalSocketBuffer), ignored);
  socket.set_option(boost::asio::socket_base::receive_buffer_size(kLocalSocketBuffer), ignored);
}

namespace detail {

// Relayed bytes should not wait for Nagle's algorithm: the peer's own
// writes already decided the segmenting. vsock legs are local: sized so.
template <class Socket>
void tune(Socket& socket) {
  boost::system::error_code ignored;
  if constexpr (std::is_same_v<typename Socket::protocol_type, boost::asio::ip::tcp>)
    socket.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
  else
    use_local_buffers(socket);
}

struct ForwardState {
  ForwardEvents events;
  RelayOptions options;
  bool failing = false;
};

// Connects the other leg for one accepted connection, reporting a change
// between reachable and unreachable; throws when it cannot connect.
template <class Connect>
auto connect_upstream(Connect& connect, ForwardState& state) -> decltype(connect()) {
  try {
    auto upstream = co_await connect();
    tune(upstream);
    if (state.failing) {
      state.failing = false;
      if (state.events.reachable) state.events.reachable();
    }
    co_return upstream;
  } catch (const std::exception& e) {  // std::system_error or boost::system::system_error
    if (!state.failing) {
      state.failing = true;
      if (state.events.unreachable) state.events.unreachable(e.what());
    }
    throw;
  }
}

template <class Accepted, class Connect>
boost::asio::awaitable<void> forward_one(Accepted accepted, Connect connect, std::shared_ptr<ForwardState> state) {
  tune(accepted);
  try {
    auto upstream = co_await connect_upstream(connect, *state);
    co_await relay(accepted, upstream, state->options);
  } catch (const std::exception&) {
    RelayStreamTraits<Accepted>::abort(accepted);
  }
}

}  // namespace detail

// Serves `acceptor` until it is closed. `connect` is called once per
// accepted connection and returns an awaitable of the other socket (it
// throws when it cannot connect).
template <class Acceptor, class Connect>
boost::asio::awaitable<void> forward_connections(Acceptor& acceptor, Connect connect, ForwardEvents events = {},
                                                 RelayOptions options = {}) {
  auto state = std::make_shared<detail::ForwardState>(detail::ForwardState{std::move(events), options});
  co_await accept_each(acceptor, [&acceptor, &connect, &state](auto accepted) {
    boost::asio::co_spawn(acceptor.get_executor(), detail::forward_one(std::move(accepted), connect, state),
                          boost::asio::detached);
  });
}

}  // namespace enclaver::transport
