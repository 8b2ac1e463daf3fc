#include "sleeve/clock_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "odyn/clock_codec.hpp"
#include "transport/accept.hpp"

namespace enclaver::sleeve {
namespace {

using boost::asio::use_awaitable;

boost::asio::awaitable<void> answer(transport::Socket socket) {
  boost::asio::streambuf buffer(64);  // a request is 5 bytes; anything longer is not one
  try {
    for (;;) {
      std::size_t n = co_await boost::asio::async_read_until(socket, buffer, '\n', use_awaitable);
      odyn::TimeReply reply;
      reply.server_receive = odyn::realtime_now();
      std::string request(boost::asio::buffers_begin(buffer.data()), boost::asio::buffers_begin(buffer.data()) + n);
      buffer.consume(n);
      if (request != odyn::kTimeRequest) co_return;  // not the protocol: hang up
      reply.server_transmit = odyn::realtime_now();
      co_await boost::asio::async_write(socket, boost::asio::buffer(odyn::encode_time_reply(reply)), use_awaitable);
    }
  } catch (const std::exception&) {
  }
}

}  // namespace

boost::asio::awaitable<void> serve_clock(transport::Acceptor& acceptor) {
  co_await transport::accept_each(acceptor, [&acceptor](transport::Socket socket) {
    boost::asio::co_spawn(acceptor.get_executor(), answer(std::move(socket)), boost::asio::detached);
  });
}

}  // namespace enclaver::sleeve
