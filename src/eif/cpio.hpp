// cpio "newc" (SVR4, magic 070701): the format of both EIF ramdisks.
//
// Writer: byte-exact with the linuxkit conventions of eif.md §7 (inode
// numbers from 721, devmajor 3 / devminor 1 on every entry, nlink 2 for
// directories, header+name and data each padded to 4, trailer `TRAILER!!!`,
// archive zero-padded to a multiple of 512). It streams to a ByteSink and
// copies file contents in chunks, never a whole file in memory.
//
// Tree: scan_tree() walks a directory without following symlinks and returns
// its entries in a canonical order; write_tree() writes them. The bytes are a
// function of names, types, permission bits, uid/gid, device numbers, symlink
// targets, contents and hard-link structure only: never of readdir order, the
// working directory, timestamps or inode numbers on disk.
//
// Reader: sans-IO over a byte span; never trusts a size field. unpack()
// materialises archives in a directory the way the kernel's initramfs
// unpacker does, without ever writing outside that directory.
//
// Errors: the writing side (Writer, scan_tree, write_tree) throws
// std::runtime_error / std::system_error (ByteSink failures propagate
// unchanged) and std::invalid_argument for entries it cannot represent; the
// reading side (Reader, read_archive, unpack) returns Result and does not
// throw for bad input. Messages say which entry or offset and what is wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/byte_sink.hpp"
#include "common/result.hpp"

namespace enclaver::cpio {

inline constexpr std::uint32_t kFirstInode = 721;  // linuxkit's first inode number
inline constexpr std::size_t kHeaderSize = 110;    // "070701" + 13 fields of 8 hex digits
inline constexpr std::size_t kMaxNameSize = 4096;  // namesize limit incl. NUL (kernel PATH_MAX)
inline constexpr std::size_t kMaxLinkTarget = 4095;  // symlink target limit (PATH_MAX - NUL)
inline constexpr std::string_view kTrailerName = "TRAILER!!!";

// File type bits of `mode` (the S_IFMT values; the same on every Linux arch).
inline constexpr std::uint32_t kTypeMask = 0170000;
inline constexpr std::uint32_t kSocket = 0140000;
inline constexpr std::uint32_t kSymlink = 0120000;
inline constexpr std::uint32_t kRegular = 0100000;
inline constexpr std::uint32_t kBlockDevice = 0060000;
inline constexpr std::uint32_t kDirectory = 0040000;
inline constexpr std::uint32_t kCharDevice = 0020000;
inline constexpr std::uint32_t kFifo = 0010000;

// One newc header, field by field in on-disk order (name last; without its
// NUL). The defaults are linuxkit's.
struct Header {
  std::uint32_t ino = 0;        // writer: 0 = the next number of its sequence
  std::uint32_t mode = 0;       // file type | low 12 permission bits
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint32_t nlink = 0;      // writer: 0 = 2 for directories, 1 otherwise
  std::uint32_t mtime = 0;      // seconds since the epoch
  std::uint32_t filesize = 0;   // bytes of data: file contents or symlink target
  std::uint32_t dev_major = 3;
  std::uint32_t dev_minor = 1;
  std::uint32_t rdev_major = 0;  // device nodes only
  std::uint32_t rdev_minor = 0;
  std::uint32_t check = 0;
  std::string name;

  bool operator==(const Header&) const = default;
};

// True for the seven types newc can carry (regular, directory, symlink,
// char/block device, FIFO, socket).
bool known_type(std::uint32_t mode);

// Writes one archive. Entries are written in call order; the caller decides
// the order (write_tree's canonical order, or its own).
//
// A name must be relative and canonical: non-empty, at most 4095 bytes, no
// NUL, no leading '/', no empty, "." or ".." component (so no "./" prefix and
// no trailing '/'), and not "TRAILER!!!". Anything else is
// std::invalid_argument, as are an unknown file type, permission bits above
// 07777, data on a directory/device/FIFO/socket, and a symlink target that is
// empty, longer than 4095 bytes or contains NUL.
//
// Inode numbers: each header with ino == 0 takes the next number of the
// sequence (first_inode, first_inode + 1, ...); the trailer takes one too. A
// header with ino != 0 is written as is and does not advance the sequence:
// that is how hard links share the number of the first entry of their group.
class Writer {
 public:
  explicit Writer(ByteSink& sink, std::uint32_t first_inode = kFirstInode);
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // An entry with all its data in memory (directories, symlinks, small files).
  // h.filesize is set from data.size(). Returns the inode number written.
  std::uint32_t add(Header h, std::span<const std::uint8_t> data = {});
  std::uint32_t add(Header h, std::string_view data);

  // A regular file streamed from `fd`: reads exactly h.filesize bytes from
  // its current position in chunks. A short read (the file shrank) throws.
  std::uint32_t add_file(Header h, int fd);

