#include "odyn/stream_server.hpp"

#include "transport/accept.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace enclaver::odyn {
namespace {

using boost::asio::use_awaitable;
using OpenList = std::vector<std::weak_ptr<transport::Socket>>;

boost::asio::awaitable<void> accept_loop(std::shared_ptr<transport::Acceptor> acceptor, std::shared_ptr<OpenList> open,
                                         ConnectionHandler serve) {
  co_await transport::accept_each(*acceptor, [&](transport::Socket socket) {
    auto shared = std::make_shared<transport::Socket>(std::move(socket));
    std::erase_if(*open, [](const auto& weak) { return weak.expired(); });
    open->push_back(shared);
    boost::asio::co_spawn(acceptor->get_executor(), serve(shared), boost::asio::detached);
  });
}

}  // namespace

ChangeSignal::ChangeSignal(const boost::asio::any_io_executor& executor) : timer_(executor) {
  timer_.expires_at(boost::asio::steady_timer::time_point::max());
}

void ChangeSignal::notify() {
  // Cancelling completes every pending wait; re-arming serves the next ones.
  timer_.cancel();
  timer_.expires_at(boost::asio::steady_timer::time_point::max());
}

boost::asio::awaitable<void> ChangeSignal::wait() {
  boost::system::error_code ignored;
  co_await timer_.async_wait(boost::asio::redirect_error(use_awaitable, ignored));
}

void Connections::accept(transport::Acceptor acceptor, ConnectionHandler serve) {
  auto shared = std::make_shared<transport::Acceptor>(std::move(acceptor));
  acceptors_.push_back(shared);
  boost::asio::co_spawn(executor_, accept_loop(shared, open_, std::move(serve)), boost::asio::detached);
}

void Connections::close_all() {
  boost::system::error_code ignored;
  for (auto& acceptor : acceptors_) acceptor->close(ignored);
  for (auto& weak : *open_)
    if (auto socket = weak.lock()) socket->close(ignored);
}

}  // namespace enclaver::odyn
