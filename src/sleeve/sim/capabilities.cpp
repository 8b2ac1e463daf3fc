#include "sleeve/sim/capabilities.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace enclaver::sleeve::sim {
namespace {

constexpr int kDropped[] = {
    CAP_MKNOD,          // 27: no host device nodes
    CAP_SYS_MODULE,     // 16
    CAP_SYS_RAWIO,      // 17
    CAP_SYS_PACCT,      // 20
    CAP_SYS_TIME,       // 25
    CAP_SYS_TTY_CONFIG, // 26
    CAP_AUDIT_WRITE,    // 29
    CAP_AUDIT_CONTROL,  // 30
    CAP_MAC_OVERRIDE,   // 32
    CAP_MAC_ADMIN,      // 33
    CAP_SYSLOG,         // 34
    CAP_WAKE_ALARM,     // 35
    CAP_BLOCK_SUSPEND,  // 36
    CAP_AUDIT_READ,     // 37
    CAP_PERFMON,        // 38
    CAP_BPF,            // 39
};

}  // namespace

std::span<const int> dropped_capabilities() { return kDropped; }

Result<bool> drop_capabilities() {
  for (int cap : kDropped) {
    // A kernel older than the capability does not know it: nothing to drop.
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
      return make_error("cannot drop capability " + std::to_string(cap) + " from the bounding set: " + std::strerror(errno));
  }
  (void)::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (::syscall(SYS_capget, &header, data) != 0) return make_error(std::string("capget failed: ") + std::strerror(errno));
  for (int cap : kDropped) {
    auto& word = data[cap / 32];
    std::uint32_t bit = 1u << (cap % 32);
    word.effective &= ~bit;
    word.permitted &= ~bit;
    word.inheritable &= ~bit;
  }
  if (::syscall(SYS_capset, &header, data) != 0) return make_error(std::string("capset failed: ") + std::strerror(errno));
  return true;
}

}  // namespace enclaver::sleeve::sim
