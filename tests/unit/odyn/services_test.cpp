// The console and status servers over simulated vsock, on one event loop.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "common/temp_dir.hpp"
#include "odyn/console/console.hpp"
#include "odyn/status_board.hpp"

namespace enclaver::odyn {
namespace {

using boost::asio::use_awaitable;

class OdynServices : public ::testing::Test {
 protected:
  TempDir dir_;
  transport::Vsock enclave_ = transport::Vsock::simulated(dir_.path(), 16);
  transport::Vsock host_ = transport::Vsock::simulated(dir_.path(), transport::kCidParent);
  boost::asio::io_context io_;

  template <class F>
  auto run(F f) {
    auto future = boost::asio::co_spawn(io_, f, boost::asio::use_future);
    io_.restart();
    while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) io_.run_one();
    return future.get();
  }
  boost::asio::awaitable<std::string> read_exactly(transport::Socket& socket, std::size_t n) {
    std::string out(n, '\0');
    co_await boost::asio::async_read(socket, boost::asio::buffer(out), use_awaitable);
    co_return out;
  }
  boost::asio::awaitable<std::string> read_line(transport::Socket& socket, boost::asio::streambuf& buffer) {
    std::size_t n = co_await boost::asio::async_read_until(socket, buffer, '\n', use_awaitable);
    std::string line(boost::asio::buffers_begin(buffer.data()), boost::asio::buffers_begin(buffer.data()) + n);
    buffer.consume(n);
    co_return line;
  }
};

TEST_F(OdynServices, TheLogStreamGivesTheBacklogThenFollowsAndAgainOnReconnect) {
  Console console(io_.get_executor(), 4096, false);
  console.serve(enclave_.listen(io_.get_executor(), 17001));
  ASSERT_EQ(::write(console.app_output_fd(), "before\n", 7), 7);
  // The pipe is read on the loop: let it take "before" in before odyn's own line.
  for (int i = 0; i < 20; ++i) {
    io_.restart();
    io_.poll();
  }
  console.log("service up");
  auto got = run([&]() -> boost::asio::awaitable<std::string> {
    auto socket = co_await host_.connect({16, 17001});
    std::string backlog = co_await read_exactly(socket, 7 + 18);
    (void)!::write(console.app_output_fd(), "live\n", 5);
    std::string live = co_await read_exactly(socket, 5);
    co_return backlog + live;
  });
  EXPECT_EQ(got, "before\n[odyn] service up\nlive\n");
  auto again = run([&]() -> boost::asio::awaitable<std::string> {
    auto socket = co_await host_.connect({16, 17001});
    co_return co_await read_exactly(socket, 30);
  });
  EXPECT_EQ(again, "before\n[odyn] service up\nlive\n");
}

TEST_F(OdynServices, TheConsoleIsDrainedWhenTheAppsSideCloses) {
  Console console(io_.get_executor(), 64, false);
  ASSERT_EQ(::write(console.app_output_fd(), "bye\n", 4), 4);
  console.close_app_output_fd();
  run([&]() -> boost::asio::awaitable<void> { co_await console.drained(); });
  SUCCEED();
}

TEST_F(OdynServices, TheStatusStreamSendsTheCurrentStateThenEachChange) {
  StatusBoard board(io_.get_executor());
  board.serve(enclave_.listen(io_.get_executor(), 17000));
  auto lines = run([&]() -> boost::asio::awaitable<std::vector<std::string>> {
    auto first = co_await host_.connect({16, 17000});
    boost::asio::streambuf first_buffer;
    std::vector<std::string> out;
    out.push_back(co_await read_line(first, first_buffer));
    board.set(status::Running{12});
    out.push_back(co_await read_line(first, first_buffer));
    auto late = co_await host_.connect({16, 17000});
    boost::asio::streambuf late_buffer;
    out.push_back(co_await read_line(late, late_buffer));
    board.set(status::Exited{3});
    out.push_back(co_await read_line(first, first_buffer));
    out.push_back(co_await read_line(late, late_buffer));
    co_await board.delivered();
    co_return out;
  });
  EXPECT_EQ(lines, (std::vector<std::string>{"{\"status\":\"starting\"}\n", "{\"pid\":12,\"status\":\"running\"}\n",
                                             "{\"pid\":12,\"status\":\"running\"}\n", "{\"code\":3,\"status\":\"exited\"}\n",
                                             "{\"code\":3,\"status\":\"exited\"}\n"}));
}

}  // namespace
}  // namespace enclaver::odyn
