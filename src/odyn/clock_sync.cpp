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
#include <nlohmann/json.hpp>

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

std::string encode_time_reply(const TimeReply& reply) {
  nlohmann::ordered_json j;
  j["server_receive_secs"] = reply.server_receive / kSecond;
  j["server_receive_nanos"] = reply.server_receive % kSecond;
  j["server_transmit_secs"] = reply.server_transmit / kSecond;
  j["server_transmit_nanos"] = reply.server_transmit % kSecond;
  return j.dump() + "\n";
}

Result<TimeReply> decode_time_reply(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("the host's time answer is not a JSON object");
  auto field = [&](const char* key) -> std::optional<std::int64_t> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<std::int64_t>();
  };
  auto rs = field("server_receive_secs"), rn = field("server_receive_nanos");
  auto ts = field("server_transmit_secs"), tn = field("server_transmit_nanos");
  if (!rs || !rn || !ts || !tn) return make_error("the host's time answer lacks a server_*_secs/_nanos integer");
  if (*rn < 0 || *rn >= kSecond || *tn < 0 || *tn >= kSecond || *rs < 0 || *ts < 0)
    return make_error("the host's time answer has a value out of range");
  return TimeReply{*rs * kSecond + *rn, *ts * kSecond + *tn};
}

ClockEstimate estimate_offset(Nanos t1, const TimeReply& reply, Nanos t4) {
  ClockEstimate e;
  e.offset = ((reply.server_receive - t1) + (reply.server_transmit - t4)) / 2;
  e.round_trip = (t4 - t1) - (reply.server_transmit - reply.server_receive);
  return e;
}

Nanos realtime_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<Nanos>(ts.tv_sec) * kSecond + ts.tv_nsec;
}

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
