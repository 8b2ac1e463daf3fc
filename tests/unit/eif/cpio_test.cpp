// cpio newc: writer byte layout, canonical tree walk, reader validation,
// unpack semantics and safety, and GNU cpio as an independent reader.
#include <fcntl.h>
#include <gtest/gtest.h>

#include "common/temp_dir.hpp"
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "eif/cpio.hpp"

namespace enclaver::cpio {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

// ------------------------------------------------------------ helpers


void write_file(const fs::path& p, const std::string& content, mode_t mode = 0644) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
  ASSERT_EQ(::chmod(p.c_str(), mode), 0);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string str(std::span<const std::uint8_t> b) { return std::string(b.begin(), b.end()); }
Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

// The 8 hex digits of header field `index` (0 = c_ino ... 12 = c_check) of
// the header at `offset`.
std::string field(const Bytes& a, std::size_t offset, int index) {
  return std::string(a.begin() + offset + 6 + 8 * index, a.begin() + offset + 14 + 8 * index);
}

// A raw newc entry, built here independently of the Writer so that tests can
// make archives the Writer would refuse.
std::string raw_entry(const std::string& name, std::uint32_t mode, const std::string& data, std::uint32_t ino = 1,
                      std::uint32_t nlink = 1, std::uint32_t namesize = 0) {
  char hdr[111];
  std::snprintf(hdr, sizeof hdr, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x", ino, mode, 0u, 0u,
                nlink, 0u, static_cast<unsigned>(data.size()), 3u, 1u, 0u, 0u,
                namesize ? namesize : static_cast<unsigned>(name.size() + 1), 0u);
  std::string s(hdr, 110);
  s += name;
  s += '\0';
  while (s.size() % 4) s += '\0';
  s += data;
  while (s.size() % 4) s += '\0';
  return s;
}
std::string raw_trailer() { return raw_entry("TRAILER!!!", 0, "", 0); }

Bytes archive_of_tree(const fs::path& root, const std::string& prefix = "", std::uint32_t mtime = 0) {
  VectorSink sink;
  Writer w(sink);
  write_tree(w, scan_tree(root), {.prefix = prefix, .mtime = mtime});
  w.finish();
  return sink.data();
}

std::vector<std::string> names_of(const Bytes& archive) {
  auto a = read_archive(archive);
  EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message);
  std::vector<std::string> out;
  if (a.ok())
    for (const Entry& e : a->entries) out.push_back(e.header.name);
  return out;
}

bool mknod_works(const fs::path& dir) {
  const fs::path p = dir / ".probe";
  const bool ok = ::mknod(p.c_str(), S_IFCHR | 0600, ::makedev(1, 3)) == 0;
  ::unlink(p.c_str());
  return ok;
}

// A tree with one of everything. `reverse` creates the files in the opposite
// order (so readdir order differs); `mtime` stamps every object.
void populate(const fs::path& root, bool reverse, std::time_t mtime) {
  std::vector<std::function<void()>> steps = {
      [&] { fs::create_directories(root / "etc/ssl"); },
      [&] { write_file(root / "etc/hostname", "enclave\n", 0644); },
      [&] { write_file(root / "etc/ssl/key.pem", "secret", 0600); },
      [&] { fs::create_directories(root / "bin"); },
      [&] { write_file(root / "bin/app", std::string(70000, 'x') + "end", 04755); },
      [&] { ASSERT_EQ(::symlink("app", (root / "bin/sh").c_str()), 0); },
      [&] { ASSERT_EQ(::symlink("/etc/hostname", (root / "hostlink").c_str()), 0); },
      [&] { write_file(root / "a-b", "", 0640); },
      [&] { fs::create_directories(root / "a"); },
      [&] { write_file(root / "a/z", "zz", 0444); },
      [&] {
        ASSERT_EQ(::mkfifo((root / "a/fifo").c_str(), 0600), 0);
        ASSERT_EQ(::chmod((root / "a/fifo").c_str(), 0620), 0);  // past the umask
      },
      [&] { fs::create_directories(root / "ro"); },
  };
  if (reverse) {
    // Keep parents before children: build directories first, then the rest reversed.
    std::vector<std::function<void()>> dirs = {steps[0], steps[3], steps[8], steps[11]};
    std::vector<std::function<void()>> rest;
    for (std::size_t i = steps.size(); i-- > 0;)
      if (i != 0 && i != 3 && i != 8 && i != 11) rest.push_back(steps[i]);
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) (*it)();
    for (auto& s : rest) s();
  } else {
    for (auto& s : steps) s();
  }
  ASSERT_EQ(::link((root / "bin/app").c_str(), (root / "etc/app-hardlink").c_str()), 0);
  ASSERT_EQ(::chmod((root / "ro").c_str(), 0555), 0);
  if (::geteuid() == 0) {
    ASSERT_EQ(::lchown((root / "etc/ssl/key.pem").c_str(), 1234, 5678), 0);
    ASSERT_EQ(::lchown((root / "hostlink").c_str(), 42, 43), 0);
  }
  // Stamp everything, deepest first.
  std::vector<fs::path> all;
  for (auto& e : fs::recursive_directory_iterator(root)) all.push_back(e.path());
  all.push_back(root);
  const struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
  for (auto it = all.rbegin(); it != all.rend(); ++it) ::utimensat(AT_FDCWD, it->c_str(), ts, AT_SYMLINK_NOFOLLOW);
}

