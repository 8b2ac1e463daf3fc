#include "tests/integration/support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace enclaver::testing {
namespace {

void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string(what) + ": " + std::strerror(rc == -1 ? errno : rc));
}

}  // namespace

ProcessResult run(const std::vector<std::string>& argv, const std::string& input) {
  // A child that exits without reading its stdin must fail the write, not kill the test.
  static const bool sigpipe_ignored = (signal(SIGPIPE, SIG_IGN), true);
  (void)sigpipe_ignored;
  int in[2], out[2], err[2];
  check(pipe2(in, O_CLOEXEC), "pipe");
  check(pipe2(out, O_CLOEXEC), "pipe");
  check(pipe2(err, O_CLOEXEC), "pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  check(rc, ("spawn " + argv[0]).c_str());

  ProcessResult result;
  std::size_t written = 0;
  if (input.empty()) close(in[1]);
  else fcntl(in[1], F_SETFL, O_NONBLOCK);
  bool in_open = !input.empty(), out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open || in_open) {
    pollfd fds[3] = {{in_open ? in[1] : -1, POLLOUT, 0}, {out_open ? out[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0 && errno != EINTR) throw std::runtime_error("poll failed");
    if (in_open && fds[0].revents) {
      const ssize_t n = write(in[1], input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if (n < 0 || written == input.size()) { close(in[1]); in_open = false; }
    }
    for (int i = 1; i <= 2; ++i) {
      bool& open = i == 1 ? out_open : err_open;
      if (!open || !fds[i].revents) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) { close(fds[i].fd); open = false; }
      else (i == 1 ? result.out : result.err).append(buf, static_cast<std::size_t>(n));
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

Background::Background(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  check(posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ), ("spawn " + argv[0]).c_str());
  pid_ = pid;
}

Background::~Background() { stop(); }

int Background::stop() {
  if (pid_ < 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {}
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string program(const std::string& name) { return std::string(ENCLAVER_BIN_DIR) + "/" + name; }

std::string fixture(const std::string& relative) { return std::string(ENCLAVER_SOURCE_DIR) + "/tests/fixtures/" + relative; }

}  // namespace enclaver::testing
