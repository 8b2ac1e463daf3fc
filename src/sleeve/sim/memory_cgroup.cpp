#include "sleeve/sim/memory_cgroup.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <sstream>
#include <thread>

#include "common/text.hpp"
#include "init/init_lib.hpp"

namespace enclaver::sleeve::sim {
namespace {

using text::split;

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  for (auto line : split(text, '\n'))
    if (!line.empty()) lines.push_back(line);
  return lines;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view field) {
  auto octal = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && octal(field[i + 1]) &&
        octal(field[i + 2]) && octal(field[i + 3])) {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0'));
      i += 3;
      continue;
    }
    out += field[i];
  }
  return out;
}

std::optional<std::string> read_text(const std::filesystem::path& path) {
  auto text = init::read_file(path);
  return text ? std::optional<std::string>(std::move(*text)) : std::nullopt;
}

// Writes `value` to a cgroup control file; the error says which and why.
Result<bool> write_control(const std::filesystem::path& file, const std::string& value) {
  FILE* f = std::fopen(file.c_str(), "we");
  if (!f) return make_error("cannot open " + file.string() + ": " + std::strerror(errno));
  bool ok = std::fputs(value.c_str(), f) >= 0;
  ok = (std::fclose(f) == 0) && ok;  // the kernel reports a refused value at close (flush)
  if (!ok) return make_error("cannot write \"" + value + "\" to " + file.string() + ": " + std::strerror(errno));
  return true;
}

bool v2_offers_memory(const std::filesystem::path& dir) {
  auto text = read_text(dir / "cgroup.controllers");
  if (!text) return false;
  std::istringstream words(*text);
  std::string word;
  while (words >> word)
    if (word == "memory") return true;
  return false;
}

}  // namespace

std::vector<CgroupMembership> parse_proc_cgroup(std::string_view text) {
  std::vector<CgroupMembership> out;
  for (auto line : lines_of(text)) {
    auto first = line.find(':');
    auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    CgroupMembership m;
    auto id = line.substr(0, first);
    if (std::from_chars(id.data(), id.data() + id.size(), m.hierarchy).ptr != id.data() + id.size()) continue;
    auto controllers = line.substr(first + 1, second - first - 1);
    if (!controllers.empty())
      for (auto c : split(controllers, ',')) m.controllers.emplace_back(c);
    m.path = std::string(line.substr(second + 1));
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<CgroupMount> parse_cgroup_mounts(std::string_view mountinfo) {
  std::vector<CgroupMount> out;
  for (auto line : lines_of(mountinfo)) {
    auto fields = split(line, ' ');
    auto dash = std::find(fields.begin(), fields.end(), std::string_view("-"));
    if (fields.size() < 5 || dash == fields.end() || fields.end() - dash < 4) continue;
    std::string_view fstype = dash[1];
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    CgroupMount m;
    m.root = unescape_octal(fields[3]);
    m.mount_point = unescape_octal(fields[4]);
    m.v2 = fstype == "cgroup2";
    for (auto option : split(dash[3], ',')) m.options.emplace_back(option);
    out.push_back(std::move(m));
  }
  return out;
}

std::uint64_t parse_oom_kills(std::string_view text) {
  for (auto line : lines_of(text)) {
    constexpr std::string_view kKey = "oom_kill ";
    if (line.substr(0, kKey.size()) != kKey) continue;
    auto number = line.substr(kKey.size());
    std::uint64_t value = 0;
    std::from_chars(number.data(), number.data() + number.size(), value);
    return value;
  }
  return 0;
}

Result<MemoryCgroupPlace> find_memory_cgroup(std::string_view proc_self_cgroup, std::string_view mountinfo,
                                             bool (*v2_has_memory)(const std::filesystem::path&)) {
  auto memberships = parse_proc_cgroup(proc_self_cgroup);
  auto mounts = parse_cgroup_mounts(mountinfo);
  // Our directory in a hierarchy: the mount point plus our path relative to
  // the mount's root (a container sees its own cgroup as "/").
  auto own_dir = [](const CgroupMount& mount, const std::string& path) {
    std::string relative = path;
    if (mount.root != "/" && relative.rfind(mount.root, 0) == 0) relative = relative.substr(mount.root.size());
    auto below = std::filesystem::path(relative).relative_path();
    return below.empty() ? mount.mount_point : mount.mount_point / below;
  };
  for (const auto& mount : mounts) {
    if (!mount.v2) continue;
    for (const auto& m : memberships)
      if (m.hierarchy == 0 && m.controllers.empty() && v2_has_memory(mount.mount_point))
        return MemoryCgroupPlace{true, own_dir(mount, m.path)};
  }
  for (const auto& mount : mounts) {
    if (mount.v2 || std::find(mount.options.begin(), mount.options.end(), "memory") == mount.options.end()) continue;
    for (const auto& m : memberships)
      if (std::find(m.controllers.begin(), m.controllers.end(), "memory") != m.controllers.end())
        return MemoryCgroupPlace{false, own_dir(mount, m.path)};
  }
  return make_error("no cgroup hierarchy with the memory controller is mounted here");
}

Result<MemoryCgroup> MemoryCgroup::create(const std::string& name, std::uint64_t limit_bytes) {
  auto self = read_text("/proc/self/cgroup");
  auto mountinfo = read_text("/proc/self/mountinfo");
  if (!self || !mountinfo) return make_error("cannot read /proc/self/cgroup or /proc/self/mountinfo");
  auto place = find_memory_cgroup(*self, *mountinfo, v2_offers_memory);
  if (!place) return place.error();
  auto dir = place->parent / name;
  if (place->v2) {
    // A v2 child gets memory.max only if its parent delegates the controller.
    auto delegated = write_control(place->parent / "cgroup.subtree_control", "+memory");
    if (!delegated && !std::filesystem::exists(place->parent / "cgroup.subtree_control")) return delegated.error();
  }
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return make_error("cannot create the cgroup " + dir.string() + ": " + std::strerror(errno));
  MemoryCgroup cgroup(dir, place->v2);
  auto limit = std::to_string(limit_bytes);
  auto set = write_control(dir / (place->v2 ? "memory.max" : "memory.limit_in_bytes"), limit);
  if (!set) {
    cgroup.remove(std::chrono::milliseconds(0));
    return set.error();
  }
  // Without swap, the limit is the enclave's RAM, as on Nitro (no swap there).
  if (place->v2)
    (void)write_control(dir / "memory.swap.max", "0");
  else
    (void)write_control(dir / "memory.memsw.limit_in_bytes", limit);
  return cgroup;
}

Result<bool> MemoryCgroup::add(pid_t pid) const { return write_control(path_ / "cgroup.procs", std::to_string(pid)); }

std::uint64_t MemoryCgroup::oom_kills() const {
  auto text = read_text(path_ / (v2_ ? "memory.events" : "memory.oom_control"));
  return text ? parse_oom_kills(*text) : 0;
}

bool MemoryCgroup::remove(std::chrono::milliseconds patience) const { return remove_cgroup_dir(path_, patience); }

bool remove_cgroup_dir(const std::filesystem::path& dir, std::chrono::milliseconds patience) {
  auto deadline = std::chrono::steady_clock::now() + patience;
  for (;;) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
    if (errno != EBUSY || std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace enclaver::sleeve::sim