// ------------------------------------------------------------ writer

TEST(CpioWriter, SmallArchiveIsByteExact) {
  VectorSink sink;
  Writer w(sink);
  Header d;
  d.name = "d";
  d.mode = kDirectory | 0755;
  EXPECT_EQ(w.add(d), 721u);
  Header f;
  f.name = "d/f";
  f.mode = kRegular | 0644;
  f.uid = 1000;
  f.gid = 100;
  f.mtime = 0x12345678;
  EXPECT_EQ(w.add(f, std::string_view("hello")), 722u);
  Header l;
  l.name = "d/l";
  l.mode = kSymlink | 0777;
  EXPECT_EQ(w.add(l, std::string_view("f")), 723u);
  w.finish();

  // Hand-computed: field order ino mode uid gid nlink mtime filesize devmajor
  // devminor rdevmajor rdevminor namesize check.
  std::string want;
  want += "070701" "000002d1" "000041ed" "00000000" "00000000" "00000002" "00000000" "00000000"
          "00000003" "00000001" "00000000" "00000000" "00000002" "00000000";
  want += std::string("d\0", 2);  // 112 bytes: already 4-aligned
  want += "070701" "000002d2" "000081a4" "000003e8" "00000064" "00000001" "12345678" "00000005"
          "00000003" "00000001" "00000000" "00000000" "00000004" "00000000";
  want += std::string("d/f\0\0\0", 6);       // 112+114 = 226, padded to 228
  want += std::string("hello\0\0\0", 8);     // 233, padded to 236
  want += "070701" "000002d3" "0000a1ff" "00000000" "00000000" "00000001" "00000000" "00000001"
          "00000003" "00000001" "00000000" "00000000" "00000004" "00000000";
  want += std::string("d/l\0\0\0", 6);       // 350, padded to 352
  want += std::string("f\0\0\0", 4);         // 353, padded to 356
  want += "070701" "000002d4" "00000000" "00000000" "00000000" "00000001" "00000000" "00000000"
          "00000003" "00000001" "00000000" "00000000" "0000000b" "00000000";
  want += std::string("TRAILER!!!\0\0\0\0", 14);  // 356+121 = 477, padded to 480
  ASSERT_EQ(want.size(), 480u);
  want += std::string(32, '\0');  // to 512
  EXPECT_EQ(str(sink.data()), want);
  EXPECT_EQ(w.bytes_written(), 512u);
  EXPECT_EQ(w.entries_written(), 3u);
  EXPECT_EQ(w.next_inode(), 725u);
}

TEST(CpioWriter, DeviceNumbersGoToRdevFields) {
  VectorSink sink;
  Writer w(sink, 100);
  Header c;
  c.name = "null";
  c.mode = kCharDevice | 0666;
  c.rdev_major = 1;
  c.rdev_minor = 3;
  w.add(c);
  Header b;
  b.name = "sda";
  b.mode = kBlockDevice | 0660;
  b.rdev_major = 8;
  b.rdev_minor = 0x10;
  w.add(b);
  w.finish();
  const Bytes& a = sink.data();
  EXPECT_EQ(field(a, 0, 0), "00000064");   // first inode as configured
  EXPECT_EQ(field(a, 0, 1), "000021b6");   // 020666
  EXPECT_EQ(field(a, 0, 7), "00000003");   // devmajor, always 3
  EXPECT_EQ(field(a, 0, 8), "00000001");   // devminor, always 1
  EXPECT_EQ(field(a, 0, 9), "00000001");
  EXPECT_EQ(field(a, 0, 10), "00000003");
  EXPECT_EQ(field(a, 116, 0), "00000065");  // "null\0" = 5 -> 115 -> 116
  EXPECT_EQ(field(a, 116, 1), "000061b0");
  EXPECT_EQ(field(a, 116, 9), "00000008");
  EXPECT_EQ(field(a, 116, 10), "00000010");
  EXPECT_EQ(a.size() % 512, 0u);
}

TEST(CpioWriter, ExplicitInodeDoesNotAdvanceTheSequence) {
  VectorSink sink;
  Writer w(sink);
  Header a;
  a.name = "a";
  a.mode = kRegular | 0644;
  a.nlink = 2;
  EXPECT_EQ(w.add(a), 721u);
  Header b = a;
  b.name = "b";
  b.ino = 721;
  EXPECT_EQ(w.add(b, std::string_view("data")), 721u);
  Header c;
  c.name = "c";
  c.mode = kRegular | 0644;
  EXPECT_EQ(w.add(c), 722u);
  w.finish();
  auto archive = read_archive(sink.data());
  ASSERT_TRUE(archive.ok()) << archive.error().message;
  ASSERT_EQ(archive->entries.size(), 3u);
  EXPECT_EQ(archive->entries[1].header.ino, 721u);
  EXPECT_EQ(archive->entries[1].header.nlink, 2u);
  EXPECT_EQ(archive->entries[2].header.ino, 722u);
}

