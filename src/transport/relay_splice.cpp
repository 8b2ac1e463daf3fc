// The zero-copy direction: splice(2) from the source socket into this
// direction's pipe, then from the pipe into the destination socket. The
// sockets and the pipe are non-blocking; EAGAIN means wait for readiness
// through asio's reactor (async_wait) and try again, so a direction costs a
// coroutine, never a thread.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <optional>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "common/fd.hpp"
#include "transport/relay_run.hpp"

namespace enclaver::transport::detail {
namespace {

using boost::asio::socket_base;

// A direction whose source never runs dry (and whose destination keeps
// up) would never wait, and so never let the other coroutines on its
// executor run (other connections, timers): it yields after this many bytes.
constexpr std::size_t kBytesBeforeYielding = 1 << 20;

// Flags for both splices: move pages rather than copy where the kernel can;
// never sleep in the call, the reactor does the waiting.
constexpr unsigned kSpliceFlags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;

boost::system::error_code errno_code(int err) { return {err, boost::system::system_category()}; }

struct Pipe {
  Fd read_end;
  Fd write_end;
  std::size_t capacity = 0;
};

// nullopt when the process or the system is out of descriptors: the
// direction then copies instead of failing the connection.
std::optional<Pipe> open_pipe(std::size_t wanted) {
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return std::nullopt;
  Pipe pipe{Fd(fds[0]), Fd(fds[1])};
  // Refused beyond fs.pipe-max-size or the user's pipe budget: the pipe
  // keeps the size it was given, which works as well, in smaller steps.
  int size = wanted > 0 ? ::fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(std::min<std::size_t>(wanted, INT_MAX))) : -1;
  if (size <= 0) size = ::fcntl(fds[1], F_GETPIPE_SZ);
  pipe.capacity = size > 0 ? static_cast<std::size_t>(size) : 64 * 1024;
  return pipe;
}

// splice(2) into a socket whose peer is gone raises SIGPIPE (it has no
// MSG_NOSIGNAL). While this lives, SIGPIPE is blocked on this thread; one
// that a failed splice raised is then taken off the pending set before the
// old mask comes back. It must not live across a co_await: other code runs
// on this thread then.
class SigpipeBlock {
 public:
  explicit SigpipeBlock(bool active) : active_(active) {
    if (!active_) return;
    sigemptyset(&sigpipe_);
    sigaddset(&sigpipe_, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &sigpipe_, &saved_);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;
  ~SigpipeBlock() {
    if (active_) ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
  }

  // After a failed write. Not only after EPIPE: a splice that moved some
  // bytes before its socket broke returns the count, with SIGPIPE raised.
  void discard_raised() {
    if (!active_) return;
    const timespec no_wait{};
    (void)::sigtimedwait(&sigpipe_, nullptr, &no_wait);
  }

 private:
  bool active_;
  sigset_t sigpipe_{};
  sigset_t saved_{};
};

struct Drained {
  std::size_t bytes = 0;
  int error = 0;  // 0: the pipe is empty; EAGAIN: `to` is full; else what failed
};

// Moves the pipe's `in_pipe` bytes into `to` until the pipe is empty or the
// socket's send buffer is full.
Drained drain(int pipe_read, int to, std::size_t in_pipe, bool guard_sigpipe) {
  SigpipeBlock block(guard_sigpipe);
  Drained result;
  while (result.bytes < in_pipe) {
    const ssize_t n = ::splice(pipe_read, nullptr, to, nullptr, in_pipe - result.bytes, kSpliceFlags);
    if (n > 0) {
      result.bytes += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    result.error = n < 0 ? errno : EIO;  // 0 from a non-empty pipe we still write to cannot happen
    if (result.error != EAGAIN) block.discard_raised();
    break;
  }
  return result;
}

// A destination the kernel cannot splice into (EINVAL) before it took any
// byte: what the pipe holds goes out through a buffer, then the direction
// copies.
boost::asio::awaitable<void> fall_back_with(RelayRun& run, Direction& direction, Pipe& pipe, std::size_t in_pipe) {
  direction.spliced = false;
  std::vector<std::byte> held(in_pipe);
  const ssize_t n = ::read(pipe.read_end.get(), held.data(), held.size());
  if (n != static_cast<ssize_t>(in_pipe)) {
    fail(run, "reading", "the relay's pipe", errno_code(n < 0 ? errno : EIO));
    co_return;
  }
  boost::system::error_code ec;
  const std::size_t written = co_await direction.to.write(boost::asio::buffer(held), ec);
  run.moved(direction.moved, written);
  if (run.stopped) co_return;
  if (ec) {
    fail(run, "writing", direction.to_name, ec);
    co_return;
  }
  co_await copy_direction(run, direction);
}

// Moves the `in_pipe` bytes the pipe holds into `to`, waiting while its
// send buffer is full. false: the direction ended instead (it failed, the
// run stopped, or the rest went out as a copy).
boost::asio::awaitable<bool> empty_pipe(RelayRun& run, Direction& direction, Pipe& pipe, std::size_t in_pipe,
                                        bool& spliced_out) {
  while (in_pipe > 0) {
    const Drained drained = drain(pipe.read_end.get(), direction.to.socket_fd(), in_pipe, run.guard_sigpipe);
    if (drained.bytes > 0) {
      in_pipe -= drained.bytes;
      spliced_out = true;
      run.moved(direction.moved, drained.bytes);
    }
    if (drained.error == 0) break;
    if (drained.error == EAGAIN) {
      auto ec = co_await direction.to.wait(socket_base::wait_write);
      if (run.stopped) co_return false;
      if (ec) {
        fail(run, "writing", direction.to_name, ec);
        co_return false;
      }
      continue;
    }
    if (drained.error == EINVAL && !spliced_out) {
      co_await fall_back_with(run, direction, pipe, in_pipe);
      co_return false;
    }
    fail(run, "writing", direction.to_name, errno_code(drained.error));
    co_return false;
  }
  co_return true;
}

}  // namespace

boost::asio::awaitable<void> splice_direction(RelayRun& run, Direction& direction) {
  // The pipe is opened when the source first has something (bytes or its
  // end): until then a connection holds only its two sockets, which is what
  // lets a proxy hold many idle connections.
  direction.spliced = true;
  {
    auto ec = co_await direction.from.wait(socket_base::wait_read);
    if (run.stopped) co_return;
    if (ec) {
      fail(run, "reading", direction.from_name, ec);
      co_return;
    }
  }
  auto pipe = open_pipe(run.options.pipe_size);
  if (!pipe) {
    direction.spliced = false;
    co_await copy_direction(run, direction);
    co_return;
  }
  bool spliced_in = false, spliced_out = false;
  std::size_t since_wait = 0;
  for (;;) {
    if (since_wait >= kBytesBeforeYielding) {
      since_wait = 0;
      co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    }
    if (run.stopped) co_return;
    // The pipe is empty here: fill it with what the source has, up to its
    // size, then drain it completely before reading again. While the
    // destination is slow, bytes wait in the source's receive buffer, and
    // TCP flow control (or the Unix socket's send limit) stops the writer.
    const ssize_t n =
        ::splice(direction.from.socket_fd(), nullptr, pipe->write_end.get(), nullptr, pipe->capacity, kSpliceFlags);
    if (n == 0) {
      co_await finish(run, direction);
      co_return;
    }
    if (n > 0) {
      spliced_in = true;
      since_wait += static_cast<std::size_t>(n);
      if (!co_await empty_pipe(run, direction, *pipe, static_cast<std::size_t>(n), spliced_out)) co_return;
      continue;
    }
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN) {
      since_wait = 0;
      auto ec = co_await direction.from.wait(socket_base::wait_read);
      if (run.stopped) co_return;
      if (ec) {
        fail(run, "reading", direction.from_name, ec);
        co_return;
      }
      continue;
    }
    if (err == EINVAL && !spliced_in) {  // a socket the kernel cannot splice from
      direction.spliced = false;
      pipe.reset();
      co_await copy_direction(run, direction);
      co_return;
    }
    fail(run, "reading", direction.from_name, errno_code(err));
    co_return;
  }
}

}  // namespace enclaver::transport::detail
