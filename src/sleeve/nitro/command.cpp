#include "sleeve/nitro/command.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/fd.hpp"
#include "init/init_lib.hpp"

extern char** environ;

namespace enclaver::sleeve {
namespace {

using boost::asio::use_awaitable;

std::pair<Fd, Fd> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  return {Fd(fds[0]), Fd(fds[1])};
}

boost::asio::awaitable<void> read_all(boost::asio::posix::stream_descriptor& pipe, std::string& into) {
  char buffer[8192];
  for (;;) {
    boost::system::error_code ec;
    const std::size_t n = co_await pipe.async_read_some(boost::asio::buffer(buffer), boost::asio::redirect_error(use_awaitable, ec));
    into.append(buffer, n);
    if (ec) co_return;
  }
}

}  // namespace

boost::asio::awaitable<CommandResult> run_command(std::vector<std::string> argv, std::chrono::steady_clock::duration timeout) {
  using namespace boost::asio::experimental::awaitable_operators;
  auto executor = co_await boost::asio::this_coro::executor;
  auto [out_read, out_write] = make_pipe();
  auto [err_read, err_write] = make_pipe();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), STDERR_FILENO);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "cannot run " + argv[0]);
  out_write.reset();
  err_write.reset();

  CommandResult result;
  boost::asio::posix::stream_descriptor out(executor, out_read.release()), err(executor, err_read.release());
  boost::asio::steady_timer timer(executor, timeout);
  auto outcome = co_await ((read_all(out, result.out) && read_all(err, result.err)) || timer.async_wait(use_awaitable));
  const bool timed_out = outcome.index() == 1;
  if (timed_out) ::kill(pid, SIGKILL);
  // Both pipes reached their end: the program has exited or is about to.
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    throw std::runtime_error(argv[0] + " " + (argv.size() > 1 ? argv[1] : "") + " did not finish within " +
                             std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) + " s");
  result.exit_code = init::shell_exit_code(status);
  co_return result;
}

}  // namespace enclaver::sleeve