TEST(CpioWriter, PadsEveryArchiveTo512) {
  for (std::size_t len : {0u, 1u, 3u, 4u, 100u, 389u, 390u, 391u, 1000u}) {
    VectorSink sink;
    Writer w(sink);
    Header f;
    f.name = "f";
    f.mode = kRegular | 0600;
    w.add(f, std::string(len, 'q'));
    w.finish();
    EXPECT_EQ(sink.data().size() % 512, 0u) << len;
    // Padding is zeros, and nothing but the padding follows the trailer.
    auto a = read_archive(sink.data());
    ASSERT_TRUE(a.ok());
    EXPECT_LT(sink.data().size() - a->end, 512u);
    for (std::size_t i = a->end; i < sink.data().size(); ++i) ASSERT_EQ(sink.data()[i], 0) << i;
  }
}

TEST(CpioWriter, RefusesWhatItCannotRepresent) {
  auto add = [](const std::string& name, std::uint32_t mode, std::string_view data = {}) {
    VectorSink sink;
    Writer w(sink);
    Header h;
    h.name = name;
    h.mode = mode;
    w.add(h, data);
    return sink.data().size();
  };
  for (const char* bad : {"", "/abs", "./x", "a/../b", "..", "a//b", "a/", ".", "a/./b", "TRAILER!!!"})
    EXPECT_THROW(add(bad, kRegular | 0644), std::invalid_argument) << bad;
  EXPECT_THROW(add(std::string(4096, 'n'), kRegular | 0644), std::invalid_argument);
  EXPECT_EQ(add(std::string(4095, 'n'), kRegular | 0644), 4208u);  // the longest name fits: 110 + 4096
  EXPECT_THROW(add(std::string("a\0b", 3), kRegular | 0644), std::invalid_argument);
  EXPECT_THROW(add("x", 0644), std::invalid_argument);                  // no file type
  EXPECT_THROW(add("x", 0070000 | 0644), std::invalid_argument);        // unknown type
  EXPECT_THROW(add("d", kDirectory | 0755, "data"), std::invalid_argument);
  EXPECT_THROW(add("l", kSymlink | 0777, ""), std::invalid_argument);
  EXPECT_THROW(add("l", kSymlink | 0777, std::string(4096, 't')), std::invalid_argument);

  VectorSink sink;
  Writer w(sink);
  Header h;
  h.name = "x";
  h.mode = kRegular | 0644;
  h.filesize = 4;
  w.begin(h);
  w.write(bytes("ab"));
  EXPECT_THROW(w.finish(), std::logic_error);  // 2 bytes still owed
}

TEST(CpioWriter, StreamsLargeFilesAndNoticesShrinking) {
  TempDir t;
  std::string big(600 * 1024 + 3, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 251);
  write_file(t / "big", big);
  const int fd = ::open((t / "big").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  VectorSink sink;
  Writer w(sink);
  Header h;
  h.name = "big";
  h.mode = kRegular | 0644;
  h.filesize = static_cast<std::uint32_t>(big.size());
  w.add_file(h, fd);
  w.finish();
  ::close(fd);
  auto a = read_archive(sink.data());
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->entries.size(), 1u);
  EXPECT_EQ(str(a->entries[0].data), big);

  const int fd2 = ::open((t / "big").c_str(), O_RDONLY);
  VectorSink sink2;
  Writer w2(sink2);
  h.filesize = static_cast<std::uint32_t>(big.size() + 10);  // more than the file has
  EXPECT_THROW(w2.add_file(h, fd2), std::runtime_error);
  ::close(fd2);
}

// ------------------------------------------------------------ tree

TEST(CpioTree, CanonicalOrderIsBytewiseWithParentsFirst) {
  TempDir t;
  for (const char* d : {"a", "a/b", "B", "zz"}) fs::create_directory(t / d);
  for (const char* f : {"a-b", "a/b/c", "a0", "\xc3\xa9", "zz/.hidden", "B/x"}) write_file(t / f, "");
  const Tree tree = scan_tree(t.path());
  std::vector<std::string> paths;
  for (const auto& e : tree.entries) paths.push_back(e.path);
  const std::vector<std::string> want = {"B", "B/x", "a", "a-b", "a/b", "a/b/c", "a0", "zz", "zz/.hidden", "\xc3\xa9"};
  EXPECT_EQ(paths, want);
  std::set<std::string> seen;
  for (const auto& p : paths) {
    const auto slash = p.rfind('/');
    if (slash != std::string::npos) {
      EXPECT_TRUE(seen.count(p.substr(0, slash))) << p << " before its parent";
    }
    seen.insert(p);
  }
}

// The readdir order of the temporary directory (on tmpfs: newest first).
std::vector<std::string> readdir_order(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  return out;
}

