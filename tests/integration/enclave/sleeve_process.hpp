// `enclaver-run --simulate` as a child process of a test: its stderr is
// collected by a thread so that the test can wait for a line (the banner
// names the CID, the enclave's PID and the vsock directory), signal it, and
// wait for its exit code. The destructor SIGKILLs and reaps what is left.
#pragma once

#include <algorithm>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace enclaver::testing {

class SleeveProcess {
 public:
  // With `capture_stdout`, its stdout is collected too (stdout_text());
  // otherwise it is the test's.
  explicit SleeveProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env_extra = {},
                         bool capture_stdout = false) {
    int err[2], out[2] = {-1, -1};
    if (::pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    if (capture_stdout && ::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    if (capture_stdout) posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> env_strings;
    // env_extra wins: a variable it sets is left out of ours.
    auto overridden = [&](std::string_view e) {
      const auto key = e.substr(0, e.find('=') + 1);
      return std::any_of(env_extra.begin(), env_extra.end(), [&](const std::string& x) { return x.starts_with(key); });
    };
    for (char** e = environ; *e; ++e)
      if (!overridden(*e)) env_strings.emplace_back(*e);
    env_strings.insert(env_strings.end(), env_extra.begin(), env_extra.end());
    std::vector<char*> env;
    for (auto& e : env_strings) env.push_back(e.data());
    env.push_back(nullptr);
    int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(err[1]);
    if (capture_stdout) ::close(out[1]);
    if (rc != 0) {
      ::close(err[0]);
      if (capture_stdout) ::close(out[0]);
      throw std::runtime_error("cannot start " + argv[0]);
    }
    reader_ = std::thread([this, fd = err[0]] { collect(fd, err_, &closed_, nullptr); });
    if (capture_stdout) out_reader_ = std::thread([this, fd = out[0]] { collect(fd, out_, nullptr, &stdout_held_); });
  }
  ~SleeveProcess() {
    if (!exit_code_) {
      ::kill(pid_, SIGKILL);
      reap();
    }
    if (reader_.joinable()) reader_.join();
    if (out_reader_.joinable()) out_reader_.join();
  }
  SleeveProcess(const SleeveProcess&) = delete;
  SleeveProcess& operator=(const SleeveProcess&) = delete;

  pid_t pid() const { return pid_; }

  // The first match of `pattern` in stderr (its group 1, or the whole match),
  // waiting up to `timeout`; nullopt if it never came.
  std::optional<std::string> wait_for(const std::string& pattern, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::regex re(pattern);
    std::unique_lock lock(mutex_);
    std::optional<std::string> found;
    changed_.wait_for(lock, timeout, [&] {
      std::smatch m;
      if (std::regex_search(err_, m, re)) found = m.size() > 1 ? m[1].str() : m[0].str();
      return found.has_value() || closed_;
    });
    if (!found) {
      std::smatch m;
      if (std::regex_search(err_, m, re)) found = m.size() > 1 ? m[1].str() : m[0].str();
    }
    return found;
  }

  std::string stderr_text() {
    std::lock_guard lock(mutex_);
    return err_;
  }
  std::string stdout_text() {
    std::lock_guard lock(mutex_);
    return out_;
  }

  void signal(int sig) { ::kill(pid_, sig); }

  // While held, its stdout is not read: a slow consumer of the log.
  void hold_stdout(bool held) { stdout_held_ = held; }

  // Its exit code (128+N for signal N), or nullopt if it is still running after `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!exit_code_) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (reader_.joinable()) reader_.join();
    if (out_reader_.joinable()) out_reader_.join();
    return exit_code_;
  }

 private:
  void collect(int fd, std::string& into, bool* closed, const std::atomic<bool>* held) {
    char buffer[4096];
    for (;;) {
      if (held && *held) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard lock(mutex_);
      if (n <= 0) {
        if (closed) *closed = true;
        changed_.notify_all();
        break;
      }
      into.append(buffer, static_cast<std::size_t>(n));
      changed_.notify_all();
    }
    ::close(fd);
  }

  void reap() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::thread reader_, out_reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string err_, out_;
  bool closed_ = false;
  std::atomic<bool> stdout_held_{false};
};

}  // namespace enclaver::testing
