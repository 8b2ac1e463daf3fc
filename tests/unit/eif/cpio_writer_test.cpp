// cpio newc: writer byte layout and the canonical tree walk.
#include "tests/unit/eif/cpio_test_support.hpp"

namespace enclaver::cpio {
namespace {

using namespace enclaver::cpio::testing;

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


}  // namespace
}  // namespace enclaver::cpio
