// Flattening an image's layers into one root filesystem, in memory, for the
// EIF's customer ramdisk (../shared/spec/eif.md §7, §8): an index of
// path -> object (type, mode, owner, device numbers, symlink target,
// hard-link group, and where the contents lie), never a copy of the tree on
// disk. Contents stay where they are: regular files of uncompressed layers
// are byte ranges of the saved image archive; only data that is not stored
// as plain bytes (compressed layers, sparse files) and small additions are
// copied, into one anonymous temporary "spill" file.
//
// Layer semantics (OCI image-spec layer.md, Docker's applier):
//   - paths are normalised ("./a/b/" -> "a/b"); an absolute path or a ".."
//     component is an error naming the layer and the path;
//   - `.wh.<name>` deletes <name> and everything below it from lower layers;
//     `.wh..wh..opq` deletes everything below its directory from lower
//     layers; objects of the whiteout's own layer are untouched, whatever
//     the order of the members; other `.wh..wh.*` (AUFS metadata) are ignored;
//   - an object replaces what was at its path, except that a directory over
//     a directory only updates mode and owner (the contents merge); a non-
//     directory over a directory removes the directory's subtree;
//   - parents are looked up like a chroot would: a symlink met in a parent
//     path is followed (staying inside the root); missing parents are created
//     as directories 0755 root;
//   - a hard link refers to an object present when it is met (of this or a
//     lower layer); the two then form a hard-link group sharing one inode in
//     the ramdisk; replacing one member later leaves the others as they were;
//   - sockets are skipped, extended attributes dropped: newc cpio cannot
//     carry them and the kernel's initramfs unpacker would ignore them; both
//     are reported in notes() (file capabilities especially).
//
// Errors: std::runtime_error naming the layer (FileRange::what) and member;
// I/O errors as std::system_error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "eif/ramdisk.hpp"
#include "image/layers/image_archive.hpp"
#include "image/layers/io.hpp"

namespace enclaver::image {

struct FlattenOptions {
  // Where the spill file is created (anonymous: nothing is left behind).
  std::filesystem::path temp_dir = std::filesystem::temp_directory_path();
};

// The contents of /etc/hosts in every enclave (eif.md §7: the image's own is
// replaced by a fixed localhost file).
inline constexpr std::string_view kEnclaveHosts =
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "ff00::0\tip6-mcastprefix\n"
    "ff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n";

class RootfsBuilder {
 public:
  // Where a regular file's bytes are: `source` indexes the builder's files.
  struct Content {
    std::uint32_t source = 0;
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
  };
  struct Node {
    std::uint32_t mode = 0;  // S_IF* type | permission bits (07777)
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::uint32_t rdev_major = 0;
    std::uint32_t rdev_minor = 0;
    std::string link_target;          // symlinks
    Content content;                  // regular files
    std::uint64_t link_group = 0;     // 0: not hard-linked
    std::uint32_t layer = 0;          // the layer (1-based) that wrote it; additions: after the last
    std::vector<std::string> xattrs;  // names of the dropped extended attributes
  };

  explicit RootfsBuilder(FlattenOptions options = {});

  // Applies one layer blob (tar, optionally compressed) on top.
  void apply_layer(const FileRange& layer);
  // Applies every layer of `image`, bottom first.
  void apply_image(const SavedImage& image);

  // The fix-ups eif.md §7 describes for nitro-cli's `docker export` input:
  // drops .dockerenv, Dockerfile, dev/console, dev/pts, dev/shm and
  // etc/hostname; replaces etc/hosts by kEnclaveHosts (0644 root) and
  // etc/resolv.conf by a symlink to /run/resolvconf/resolv.conf; then
  // creates whichever of dev, dev/pts, dev/shm, etc, etc/mtab (symlink to
  // /proc/mounts), proc and sys is missing (directories 0755 root).
  void apply_export_fixups();

  // Additions on top of the image (they win over what is there). Paths are
  // absolute or relative to the root, e.g. "/sbin/odyn"; parents are
  // created as directories 0755 root where missing, and a symlinked parent
  // is followed as Docker's COPY would (so /sbin/odyn lands in /usr/sbin
  // when /sbin -> usr/sbin). add_file streams from `source` at write time
  // (its size is taken now; a file that changes size meanwhile is an error).
  void add_file(std::string_view path, const std::filesystem::path& source, std::uint32_t perms = 0755,
                std::uint32_t uid = 0, std::uint32_t gid = 0);
  void add_bytes(std::string_view path, std::string_view bytes, std::uint32_t perms = 0644, std::uint32_t uid = 0,
                 std::uint32_t gid = 0);
  void add_directory(std::string_view path, std::uint32_t perms = 0755, std::uint32_t uid = 0, std::uint32_t gid = 0);
  void add_symlink(std::string_view path, std::string_view target);

  // The tree for eif::write_customer_ramdisk / BuildRequest::rootfs_tree:
  // entries in canonical order, contents read from the files the builder
  // holds (which the tree shares, so it stays valid after the builder goes),
  // notes about what was dropped. Later changes to the builder do not affect
  // a tree already returned.
  eif::RootfsTree tree() const;

  // Copies the regular file at `path` (absolute or relative; symlinks,
  // the last component's too, followed inside the root) to a new file
  // `dest` with the file's permission bits. False when there is no regular
  // file there; I/O errors throw. (For taking one binary, such as odyn,
  // out of an image without extracting it.)
  bool copy_out(std::string_view path, const std::filesystem::path& dest) const;

  const Node* find(std::string_view path) const;  // canonical relative path ("etc/hosts")
  const std::map<std::string, Node>& nodes() const { return nodes_; }
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  std::string resolve_parent(std::string_view parent, const std::string& what) const;
  void ensure_parents(const std::string& path);
  void put(const std::string& path, Node node);
  void erase_below(const std::string& dir, std::uint32_t older_than);
  void erase_tree(const std::string& path, std::uint32_t older_than);
  std::string addition_path(std::string_view path) const;
  std::uint32_t add_source(SharedFd file);
  Content spill(std::span<const std::uint8_t> bytes);

  FlattenOptions options_;
  std::map<std::string, Node> nodes_;  // keys: canonical relative paths; the root itself is not a node
  std::vector<SharedFd> sources_;
  std::int32_t spill_source_ = -1;
  std::uint64_t spill_size_ = 0;
  std::uint32_t layer_ = 0;        // the layer being (or last) applied
  std::uint64_t next_group_ = 1;
  std::vector<std::string> notes_;
};

}  // namespace enclaver::image
