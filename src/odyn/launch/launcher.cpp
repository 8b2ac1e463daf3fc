#include "odyn/launch/launcher.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include "init/init_lib.hpp"

namespace enclaver::odyn {
namespace {

// In the child: report `message` (and errno's text) to the parent and die.
[[noreturn]] void fail(int report_fd, const std::string& message) {
  (void)!::write(report_fd, message.data(), message.size());
  ::_exit(127);
}

[[noreturn]] void become_app(const LaunchSpec& spec, int report_fd) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
  ::setsid();
  int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0 || ::dup2(null, 0) != 0) fail(report_fd, init::failure("open /dev/null for stdin", errno));
  if (::dup2(spec.output_fd, 1) != 1 || ::dup2(spec.output_fd, 2) != 2)
    fail(report_fd, init::failure("connect stdout and stderr to the console", errno));
  const auto& id = spec.identity;
  if (::setgroups(id.groups.size(), id.groups.data()) != 0) fail(report_fd, init::failure("setgroups", errno));
  if (::setgid(id.gid) != 0) fail(report_fd, init::failure("setgid " + std::to_string(id.gid), errno));
  if (::setuid(id.uid) != 0) fail(report_fd, init::failure("setuid " + std::to_string(id.uid), errno));
  const std::string& dir = spec.working_dir.empty() ? std::string("/") : spec.working_dir;
  if (::chdir(dir.c_str()) != 0) fail(report_fd, init::failure("chdir to the working directory " + dir, errno));
  auto path = env_value(spec.env, "PATH").value_or(std::string(kDockerDefaultPath));
  auto executable = init::find_executable(spec.argv[0], path);
  if (!executable) fail(report_fd, executable.error().message);
  auto argv = spec.argv;
  auto env = spec.env;
  auto exec_argv = init::to_exec_array(argv);
  auto exec_env = init::to_exec_array(env);
  ::syscall(SYS_close_range, 3u, ~0u, 4u /* CLOSE_RANGE_CLOEXEC */);
  ::execve(executable->c_str(), exec_argv.data(), exec_env.data());
  fail(report_fd, init::failure("execve " + *executable, errno));
}

}  // namespace

Result<pid_t> launch_app(const LaunchSpec& spec) {
  if (spec.argv.empty()) return make_error("nothing to run: the app's command is empty");
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return make_error(init::failure("pipe for the app's launch", errno));
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(report[0]);
    ::close(report[1]);
    return make_error(init::failure("fork for the app", errno));
  }
  if (pid == 0) {
    ::close(report[0]);
    become_app(spec, report[1]);
  }
  ::close(report[1]);
  std::string message;
  char buffer[1024];
  for (;;) {
    ssize_t n = ::read(report[0], buffer, sizeof buffer);
    if (n > 0) {
      message.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  ::close(report[0]);
  if (message.empty()) return pid;  // exec closed the pipe: the app runs
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return make_error("cannot start the app " + spec.argv[0] + ": " + message);
}

}  // namespace enclaver::odyn
