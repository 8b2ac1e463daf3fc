// Applying layer tars to the index (see flatten.hpp for the semantics).
#include <sys/stat.h>

#include <stdexcept>
#include <vector>

#include "common/text.hpp"
#include "image/layers/flatten.hpp"
#include "image/layers/tar_read.hpp"

namespace enclaver::image {
namespace {

using text::quote;

constexpr std::string_view kWhiteout = ".wh.";
constexpr std::string_view kOpaque = ".wh..wh..opq";
constexpr std::string_view kMeta = ".wh..wh.";  // AUFS metadata (plnk, aufs)

// "./a//b/" -> "a/b"; "" for the root. Absolute names and ".." are refused:
// a layer is always relative to the root it is applied to.
std::string member_path(std::string_view name, const std::string& what) {
  if (name.starts_with("/"))
    throw std::runtime_error(what + ": member " + quote(name, 200) + " has an absolute path; refusing the layer");
  std::string out;
  for (auto part : text::split(name, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..")
      throw std::runtime_error(what + ": member " + quote(name, 200) + " climbs out of the root with \"..\"; refusing the layer");
    if (!out.empty()) out += '/';
    out += part;
  }
  // The ramdisk names it "rootfs/<path>", at most 4095 bytes (PATH_MAX).
  if (out.size() > 4095 - 7)
    throw std::runtime_error(what + ": member path " + quote(name, 200) + " is longer than the ramdisk allows (4088 bytes)");
  return out;
}

std::pair<std::string, std::string> split_last(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

bool has_meta_component(const std::string& path) {
  for (auto part : text::split(path, '/'))
    if (part.starts_with(kMeta) && part != kOpaque) return true;
  return false;
}

}  // namespace

RootfsBuilder::RootfsBuilder(FlattenOptions options) : options_(std::move(options)) {}

void RootfsBuilder::apply_image(const SavedImage& image) {
  for (const auto& layer : image.layers) apply_layer(layer.bytes);
}

void RootfsBuilder::apply_layer(const FileRange& layer) {
  const std::uint32_t L = ++layer_;
  const std::string& what = layer.what;
  const std::uint32_t source = add_source(layer.file);
  std::vector<std::uint8_t> buf(256 * 1024);

  walk_tar(layer, [&](const TarMember& m, MemberData& data) {
    const std::string path = member_path(m.name, what);
    if (path.empty()) return;  // the root: its attributes are the ramdisk's own
    if (has_meta_component(path)) return;
    auto [parent, base] = split_last(path);
    const std::string where = what + ": " + quote(path, 200);

    if (base.starts_with(kWhiteout)) {
      const std::string dir = resolve_parent(parent, where);
      if (base == kOpaque) {
        erase_below(dir, L);
      } else {
        const std::string victim = base.substr(kWhiteout.size());
        if (victim.empty() || victim == "." || victim == "..")
          throw std::runtime_error(where + " is a whiteout without a valid name");
        erase_tree(dir.empty() ? victim : dir + "/" + victim, L);
      }
      return;
    }

    const std::string dir = resolve_parent(parent, where);
    const std::string full = dir.empty() ? base : dir + "/" + base;
    Node node;
    node.mode = m.mode & (S_IFMT | 07777);
    node.uid = m.uid;
    node.gid = m.gid;
    node.layer = L;
    node.xattrs = m.xattrs;

    if (!m.hardlink.empty()) {
      const std::string target_path = member_path(m.hardlink, what);
      auto [tparent, tbase] = split_last(target_path);
      const std::string tdir = resolve_parent(tparent, where);
      const std::string resolved = tdir.empty() ? tbase : tdir + "/" + tbase;
      auto it = nodes_.find(resolved);
      if (target_path.empty() || it == nodes_.end())
        throw std::runtime_error(where + " is a hard link to " + quote(m.hardlink, 200) +
                                 ", which does not exist at that point; the layer is damaged");
      if (resolved == full) return;  // a link to itself changes nothing
      Node& target = it->second;
      if ((target.mode & S_IFMT) == S_IFDIR)
        throw std::runtime_error(where + " is a hard link to the directory " + quote(m.hardlink, 200));
      if ((target.mode & S_IFMT) == S_IFREG && target.link_group == 0) target.link_group = next_group_++;
      Node copy = target;  // one inode: same type, mode, owner, contents
      copy.layer = L;
      put(full, std::move(copy));
      return;
    }

    switch (node.mode & S_IFMT) {
      case S_IFREG: {
        if (m.size > 0xffffffffu)
          throw std::runtime_error(where + " is 4 GiB or larger; the ramdisk format (newc cpio) cannot carry it");
        if (m.contiguous) {
          node.content = Content{source, m.data_offset, m.size};
        } else {
          // Not plain bytes in the file (compressed layer, sparse member):
          // copied once into the spill file.
          const std::uint64_t start = spill_size_;
          std::uint64_t got = 0;
          for (;;) {
            const std::size_t n = data.read(buf);
            if (n == 0) break;
            spill(std::span(buf.data(), n));
            got += n;
          }
          if (got != m.size)
            throw std::runtime_error(where + ": read " + std::to_string(got) + " bytes of " + std::to_string(m.size));
          node.content = Content{static_cast<std::uint32_t>(spill_source_ < 0 ? 0 : spill_source_), start, m.size};
        }
        break;
      }
      case S_IFLNK:
        if (m.symlink.empty() || m.symlink.size() > 4095)
          throw std::runtime_error(where + " is a symlink with an empty or over-long target");
        node.link_target = m.symlink;
        break;
      case S_IFCHR:
      case S_IFBLK:
        node.rdev_major = m.rdev_major;
        node.rdev_minor = m.rdev_minor;
        break;
      case S_IFDIR:
      case S_IFIFO:
        break;
      case S_IFSOCK:
        notes_.push_back("skipped socket " + quote("/" + full, 200) + " of " + what + " (a runtime object)");
        return;
      default:
        throw std::runtime_error(where + " has an unknown file type");
    }
    put(full, std::move(node));
  });
}

}  // namespace enclaver::image