TEST(CpioTree, SameTreeGivesSameBytesWhateverOrderTimesAndCwd) {
  // The second tree lives on another filesystem when /dev/shm is a usable
  // tmpfs, so that readdir order (and st_dev/st_ino) surely differ.
  const fs::path shm = "/dev/shm";
  const bool use_shm = ::access(shm.c_str(), W_OK) == 0;
  TempDir one;
  TempDir two(use_shm ? shm : fs::temp_directory_path());
  populate(one.path(), false, 1000000000);
  populate(two.path(), true, 1700000000);
  if (use_shm) {
    EXPECT_NE(readdir_order(one.path()), readdir_order(two.path()));
  }
  const Bytes first = archive_of_tree(one.path(), "rootfs", 0);

  // Second build: relative path from another working directory.
  const fs::path old_cwd = fs::current_path();
  fs::current_path(two.path().parent_path());
  const Bytes second = archive_of_tree(two.path().filename(), "rootfs", 0);
  fs::current_path(old_cwd);
  EXPECT_EQ(first, second);

  // Different source mtimes never leak: archive mtimes are all the given one.
  auto a = read_archive(first);
  ASSERT_TRUE(a.ok());
  for (const Entry& e : a->entries) EXPECT_EQ(e.header.mtime, 0u) << e.header.name;
  const Bytes stamped = archive_of_tree(one.path(), "rootfs", 1234567);
  auto b = read_archive(stamped);
  ASSERT_TRUE(b.ok());
  for (const Entry& e : b->entries) EXPECT_EQ(e.header.mtime, 1234567u) << e.header.name;
  EXPECT_NE(first, stamped);
}

TEST(CpioTree, HeadersCarryTheSourceAttributes) {
  TempDir t;
  populate(t.path(), false, 5);
  const Bytes archive = archive_of_tree(t.path(), "rootfs");
  auto a = read_archive(archive);
  ASSERT_TRUE(a.ok());
  std::map<std::string, Entry> by;
  std::uint32_t ino = 721;
  for (const Entry& e : a->entries) {
    by[e.header.name] = e;
    EXPECT_EQ(e.header.dev_major, 3u);
    EXPECT_EQ(e.header.dev_minor, 1u);
    EXPECT_EQ(e.header.check, 0u);
    EXPECT_NE(e.header.name.rfind("rootfs/", 0), std::string::npos) << e.header.name;
    if (e.header.name != "rootfs/etc/app-hardlink") {
      EXPECT_EQ(e.header.ino, ino++) << e.header.name;
    }
  }
  EXPECT_EQ(by["rootfs/etc"].header.mode, kDirectory | 0755);
  EXPECT_EQ(by["rootfs/etc"].header.nlink, 2u);
  EXPECT_EQ(by["rootfs/ro"].header.mode, kDirectory | 0555);
  EXPECT_EQ(by["rootfs/etc/ssl/key.pem"].header.mode, kRegular | 0600);
  EXPECT_EQ(str(by["rootfs/etc/ssl/key.pem"].data), "secret");
  EXPECT_EQ(by["rootfs/bin/sh"].header.mode & kTypeMask, kSymlink);
  EXPECT_EQ(str(by["rootfs/bin/sh"].data), "app");
  EXPECT_EQ(str(by["rootfs/hostlink"].data), "/etc/hostname");
  EXPECT_EQ(by["rootfs/a/fifo"].header.mode, kFifo | 0620);
  EXPECT_EQ(by["rootfs/a/z"].header.mode, kRegular | 0444);
  if (::geteuid() == 0) {
    EXPECT_EQ(by["rootfs/etc/ssl/key.pem"].header.uid, 1234u);
    EXPECT_EQ(by["rootfs/etc/ssl/key.pem"].header.gid, 5678u);
    EXPECT_EQ(by["rootfs/hostlink"].header.uid, 42u);
  }
  // Hard link group: bin/app sorts before etc/app-hardlink. Both carry the
  // first one's inode and nlink 2; the data rides on the last one.
  const Header& first = by["rootfs/bin/app"].header;
  const Header& last = by["rootfs/etc/app-hardlink"].header;
  EXPECT_EQ(first.mode, kRegular | 04755);
  EXPECT_EQ(first.nlink, 2u);
  EXPECT_EQ(last.nlink, 2u);
  EXPECT_EQ(first.ino, last.ino);
  EXPECT_EQ(first.filesize, 0u);
  EXPECT_EQ(last.filesize, 70003u);
}

TEST(CpioTree, LinksLeavingTheTreeAreOrdinaryFiles) {
  TempDir outside, t;
  write_file(t / "f", "content");
  ASSERT_EQ(::link((t / "f").c_str(), (outside / "other").c_str()), 0);
  const Bytes archive = archive_of_tree(t.path());
  auto a = read_archive(archive);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->entries.size(), 1u);
  EXPECT_EQ(a->entries[0].header.nlink, 1u);
  EXPECT_EQ(str(a->entries[0].data), "content");
}

