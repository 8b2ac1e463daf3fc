// What odyn's status and log servers share (wire.md: both are streams that
// odyn serves to whoever connects, following a state that changes): a
// change signal that wakes every waiting coroutine on the event loop, and
// the listeners and connections to close when odyn stops.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "transport/vsock.hpp"

namespace enclaver::odyn {

// A condition variable for coroutines on one thread: wait() completes at
// the next notify(), for every waiter.
class ChangeSignal {
 public:
  explicit ChangeSignal(const boost::asio::any_io_executor& executor);
  void notify();
  boost::asio::awaitable<void> wait();

 private:
  boost::asio::steady_timer timer_;
};

using ConnectionHandler = std::function<boost::asio::awaitable<void>(std::shared_ptr<transport::Socket>)>;

class Connections {
 public:
  explicit Connections(const boost::asio::any_io_executor& executor) : executor_(executor) {}
  // Accepts on `acceptor` until close_all(), running `serve` for each connection.
  void accept(transport::Acceptor acceptor, ConnectionHandler serve);
  // Closes the listeners and every connection still open.
  void close_all();

 private:
  boost::asio::any_io_executor executor_;
  std::vector<std::shared_ptr<transport::Acceptor>> acceptors_;
  std::shared_ptr<std::vector<std::weak_ptr<transport::Socket>>> open_ =
      std::make_shared<std::vector<std::weak_ptr<transport::Socket>>>();
};

}  // namespace enclaver::odyn
