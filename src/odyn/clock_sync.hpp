// Clock sync (wire.md, "Clock sync"): odyn's loop that asks the host for its
// time (clock_codec.hpp) and steps CLOCK_REALTIME, on odyn's event loop.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "odyn/clock_codec.hpp"
#include "transport/vsock.hpp"

namespace enclaver::odyn {

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
