#include <gtest/gtest.h>

#include "common/temp_dir.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "init/init_lib.hpp"

namespace enclaver::init {
namespace {

namespace fs = std::filesystem;
using Lines = std::vector<std::string>;

// A fresh temporary directory, removed at the end of the test.
// The shared TempDir, plus helpers to lay out fake PATH directories.
class TempDir : public enclaver::TempDir {
 public:
  std::string str() const { return path().string(); }

  // Creates a file (and its directory) with `content` and `mode`.
  std::string file(const std::string& rel, mode_t mode, const std::string& content = "#!/bin/sh\n") const {
    const fs::path p = path() / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    ::chmod(p.c_str(), mode);
    return p.string();
  }
};

// --- /cmd and /env -----------------------------------------------------------

TEST(ParseLines, OneElementPerLineWithTheNewlineDropped) {
  EXPECT_EQ(parse_lines("node\nserver.js\n"), (Lines{"node", "server.js"}));
  EXPECT_EQ(parse_lines("A=1\nB=two words\n"), (Lines{"A=1", "B=two words"}));
}

TEST(ParseLines, LastLineWithoutNewlineIsStillAnElement) {
  EXPECT_EQ(parse_lines("node\nserver.js"), (Lines{"node", "server.js"}));
  EXPECT_EQ(parse_lines("sh"), (Lines{"sh"}));
}

TEST(ParseLines, EmptyTextHasNoElements) { EXPECT_TRUE(parse_lines("").empty()); }

TEST(ParseLines, EmptyLinesAreEmptyElements) {
  EXPECT_EQ(parse_lines("\n"), (Lines{""}));
  EXPECT_EQ(parse_lines("echo\n\nx\n"), (Lines{"echo", "", "x"}));
  EXPECT_EQ(parse_lines("a\n\n"), (Lines{"a", ""}));
}

TEST(ParseLines, NoQuotingNoEscapesNoTrimming) {
  EXPECT_EQ(parse_lines("sh\n-c\necho \"a b\" 'c' \\n $HOME\n"),
            (Lines{"sh", "-c", "echo \"a b\" 'c' \\n $HOME"}));
  EXPECT_EQ(parse_lines("  lead\ttab  \n"), (Lines{"  lead\ttab  "}));
  EXPECT_EQ(parse_lines("K==v=\n"), (Lines{"K==v="}));
}

TEST(ParseLines, CarriageReturnIsKept) {
  EXPECT_EQ(parse_lines("node\r\nserver.js\r\n"), (Lines{"node\r", "server.js\r"}));
}

TEST(ParseLines, NonAsciiBytesArePassedThrough) {
  EXPECT_EQ(parse_lines("GREETING=h\xc3\xa9llo\n\xff\n"), (Lines{"GREETING=h\xc3\xa9llo", "\xff"}));
}

TEST(Defaults, EmptyCmdRunsSh) {
  EXPECT_EQ(command_or_default({}), (Lines{"sh"}));
  EXPECT_EQ(command_or_default({"node", "a.js"}), (Lines{"node", "a.js"}));
  // A blank first line is not "empty": it stays, and the PATH search rejects it.
  EXPECT_EQ(command_or_default({""}), (Lines{""}));
}

TEST(Defaults, EmptyEnvGivesOnlyTheFixedPath) {
  EXPECT_EQ(environment_or_default({}), (Lines{"PATH=/sbin:/usr/sbin:/bin:/usr/bin"}));
  // A non-empty /env is passed exactly: no PATH is added.
  EXPECT_EQ(environment_or_default({"A=1"}), (Lines{"A=1"}));
}

TEST(ExecArray, IsNullTerminatedAndPointsIntoTheStrings) {
  Lines strings{"node", "server.js"};
  const auto arr = to_exec_array(strings);
  ASSERT_EQ(arr.size(), 3u);
  EXPECT_STREQ(arr[0], "node");
  EXPECT_STREQ(arr[1], "server.js");
  EXPECT_EQ(arr[2], nullptr);
  Lines none;
  EXPECT_EQ(to_exec_array(none), (std::vector<char*>{nullptr}));
}

// --- PATH search ---------------------------------------------------------------

TEST(FindExecutable, TheFixedPathIsTheNitroOne) {
  EXPECT_EQ(kFixedPath, "/sbin:/usr/sbin:/bin:/usr/bin");
  EXPECT_EQ(kDefaultPathEnv, std::string("PATH=") + std::string(kFixedPath));
}

TEST(FindExecutable, FirstMatchWins) {
  TempDir t;
  const auto a = t.file("a/tool", 0755);
  t.file("b/tool", 0755);
  const std::string path = t.str() + "/a:" + t.str() + "/b";
  auto r = find_executable("tool", path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, a);
}

TEST(FindExecutable, LaterEntriesAreSearched) {
  TempDir t;
  fs::create_directories(t.path() / "a");
  const auto b = t.file("b/tool", 0755);
  auto r = find_executable("tool", "/nonexistent-dir:" + t.str() + "/a:" + t.str() + "/b");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, b);
}

TEST(FindExecutable, NonExecutableFilesAndDirectoriesAreSkipped) {
  TempDir t;
  t.file("a/tool", 0644);                      // no execute bit
  fs::create_directories(t.path() / "b/tool");  // a directory
  const auto c = t.file("c/tool", 0700);        // owner-only execute counts (init runs as root)
  auto r = find_executable("tool", t.str() + "/a:" + t.str() + "/b:" + t.str() + "/c");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, c);
}

