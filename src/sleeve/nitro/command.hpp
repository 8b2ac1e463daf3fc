// Running a helper program (nitro-cli) from the sleeve's event loop: its
// output captured, its end awaited without blocking the loop, bounded in
// time.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace enclaver::sleeve {

struct CommandResult {
  int exit_code = 0;  // 128+N when killed by signal N
  std::string out;
  std::string err;
};

// Runs argv[0] (looked up on PATH) with stdin from /dev/null and the
// sleeve's environment. Throws std::system_error when it cannot be started
// (not installed: ENOENT) and std::runtime_error, after killing it, when it
// has not finished within `timeout`.
boost::asio::awaitable<CommandResult> run_command(std::vector<std::string> argv, std::chrono::steady_clock::duration timeout);

}  // namespace enclaver::sleeve
