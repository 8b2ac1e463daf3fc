// The sleeve's side of odyn's status and log streams (wire.md): connect
// while the enclave boots (retrying), follow, reconnect if a stream drops.
// The log is printed once: after a reconnect, odyn sends its backlog again,
// and the part that overlaps what was already printed is skipped.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "odyn/status.hpp"
#include "transport/vsock.hpp"

namespace enclaver::sleeve {

// The length of the longest suffix of `printed` that is a prefix of
// `incoming` (KMP, linear): what a reconnect's backlog repeats.
std::size_t log_overlap(std::string_view printed, std::string_view incoming);

// Remembers the tail of what was printed and drops what a backlog repeats.
class LogDeduplicator {
 public:
  explicit LogDeduplicator(std::size_t memory = 4 << 20) : memory_(memory) {}
  // A new connection starts: its first bytes may repeat the tail.
  void reconnected() { pending_ = true; }
  // Bytes of the current connection; returns what to print. While a
  // backlog is pending, bytes are held until `complete` (the burst ended).
  std::string feed(std::string_view bytes, bool complete);
  bool holding() const { return pending_ && !held_.empty(); }

 private:
  std::size_t memory_;
  std::string tail_;
  std::string held_;
  bool pending_ = false;
  bool first_ = true;
};

using StatusHandler = std::function<void(const odyn::Status&)>;
using KeepGoing = std::function<bool()>;

// Follows the status stream until a final status arrives or keep_going()
// is false; calls on_status for each line (a malformed line is reported
// through on_error and skipped).
boost::asio::awaitable<void> follow_status(transport::Vsock vsock, transport::VsockAddress address, StatusHandler on_status,
                                           std::function<void(const std::string&)> on_error, KeepGoing keep_going);

// Copies the log stream to `out_fd` until keep_going() is false after the
// stream ended (EOF or error).
boost::asio::awaitable<void> follow_log(transport::Vsock vsock, transport::VsockAddress address, int out_fd, KeepGoing keep_going);

}  // namespace enclaver::sleeve
