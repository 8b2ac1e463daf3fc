// Port forwarding that terminates TLS on the accepted side: each accepted
// connection is a TLS server session (tls.hpp); once its handshake is done
// the plaintext is relayed to a connection made for it, as forward.hpp does
// for plain connections (same events, same relay).
//
// A failed handshake (a client that does not trust the certificate, speaks
// plain HTTP, or never speaks: handshake_timeout) closes that connection.
// Failures are reported at most once per report_interval, with how many
// were not reported since, so that a scanner cannot flood the log.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "transport/forward.hpp"
#include "transport/tls.hpp"

namespace enclaver::transport {

struct TlsForwardOptions {
  std::chrono::steady_clock::duration handshake_timeout = std::chrono::seconds(10);
  std::chrono::steady_clock::duration report_interval = std::chrono::seconds(10);
  std::function<void(const std::string& error)> handshake_failed;
};

namespace detail {

struct TlsForwardState {
  std::shared_ptr<const TlsServerContext> context;
  TlsForwardOptions options;
  std::chrono::steady_clock::time_point last_report{};
  std::size_t unreported = 0;

  void report(const std::string& error) {
    const auto now = std::chrono::steady_clock::now();
    if (last_report != std::chrono::steady_clock::time_point{} && now - last_report < options.report_interval) {
      ++unreported;
      return;
    }
    std::string line = error;
    if (unreported > 0) line += " (and " + std::to_string(unreported) + " more failures not reported)";
    unreported = 0;
    last_report = now;
    if (options.handshake_failed) options.handshake_failed(line);
  }
};

template <class Connect>
boost::asio::awaitable<void> forward_tls_one(Socket accepted, Connect connect, std::shared_ptr<ForwardState> state,
                                             std::shared_ptr<TlsForwardState> tls) {
  tune(accepted);
  TlsServerStream session(std::move(accepted), tls->context);
  if (auto ec = co_await session.handshake(tls->options.handshake_timeout)) {
    tls->report("TLS handshake failed: " + ec.message());
    session.abort();
    co_return;
  }
  try {
    auto upstream = co_await connect_upstream(connect, *state);
    StreamEnd<decltype(upstream)> upstream_end(upstream);
    co_await relay_ends(session, upstream_end, state->options);
  } catch (const std::exception&) {
    session.abort();
  }
}

}  // namespace detail

// Serves `acceptor` until it is closed (see forward_connections).
template <class Connect>
boost::asio::awaitable<void> forward_tls_connections(Acceptor& acceptor, std::shared_ptr<const TlsServerContext> context,
                                                     Connect connect, ForwardEvents events = {},
                                                     TlsForwardOptions tls_options = {}, RelayOptions options = {}) {
  auto state = std::make_shared<detail::ForwardState>(detail::ForwardState{std::move(events), options});
  auto tls = std::make_shared<detail::TlsForwardState>(detail::TlsForwardState{std::move(context), std::move(tls_options)});
  co_await accept_each(acceptor, [&acceptor, &connect, &state, &tls](Socket accepted) {
    boost::asio::co_spawn(acceptor.get_executor(), detail::forward_tls_one(std::move(accepted), connect, state, tls),
                          boost::asio::detached);
  });
}

}  // namespace enclaver::transport
