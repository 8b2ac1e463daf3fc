// Internal to relay*.cpp: what one relay() call shares between its two
// directions and its idle watchdog, all coroutines on one executor (so no
// locking: they only interleave at co_await).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "transport/relay.hpp"

namespace enclaver::transport::detail {

struct RelayRun {
  RelayRun(RelayEnd& a, RelayEnd& b, const RelayOptions& options);

  RelayEnd& a;
  RelayEnd& b;
  RelayOptions options;
  RelayStats stats;
  // Set once by stop(): every loop checks it after each co_await, since the
  // descriptors it holds may be closed (and their numbers reused) by then.
  bool stopped = false;
  // Block SIGPIPE around writing splices (relay.hpp, "SIGPIPE").
  bool guard_sigpipe = true;
  std::chrono::steady_clock::time_point last_activity;

  void moved(std::uint64_t& counter, std::size_t bytes) {
    counter += bytes;
    last_activity = std::chrono::steady_clock::now();
  }

  // Ends the relay abruptly (the first reason wins): both ends aborted,
  // which wakes the other direction with operation_aborted.
  void stop(std::string why, bool timed_out = false);
};

// One direction: bytes read from `from`, written to `to`, counted in `moved`.
struct Direction {
  RelayEnd& from;
  RelayEnd& to;
  std::uint64_t& moved;
  const char* from_name;
  const char* to_name;
  bool spliced = false;  // set by splice_direction when it did not fall back
};

// Reports a failed operation on one end of `direction` and stops the run;
// operation_aborted after stop() is the run already stopping and says
// nothing, before stop() it is the relay being cancelled.
void fail(RelayRun& run, const char* doing, const char* end_name, const boost::system::error_code& ec);

// After end of stream from `direction.from`: half-closes `direction.to`.
boost::asio::awaitable<void> finish(RelayRun& run, Direction& direction);

// The two ways to run a direction until end of stream or stop. Neither
// throws for I/O errors; they stop the run instead.
boost::asio::awaitable<void> copy_direction(RelayRun& run, Direction& direction);
boost::asio::awaitable<void> splice_direction(RelayRun& run, Direction& direction);

}  // namespace enclaver::transport::detail
