#include "init/init_lib.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string.h>  // sigabbrev_np (GNU)

namespace enclaver::init {
namespace {

constexpr unsigned long kNoDevSuidExec = MS_NODEV | MS_NOSUID | MS_NOEXEC;

constexpr FsStep mount_step(const char* source, const char* target, const char* fstype, unsigned long flags,
                            const char* data = nullptr, int tolerated = 0) {
  return FsStep{FsStep::Kind::kMount, source, target, fstype, flags, data, 0, tolerated};
}
constexpr FsStep mkdir_step(const char* path, mode_t mode) {
  return FsStep{FsStep::Kind::kMkdir, nullptr, path, nullptr, 0, nullptr, mode, EEXIST};
}
constexpr FsStep symlink_step(const char* link, const char* points_to) {
  return FsStep{FsStep::Kind::kSymlink, points_to, link, nullptr, 0, nullptr, 0, EEXIST};
}

constexpr FsStep kNewRootSteps[] = {
    // /dev again inside the new root; devtmpfs is one instance, so it may
    // already be there (CONFIG_DEVTMPFS_MOUNT): EBUSY is not a failure.
    mount_step("dev", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, nullptr, EBUSY),
    mount_step("proc", "/proc", "proc", kNoDevSuidExec),
    symlink_step("/dev/fd", "/proc/self/fd"),
    symlink_step("/dev/stdin", "/proc/self/fd/0"),
    symlink_step("/dev/stdout", "/proc/self/fd/1"),
    symlink_step("/dev/stderr", "/proc/self/fd/2"),
    mount_step("tmpfs", "/run", "tmpfs", kNoDevSuidExec, "mode=0755"),
    mount_step("tmpfs", "/tmp", "tmpfs", kNoDevSuidExec),
    mkdir_step("/dev/shm", 0755),
    mount_step("shm", "/dev/shm", "tmpfs", kNoDevSuidExec),
    mkdir_step("/dev/pts", 0755),
    mount_step("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC),
    mount_step("sysfs", "/sys", "sysfs", kNoDevSuidExec),
    mount_step("cgroup_root", "/sys/fs/cgroup", "tmpfs", kNoDevSuidExec, "mode=0755"),
};

bool is_number(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

}  // namespace

std::vector<std::string> parse_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      lines.emplace_back(text.substr(start));
      break;
    }
    lines.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::vector<std::string> command_or_default(std::vector<std::string> cmd) {
  if (cmd.empty()) cmd.emplace_back(kDefaultCommand);
  return cmd;
}

std::vector<std::string> environment_or_default(std::vector<std::string> env) {
  if (env.empty()) env.emplace_back(kDefaultPathEnv);
  return env;
}

Result<std::string> find_executable(std::string_view name, std::string_view search_path) {
  if (name.empty()) return make_error("the command is empty (the first line of /cmd is blank)");
  if (name.find('/') != std::string_view::npos) return std::string(name);
  std::size_t start = 0;
  while (true) {
    const std::size_t colon = search_path.find(':', start);
    const std::string_view dir =
        search_path.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start);
    std::string candidate = dir.empty() ? std::string(name) : std::string(dir) + "/" + std::string(name);
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0) {
      return candidate;
    }
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  return make_error(std::string(name) + ": no executable of that name in " + std::string(search_path) +
                    " (the fixed PATH; the image's PATH is not used: give an absolute path in the command)");
}

Result<std::vector<std::string>> parse_enabled_cgroups(std::string_view proc_cgroups) {
  std::vector<std::string> enabled;
  std::size_t line_no = 0;
  for (const std::string& line : parse_lines(proc_cgroups)) {
    ++line_no;
    const auto fields = split_fields(line);
    if (fields.empty() || fields[0].front() == '#') continue;
    const std::string where = "/proc/cgroups line " + std::to_string(line_no);
    if (fields.size() != 4) {
      return make_error(where + ": expected 4 fields (name hierarchy num_cgroups enabled), got " +
                        std::to_string(fields.size()));
    }
    for (std::size_t i = 1; i < 4; ++i) {
      if (!is_number(fields[i])) return make_error(where + ": field " + std::to_string(i + 1) + " is not a number");
    }
    const std::string_view name = fields[0];
    if (name == "." || name == ".." || name.find('/') != std::string_view::npos) {
      return make_error(where + ": bad controller name");
    }
    if (fields[3].find_first_not_of('0') != std::string_view::npos) enabled.emplace_back(name);
  }
  return enabled;
}

std::string cgroup_mount_point(std::string_view controller) {
  return "/sys/fs/cgroup/" + std::string(controller);
}

std::span<const FsStep> new_root_steps() { return kNewRootSteps; }

unsigned long cgroup_mount_flags() { return kNoDevSuidExec; }

Result<std::vector<std::string>> list_modules(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return std::vector<std::string>{};
    return make_error(failure("open directory " + dir, errno));
  }
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name.size() <= 3 || name.substr(name.size() - 3) != ".ko") continue;
    struct stat st {};
    const std::string path = dir + "/" + std::string(name);
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) names.emplace_back(name);
    errno = 0;
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return make_error(failure("read directory " + dir, err));
  std::sort(names.begin(), names.end());
  for (auto& n : names) n = dir + "/" + n;
  return names;
}

Result<std::string> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(failure("open " + path, errno));
  std::string out;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return make_error(failure("read " + path, err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string failure(std::string_view what, int err) {
  return std::string(what) + " failed: " + std::strerror(err);
}

int shell_exit_code(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

std::string describe_exit(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return "the application exited with status " + std::to_string(WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    const char* abbrev = ::sigabbrev_np(sig);
    return "the application was killed by signal " + std::to_string(sig) +
           (abbrev != nullptr ? std::string(" (SIG") + abbrev + ")" : std::string());
  }
  return "the application ended (wait status " + std::to_string(wait_status) + ")";
}

std::vector<char*> to_exec_array(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace enclaver::init
