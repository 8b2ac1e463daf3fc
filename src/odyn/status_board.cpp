#include "odyn/status_board.hpp"

#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "odyn/stream_server.hpp"

namespace enclaver::odyn {

struct StatusBoard::State {
  explicit State(const boost::asio::any_io_executor& executor) : changed(executor), connections(executor) {
    lines.push_back(encode_status_line(status::Starting{}));
  }
  Status current = status::Starting{};
  // Every state so far, in order (a handful): a reader catching up sends
  // what it missed since it connected.
  std::vector<std::string> lines;
  std::size_t connected = 0, up_to_date = 0;
  bool stopped = false;
  ChangeSignal changed;
  Connections connections;
  std::function<void(std::string_view)> on_request;
};

namespace {

boost::asio::awaitable<void> report(std::shared_ptr<StatusBoard::State> state, std::shared_ptr<transport::Socket> socket) {
  ++state->connected;
  // The current state first, then every later one.
  std::size_t next = state->lines.size() - 1;
  try {
    while (!state->stopped) {
      if (next == state->lines.size()) {
        ++state->up_to_date;
        state->changed.notify();
        co_await state->changed.wait();
        --state->up_to_date;
        continue;
      }
      std::string line = state->lines[next++];
      co_await boost::asio::async_write(*socket, boost::asio::buffer(line), boost::asio::use_awaitable);
    }
  } catch (const std::exception&) {
  }
  --state->connected;
  state->changed.notify();
}

boost::asio::awaitable<void> listen(std::shared_ptr<StatusBoard::State> state, std::shared_ptr<transport::Socket> socket) {
  boost::asio::streambuf buffer(256);
  for (;;) {
    boost::system::error_code ec;
    const std::size_t n = co_await boost::asio::async_read_until(*socket, buffer, '\n',
                                                                 boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    if (ec || state->stopped) co_return;
    std::string line(boost::asio::buffers_begin(buffer.data()), boost::asio::buffers_begin(buffer.data()) + n - 1);
    buffer.consume(n);
    if (state->on_request) state->on_request(line);
  }
}

}  // namespace

StatusBoard::StatusBoard(const boost::asio::any_io_executor& executor) : state_(std::make_shared<State>(executor)) {}
StatusBoard::~StatusBoard() { stop(); }

void StatusBoard::set(const Status& status) {
  state_->current = status;
  state_->lines.push_back(encode_status_line(status));
  state_->changed.notify();
}

void StatusBoard::on_request(std::function<void(std::string_view)> handler) { state_->on_request = std::move(handler); }

const Status& StatusBoard::current() const { return state_->current; }

void StatusBoard::serve(transport::Acceptor acceptor) {
  auto state = state_;
  state_->connections.accept(std::move(acceptor), [state](std::shared_ptr<transport::Socket> socket) {
    boost::asio::co_spawn(socket->get_executor(), listen(state, socket), boost::asio::detached);
    return report(state, socket);
  });
}

boost::asio::awaitable<void> StatusBoard::delivered() {
  auto state = state_;
  while (!state->stopped && state->up_to_date < state->connected) co_await state->changed.wait();
}

void StatusBoard::stop() {
  if (!state_ || state_->stopped) return;
  state_->stopped = true;
  state_->connections.close_all();
  state_->changed.notify();
}

}  // namespace enclaver::odyn
