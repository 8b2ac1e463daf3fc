// Every relayed connection holds descriptors (two sockets, two pipes), so
// the programs that relay raise their open-file limit at start.
#pragma once

#include <sys/resource.h>

namespace enclaver {

// Raises RLIMIT_NOFILE as far as allowed: to `wanted` for both limits when
// the process may raise its hard limit (CAP_SYS_RESOURCE; the kernel caps it
// at fs.nr_open), else the soft limit to the hard one. Returns the soft
// limit in force afterwards.
inline rlim_t raise_open_file_limit(rlim_t wanted = 1 << 20) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_max < wanted) {
    rlimit more{wanted, wanted};
    if (::setrlimit(RLIMIT_NOFILE, &more) == 0) return wanted;
  }
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  ::getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

}  // namespace enclaver
