#include "transport/relay.hpp"

#include <signal.h>

#include <exception>
#include <utility>

#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "transport/relay_run.hpp"

namespace enclaver::transport {
namespace detail {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using std::chrono::steady_clock;

bool sigpipe_ignored() {
  struct sigaction current {};
  return ::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_IGN;
}

std::string describe(steady_clock::duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms >= 1000 && ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

// A direction must not throw (awaitable_operators' && would then cancel the
// other one half-way, with no stats); whatever escapes stops the run. A
// cancelled coroutine throws operation_aborted from its next co_await.
asio::awaitable<void> run_direction(RelayRun& run, Direction& direction, bool splice) {
  try {
    if (splice)
      co_await splice_direction(run, direction);
    else
      co_await copy_direction(run, direction);
  } catch (const boost::system::system_error& e) {
    fail(run, "relaying", direction.from_name, e.code());
  } catch (const std::exception& e) {
    run.stop(std::string(direction.from_name) + "->" + direction.to_name + ": " + e.what());
  }
}

asio::awaitable<void> watch_idle(RelayRun& run) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto limit = run.options.idle_timeout;
  while (!run.stopped) {
    timer.expires_at(run.last_activity + limit);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    // Cancelled: both directions ended and || cancels the watchdog.
    if (ec || run.stopped) co_return;
    if (steady_clock::now() - run.last_activity >= limit) {
      run.stop("idle for " + describe(limit), /*timed_out=*/true);
      co_return;
    }
  }
}

}  // namespace

RelayRun::RelayRun(RelayEnd& a_end, RelayEnd& b_end, const RelayOptions& relay_options)
    : a(a_end), b(b_end), options(relay_options), guard_sigpipe(!sigpipe_ignored()),
      last_activity(steady_clock::now()) {}

void RelayRun::stop(std::string why, bool timed_out) {
  if (stopped) return;
  stopped = true;
  stats.reset = true;
  stats.timed_out = timed_out;
  stats.error = std::move(why);
  a.abort();
  b.abort();
}

void fail(RelayRun& run, const char* doing, const char* end_name, const boost::system::error_code& ec) {
  if (run.stopped) return;
  if (ec == boost::asio::error::operation_aborted) {
    run.stop("cancelled");
    return;
  }
  run.stop(std::string(doing) + " " + end_name + ": " + ec.message());
}

boost::asio::awaitable<void> finish(RelayRun& run, Direction& direction) {
  auto ec = co_await direction.to.half_close();
  if (ec) fail(run, "half-closing", direction.to_name, ec);
}

boost::asio::awaitable<RelayStats> relay_ends(RelayEnd& a, RelayEnd& b, RelayOptions options) {
  RelayRun run(a, b, options);
  const bool splice = options.allow_splice && a.socket_fd() >= 0 && b.socket_fd() >= 0;
  Direction a_to_b{a, b, run.stats.a_to_b, "a", "b"};
  Direction b_to_a{b, a, run.stats.b_to_a, "b", "a"};
  try {
    auto both = run_direction(run, a_to_b, splice) && run_direction(run, b_to_a, splice);
    if (options.idle_timeout > steady_clock::duration::zero())
      co_await (std::move(both) || watch_idle(run));
    else
      co_await std::move(both);
  } catch (const boost::system::system_error& e) {
    // The relay was cancelled before it started (operation_aborted).
    fail(run, "relaying", "a", e.code());
  } catch (const std::exception& e) {
    // Only the machinery (an allocation) can throw here.
    run.stop(e.what());
  }
  run.stats.spliced = a_to_b.spliced && b_to_a.spliced;
  co_return std::move(run.stats);
}

}  // namespace detail

std::string to_string(const RelayStats& stats) {
  std::string line = "a->b " + std::to_string(stats.a_to_b) + " B, b->a " + std::to_string(stats.b_to_a) + " B, " +
                     (stats.spliced ? "spliced" : "copied") + ", ";
  if (!stats.reset) return line + "closed cleanly";
  return line + (stats.timed_out ? "timed out: " : "reset: ") + stats.error;
}

}  // namespace enclaver::transport
