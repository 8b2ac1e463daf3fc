// Unpacking newc archives into a directory like the kernel's initramfs code,
// without ever leaving that directory (see cpio.hpp for the contract).
//
// Approach to safety: no path is ever handed to the kernel as a whole. Each
// name is split into components; the parent directory is reached by openat()
// of one component at a time with O_DIRECTORY | O_NOFOLLOW, starting from a
// descriptor of the target, so ".." is refused up front and a symlink in the
// way makes openat fail (ELOOP/ENOTDIR) instead of being followed. The final
// component is then created or changed only through *at() calls on the
// parent's descriptor with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <stdexcept>
#include <tuple>

#include "common/text.hpp"
#include "common/fd.hpp"
#include "eif/cpio.hpp"

namespace enclaver::cpio {
namespace {

namespace fs = std::filesystem;


struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* type_word(std::uint32_t type) {
  switch (type) {
    case kRegular: return "file";
    case kDirectory: return "directory";
    case kSymlink: return "symlink";
    case kCharDevice: return "character device";
    case kBlockDevice: return "block device";
    case kFifo: return "FIFO";
    case kSocket: return "socket";
    default: return "entry";
  }
}

struct DirAttrs {
  std::uint32_t mode, uid, gid, mtime;
};

class Unpacker {
 public:
  explicit Unpacker(const fs::path& target) : root_(::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (root_.get() < 0)
      throw Failure("cpio unpack: cannot open target directory " + text::quote(target.string(), 200) + ": " +
                    std::strerror(errno));
    is_root_ = ::geteuid() == 0;
  }

  UnpackReport run(std::span<const std::uint8_t> image) {
    std::size_t pos = 0;
    while (pos < image.size()) {
      if (image[pos] == 0) {  // padding between archives, as the kernel skips it
        ++pos;
        continue;
      }
      if (pos % 4 != 0)
        throw Failure("cpio unpack: at offset " + std::to_string(pos) + ": data after padding is not 4-aligned");
      Reader reader(image, pos);
      links_.clear();  // the kernel forgets hard links at each trailer
      for (;;) {
        auto next = reader.next();
        if (!next) throw Failure(next.error().message);
        if (!next->has_value()) break;
        entry_ = &**next;
        apply(**next);
        ++report_.entries;
      }
      ++report_.archives;
      pos = reader.end_offset();
    }
    finish_directories();
    if (owners_skipped_ != 0)
      report_.notes.push_back("not running as root: the uid/gid of " + std::to_string(owners_skipped_) +
                              " entries not applied");
    return std::move(report_);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    if (entry_ == nullptr) throw Failure("cpio unpack: directory " + text::quote(current_) + ": " + what);
    throw Failure("cpio unpack: entry " + text::quote(entry_->header.name) + " at offset " +
                  std::to_string(entry_->offset) + ": " + what);
  }
  [[noreturn]] void fail_errno(const std::string& what) const { fail(what + ": " + std::strerror(errno)); }

  // Canonical components of a name; empty for "." (the target itself).
  std::vector<std::string> split(const std::string& name) const {
    if (!name.empty() && name.front() == '/') fail("absolute name refused");
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= name.size()) {
      std::size_t end = name.find('/', start);
      if (end == std::string::npos) end = name.size();
      std::string comp = name.substr(start, end - start);
      if (comp == "..") fail("name with a \"..\" component refused");
      if (!comp.empty() && comp != ".") parts.push_back(std::move(comp));
      start = end + 1;
    }
    return parts;
  }

  static std::string join(const std::vector<std::string>& parts, std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
      if (i) s += '/';
      s += parts[i];
    }
    return s;
  }

