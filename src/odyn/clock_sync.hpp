// Clock sync (wire.md, "Clock sync"): odyn asks the host for its time with
// "time\n" and gets one JSON line with when the request arrived (t2) and
// when the answer left (t3); with its own send (t1) and receive (t4) times
// it estimates the offset NTP-style, ((t2-t1)+(t3-t4))/2, and steps
// CLOCK_REALTIME. The codec and the arithmetic are sans-IO; the loop runs on
// odyn's event loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "common/result.hpp"
#include "transport/vsock.hpp"

namespace enclaver::odyn {

inline constexpr std::string_view kTimeRequest = "time\n";

using Nanos = std::int64_t;  // since the Unix epoch

struct TimeReply {
  Nanos server_receive = 0;   // t2
  Nanos server_transmit = 0;  // t3
};

// {"server_receive_secs":S,"server_receive_nanos":N,"server_transmit_secs":S,"server_transmit_nanos":N}\n
std::string encode_time_reply(const TimeReply& reply);
Result<TimeReply> decode_time_reply(std::string_view line);

struct ClockEstimate {
  Nanos offset = 0;      // add to the local clock
  Nanos round_trip = 0;  // (t4-t1) - (t3-t2)
};
ClockEstimate estimate_offset(Nanos t1, const TimeReply& reply, Nanos t4);

Nanos realtime_now();

struct ClockSyncOptions {
  transport::VsockAddress host;                    // (3, clock_sync_port)
  std::chrono::seconds interval{300};
  std::chrono::seconds first_attempts_for{30};     // retry the first sync this long
  std::function<void(const std::string&)> log;     // odyn's [odyn] lines
};

// Runs forever (until cancelled): sync now, then every interval. When the
// clock may not be set (EPERM: the simulator shares the host's clock), says
// so once and stops.
boost::asio::awaitable<void> run_clock_sync(transport::Vsock vsock, ClockSyncOptions options);

}  // namespace enclaver::odyn