TEST(CpioTree, SocketsAreSkippedWithAReason) {
  TempDir t;
  write_file(t / "keep", "k");
  const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(s, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string sock = (t / "sock").string();
  ASSERT_LT(sock.size(), sizeof addr.sun_path);
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(s);
  const Tree tree = scan_tree(t.path());
  ASSERT_EQ(tree.entries.size(), 1u);
  EXPECT_EQ(tree.entries[0].path, "keep");
  ASSERT_EQ(tree.skipped.size(), 1u);
  EXPECT_EQ(tree.skipped[0].path, "sock");
  EXPECT_NE(tree.skipped[0].reason.find("socket"), std::string::npos);
}

TEST(CpioTree, FileSwappedAfterTheScanIsAnError) {
  TempDir t;
  write_file(t / "f", "abc");
  const Tree tree = scan_tree(t.path());
  write_file(t / "f", "abcdef");  // same inode, new size
  VectorSink sink;
  Writer w(sink);
  EXPECT_THROW(write_tree(w, tree, {}), std::runtime_error);
}

TEST(CpioTree, MissingRootIsAnError) {
  TempDir t;
  EXPECT_THROW(scan_tree(t / "nope"), std::system_error);
}

// ------------------------------------------------------------ reader

Bytes sample_archive() {
  VectorSink sink;
  Writer w(sink);
  Header d;
  d.name = "dir";
  d.mode = kDirectory | 0755;
  w.add(d);
  Header f;
  f.name = "dir/file";
  f.mode = kRegular | 0644;
  w.add(f, std::string_view("0123456789"));
  Header l;
  l.name = "dir/link";
  l.mode = kSymlink | 0777;
  w.add(l, std::string_view("file"));
  w.finish();
  return sink.data();
}

TEST(CpioReader, RoundTripsWhatTheWriterWrote) {
  const Bytes archive = sample_archive();
  auto a = read_archive(archive);
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_EQ(a->entries.size(), 3u);
  const Header& d = a->entries[0].header;
  EXPECT_EQ(d.name, "dir");
  EXPECT_EQ(d.ino, 721u);
  EXPECT_EQ(d.mode, kDirectory | 0755);
  EXPECT_EQ(d.nlink, 2u);
  EXPECT_EQ(a->entries[0].offset, 0u);
  EXPECT_EQ(a->entries[1].header.name, "dir/file");
  EXPECT_EQ(str(a->entries[1].data), "0123456789");
  EXPECT_EQ(a->entries[1].offset, 116u);
  EXPECT_EQ(a->entries[2].header.mode, kSymlink | 0777);
  EXPECT_EQ(str(a->entries[2].data), "file");
  EXPECT_EQ(a->end % 4, 0u);

  // Reader is sticky once done.
  Reader r(archive);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(r.next().value().has_value());
  EXPECT_FALSE(r.next().value().has_value());
  EXPECT_FALSE(r.next().value().has_value());
}

TEST(CpioReader, EveryTruncationBeforeTheTrailerEndIsAnError) {
  const Bytes archive = sample_archive();
  auto full = read_archive(archive);
  ASSERT_TRUE(full.ok());
  for (std::size_t cut = 0; cut <= archive.size(); ++cut) {
    auto a = read_archive(std::span(archive.data(), cut));
    if (cut < full->end) {
      ASSERT_FALSE(a.ok()) << cut;
      EXPECT_NE(a.error().message.find("offset"), std::string::npos) << a.error().message;
    } else {
      ASSERT_TRUE(a.ok()) << cut << ": " << a.error().message;
      EXPECT_EQ(a->entries.size(), 3u);
    }
  }
}

std::string error_of(const std::string& archive) {
  auto a = read_archive(std::span(reinterpret_cast<const std::uint8_t*>(archive.data()), archive.size()));
  return a.ok() ? "<ok>" : a.error().message;
}

TEST(CpioReader, RejectsMalformedHeaders) {
  const std::string good = raw_entry("f", kRegular | 0644, "abc") + raw_trailer();
  EXPECT_EQ(error_of(good), "<ok>");

  std::string bad_magic = good;
  bad_magic[5] = '7';
  EXPECT_NE(error_of(bad_magic).find("bad magic"), std::string::npos) << error_of(bad_magic);
  std::string crc = good;
  crc[5] = '2';
  EXPECT_NE(error_of(crc).find("070702"), std::string::npos);

  std::string nonhex = good;
  nonhex[6 + 8 * 6 + 3] = 'g';  // c_filesize
  EXPECT_NE(error_of(nonhex).find("c_filesize is not 8 hex digits"), std::string::npos) << error_of(nonhex);
  EXPECT_NE(error_of(nonhex).find("offset 54"), std::string::npos) << error_of(nonhex);
  std::string sign = good;
  sign[6 + 8 * 0] = '-';
  EXPECT_NE(error_of(sign).find("c_ino"), std::string::npos);

  EXPECT_NE(error_of(raw_entry("f", kRegular | 0644, "", 1, 1, /*namesize=*/0xffffffff) + raw_trailer())
                .find("exceeds 4096"),
            std::string::npos);
  // namesize 0 cannot be produced by raw_entry's default; patch it in.
  std::string zero = good;
  zero.replace(94, 8, "00000000");
  EXPECT_NE(error_of(zero).find("c_namesize is 0"), std::string::npos) << error_of(zero);
  std::string empty_name = good;
  empty_name.replace(94, 8, "00000001");
  EXPECT_NE(error_of(empty_name).find("empty name"), std::string::npos) << error_of(empty_name);
  std::string no_nul = raw_entry("ab", kRegular | 0644, "") + raw_trailer();
  no_nul.replace(94, 8, "00000002");  // claims "a" + NUL, but byte 111 is 'b'
  EXPECT_NE(error_of(no_nul).find("not NUL-terminated"), std::string::npos) << error_of(no_nul);

  std::string huge = good;
  huge.replace(54, 8, "ffffffff");
  EXPECT_NE(error_of(huge).find("c_filesize 4294967295"), std::string::npos) << error_of(huge);
  std::string long_by_one = good;
  long_by_one.replace(54, 8, "00000200");  // 512 bytes: more than what is left
  EXPECT_NE(error_of(long_by_one).find("exceeds"), std::string::npos);

  EXPECT_NE(error_of(raw_entry("f", kRegular | 0644, "abc")).find("input ends where a header"), std::string::npos);
  EXPECT_NE(error_of(raw_entry("x", 0070644, "") + raw_trailer()).find("unknown file type"), std::string::npos);
  EXPECT_NE(error_of(raw_entry("d", kDirectory | 0755, "data") + raw_trailer()).find("has 4 bytes of data"),
            std::string::npos);
  EXPECT_NE(error_of(raw_entry("l", kSymlink | 0777, "") + raw_trailer()).find("target of 0 bytes"),
            std::string::npos);
  EXPECT_NE(error_of(raw_entry("l", kSymlink | 0777, std::string("a\0b", 3)) + raw_trailer()).find("NUL"),
            std::string::npos);
  EXPECT_NE(error_of("").find("offset 0"), std::string::npos);
  EXPECT_NE(error_of(std::string(512, '\0')).find("bad magic"), std::string::npos);
}

TEST(CpioReader, StartOffsetAndConcatenation) {
  const std::string one = raw_entry("a", kRegular | 0644, "1") + raw_trailer();
  const std::string two = raw_entry("b", kRegular | 0644, "2") + raw_trailer();
  const std::string both = one + two;
  const Bytes b(both.begin(), both.end());
  Reader r(b);
  auto e = r.next();
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_EQ((*e)->header.name, "a");
  ASSERT_FALSE(r.next().value().has_value());
  EXPECT_EQ(r.end_offset(), one.size());
  Reader r2(b, r.end_offset());
  auto e2 = r2.next();
  ASSERT_TRUE(e2.ok() && e2->has_value());
  EXPECT_EQ((*e2)->header.name, "b");
  EXPECT_EQ((*e2)->offset, one.size());
}

// ------------------------------------------------------------ unpack

Result<UnpackReport> unpack_string(const std::string& image, const fs::path& target) {
  return unpack(std::span(reinterpret_cast<const std::uint8_t*>(image.data()), image.size()), target);
}

bool has_note(const UnpackReport& r, const std::string& part) {
  for (const auto& n : r.notes)
    if (n.find(part) != std::string::npos) return true;
  return false;
}

struct Node {
  std::string type;
  std::uint32_t mode, uid, gid;
  std::string content;  // file data or link target
  bool operator==(const Node&) const = default;
  friend void PrintTo(const Node& n, std::ostream* os) {
    *os << n.type << " 0" << std::oct << n.mode << std::dec << " " << n.uid << ":" << n.gid << " "
        << (n.content.size() > 40 ? n.content.substr(0, 40) + "..." : n.content);
  }
};

std::map<std::string, Node> describe(const fs::path& root) {
  std::map<std::string, Node> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    struct stat st {};
    ::lstat(it->path().c_str(), &st);
    Node n{"?", static_cast<std::uint32_t>(st.st_mode & 07777), st.st_uid, st.st_gid, ""};
    if (S_ISREG(st.st_mode)) {
      n.type = "file";
      n.content = read_file(it->path());
    } else if (S_ISDIR(st.st_mode)) {
      n.type = "dir";
    } else if (S_ISLNK(st.st_mode)) {
      n.type = "symlink";
      n.content = fs::read_symlink(it->path()).string();
    } else if (S_ISFIFO(st.st_mode)) {
      n.type = "fifo";
    } else if (S_ISCHR(st.st_mode)) {
      n.type = "chr " + std::to_string(::major(st.st_rdev)) + ":" + std::to_string(::minor(st.st_rdev));
    }
    out[it->path().lexically_relative(root).string()] = n;  // fs::relative would follow symlinks
  }
  return out;
}

