#include "odyn/console/console.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <system_error>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "odyn/stream_server.hpp"

namespace enclaver::odyn {
namespace {

using boost::asio::use_awaitable;
constexpr std::size_t kChunk = 64 * 1024;

}  // namespace

struct Console::State {
  State(const boost::asio::any_io_executor& executor, std::size_t capacity, bool echo)
      : ring(capacity), echo(echo), pipe_reader(executor), changed(executor), connections(executor) {}
  LogRing ring;
  bool echo;
  int write_fd = -1;
  bool app_closed = false;
  bool stopped = false;
  std::size_t connected = 0, caught_up = 0;  // readers, and those with nothing left to read
  boost::asio::posix::stream_descriptor pipe_reader;
  ChangeSignal changed;
  Connections connections;

  void append(std::string_view bytes) {
    ring.append(std::span<const char>(bytes.data(), bytes.size()));
    if (echo) (void)!::write(2, bytes.data(), bytes.size());
    changed.notify();
  }
};

namespace {

boost::asio::awaitable<void> drain_pipe(std::shared_ptr<Console::State> state) {
  std::vector<char> buffer(kChunk);
  for (;;) {
    boost::system::error_code ec;
    std::size_t n = co_await state->pipe_reader.async_read_some(boost::asio::buffer(buffer),
                                                                boost::asio::redirect_error(use_awaitable, ec));
    if (n) state->append({buffer.data(), n});
    if (ec) break;  // EOF: every writer (the app and its children) is gone
  }
  state->app_closed = true;
  state->changed.notify();
}

boost::asio::awaitable<void> follow(std::shared_ptr<Console::State> state, std::shared_ptr<transport::Socket> socket) {
  LogCursor cursor(state->ring);
  ++state->connected;
  try {
    while (!state->stopped) {
      if (cursor.caught_up(state->ring)) {
        ++state->caught_up;
        state->changed.notify();
        co_await state->changed.wait();
        --state->caught_up;
        continue;
      }
      std::string chunk = cursor.next(state->ring, kChunk);
      co_await boost::asio::async_write(*socket, boost::asio::buffer(chunk), use_awaitable);
    }
  } catch (const std::exception&) {
    // The reader went away; it may come back and read the backlog again.
  }
  --state->connected;
  state->changed.notify();
}

}  // namespace

Console::Console(const boost::asio::any_io_executor& executor, std::size_t capacity, bool echo)
    : state_(std::make_shared<State>(executor, capacity, echo)) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "cannot create the console pipe");
  // A larger pipe absorbs bursts while the loop is busy elsewhere.
  ::fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
  state_->pipe_reader.assign(fds[0]);
  state_->write_fd = fds[1];
  boost::asio::co_spawn(executor, drain_pipe(state_), boost::asio::detached);
}

Console::~Console() { stop(); }

int Console::app_output_fd() const { return state_->write_fd; }

void Console::close_app_output_fd() {
  if (state_->write_fd >= 0) ::close(state_->write_fd);
  state_->write_fd = -1;
}

void Console::set_echo(bool echo) { state_->echo = echo; }
bool Console::echo() const { return state_->echo; }

void Console::log(std::string_view text) { state_->append("[odyn] " + std::string(text) + "\n"); }

void Console::serve(transport::Acceptor acceptor) {
  auto state = state_;
  state_->connections.accept(std::move(acceptor), [state](std::shared_ptr<transport::Socket> socket) { return follow(state, socket); });
}

boost::asio::awaitable<void> Console::drained() {
  auto state = state_;
  while (!state->app_closed && !state->stopped) co_await state->changed.wait();
}

boost::asio::awaitable<void> Console::delivered() {
  auto state = state_;
  while (!state->stopped && (state->connected == 0 || state->caught_up < state->connected)) co_await state->changed.wait();
}

void Console::stop() {
  if (!state_ || state_->stopped) return;
  state_->stopped = true;
  close_app_output_fd();
  state_->connections.close_all();
  boost::system::error_code ignored;
  state_->pipe_reader.close(ignored);
  state_->changed.notify();
}

}  // namespace enclaver::odyn