  // Descriptor of the directory holding the last component, reached without
  // following any symlink.
  Fd open_parent(const std::vector<std::string>& parts) const {
    Fd dir(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
    if (dir.get() < 0) fail_errno("dup of the target directory");
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      Fd sub(::openat(dir.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (sub.get() < 0) {
        const std::string at = text::quote(join(parts, i + 1));
        if (errno == ENOENT) fail("parent directory " + at + " does not exist");
        if (errno == ELOOP || errno == ENOTDIR)
          fail(at + " is a symlink or not a directory; refusing to follow it");
        fail_errno("opening " + at);
      }
      dir = std::move(sub);
    }
    return dir;
  }

  // The kernel's clean_path(): removes what is at `leaf` unless it has file
  // type `type` (type 0: whatever it is).
  void clean(int parent, const std::string& leaf, const std::string& rel, std::uint32_t type) {
    struct stat st {};
    if (::fstatat(parent, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return;
      fail_errno("lstat");
    }
    const std::uint32_t have = static_cast<std::uint32_t>(st.st_mode) & kTypeMask;
    if (type != 0 && have == type) return;
    if (have == kDirectory) {
      if (::unlinkat(parent, leaf.c_str(), AT_REMOVEDIR) != 0) {
        if (errno == ENOTEMPTY || errno == EEXIST) fail("cannot replace a non-empty directory");
        fail_errno("removing the directory in the way");
      }
      dirs_.erase(rel);
    } else if (::unlinkat(parent, leaf.c_str(), 0) != 0) {
      fail_errno(std::string("removing the ") + type_word(have) + " in the way");
    }
  }

  // Owners are applied only as root; otherwise counted for the report.
  bool may_chown(const Header& h) {
    if (is_root_) return true;
    if (h.uid != ::geteuid() || h.gid != ::getegid()) ++owners_skipped_;
    return false;
  }

  void set_owner(int parent, const std::string& leaf, const Header& h) {
    if (may_chown(h) && ::fchownat(parent, leaf.c_str(), h.uid, h.gid, AT_SYMLINK_NOFOLLOW) != 0) fail_errno("chown");
  }

  void set_mode(int parent, const std::string& leaf, std::uint32_t mode) {
    if (::fchmodat(parent, leaf.c_str(), mode & 07777, AT_SYMLINK_NOFOLLOW) == 0) return;
    if (errno != ENOTSUP && errno != EOPNOTSUPP) fail_errno("chmod");
    // Older C libraries: check it is not a symlink, then chmod by name.
    struct stat st {};
    if (::fstatat(parent, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) fail_errno("lstat");
    if (S_ISLNK(st.st_mode)) fail("became a symlink while being unpacked");
    if (::fchmodat(parent, leaf.c_str(), mode & 07777, 0) != 0) fail_errno("chmod");
  }

  void set_mtime(int parent, const std::string& leaf, std::uint32_t mtime) {
    const struct timespec times[2] = {{static_cast<time_t>(mtime), 0}, {static_cast<time_t>(mtime), 0}};
    if (::utimensat(parent, leaf.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) fail_errno("setting mtime");
  }

  void write_data(int fd, std::span<const std::uint8_t> data) {
    while (!data.empty()) {
      const ssize_t n = ::write(fd, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        fail_errno("writing");
      }
      data = data.subspan(static_cast<std::size_t>(n));
    }
  }

  void apply(const Entry& e) {
    const Header& h = e.header;
    const std::vector<std::string> parts = split(h.name);
    if (parts.empty()) {
      report_.notes.push_back("skipped " + text::quote(h.name) + ": it names the target directory itself");
      return;
    }
    const std::string rel = join(parts, parts.size());
    const std::string& leaf = parts.back();
    const Fd parent = open_parent(parts);
    const int pfd = parent.get();
    const std::uint32_t type = h.mode & kTypeMask;

    if (type == kSymlink) {
      clean(pfd, leaf, rel, 0);
      const std::string target(reinterpret_cast<const char*>(e.data.data()), e.data.size());
      if (::symlinkat(target.c_str(), pfd, leaf.c_str()) != 0) fail_errno("creating the symlink");
      set_owner(pfd, leaf, h);
      set_mtime(pfd, leaf, h.mtime);
      return;
    }

    clean(pfd, leaf, rel, type);
    bool linked = false;
    if (h.nlink >= 2 && type != kDirectory) {
      const auto key = std::make_tuple(h.dev_major, h.dev_minor, h.ino, type);
      const auto it = links_.find(key);
      if (it == links_.end()) {
        links_.emplace(key, rel);
      } else {
        clean(pfd, leaf, rel, 0);
        const std::vector<std::string> old_parts = split(it->second);
        const Fd old_parent = open_parent(old_parts);
        if (::linkat(old_parent.get(), old_parts.back().c_str(), pfd, leaf.c_str(), 0) != 0)
          fail_errno("hard link to " + text::quote(it->second));
        linked = true;
      }
    }

    switch (type) {
      case kRegular: {
        const int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (linked ? 0 : O_TRUNC);
        Fd fd(::openat(pfd, leaf.c_str(), flags, 0600));
        if (fd.get() < 0) fail_errno("creating the file");
        if (may_chown(h) && ::fchown(fd.get(), h.uid, h.gid) != 0) fail_errno("chown");
        if (h.filesize != 0 && ::ftruncate(fd.get(), h.filesize) != 0) fail_errno("truncate");
        write_data(fd.get(), e.data);
        // After the data: without CAP_FSETID a write clears set-user-ID.
        if (::fchmod(fd.get(), h.mode & 07777) != 0) fail_errno("chmod");
        break;
      }
      case kDirectory:
        if (::mkdirat(pfd, leaf.c_str(), 0700) != 0 && errno != EEXIST) fail_errno("creating the directory");
        dirs_[rel] = DirAttrs{h.mode, h.uid, h.gid, h.mtime};  // applied at the end, deepest first
        return;
      default:  // devices, FIFOs, sockets
        if (linked) return;  // the kernel does nothing more for a linked node
        if (::mknodat(pfd, leaf.c_str(), static_cast<mode_t>(type | (h.mode & 07777)),
                      ::makedev(h.rdev_major, h.rdev_minor)) != 0) {
          if (errno == EPERM) {
            report_.notes.push_back(std::string("skipped ") + type_word(type) + " " + text::quote(rel) +
                                    ": mknod not permitted");
            return;
          }
          if (errno != EEXIST) fail_errno(std::string("creating the ") + type_word(type));
        }
        set_owner(pfd, leaf, h);
        set_mode(pfd, leaf, h.mode);
        break;
    }
    set_mtime(pfd, leaf, h.mtime);
  }

  void finish_directories() {
    entry_ = nullptr;
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {  // children before parents
      current_ = it->first;
      const std::vector<std::string> parts = split(it->first);
      const Fd parent = open_parent(parts);
      const std::string& leaf = parts.back();
      Header h;
      h.uid = it->second.uid;
      h.gid = it->second.gid;
      set_owner(parent.get(), leaf, h);
      set_mode(parent.get(), leaf, it->second.mode);
      set_mtime(parent.get(), leaf, it->second.mtime);
    }
  }

  Fd root_;
  bool is_root_ = false;
  std::size_t owners_skipped_ = 0;
  UnpackReport report_;
  const Entry* entry_ = nullptr;  // for messages; null while finishing directories
  std::string current_;
  std::map<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t, std::uint32_t>, std::string> links_;
  std::map<std::string, DirAttrs> dirs_;
};

}  // namespace

Result<UnpackReport> unpack(std::span<const std::uint8_t> image, const fs::path& target) {
  try {
    return Unpacker(target).run(image);
  } catch (const std::exception& e) {
    return make_error(e.what());
  }
}

}  // namespace enclaver::cpio
