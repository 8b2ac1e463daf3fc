// The clock-sync protocol (wire.md, "Clock sync"): odyn asks the host for
// its time with "time\n" and gets one JSON line with when the request
// arrived (t2) and when the answer left (t3); with its own send (t1) and
// receive (t4) times it estimates the offset NTP-style,
// ((t2-t1)+(t3-t4))/2. Sans-IO: both the sleeve's server and odyn's loop
// (clock_sync.hpp) use it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

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

}  // namespace enclaver::odyn