  // Incremental form: begin() writes the header; then write() exactly
  // h.filesize bytes in as many pieces as wanted; the next begin()/finish()
  // checks the count and pads.
  std::uint32_t begin(Header h);
  void write(std::span<const std::uint8_t> data);

  // Writes the trailer (mode 0, mtime 0, nlink 1) and pads the archive to a
  // multiple of 512. No entry may follow.
  void finish();

  std::uint32_t next_inode() const { return next_ino_; }
  std::uint64_t bytes_written() const { return written_; }
  std::size_t entries_written() const { return entries_; }  // trailer excluded

 private:
  void put(std::span<const std::uint8_t> bytes);
  void pad(std::uint64_t multiple);
  void close_entry();
  std::uint32_t write_header(Header& h, bool trailer);

  ByteSink& sink_;
  std::uint32_t next_ino_;
  std::uint64_t written_ = 0;
  std::uint64_t remaining_ = 0;  // data bytes still owed to the current entry
  std::size_t entries_ = 0;
  bool open_ = false;            // an entry's data is being written
  bool finished_ = false;
};

// ---------------------------------------------------------------- tree

// One filesystem object found by scan_tree (the root directory itself is not
// an entry).
struct TreeEntry {
  std::string path;            // relative to the root, '/'-separated, canonical
  std::uint32_t mode = 0;      // lstat st_mode: type | low 12 bits
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint32_t rdev_major = 0;
  std::uint32_t rdev_minor = 0;
  std::uint64_t size = 0;      // regular files: length at scan time
  std::string link_target;     // symlinks
  std::uint64_t src_dev = 0;   // regular files: identity on disk, for hard
  std::uint64_t src_ino = 0;   //   links and to detect a swapped file
  std::uint64_t src_nlink = 1;
  std::uint64_t content_ref = 0;  // regular files: a ContentSource's own handle
                                  //   (scan_tree leaves it 0; DirectoryContents ignores it)
};

struct Skipped {
  std::string path;
  std::string reason;
};

struct Tree {
  std::filesystem::path root;      // absolute
  std::vector<TreeEntry> entries;  // in canonical order (see scan_tree)
  std::vector<Skipped> skipped;
};

// Walks `root` (which must be a directory; a symlink to one is followed for
// the root only) with lstat semantics: symlinks are entries, never followed.
//
// Canonical order: entries sorted bytewise (unsigned, memcmp) by their full
// relative path. A parent's path is a prefix of its children's, so every
// directory precedes its contents (though not contiguously: "a", "a-b", "a/b").
// It is `LC_ALL=C sort` of the paths, independent of readdir order.
//
// Kept: regular files, directories, symlinks, char and block devices, FIFOs.
// Skipped (listed in Tree::skipped with the reason): sockets, which are
// runtime objects of a process that is gone and carry nothing to restore.
// Throws on I/O errors, a file of 4 GiB or more (newc sizes are 32-bit), or a
// path longer than newc/PATH_MAX allows.
Tree scan_tree(const std::filesystem::path& root);

// Where write_tree gets the contents of regular files. The tree itself (names,
// modes, owners, hard-link structure) is independent of it, so a tree read
// from a directory and one assembled elsewhere (image layers streamed from a
// saved image archive) go through the same canonical writer.
class ContentSource {
 public:
  virtual ~ContentSource() = default;
  // Writes the header `h` (h.filesize already equals entry.size) followed by
  // exactly entry.size bytes of `entry`'s contents, e.g. with
  // writer.add_file() or begin()/write(); returns the inode number written.
  // Throws when the contents cannot be read or changed size.
  virtual std::uint32_t add_file(Writer& writer, Header h, const TreeEntry& entry) const = 0;
};

// Contents of files below a directory (what scan_tree's entries refer to):
// each file is opened relative to `root` without following symlinks, and a
// file whose identity (src_dev, src_ino) or size changed since the scan
// throws. Opens `root` in the constructor (throws std::system_error).
class DirectoryContents final : public ContentSource {
 public:
  explicit DirectoryContents(const std::filesystem::path& root);
  ~DirectoryContents() override;
  DirectoryContents(const DirectoryContents&) = delete;
  DirectoryContents& operator=(const DirectoryContents&) = delete;
  std::uint32_t add_file(Writer& writer, Header h, const TreeEntry& entry) const override;

