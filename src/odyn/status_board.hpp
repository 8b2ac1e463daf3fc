// The status stream's server side (wire.md, "Status stream (17000)"): every
// connection gets the current state at once, then each change, in order,
// one JSON line each. A slow or absent reader never holds odyn up.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "odyn/status.hpp"
#include "transport/vsock.hpp"

namespace enclaver::odyn {

class StatusBoard {
 public:
  explicit StatusBoard(const boost::asio::any_io_executor& executor);
  ~StatusBoard();
  StatusBoard(const StatusBoard&) = delete;
  StatusBoard& operator=(const StatusBoard&) = delete;

  void set(const Status& status);
  const Status& current() const;
  // Serves every connection on `acceptor` until stop().
  void serve(transport::Acceptor acceptor);
  // Requests from the host: each line a connection sends ("stop": stop the
  // app as SIGTERM would, the only one so far; wire.md extension, for Nitro
  // where the host cannot signal the enclave's PID 1) goes to `handler`,
  // without its newline. Lines over 256 bytes close that connection's
  // reading side.
  void on_request(std::function<void(std::string_view)> handler);
  // Completes once every connected reader has been sent the current state
  // (or has gone): odyn waits for it before it exits after the app's end.
  boost::asio::awaitable<void> delivered();
  void stop();

  struct State;  // shared with the coroutines that serve it (defined in the .cpp)

 private:
  std::shared_ptr<State> state_;
};

}  // namespace enclaver::odyn
