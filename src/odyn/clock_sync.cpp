#include "odyn/clock_sync.hpp"

#include "transport/accept.hpp"

#include <time.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace enclaver::odyn {
namespace {

using boost::asio::use_awaitable;
constexpr Nanos kSecond = 1'000'000'000;

std::string millis(Nanos ns) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f ms", static_cast<double>(ns) / 1e6);
  return text;
}

// One exchange: connect, ask, read the answer. Throws on failure.
boost::asio::awaitable<ClockEstimate> ask(const transport::Vsock& vsock, transport::VsockAddress host) {
  auto socket = co_await vsock.connect(host);
  Nanos t1 = realtime_now();
  co_await boost::asio::async_write(socket, boost::asio::buffer(kTimeRequest), use_awaitable);
  boost::asio::streambuf buffer(1024);
  std::size_t n = co_await boost::asio::async_read_until(socket, buffer, '\n', use_awaitable);
  Nanos t4 = realtime_now();
  std::string line(boost::asio::buffers_begin(buffer.data()), boost::asio::buffers_begin(buffer.data()) + n);
  auto reply = decode_time_reply(line);
  if (!reply) throw std::runtime_error(reply.error().message);
  co_return estimate_offset(t1, *reply, t4);
}

}  // namespace

boost::asio::awaitable<void> run_clock_sync(transport::Vsock vsock, ClockSyncOptions options) {
  bool first = true;
  auto started = std::chrono::steady_clock::now();
  for (;;) {
    std::optional<ClockEstimate> estimate;
    std::string failure;
    try {
      estimate = co_await ask(vsock, options.host);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!estimate) {
      if (first && std::chrono::steady_clock::now() - started < options.first_attempts_for) {
        co_await transport::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      options.log("clock sync: no answer from the host (" + failure + "); trying again in " +
                  std::to_string(options.interval.count()) + " s");
    } else {
      timespec now{};
      Nanos target = realtime_now() + estimate->offset;
      now.tv_sec = target / kSecond;
      now.tv_nsec = target % kSecond;
      if (::clock_settime(CLOCK_REALTIME, &now) != 0) {
        if (errno == EPERM) {
          options.log("clock sync: this enclave may not set its clock (the simulator shares the host's; offset " +
                      millis(estimate->offset) + "); not syncing");
          co_return;
        }
        options.log(std::string("clock sync: cannot set the clock: ") + std::strerror(errno));
      } else {
        options.log("clock sync: stepped the clock by " + millis(estimate->offset) + " (round trip " +
                    millis(estimate->round_trip) + ")");
      }
    }
    first = false;
    co_await transport::sleep_for(options.interval);
  }
}

}  // namespace enclaver::odyn
