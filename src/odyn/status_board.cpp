#include "odyn/status_board.hpp"

#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace enclaver::odyn {
namespace {
using boost::asio::use_awaitable;
}

struct StatusBoard::State {
  explicit State(const boost::asio::any_io_executor& executor) : changed(executor), executor(executor) {
    changed.expires_at(boost::asio::steady_timer::time_point::max());
    lines.push_back(encode_status_line(status::Starting{}));
  }
  Status current = status::Starting{};
  // Every state so far, in order (a handful): a reader catching up sends
  // what it missed since it connected.
  std::vector<std::string> lines;
  std::size_t connected = 0, up_to_date = 0;
  bool stopped = false;
  boost::asio::steady_timer changed;
  boost::asio::any_io_executor executor;
  std::vector<std::weak_ptr<transport::Acceptor>> acceptors;
  std::vector<std::weak_ptr<transport::Socket>> readers;

  void wake() {
    changed.cancel();
    changed.expires_at(boost::asio::steady_timer::time_point::max());
  }
  boost::asio::awaitable<void> wait_for_change() {
    boost::system::error_code ignored;
    co_await changed.async_wait(boost::asio::redirect_error(use_awaitable, ignored));
  }
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
        state->wake();
        co_await state->wait_for_change();
        --state->up_to_date;
        continue;
      }
      std::string line = state->lines[next++];
      co_await boost::asio::async_write(*socket, boost::asio::buffer(line), use_awaitable);
    }
  } catch (const std::exception&) {
  }
  --state->connected;
  state->wake();
}

boost::asio::awaitable<void> accept(std::shared_ptr<StatusBoard::State> state, std::shared_ptr<transport::Acceptor> acceptor) {
  while (!state->stopped) {
    boost::system::error_code ec;
    auto socket = co_await acceptor->async_accept(boost::asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (ec == boost::asio::error::operation_aborted || !acceptor->is_open()) co_return;
      continue;
    }
    auto shared = std::make_shared<transport::Socket>(std::move(socket));
    std::erase_if(state->readers, [](const auto& weak) { return weak.expired(); });
    state->readers.push_back(shared);
    boost::asio::co_spawn(state->executor, report(state, shared), boost::asio::detached);
  }
}

}  // namespace

StatusBoard::StatusBoard(const boost::asio::any_io_executor& executor) : state_(std::make_shared<State>(executor)) {}
StatusBoard::~StatusBoard() { stop(); }

void StatusBoard::set(const Status& status) {
  state_->current = status;
  state_->lines.push_back(encode_status_line(status));
  state_->wake();
}

const Status& StatusBoard::current() const { return state_->current; }

void StatusBoard::serve(transport::Acceptor acceptor) {
  auto shared = std::make_shared<transport::Acceptor>(std::move(acceptor));
  state_->acceptors.push_back(shared);
  boost::asio::co_spawn(state_->executor, accept(state_, shared), boost::asio::detached);
}

boost::asio::awaitable<void> StatusBoard::delivered() {
  auto state = state_;
  while (!state->stopped && state->up_to_date < state->connected) co_await state->wait_for_change();
}

void StatusBoard::stop() {
  if (!state_ || state_->stopped) return;
  state_->stopped = true;
  boost::system::error_code ignored;
  for (auto& weak : state_->acceptors)
    if (auto a = weak.lock()) a->close(ignored);
  for (auto& weak : state_->readers)
    if (auto s = weak.lock()) s->close(ignored);
  state_->wake();
}

}  // namespace enclaver::odyn
