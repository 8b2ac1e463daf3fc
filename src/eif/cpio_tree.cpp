// Deterministic directory walk and its archive (see cpio.hpp for the contract).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "common/text.hpp"
#include "common/fd.hpp"
#include "eif/cpio.hpp"

namespace enclaver::cpio {
namespace {

namespace fs = std::filesystem;


[[noreturn]] void fail_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::string shown(const fs::path& root, const std::string& rel) {
  return text::quote(rel.empty() ? root.string() : (root / rel).string(), 200);
}

struct Walker {
  fs::path root;
  Tree& tree;

  void walk(int dirfd, const std::string& prefix, int depth) {
    if (depth > 2048)
      throw std::runtime_error("cpio: directory tree deeper than 2048 levels at " + shown(root, prefix));
    const int dup_fd = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0) fail_errno("cpio: dup of directory " + shown(root, prefix));
    DIR* dir = ::fdopendir(dup_fd);
    if (dir == nullptr) {
      ::close(dup_fd);
      fail_errno("cpio: opening directory " + shown(root, prefix));
    }
    std::vector<std::string> names;
    for (;;) {
      errno = 0;
      const dirent* d = ::readdir(dir);
      if (d == nullptr) {
        const int err = errno;
        ::closedir(dir);
        if (err != 0) {
          errno = err;
          fail_errno("cpio: reading directory " + shown(root, prefix));
        }
        break;
      }
      const std::string_view n(d->d_name);
      if (n == "." || n == "..") continue;
      names.emplace_back(n);
    }
    std::sort(names.begin(), names.end());  // only to make the walk itself reproducible

    for (const std::string& name : names) {
      const std::string path = prefix.empty() ? name : prefix + "/" + name;
      if (path.size() + 1 > kMaxNameSize)
        throw std::runtime_error("cpio: path longer than 4095 bytes: " + shown(root, path));
      struct stat st {};
      if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) fail_errno("cpio: lstat " + shown(root, path));

      TreeEntry e;
      e.path = path;
      e.mode = static_cast<std::uint32_t>(st.st_mode) & (kTypeMask | 07777);
      e.uid = st.st_uid;
      e.gid = st.st_gid;
      switch (st.st_mode & S_IFMT) {
        case S_IFREG:
          if (static_cast<std::uint64_t>(st.st_size) > 0xffffffffu)
            throw std::runtime_error("cpio: " + shown(root, path) +
                                     " is 4 GiB or larger; newc sizes are 32-bit");
          e.size = static_cast<std::uint64_t>(st.st_size);
          e.src_dev = st.st_dev;
          e.src_ino = st.st_ino;
          e.src_nlink = st.st_nlink;
          tree.entries.push_back(std::move(e));
          break;
        case S_IFLNK: {
          std::string target(kMaxLinkTarget + 1, '\0');
          const ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
          if (n < 0) fail_errno("cpio: readlink " + shown(root, path));
          if (n == 0 || static_cast<std::size_t>(n) > kMaxLinkTarget)
            throw std::runtime_error("cpio: symlink " + shown(root, path) + " has an empty or over-long target");
          target.resize(static_cast<std::size_t>(n));
          e.link_target = std::move(target);
          tree.entries.push_back(std::move(e));
          break;
        }
        case S_IFCHR:
        case S_IFBLK:
          e.rdev_major = ::major(st.st_rdev);
          e.rdev_minor = ::minor(st.st_rdev);
          tree.entries.push_back(std::move(e));
          break;
        case S_IFIFO:
          tree.entries.push_back(std::move(e));
          break;
        case S_IFDIR: {
          tree.entries.push_back(std::move(e));
          Fd sub(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
          if (sub.get() < 0) fail_errno("cpio: opening directory " + shown(root, path));
          struct stat again {};
          if (::fstat(sub.get(), &again) != 0) fail_errno("cpio: stat " + shown(root, path));
          if (again.st_dev != st.st_dev || again.st_ino != st.st_ino)
            throw std::runtime_error("cpio: directory " + shown(root, path) + " was replaced during the walk");
          walk(sub.get(), path, depth + 1);
          break;
        }
        case S_IFSOCK:
          tree.skipped.push_back({path, "socket (a runtime object; nothing to archive)"});
          break;
        default:
          tree.skipped.push_back({path, "unknown file type"});
          break;
      }
    }
  }
};

}  // namespace