TEST(CpioUnpack, RebuildsTheTree) {
  TempDir src, dst;
  populate(src.path(), false, 77);
  const bool devices = mknod_works(src.path());
  if (devices) {
    ASSERT_EQ(::mknod((src / "a/null").c_str(), S_IFCHR | 0666, ::makedev(1, 3)), 0);
  }
  const Bytes archive = archive_of_tree(src.path(), "", 1600000000);
  auto report = unpack(archive, dst.path());
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->archives, 1u);
  EXPECT_EQ(report->entries, names_of(archive).size());

  auto want = describe(src.path());
  auto got = describe(dst.path());
  if (::geteuid() != 0)
    for (auto* m : {&want, &got})
      for (auto& [k, v] : *m) v.uid = v.gid = 0;
  EXPECT_EQ(got, want);
  if (devices) {
    EXPECT_EQ(got["a/null"].type, "chr 1:3");
  }

  struct stat a {}, b {};
  ASSERT_EQ(::stat((dst / "bin/app").c_str(), &a), 0);
  ASSERT_EQ(::stat((dst / "etc/app-hardlink").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_nlink, 2u);
  struct stat d {}, l {};
  ASSERT_EQ(::stat((dst / "ro").c_str(), &d), 0);
  EXPECT_EQ(d.st_mtime, 1600000000);  // directories get their mtime at the end
  ASSERT_EQ(::lstat((dst / "hostlink").c_str(), &l), 0);
  EXPECT_EQ(l.st_mtime, 1600000000);
}