 private:
  std::filesystem::path root_;
  int root_fd_ = -1;
};

struct TreeWriteOptions {
  std::string prefix;       // names are prefix + "/" + path ("" = path alone)
  std::uint32_t mtime = 0;  // every entry gets this mtime (SOURCE_DATE_EPOCH or 0)
};

// Writes `tree.entries` in their vector order (the caller may have inserted or
// removed entries; keep parents before children). Contents are streamed from
// tree.root; a file whose identity or size changed since the scan throws.
// Modes, uid/gid and device numbers come from the entries, mtime from options.
//
// Hard links: regular files with st_nlink > 1 that share (st_dev, st_ino)
// within the tree form a group. Every member gets the inode number of the
// group's first entry and nlink = the group's size in this archive; the data
// is carried by the LAST member, the others have filesize 0 (the SVR4 newc
// convention of gen_init_cpio, GNU cpio and libarchive). The kernel's
// initramfs unpacker creates the first member, links each later member to it
// and writes the data when it arrives, so every name ends up on one inode with
// the contents; unpack() below does the same. A file whose other links lie
// outside the tree is written as an ordinary file (nlink 1).
void write_tree(Writer& writer, const Tree& tree, const TreeWriteOptions& options);

// The same for entries whose contents come from `contents`: identical bytes
// for identical entries, whatever the source. Hard-link groups are formed the
// same way (regular files with src_nlink > 1 sharing (src_dev, src_ino)), so
// a source other than a directory marks the members of one group with equal
// (src_dev, src_ino) and src_nlink 2 or more.
void write_tree(Writer& writer, std::span<const TreeEntry> entries, const ContentSource& contents,
                const TreeWriteOptions& options);

// ---------------------------------------------------------------- reader

struct Entry {
  Header header;                       // header.name without its NUL
  std::span<const std::uint8_t> data;  // a view into the archive bytes
  std::size_t offset = 0;              // of the header, from the start of the input
};

// Reads the entries of one archive starting at `start`. Checks for every
// header: the magic (070701; the 070702 "crc" variant is refused), 8 hex
// digits per field, 2 <= namesize <= 4096, the name NUL-terminated with no
// other NUL, a known file type and no mode bits above it, no data on
// directories, devices, FIFOs and sockets, a symlink target of 1..4095 bytes
// without NUL, and that the name, the data and their padding lie inside the
// input. Padding bytes are not checked (the kernel ignores them). Names are
// returned as stored; unpack() decides which are safe.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> input, std::size_t start = 0);

  // The next entry; nullopt once the trailer has been read (the trailer is
  // not returned) and ever after. An error is sticky: later calls repeat it.
  Result<std::optional<Entry>> next();

  // Offset just past the trailer and its padding (4-aligned), once next()
  // has returned nullopt.
  std::size_t end_offset() const { return pos_; }

 private:
  std::span<const std::uint8_t> in_;
  std::size_t pos_;
  bool done_ = false;
  std::optional<Error> error_;
};

struct Archive {
  std::vector<Entry> entries;  // trailer excluded
  std::size_t end = 0;         // offset past the trailer and its padding
};

// All entries of the archive at the start of `input`; an archive without a
// trailer is an error. What follows the trailer (the 512 padding, another
// archive) is not examined.
Result<Archive> read_archive(std::span<const std::uint8_t> input);

// ---------------------------------------------------------------- unpack

struct UnpackReport {
  std::size_t archives = 0;
  std::size_t entries = 0;
  std::vector<std::string> notes;  // what was skipped and why
};

// Unpacks `image` into the existing directory `target` the way the kernel's
// initramfs code (init/initramfs.c) populates rootfs: `image` is one or more
// archives, each optionally followed by NUL padding, the next starting at a
// 4-aligned offset; entries are applied in order and later ones win: an
// existing object of another type is removed first (a directory only if it
// is empty, otherwise an error), an existing regular file is truncated and
// rewritten, an existing directory gets the new mode, owner and mtime.
// Hard links: within one archive (up to its trailer), an entry with nlink >= 2
// whose (dev_major, dev_minor, ino, type) matches an earlier one is linked to
// that earlier entry, then its data, if any, is written into the shared file.
//
// Safety: names are split on '/', empty and "." components dropped; a name
// with a ".." component or an absolute name is an error; a name that reduces
// to nothing ("." or "./") is noted and skipped. Every path is resolved
// component by component from a descriptor of `target` with
// openat(O_DIRECTORY | O_NOFOLLOW), and the final component is created with
// the *at() calls relative to its parent's descriptor (O_NOFOLLOW,
// AT_SYMLINK_NOFOLLOW), so a symlink planted by an earlier entry is never
// followed: an entry below one is an error. A missing parent directory is an
// error too (the kernel would silently drop the entry).
//
// Attributes: modes and mtimes always (a file's mode after its data, so that
// set-user-ID survives without CAP_FSETID); uid/gid only when running as
// root (otherwise the number of entries whose owner could not be applied is
// noted). Directories are created 0700 and get their mode, owner and mtime at
// the end, deepest first (the kernel too sets directory mtimes last), so a
// read-only directory can still be filled without root. Device nodes need
// CAP_MKNOD: when mknod fails with EPERM the node is skipped and noted.
// Stops at the first error; what was unpacked so far stays.
Result<UnpackReport> unpack(std::span<const std::uint8_t> image, const std::filesystem::path& target);

}  // namespace enclaver::cpio
