// The index itself: lookups through symlinks, replacing and erasing
// subtrees, additions, the §7 fix-ups, and the tree handed to the ramdisk
// writer with its content source (see flatten.hpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <set>
#include <stdexcept>
#include <system_error>

#include "common/text.hpp"
#include "image/layers/flatten.hpp"

namespace enclaver::image {
namespace {

using text::quote;

constexpr int kMaxSymlinks = 40;  // as the kernel's path walk (ELOOP)
constexpr std::size_t kChunk = 256 * 1024;

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

// Reads regular files' bytes from the builder's sources with pread.
class ImageContents final : public cpio::ContentSource {
 public:
  ImageContents(std::vector<SharedFd> sources, std::vector<RootfsBuilder::Content> contents)
      : sources_(std::move(sources)), contents_(std::move(contents)) {}

  std::uint32_t add_file(cpio::Writer& writer, cpio::Header h, const cpio::TreeEntry& e) const override {
    if (e.content_ref >= contents_.size()) throw std::logic_error("image rootfs: bad content reference");
    const RootfsBuilder::Content& c = contents_[e.content_ref];
    const int fd = sources_.at(c.source)->get();
    const std::uint32_t ino = writer.begin(std::move(h));
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, c.size)));
    const std::string what = "the contents of /" + e.path;
    std::uint64_t done = 0;
    while (done < c.size) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), c.size - done));
      pread_exact(fd, c.offset + done, std::span(buf.data(), n), what);
      writer.write(std::span<const std::uint8_t>(buf.data(), n));
      done += n;
    }
    return ino;
  }

 private:
  std::vector<SharedFd> sources_;
  std::vector<RootfsBuilder::Content> contents_;
};

}  // namespace

std::string RootfsBuilder::resolve_parent(std::string_view parent, const std::string& what) const {
  std::deque<std::string> todo;
  for (auto p : text::split(parent, '/'))
    if (!p.empty()) todo.emplace_back(p);
  std::vector<std::string> out;
  int links = 0;
  while (!todo.empty()) {
    std::string c = std::move(todo.front());
    todo.pop_front();
    if (c == ".") continue;
    if (c == "..") {  // never above the root, as in a chroot
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(std::move(c));
    auto it = nodes_.find(join(out));
    if (it == nodes_.end() || (it->second.mode & S_IFMT) != S_IFLNK) continue;
    if (++links > kMaxSymlinks) throw std::runtime_error(what + ": too many levels of symbolic links in its parent path");
    out.pop_back();
    const std::string& target = it->second.link_target;
    if (target.starts_with("/")) out.clear();
    std::vector<std::string> parts;
    for (auto p : text::split(target, '/'))
      if (!p.empty()) parts.emplace_back(p);
    todo.insert(todo.begin(), parts.begin(), parts.end());
  }
  return join(out);
}

void RootfsBuilder::ensure_parents(const std::string& path) {
  for (std::size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    auto it = nodes_.find(dir);
    if (it != nodes_.end() && (it->second.mode & S_IFMT) == S_IFDIR) continue;
    if (it != nodes_.end())
      notes_.push_back("/" + dir + " was not a directory but has contents in a later layer; replaced by a directory");
    Node d;
    d.mode = S_IFDIR | 0755;
    d.layer = layer_;
    nodes_[dir] = std::move(d);
  }
}

void RootfsBuilder::put(const std::string& path, Node node) {
  ensure_parents(path);
  auto it = nodes_.find(path);
  if (it != nodes_.end()) {
    const bool old_dir = (it->second.mode & S_IFMT) == S_IFDIR;
    const bool new_dir = (node.mode & S_IFMT) == S_IFDIR;
    if (old_dir && new_dir) {  // merge: new attributes, contents kept
      it->second.mode = node.mode;
      it->second.uid = node.uid;
      it->second.gid = node.gid;
      it->second.layer = node.layer;
      it->second.xattrs = std::move(node.xattrs);
      return;
    }
    if (old_dir) erase_below(path, UINT32_MAX);
    it->second = std::move(node);
    return;
  }
  nodes_.emplace(path, std::move(node));
}

void RootfsBuilder::erase_below(const std::string& dir, std::uint32_t older_than) {
  // Every key below `dir` starts with dir + "/", and those keys are
  // contiguous in the map: from dir + "/" up to dir + "0" ('0' follows '/').
  auto first = dir.empty() ? nodes_.begin() : nodes_.lower_bound(dir + "/");
  auto last = dir.empty() ? nodes_.end() : nodes_.lower_bound(dir + "0");
  while (first != last) {
    if (first->second.layer < older_than) first = nodes_.erase(first);
    else ++first;
  }
}

void RootfsBuilder::erase_tree(const std::string& path, std::uint32_t older_than) {
  erase_below(path, older_than);
  auto it = nodes_.find(path);
  if (it != nodes_.end() && it->second.layer < older_than) nodes_.erase(it);
}

std::uint32_t RootfsBuilder::add_source(SharedFd file) {
  for (std::size_t i = 0; i < sources_.size(); ++i)
    if (sources_[i] == file) return static_cast<std::uint32_t>(i);
  sources_.push_back(std::move(file));
  return static_cast<std::uint32_t>(sources_.size() - 1);
}

RootfsBuilder::Content RootfsBuilder::spill(std::span<const std::uint8_t> bytes) {
  if (spill_source_ < 0) {
    auto fd = std::make_shared<Fd>(make_temp_file(options_.temp_dir));
    spill_source_ = static_cast<std::int32_t>(add_source(fd));
  }
  const int fd = sources_[static_cast<std::size_t>(spill_source_)]->get();
  const Content c{static_cast<std::uint32_t>(spill_source_), spill_size_, bytes.size()};
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(spill_size_ + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "cannot write the temporary file in " + options_.temp_dir.string());
    }
    done += static_cast<std::size_t>(n);
  }
  spill_size_ += bytes.size();
  return c;
}

