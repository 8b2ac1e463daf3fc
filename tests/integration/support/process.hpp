// Runs a program as a child process, as a user would from a shell, and
// captures what it printed. For integration tests of the programs.
#pragma once

#include <string>
#include <vector>

namespace enclaver::testing {

struct ProcessResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with the arguments, feeding `input` on stdin. Fails
// the test run (throws) if the program cannot be started.
ProcessResult run(const std::vector<std::string>& argv, const std::string& input = "");

// A program running in the background for the length of a test (a server).
// The destructor sends SIGTERM and waits, so nothing outlives the test.
class Background {
 public:
  explicit Background(const std::vector<std::string>& argv);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  // Sends SIGTERM and returns the exit code (128+N for a signal).
  int stop();
  int pid() const { return pid_; }

 private:
  int pid_ = -1;
};

// Path of a built program (enclaver, odyn, ...).
std::string program(const std::string& name);

// Path of a file under tests/fixtures.
std::string fixture(const std::string& relative);

}  // namespace enclaver::testing