TEST(CpioUnpack, LaterEntriesWinLikeTheKernel) {
  TempDir t;
  const std::string image = raw_entry("x", kRegular | 0644, "first") + raw_entry("x", kRegular | 0600, "2nd") +
                            raw_entry("d", kDirectory | 0755, "") + raw_entry("d", kDirectory | 0700, "") +
                            raw_entry("f", kRegular | 0644, "file") + raw_entry("f", kDirectory | 0711, "") +
                            raw_entry("s", kDirectory | 0755, "") + raw_entry("s", kSymlink | 0777, "x") +
                            raw_trailer();
  auto r = unpack_string(image, t.path());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(read_file(t / "x"), "2nd");
  EXPECT_EQ(fs::status(t / "x").permissions(), fs::perms(0600));
  EXPECT_EQ(fs::status(t / "d").permissions(), fs::perms(0700));
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(t / "f")));
  EXPECT_EQ(fs::status(t / "f").permissions(), fs::perms(0711));
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(t / "s")));

  // A non-empty directory cannot be replaced (the kernel would drop the entry).
  TempDir u;
  const std::string nonempty = raw_entry("d", kDirectory | 0755, "") + raw_entry("d/f", kRegular | 0644, "") +
                               raw_entry("d", kRegular | 0644, "") + raw_trailer();
  auto r2 = unpack_string(nonempty, u.path());
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message.find("non-empty directory"), std::string::npos) << r2.error().message;
}

TEST(CpioUnpack, HardLinksWithDataFirstOrLast) {
  TempDir t;
  // Data on the first entry (what a naive writer does) and on the last (ours).
  const std::string image = raw_entry("a", kRegular | 0644, "shared", 5, 2) +
                            raw_entry("b", kRegular | 0644, "", 5, 2) +
                            raw_entry("c", kRegular | 0644, "", 6, 2) + raw_entry("d", kRegular | 0644, "last", 6, 2) +
                            raw_trailer() +
                            // Same inode number in a second archive: not a link (the table is reset).
                            raw_entry("e", kRegular | 0644, "own", 5, 2) + raw_trailer();
  auto r = unpack_string(image, t.path());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->archives, 2u);
  EXPECT_EQ(read_file(t / "b"), "shared");
  EXPECT_EQ(read_file(t / "c"), "last");
  EXPECT_EQ(fs::hard_link_count(t / "a"), 2u);
  EXPECT_EQ(fs::hard_link_count(t / "c"), 2u);
  EXPECT_EQ(fs::hard_link_count(t / "e"), 1u);
  EXPECT_EQ(read_file(t / "e"), "own");
}

TEST(CpioUnpack, ConcatenatedArchivesWithPadding) {
  TempDir t;
  std::string image = raw_entry("a", kDirectory | 0755, "") + raw_trailer();
  image += std::string(512 - image.size() % 512, '\0');
  image += raw_entry("a/b", kRegular | 0644, "b") + raw_trailer() + std::string(100, '\0');
  auto r = unpack_string(image, t.path());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->archives, 2u);
  EXPECT_EQ(read_file(t / "a/b"), "b");

  TempDir u;
  auto misaligned = unpack_string(raw_trailer() + std::string(1, '\0') + "x", u.path());
  ASSERT_FALSE(misaligned.ok());
}