Tree scan_tree(const fs::path& root) {
  Tree tree;
  tree.root = fs::absolute(root).lexically_normal();
  Fd fd(::open(tree.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) fail_errno("cpio: opening tree root " + text::quote(tree.root.string(), 200));
  Walker{tree.root, tree}.walk(fd.get(), "", 0);
  std::sort(tree.entries.begin(), tree.entries.end(),
            [](const TreeEntry& a, const TreeEntry& b) { return a.path < b.path; });
  return tree;
}

DirectoryContents::DirectoryContents(const fs::path& root) : root_(root) {
  root_fd_ = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd_ < 0) fail_errno("cpio: opening tree root " + text::quote(root_.string(), 200));
}

DirectoryContents::~DirectoryContents() {
  if (root_fd_ >= 0) ::close(root_fd_);
}

std::uint32_t DirectoryContents::add_file(Writer& writer, Header h, const TreeEntry& e) const {
  Fd fd(::openat(root_fd_, e.path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) fail_errno("cpio: opening " + shown(root_, e.path));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail_errno("cpio: stat " + shown(root_, e.path));
  if (!S_ISREG(st.st_mode) || st.st_dev != e.src_dev || st.st_ino != e.src_ino ||
      static_cast<std::uint64_t>(st.st_size) != e.size)
    throw std::runtime_error("cpio: " + shown(root_, e.path) + " changed since the tree was scanned");
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  return writer.add_file(std::move(h), fd.get());
}

void write_tree(Writer& writer, const Tree& tree, const TreeWriteOptions& options) {
  const DirectoryContents contents(tree.root);
  write_tree(writer, std::span<const TreeEntry>(tree.entries), contents, options);
}

void write_tree(Writer& writer, std::span<const TreeEntry> entries, const ContentSource& contents,
                const TreeWriteOptions& options) {
  // Hard-link groups, by identity on disk, in entry order.
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const TreeEntry& e = entries[i];
    if ((e.mode & kTypeMask) == kRegular && e.src_nlink > 1) groups[{e.src_dev, e.src_ino}].push_back(i);
  }
  struct Link {
    std::uint32_t count = 1;
    bool first = true;
    bool carries_data = true;
    std::size_t leader = 0;
  };
  std::vector<Link> links(entries.size());
  for (const auto& [key, members] : groups) {
    if (members.size() < 2) continue;
    for (std::size_t k = 0; k < members.size(); ++k) {
      Link& l = links[members[k]];
      l.count = static_cast<std::uint32_t>(members.size());
      l.first = k == 0;
      l.carries_data = k + 1 == members.size();
      l.leader = members.front();
    }
  }
  std::vector<std::uint32_t> inos(entries.size(), 0);

  for (std::size_t i = 0; i < entries.size(); ++i) {
    const TreeEntry& e = entries[i];
    Header h;
    h.name = options.prefix.empty() ? e.path : options.prefix + "/" + e.path;
    h.mode = e.mode;
    h.uid = e.uid;
    h.gid = e.gid;
    h.mtime = options.mtime;
    switch (e.mode & kTypeMask) {
      case kSymlink:
        inos[i] = writer.add(std::move(h), std::string_view(e.link_target));
        break;
      case kCharDevice:
      case kBlockDevice:
        h.rdev_major = e.rdev_major;
        h.rdev_minor = e.rdev_minor;
        inos[i] = writer.add(std::move(h));
        break;
      case kRegular: {
        const Link& l = links[i];
        h.nlink = l.count;
        if (!l.first) h.ino = inos[l.leader];
        if (!l.carries_data) {
          inos[i] = writer.add(std::move(h));
          break;
        }
        if (e.size > 0xffffffffu)
          throw std::runtime_error("cpio: " + text::quote(e.path, 200) + " is 4 GiB or larger; newc sizes are 32-bit");
        h.filesize = static_cast<std::uint32_t>(e.size);
        inos[i] = contents.add_file(writer, std::move(h), e);
        break;
      }
      default:  // directories, FIFOs, sockets: header only
        inos[i] = writer.add(std::move(h));
        break;
    }
  }
}

}  // namespace enclaver::cpio
