// The app's console on the event loop (wire.md, "App log stream"): the
// app's stdout and stderr arrive through one pipe and go into the LogRing;
// odyn's own lines go into the same ring, prefixed "[odyn] "; every
// connection on the log port gets the backlog, then follows, with a drop
// marker where it fell behind. The app never waits for a reader: the pipe
// is drained as fast as it fills, and a slow reader loses bytes, visibly.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "odyn/console/log_ring.hpp"
#include "transport/vsock.hpp"

namespace enclaver::odyn {

class Console {
 public:
  // `echo` (debug mode): also copy everything to odyn's own stderr, the
  // enclave's console. Throws std::system_error if the pipe cannot be made.
  Console(const boost::asio::any_io_executor& executor, std::size_t capacity, bool echo);
  ~Console();
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  // The write end of the console pipe, for the app's stdout and stderr
  // (close-on-exec: the launcher dup2()s it). Close it after launching.
  int app_output_fd() const;
  void close_app_output_fd();
  // Debug mode, learnt after start (PCR0 reads zeros): copy from now on.
  void set_echo(bool echo);
  bool echo() const;
  // One line of odyn's own, "[odyn] <text>\n".
  void log(std::string_view text);
  // Serves the log stream to every connection on `acceptor`, until stop().
  void serve(transport::Acceptor acceptor);
  // Completes when the app's side of the pipe is closed and drained.
  boost::asio::awaitable<void> drained();
  // Completes once a reader is connected and every connected reader has
  // read everything (odyn waits for it, bounded, before exiting).
  boost::asio::awaitable<void> delivered();
  void stop();

  struct State;  // shared with the coroutines that serve it (defined in the .cpp)

 private:
  std::shared_ptr<State> state_;
};

}  // namespace enclaver::odyn