TEST(CpioUnpack, NeverWritesOutsideTheTarget) {
  TempDir base;
  const fs::path target = base / "target";
  const fs::path outside = base / "outside";
  fs::create_directories(target);
  fs::create_directories(outside);
  write_file(outside / "victim", "untouched");

  auto refused = [&](const std::string& image, const std::string& why) {
    auto r = unpack_string(image, target);
    EXPECT_FALSE(r.ok()) << why;
    if (!r.ok()) {
      EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
    }
  };
  refused(raw_entry("../x", kRegular | 0644, "x") + raw_trailer(), "\"..\"");
  refused(raw_entry("a/../../x", kRegular | 0644, "x") + raw_trailer(), "\"..\"");
  refused(raw_entry((outside / "abs").string(), kRegular | 0644, "x") + raw_trailer(), "absolute");
  // A symlink to a directory outside, then an entry below it.
  refused(raw_entry("a", kSymlink | 0777, outside.string()) + raw_entry("a/b", kRegular | 0644, "x") + raw_trailer(),
          "symlink");
  refused(raw_entry("r", kSymlink | 0777, "../outside") + raw_entry("r/c", kDirectory | 0755, "") + raw_trailer(),
          "symlink");
  refused(raw_entry("m/n", kRegular | 0644, "x") + raw_trailer(), "does not exist");
  EXPECT_FALSE(fs::exists(base / "x"));
  EXPECT_FALSE(fs::exists(outside / "abs"));
  EXPECT_FALSE(fs::exists(outside / "b"));
  EXPECT_FALSE(fs::exists(outside / "c"));

  // A symlink to a file outside, then a file of the same name: the symlink is
  // replaced, the file it pointed to is not written.
  auto r = unpack_string(raw_entry("v", kSymlink | 0777, (outside / "victim").string()) +
                             raw_entry("v", kRegular | 0644, "overwritten?") + raw_trailer(),
                         target);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(read_file(outside / "victim"), "untouched");
  EXPECT_FALSE(fs::is_symlink(fs::symlink_status(target / "v")));
  EXPECT_EQ(read_file(target / "v"), "overwritten?");

  // The same through a hard link: linking to a symlink links the symlink itself.
  auto h = unpack_string(raw_entry("w", kSymlink | 0777, (outside / "victim").string()) +
                             raw_entry("w2", kRegular | 0644, "", 9, 2) + raw_entry("w", kRegular | 0644, "x", 9, 2) +
                             raw_trailer(),
                         target);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(read_file(outside / "victim"), "untouched");
  EXPECT_EQ(std::distance(fs::directory_iterator(outside), fs::directory_iterator()), 1);

  auto dot = unpack_string(
      raw_entry(".", kDirectory | 0700, "") + raw_entry("./ok", kRegular | 0644, "y") + raw_trailer(), target);
  ASSERT_TRUE(dot.ok()) << dot.error().message;
  EXPECT_EQ(read_file(target / "ok"), "y");
  EXPECT_TRUE(has_note(*dot, "target directory itself"));
}

TEST(CpioUnpack, DeviceNodesOrANote) {
  TempDir t;
  std::string null = raw_entry("null", kCharDevice | 0666, "");
  null.replace(6 + 8 * 9, 16, "0000000100000003");  // rdev 1:3
  auto r = unpack_string(null + raw_entry("fifo", kFifo | 0640, "") + raw_trailer(), t.path());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(fs::status(t / "fifo").type(), fs::file_type::fifo);
  EXPECT_EQ(fs::status(t / "fifo").permissions(), fs::perms(0640));
  struct stat st {};
  if (::lstat((t / "null").c_str(), &st) == 0) {
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(::major(st.st_rdev), 1u);
    EXPECT_EQ(::minor(st.st_rdev), 3u);
    EXPECT_EQ(st.st_mode & 07777, 0666u);
  } else {
    EXPECT_TRUE(has_note(*r, "character device \"null\": mknod not permitted"));
  }
}

TEST(CpioUnpack, BadArchiveIsAnErrorNotACrash) {
  TempDir t;
  const Bytes archive = sample_archive();
  for (std::size_t cut = 1; cut < 400; cut += 7) {
    auto r = unpack(std::span(archive.data(), cut), t.path());
    EXPECT_FALSE(r.ok()) << cut;
  }
  auto r = unpack(archive, t / "missing");
  EXPECT_FALSE(r.ok());
}

// ------------------------------------------------------------ GNU cpio

bool have_gnu_cpio() { return std::system("cpio --version 2>/dev/null | grep -q 'GNU cpio'") == 0; }

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

TEST(CpioIndependent, GnuCpioListsAndExtractsOurArchive) {
  if (!have_gnu_cpio()) GTEST_SKIP() << "GNU cpio not installed (apt-get install cpio)";
  TempDir src, dst, files;
  populate(src.path(), false, 3);
  const Bytes archive = archive_of_tree(src.path(), "", 1500000000);
  const fs::path file = files / "a.cpio";
  std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(archive.data()), archive.size());

  // Listing: the same names in the same order.
  std::string listing = run("cpio -t --quiet < " + shell_quote(file.string()) + " 2>&1");
  std::vector<std::string> listed;
  std::istringstream ls(listing);
  for (std::string line; std::getline(ls, line);) listed.push_back(line);
  EXPECT_EQ(listed, names_of(archive)) << listing;

  // Extraction: the same tree.
  const std::string cmd = "cd " + shell_quote(dst.path().string()) +
                          " && cpio -idm --quiet --no-absolute-filenames < " + shell_quote(file.string()) + " 2>&1";
  const std::string out = run(cmd);
  EXPECT_EQ(out, "");
  auto want = describe(src.path());
  auto got = describe(dst.path());
  if (::geteuid() != 0)
    for (auto* m : {&want, &got})
      for (auto& [k, v] : *m) v.uid = v.gid = 0;
  EXPECT_EQ(got, want);
  EXPECT_EQ(fs::hard_link_count(dst / "bin/app"), 2u);
  EXPECT_TRUE(fs::equivalent(dst / "bin/app", dst / "etc/app-hardlink"));
  struct stat st {};
  ASSERT_EQ(::stat((dst / "etc/hostname").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtime, 1500000000);
}

}  // namespace
}  // namespace enclaver::cpio