TEST(FindExecutable, AnyExecuteBitCounts) {
  TempDir t;
  const auto a = t.file("a/tool", 0601);
  auto r = find_executable("tool", t.str() + "/a");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, a);
}

TEST(FindExecutable, SymlinksAreFollowed) {
  TempDir t;
  const auto busybox = t.file("bin/busybox", 0755);
  fs::create_symlink("busybox", t.path() / "bin/sh");
  fs::create_symlink("missing", t.path() / "bin/dangling");
  auto r = find_executable("sh", t.str() + "/bin");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, t.str() + "/bin/sh");  // the link's path, as execvpe uses it
  EXPECT_FALSE(find_executable("dangling", t.str() + "/bin").ok());
}

TEST(FindExecutable, NamesWithASlashAreUsedAsIs) {
  EXPECT_EQ(*find_executable("/usr/local/bin/node", "/nonexistent"), "/usr/local/bin/node");
  EXPECT_EQ(*find_executable("./app", "/nonexistent"), "./app");
  EXPECT_EQ(*find_executable("bin/app", "/nonexistent"), "bin/app");
  // Not checked here: execve reports a missing file.
  EXPECT_EQ(*find_executable("/does/not/exist"), "/does/not/exist");
}

TEST(FindExecutable, MissingProgramIsAClearError) {
  TempDir t;
  auto r = find_executable("node", t.str());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("node"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(t.str()), std::string::npos) << r.error().message;
  auto fixed = find_executable("enclaver-no-such-program-xyz");
  ASSERT_FALSE(fixed.ok());
  EXPECT_NE(fixed.error().message.find("/sbin:/usr/sbin:/bin:/usr/bin"), std::string::npos);
  EXPECT_NE(fixed.error().message.find("image's PATH is not used"), std::string::npos);
}

TEST(FindExecutable, EmptyNameIsAnError) {
  auto r = find_executable("", "/bin");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("empty"), std::string::npos);
}

TEST(FindExecutable, EmptyPathEntryMeansTheCurrentDirectory) {
  TempDir t;
  t.file("tool", 0755);
  const auto old = fs::current_path();
  fs::current_path(t.path());
  auto r = find_executable("tool", "/nonexistent:");
  fs::current_path(old);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "tool");
}

TEST(FindExecutable, SearchesTheRealFixedPath) {
  // Every Debian system has /bin/sh (or /usr/bin/sh with merged /usr).
  auto r = find_executable("sh");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(*r == "/bin/sh" || *r == "/usr/bin/sh" || *r == "/sbin/sh" || *r == "/usr/sbin/sh") << *r;
}

// --- /proc/cgroups ---------------------------------------------------------------

constexpr const char* kProcCgroupsSample =
    "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
    "cpuset\t0\t1\t1\n"
    "cpu\t0\t1\t1\n"
    "cpuacct\t0\t1\t1\n"
    "blkio\t0\t1\t1\n"
    "memory\t0\t1\t0\n"
    "devices\t0\t1\t1\n"
    "freezer\t0\t1\t1\n"
    "net_cls\t0\t1\t1\n"
    "perf_event\t0\t1\t1\n"
    "net_prio\t0\t1\t1\n"
    "hugetlb\t0\t1\t1\n"
    "pids\t0\t1\t1\n"
    "rdma\t0\t1\t1\n"
    "misc\t0\t1\t1\n";

TEST(Cgroups, EnabledControllersInFileOrder) {
  auto r = parse_enabled_cgroups(kProcCgroupsSample);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, (Lines{"cpuset", "cpu", "cpuacct", "blkio", "devices", "freezer", "net_cls", "perf_event",
                       "net_prio", "hugetlb", "pids", "rdma", "misc"}));
}

