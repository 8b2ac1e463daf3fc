#include "sleeve/follow.hpp"

#include "transport/accept.hpp"

#include <unistd.h>

#include <vector>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

namespace enclaver::sleeve {
namespace {

using boost::asio::use_awaitable;
using namespace boost::asio::experimental::awaitable_operators;

// Connects, retrying every 50 ms while keep_going().
boost::asio::awaitable<std::optional<transport::Socket>> connect_retrying(const transport::Vsock& vsock,
                                                                          transport::VsockAddress address,
                                                                          const KeepGoing& keep_going) {
  while (keep_going()) {
    try {
      co_return co_await vsock.connect(address);
    } catch (const std::system_error&) {
    }
    co_await transport::sleep_for(std::chrono::milliseconds(50));
  }
  co_return std::nullopt;
}

void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // stdout is gone: nothing more to show
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Where the log goes. A pipe or a terminal is written asynchronously, so a
// slow consumer holds back only the log (odyn's ring then drops, visibly),
// never the sleeve's event loop and its proxies; a regular file cannot be
// polled and is written directly (it does not block for long).
class LogOutput {
 public:
  LogOutput(const boost::asio::any_io_executor& executor, int fd) : fd_(fd), stream_(executor) {
    int copy = ::dup(fd);
    boost::system::error_code ec;
    if (copy >= 0) stream_.assign(copy, ec);
    if (ec) ::close(copy);
  }
  boost::asio::awaitable<void> write(std::string_view bytes) {
    if (bytes.empty()) co_return;
    if (!stream_.is_open()) {
      write_all(fd_, bytes);
      co_return;
    }
    boost::system::error_code ec;  // stdout gone: nothing more to show
    co_await boost::asio::async_write(stream_, boost::asio::buffer(bytes.data(), bytes.size()),
                                      boost::asio::redirect_error(use_awaitable, ec));
  }

 private:
  int fd_;
  boost::asio::posix::stream_descriptor stream_;
};

}  // namespace

std::size_t log_overlap(std::string_view printed, std::string_view incoming) {
  if (printed.empty() || incoming.empty()) return 0;
  // Only the last |incoming| bytes of printed can overlap.
  if (printed.size() > incoming.size()) printed = printed.substr(printed.size() - incoming.size());
  std::vector<std::size_t> failure(incoming.size(), 0);
  for (std::size_t i = 1, k = 0; i < incoming.size(); ++i) {
    while (k > 0 && incoming[i] != incoming[k]) k = failure[k - 1];
    if (incoming[i] == incoming[k]) ++k;
    failure[i] = k;
  }
  std::size_t matched = 0;
  for (char c : printed) {
    while (matched > 0 && (matched == incoming.size() || c != incoming[matched])) matched = failure[matched - 1];
    if (c == incoming[matched]) ++matched;
  }
  return matched;
}

std::string LogDeduplicator::feed(std::string_view bytes, bool complete) {
  std::string out;
  if (pending_ && !first_) {
    held_.append(bytes);
    if (!complete && held_.size() < tail_.size()) return out;
    out = held_.substr(log_overlap(tail_, held_));
    held_.clear();
    pending_ = false;
  } else {
    pending_ = false;
    out.assign(bytes);
  }
  first_ = false;
  tail_.append(out);
  if (tail_.size() > memory_) tail_.erase(0, tail_.size() - memory_);
  return out;
}

boost::asio::awaitable<void> follow_status(transport::Vsock vsock, transport::VsockAddress address, StatusHandler on_status,
                                           std::function<void(const std::string&)> on_error, KeepGoing keep_going) {
  bool final = false;
  while (!final && keep_going()) {
    auto socket = co_await connect_retrying(vsock, address, keep_going);
    if (!socket) co_return;
    std::string buffer;
    char chunk[4096];
    for (;;) {
      boost::system::error_code ec;
      std::size_t n = co_await socket->async_read_some(boost::asio::buffer(chunk), boost::asio::redirect_error(use_awaitable, ec));
      buffer.append(chunk, n);
      std::size_t newline;
      while ((newline = buffer.find('\n')) != std::string::npos) {
        auto status = odyn::decode_status_line(std::string_view(buffer).substr(0, newline));
        buffer.erase(0, newline + 1);
        if (!status) {
          on_error(status.error().message);
          continue;
        }
        on_status(*status);
        if (odyn::is_final(*status)) final = true;
      }
      if (buffer.size() > odyn::kMaxStatusLine) {
        on_error("status line longer than " + std::to_string(odyn::kMaxStatusLine) + " bytes; skipped");
        buffer.clear();
      }
      if (ec || final) break;
    }
  }
}

boost::asio::awaitable<void> follow_log(transport::Vsock vsock, transport::VsockAddress address, int out_fd, KeepGoing keep_going) {
  LogDeduplicator dedup;
  LogOutput out(co_await boost::asio::this_coro::executor, out_fd);
  std::vector<char> chunk(64 * 1024);
  while (keep_going()) {
    auto socket = co_await connect_retrying(vsock, address, keep_going);
    if (!socket) co_return;
    dedup.reconnected();
    for (;;) {
      boost::system::error_code ec;
      std::size_t n = 0;
      if (dedup.holding()) {
        // A held backlog is complete when no byte follows for a moment.
        boost::asio::steady_timer quiet(co_await boost::asio::this_coro::executor, std::chrono::milliseconds(200));
        auto outcome = co_await (socket->async_read_some(boost::asio::buffer(chunk), boost::asio::redirect_error(use_awaitable, ec)) ||
                                 quiet.async_wait(use_awaitable));
        if (outcome.index() == 1) {
          co_await out.write(dedup.feed({}, true));
          continue;
        }
        n = std::get<0>(outcome);
      } else {
        n = co_await socket->async_read_some(boost::asio::buffer(chunk), boost::asio::redirect_error(use_awaitable, ec));
      }
      co_await out.write(dedup.feed({chunk.data(), n}, static_cast<bool>(ec)));
      if (ec) break;
    }
  }
}

}  // namespace enclaver::sleeve
