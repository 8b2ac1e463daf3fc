// Starting the app as `docker run` would (runtime issue): its argv, found on
// its own PATH; its environment exactly; its user, groups and working
// directory; stdout and stderr into odyn's console; stdin from /dev/null; in
// a session of its own, so that odyn alone decides which signals reach it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.hpp"
#include "odyn/launch/image_config.hpp"

namespace enclaver::odyn {

struct LaunchSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  Identity identity;
  std::string working_dir = "/";
  int output_fd = -1;  // becomes the app's stdout and stderr
};

// Forks and execs. The child reports a failure before exec (user, directory,
// executable not found, exec error) through a close-on-exec pipe, so the
// error comes back here with its reason; the failed child is reaped.
Result<pid_t> launch_app(const LaunchSpec& spec);

}  // namespace enclaver::odyn