TEST(Cgroups, HeaderOnlyOrEmptyGivesNone) {
  EXPECT_TRUE(parse_enabled_cgroups("#subsys_name\thierarchy\tnum_cgroups\tenabled\n")->empty());
  EXPECT_TRUE(parse_enabled_cgroups("")->empty());
}

TEST(Cgroups, SpacesBlankLinesAndMissingFinalNewlineAreAccepted) {
  auto r = parse_enabled_cgroups("#h\n  cpu 3 2 1\n\nmemory  4 31 0\npids\t8\t2\t1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, (Lines{"cpu", "pids"}));
}

TEST(Cgroups, MalformedLinesAreErrorsThatSayWhere) {
  auto few = parse_enabled_cgroups("#h\ncpu 0 1\n");
  ASSERT_FALSE(few.ok());
  EXPECT_NE(few.error().message.find("line 2"), std::string::npos) << few.error().message;
  EXPECT_FALSE(parse_enabled_cgroups("cpu 0 1 1 extra\n").ok());
  EXPECT_FALSE(parse_enabled_cgroups("cpu 0 1 yes\n").ok());
  EXPECT_FALSE(parse_enabled_cgroups("cpu x 1 1\n").ok());
}

TEST(Cgroups, NamesThatEscapeTheDirectoryAreRejected) {
  EXPECT_FALSE(parse_enabled_cgroups("../etc 0 1 1\n").ok());
  EXPECT_FALSE(parse_enabled_cgroups(".. 0 1 1\n").ok());
  EXPECT_FALSE(parse_enabled_cgroups(". 0 1 1\n").ok());
}

TEST(Cgroups, MountPoint) { EXPECT_EQ(cgroup_mount_point("memory"), "/sys/fs/cgroup/memory"); }

TEST(Cgroups, ParsesThisMachinesProcCgroups) {
  auto text = read_file("/proc/cgroups");
  if (!text.ok()) GTEST_SKIP() << text.error().message;
  auto r = parse_enabled_cgroups(*text);
  EXPECT_TRUE(r.ok()) << r.error().message;
}

// --- the mount table ---------------------------------------------------------------

std::ptrdiff_t index_of(std::string_view target, FsStep::Kind kind) {
  const auto steps = new_root_steps();
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].kind == kind && target == steps[i].target) return static_cast<std::ptrdiff_t>(i);
  }
  return -1;
}

const FsStep& mount_on(std::string_view target) {
  const auto i = index_of(target, FsStep::Kind::kMount);
  EXPECT_GE(i, 0) << "no mount on " << target;
  return new_root_steps()[static_cast<std::size_t>(i < 0 ? 0 : i)];
}

TEST(NewRoot, MountsWhatNitroInitMounts) {
  EXPECT_STREQ(mount_on("/dev").fstype, "devtmpfs");
  EXPECT_STREQ(mount_on("/proc").fstype, "proc");
  EXPECT_STREQ(mount_on("/run").fstype, "tmpfs");
  EXPECT_STREQ(mount_on("/run").data, "mode=0755");
  EXPECT_STREQ(mount_on("/tmp").fstype, "tmpfs");
  EXPECT_EQ(mount_on("/tmp").data, nullptr);  // tmpfs default: 1777
  EXPECT_STREQ(mount_on("/dev/shm").fstype, "tmpfs");
  EXPECT_STREQ(mount_on("/dev/pts").fstype, "devpts");
  EXPECT_STREQ(mount_on("/sys").fstype, "sysfs");
  EXPECT_STREQ(mount_on("/sys/fs/cgroup").fstype, "tmpfs");
  EXPECT_STREQ(mount_on("/sys/fs/cgroup").data, "mode=0755");
  EXPECT_EQ(new_root_steps().size(), 14u);
}

TEST(NewRoot, FlagsAreNodevNosuidNoexecExceptDevAndDevpts) {
  constexpr unsigned long all3 = MS_NODEV | MS_NOSUID | MS_NOEXEC;
  for (const char* t : {"/proc", "/run", "/tmp", "/dev/shm", "/sys", "/sys/fs/cgroup"}) {
    EXPECT_EQ(mount_on(t).flags, all3) << t;
  }
  EXPECT_EQ(mount_on("/dev").flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC));
  EXPECT_EQ(mount_on("/dev/pts").flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC));
  EXPECT_EQ(cgroup_mount_flags(), all3);
}