std::string RootfsBuilder::addition_path(std::string_view path) const {
  std::string rel;
  for (auto part : text::split(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") throw std::invalid_argument("added path " + quote(path, 200) + " has a \"..\" component");
    if (!rel.empty()) rel += '/';
    rel += part;
  }
  if (rel.empty()) throw std::invalid_argument("added path " + quote(path, 200) + " names the root");
  if (rel.size() > 4095 - 7) throw std::invalid_argument("added path " + quote(path, 200) + " is too long");
  const auto slash = rel.rfind('/');
  if (slash == std::string::npos) return rel;
  const std::string dir = resolve_parent(std::string_view(rel).substr(0, slash), "added path " + quote(path, 200));
  const std::string base = rel.substr(slash + 1);
  return dir.empty() ? base : dir + "/" + base;
}

void RootfsBuilder::add_file(std::string_view path, const std::filesystem::path& source, std::uint32_t perms,
                             std::uint32_t uid, std::uint32_t gid) {
  SharedFd fd = open_shared(source);
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0)
    throw std::system_error(errno, std::generic_category(), "cannot stat " + source.string());
  if (!S_ISREG(st.st_mode)) throw std::runtime_error(source.string() + " is not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > 0xffffffffu)
    throw std::runtime_error(source.string() + " is 4 GiB or larger; the ramdisk format cannot carry it");
  Node n;
  n.mode = S_IFREG | (perms & 07777);
  n.uid = uid;
  n.gid = gid;
  n.layer = layer_ + 1;
  n.content = Content{add_source(std::move(fd)), 0, static_cast<std::uint64_t>(st.st_size)};
  put(addition_path(path), std::move(n));
}

