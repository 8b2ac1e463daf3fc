#include "sleeve/sim/janitor.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <system_error>

#include "sleeve/sim/memory_cgroup.hpp"

namespace enclaver::sleeve::sim {

Janitor Janitor::start(const std::filesystem::path& cgroup_dir) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "cannot create the janitor's pipe");
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::system_error(errno, std::generic_category(), "cannot start the janitor");
  }
  if (pid == 0) {
    ::setsid();
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) ::signal(sig, SIG_IGN);
    // Hold nothing of the sleeve's but the read end.
    // Hold nothing of the sleeve's but the read end: not its stdout either,
    // or whoever reads the sleeve's output would wait for the janitor too.
    ::dup2(fds[0], 3);
    int null = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; ++fd) ::dup2(null, fd);
    ::syscall(SYS_close_range, 4u, ~0u, 0u);
    char byte;
    for (;;) {
      ssize_t n = ::read(3, &byte, 1);
      if (n == 0 || (n < 0 && errno != EINTR)) break;
    }
    // PID 1 of the enclave dies with the sleeve; its last processes follow
    // within moments. Ten seconds is ample for the kernel to reap them.
    remove_cgroup_dir(cgroup_dir, std::chrono::seconds(10));
    ::_exit(0);
  }
  ::close(fds[0]);
  return Janitor(Fd(fds[1]));
}

}  // namespace enclaver::sleeve::sim