TEST(NewRoot, DevSymlinksPointIntoProc) {
  const auto steps = new_root_steps();
  std::vector<std::pair<std::string, std::string>> links;
  for (const auto& s : steps) {
    if (s.kind == FsStep::Kind::kSymlink) links.emplace_back(s.target, s.source);
  }
  EXPECT_EQ(links, (std::vector<std::pair<std::string, std::string>>{{"/dev/fd", "/proc/self/fd"},
                                                                     {"/dev/stdin", "/proc/self/fd/0"},
                                                                     {"/dev/stdout", "/proc/self/fd/1"},
                                                                     {"/dev/stderr", "/proc/self/fd/2"}}));
}

TEST(NewRoot, OrderRespectsDependencies) {
  using K = FsStep::Kind;
  EXPECT_EQ(index_of("/dev", K::kMount), 0);
  EXPECT_LT(index_of("/dev", K::kMount), index_of("/dev/fd", K::kSymlink));
  EXPECT_LT(index_of("/dev", K::kMount), index_of("/dev/shm", K::kMkdir));
  EXPECT_LT(index_of("/dev/shm", K::kMkdir), index_of("/dev/shm", K::kMount));
  EXPECT_LT(index_of("/dev/pts", K::kMkdir), index_of("/dev/pts", K::kMount));
  EXPECT_LT(index_of("/sys", K::kMount), index_of("/sys/fs/cgroup", K::kMount));
  EXPECT_EQ(index_of("/sys/fs/cgroup", K::kMount), static_cast<std::ptrdiff_t>(new_root_steps().size() - 1));
}

TEST(NewRoot, OnlyAlreadyDoneIsTolerated) {
  for (const auto& s : new_root_steps()) {
    switch (s.kind) {
      case FsStep::Kind::kMount:
        EXPECT_EQ(s.tolerated_errno, std::string_view(s.target) == "/dev" ? EBUSY : 0) << s.target;
        break;
      case FsStep::Kind::kMkdir:
        EXPECT_EQ(s.tolerated_errno, EEXIST) << s.target;
        EXPECT_EQ(s.mode, 0755u) << s.target;
        break;
      case FsStep::Kind::kSymlink:
        EXPECT_EQ(s.tolerated_errno, EEXIST) << s.target;
        break;
    }
  }
}

// --- modules, files, messages --------------------------------------------------

TEST(Modules, SortedKoFilesOnly) {
  TempDir t;
  t.file("m/02-vmw_vsock_virtio_transport_common.ko", 0644, "x");
  t.file("m/00-virtio_mmio.ko", 0644, "x");
  t.file("m/01-vsock.ko", 0644, "x");
  t.file("m/README", 0644, "x");
  t.file("m/03-x.ko.xz", 0644, "x");
  fs::create_directories(t.path() / "m/04-dir.ko");
  auto r = list_modules(t.str() + "/m");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const std::string d = t.str() + "/m/";
  EXPECT_EQ(*r, (Lines{d + "00-virtio_mmio.ko", d + "01-vsock.ko", d + "02-vmw_vsock_virtio_transport_common.ko"}));
}

TEST(Modules, MissingDirectoryMeansNone) {
  auto r = list_modules("/nonexistent-enclaver-modules");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->empty());
}

TEST(Modules, AFileInsteadOfADirectoryIsAnError) {
  TempDir t;
  const auto f = t.file("modules", 0644, "x");
  auto r = list_modules(f);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(f), std::string::npos);
}

TEST(ReadFile, ReadsEverythingIncludingNulBytes) {
  TempDir t;
  std::string big(100000, 'x');
  big[5] = '\0';
  const auto f = t.file("cmd", 0644, big);
  auto r = read_file(f);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, big);
  EXPECT_EQ(*read_file(t.file("empty", 0644, "")), "");
}

TEST(ReadFile, MissingFileNamesTheFileAndTheCause) {
  auto r = read_file("/nonexistent/cmd");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "open /nonexistent/cmd failed: No such file or directory");
}

TEST(Messages, FailureLine) {
  EXPECT_EQ(failure("mount proc on /proc", ENOENT), "mount proc on /proc failed: No such file or directory");
}

TEST(Messages, DescribeExit) {
  EXPECT_EQ(describe_exit(0), "the application exited with status 0");
  EXPECT_EQ(describe_exit(3 << 8), "the application exited with status 3");
  EXPECT_EQ(describe_exit(SIGKILL), "the application was killed by signal 9 (SIGKILL)");
}

}  // namespace
}  // namespace enclaver::init