void RootfsBuilder::add_bytes(std::string_view path, std::string_view bytes, std::uint32_t perms, std::uint32_t uid,
                              std::uint32_t gid) {
  if (bytes.size() > 0xffffffffu) throw std::invalid_argument("added file " + quote(path) + " is 4 GiB or larger");
  const std::string rel = addition_path(path);
  Node n;
  n.mode = S_IFREG | (perms & 07777);
  n.uid = uid;
  n.gid = gid;
  n.layer = layer_ + 1;
  n.content = spill(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  put(rel, std::move(n));
}

void RootfsBuilder::add_directory(std::string_view path, std::uint32_t perms, std::uint32_t uid, std::uint32_t gid) {
  Node n;
  n.mode = S_IFDIR | (perms & 07777);
  n.uid = uid;
  n.gid = gid;
  n.layer = layer_ + 1;
  put(addition_path(path), std::move(n));
}

void RootfsBuilder::add_symlink(std::string_view path, std::string_view target) {
  if (target.empty() || target.size() > 4095 || target.find('\0') != std::string_view::npos)
    throw std::invalid_argument("symlink " + quote(path) + ": empty, over-long or NUL-containing target");
  Node n;
  n.mode = S_IFLNK | 0777;
  n.link_target = std::string(target);
  n.layer = layer_ + 1;
  put(addition_path(path), std::move(n));
}

void RootfsBuilder::apply_export_fixups() {
  for (const char* gone : {".dockerenv", "Dockerfile", "dev/console", "dev/pts", "dev/shm", "etc/hostname"})
    erase_tree(gone, UINT32_MAX);
  add_bytes("etc/hosts", kEnclaveHosts, 0644);
  add_symlink("etc/resolv.conf", "/run/resolvconf/resolv.conf");
  for (const char* dir : {"dev", "dev/pts", "dev/shm", "etc", "proc", "sys"}) {
    const Node* n = find(dir);
    if (n == nullptr) add_directory(dir);
  }
  if (find("etc/mtab") == nullptr) add_symlink("etc/mtab", "/proc/mounts");
}

bool RootfsBuilder::copy_out(std::string_view path, const std::filesystem::path& dest) const {
  // Resolving "path/." makes the last component a parent, so it is followed too.
  std::string resolved;
  try {
    resolved = resolve_parent(std::string(path) + "/.", "copying " + quote(path, 200));
  } catch (const std::runtime_error&) {
    return false;  // a symlink loop: nothing to copy
  }
  const Node* n = find(resolved);
  if (n == nullptr || (n->mode & S_IFMT) != S_IFREG) return false;
  Fd out(::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, n->mode & 0777));
  if (!out.valid()) throw std::system_error(errno, std::generic_category(), "cannot create " + dest.string());
  FdSink sink(out.get(), dest.string());
  copy_range(FileRange{sources_.at(n->content.source), n->content.offset, n->content.size, "/" + resolved}, sink);
  if (::fchmod(out.get(), n->mode & 07777) != 0)
    throw std::system_error(errno, std::generic_category(), "cannot chmod " + dest.string());
  return true;
}

const RootfsBuilder::Node* RootfsBuilder::find(std::string_view path) const {
  auto it = nodes_.find(std::string(path));
  return it == nodes_.end() ? nullptr : &it->second;
}

eif::RootfsTree RootfsBuilder::tree() const {
  eif::RootfsTree t;
  t.notes = notes_;
  std::vector<Content> contents;
  std::size_t xattr_notes = 0, xattr_total = 0;
  for (const auto& [path, n] : nodes_) {
    cpio::TreeEntry e;
    e.path = path;
    e.mode = n.mode;
    e.uid = n.uid;
    e.gid = n.gid;
    e.rdev_major = n.rdev_major;
    e.rdev_minor = n.rdev_minor;
    e.link_target = n.link_target;
    if ((n.mode & S_IFMT) == S_IFREG) {
      e.size = n.content.size;
      e.content_ref = contents.size();
      contents.push_back(n.content);
      if (n.link_group != 0) {
        e.src_dev = 1;
        e.src_ino = n.link_group;
        e.src_nlink = 2;  // a group: write_tree counts the members present
      }
    }
    for (const auto& x : n.xattrs) {
      ++xattr_total;
      if (xattr_notes++ >= 20) continue;
      std::string note = "dropped extended attribute " + x + " of /" + path +
                         " (the ramdisk format cannot carry extended attributes)";
      if (x == "security.capability")
        note += ": the file loses its file capabilities; run it as root or grant them at run time";
      t.notes.push_back(std::move(note));
    }
    t.entries.push_back(std::move(e));
  }
  if (xattr_total > 20) t.notes.push_back("... and " + std::to_string(xattr_total - 20) + " more extended attributes dropped");
  t.contents = std::make_shared<const ImageContents>(sources_, std::move(contents));
  return t;
}

}  // namespace enclaver::image
