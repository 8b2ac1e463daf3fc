// The loop every server in the project runs: accept connections until the
// listener is closed, hand each one over, and ride out a failed accept
// (EMFILE when the descriptors run out) with a short pause rather than a
// busy loop. And the pause itself, for coroutines that retry.
#pragma once

#include <chrono>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace enclaver::transport {

// Waits `duration` on the calling coroutine's executor.
inline boost::asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration duration) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, duration);
  boost::system::error_code ignored;
  co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
}

// Calls on_accepted(socket) for each accepted connection (it starts the
// connection's own coroutine and returns) until `acceptor` is closed.
template <class Acceptor, class OnAccepted>
boost::asio::awaitable<void> accept_each(Acceptor& acceptor, OnAccepted on_accepted) {
  for (;;) {
    boost::system::error_code ec;
    auto socket = co_await acceptor.async_accept(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    if (!ec) {
      on_accepted(std::move(socket));
      continue;
    }
    if (ec == boost::asio::error::operation_aborted || !acceptor.is_open()) co_return;
    co_await sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace enclaver::transport
