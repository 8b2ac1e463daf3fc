// The simulator's sans-IO parts: cgroup texts, where the memory cgroup
// goes, the dropped capabilities, exit codes; and the CID leases.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/wait.h>

#include <algorithm>

#include "sleeve/sim/capabilities.hpp"
#include "sleeve/sim/cid_lease.hpp"
#include "sleeve/sim/memory_cgroup.hpp"
#include "sleeve/sim/simulated_enclave.hpp"

namespace enclaver::sleeve::sim {
namespace {

using ::testing::HasSubstr;

constexpr const char* kHybridMountinfo =
    "25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "31 25 0:26 / /sys/fs/cgroup rw shared:9 - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:27 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw\n"
    "35 31 0:30 / /sys/fs/cgroup/memory rw shared:14 - cgroup cgroup rw,memory\n"
    "36 31 0:31 / /sys/fs/cgroup/cpu\\040set rw shared:15 - cgroup cgroup rw,cpuset\n";

constexpr const char* kHybridSelf =
    "9:name=systemd:/\n4:memory:/process_api/ba27\n3:cpuset:/\n0::/\n";

bool no_v2_memory(const std::filesystem::path&) { return false; }
bool v2_memory(const std::filesystem::path&) { return true; }

TEST(SimCgroup, ParsesProcCgroupLines) {
  auto m = parse_proc_cgroup(kHybridSelf);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[1].hierarchy, 4u);
  EXPECT_EQ(m[1].controllers, std::vector<std::string>{"memory"});
  EXPECT_EQ(m[1].path, "/process_api/ba27");
  EXPECT_EQ(m[0].controllers, std::vector<std::string>{"name=systemd"});
  EXPECT_TRUE(m[3].controllers.empty());
  EXPECT_EQ(m[3].path, "/");
}

TEST(SimCgroup, ParsesCgroupMountsAndUnescapesPaths) {
  auto mounts = parse_cgroup_mounts(kHybridMountinfo);
  ASSERT_EQ(mounts.size(), 3u);
  EXPECT_TRUE(mounts[0].v2);
  EXPECT_EQ(mounts[0].mount_point, "/sys/fs/cgroup/unified");
  EXPECT_EQ(mounts[1].options, (std::vector<std::string>{"rw", "memory"}));
  EXPECT_EQ(mounts[2].mount_point, "/sys/fs/cgroup/cpu set");
}

TEST(SimCgroup, UsesV1MemoryWhenTheUnifiedHierarchyHasNoMemoryController) {
  auto place = find_memory_cgroup(kHybridSelf, kHybridMountinfo, no_v2_memory);
  ASSERT_TRUE(place) << place.error().message;
  EXPECT_FALSE(place->v2);
  EXPECT_EQ(place->parent, "/sys/fs/cgroup/memory/process_api/ba27");
}

TEST(SimCgroup, PrefersV2WithTheMemoryController) {
  auto place = find_memory_cgroup("0::/user.slice/session-1.scope\n",
                                  "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n", v2_memory);
  ASSERT_TRUE(place) << place.error().message;
  EXPECT_TRUE(place->v2);
  EXPECT_EQ(place->parent, "/sys/fs/cgroup/user.slice/session-1.scope");
}

TEST(SimCgroup, AContainersCgroupIsRelativeToItsMountRoot) {
  // A container sees a bind of its own cgroup; /proc/self/cgroup may still
  // name the full path.
  auto place = find_memory_cgroup("0::/docker/abc\n", "30 1 0:26 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", v2_memory);
  ASSERT_TRUE(place) << place.error().message;
  EXPECT_EQ(place->parent, "/sys/fs/cgroup");
}

TEST(SimCgroup, NoMemoryHierarchyIsAnError) {
  auto place = find_memory_cgroup("0::/\n", "32 31 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n", no_v2_memory);
  ASSERT_FALSE(place);
  EXPECT_THAT(place.error().message, HasSubstr("memory controller"));
}

TEST(SimCgroup, CountsOomKillsInBothFormats) {
  EXPECT_EQ(parse_oom_kills("low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n"), 2u);
  EXPECT_EQ(parse_oom_kills("oom_kill_disable 0\nunder_oom 0\noom_kill 7\n"), 7u);
  EXPECT_EQ(parse_oom_kills("oom_kill_disable 0\nunder_oom 0\n"), 0u);
}

TEST(SimCapabilities, DropsHostWideOnesAndKeepsWhatPid1Needs) {
  auto dropped = dropped_capabilities();
  auto has = [&](int cap) { return std::find(dropped.begin(), dropped.end(), cap) != dropped.end(); };
  EXPECT_TRUE(has(CAP_SYS_TIME));
  EXPECT_TRUE(has(CAP_SYS_MODULE));
  EXPECT_TRUE(has(CAP_MKNOD));
  EXPECT_FALSE(has(CAP_SYS_ADMIN));
  EXPECT_FALSE(has(CAP_NET_ADMIN));
  EXPECT_FALSE(has(CAP_SETUID));
}

TEST(SimExit, ExitCodesFollowTheShellConvention) {
  EXPECT_EQ((EnclaveExit{3 << 8, false}).exit_code(), 3);
  EXPECT_EQ((EnclaveExit{SIGKILL, false}).exit_code(), 137);
  EXPECT_THAT((EnclaveExit{SIGSEGV, false}).describe(64), HasSubstr("killed by signal 11 (SIGSEGV)"));
  auto oom = EnclaveExit{SIGKILL, true}.describe(64);
  EXPECT_THAT(oom, HasSubstr("OOM killer"));
  EXPECT_THAT(oom, HasSubstr("64 MiB"));
}

TEST(SimCid, LeasesAreExclusiveAndFreedWithTheirHolder) {
  auto first = CidLease::acquire(900000, 8);
  auto second = CidLease::acquire(900000, 8);
  EXPECT_EQ(first.cid(), 900000u);
  EXPECT_EQ(second.cid(), 900001u);
  EXPECT_THROW(CidLease::acquire_exactly(900000), std::runtime_error);
  { auto third = CidLease::acquire_exactly(900002); }
  EXPECT_EQ(CidLease::acquire_exactly(900002).cid(), 900002u) << "a released CID is free again";
}

TEST(SimCid, AllTakenSaysSo) {
  auto only = CidLease::acquire(900100, 1);
  try {
    CidLease::acquire(900100, 1);
    FAIL() << "acquired a taken CID";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("are taken"));
  }
}

}  // namespace
}  // namespace enclaver::sleeve::sim
