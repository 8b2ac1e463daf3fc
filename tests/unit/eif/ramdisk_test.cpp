// The bootstrap and customer ramdisks (eif.md §7, §8).
#include <fcntl.h>
#include <gtest/gtest.h>

#include "common/temp_dir.hpp"
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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
#include "eif/ramdisk.hpp"

namespace enclaver::eif {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;
using cpio::Entry;


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

std::string field(const Bytes& a, std::size_t offset, int index) {
  return std::string(a.begin() + offset + 6 + 8 * index, a.begin() + offset + 14 + 8 * index);
}

std::vector<Entry> entries(const Bytes& archive) {
  auto a = cpio::read_archive(archive);
  EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message);
  return a.ok() ? a->entries : std::vector<Entry>{};
}

void stamp(const fs::path& p, std::time_t t) {
  const struct timespec ts[2] = {{t, 0}, {t, 0}};
  ::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW);
}

// ------------------------------------------------------------ bootstrap

struct Blobs {
  TempDir dir;
  fs::path init = dir / "init";
  fs::path nsm = dir / "nsm.ko";
  Blobs() {
    write_file(init, "#!init binary\x7f" "ELF", 0700);
    write_file(nsm, std::string(1001, 'k'), 0600);
  }
};

TEST(BootstrapRamdisk, LayoutIsLinuxkits) {
  Blobs b;
  VectorSink sink;
  const RamdiskSummary s = write_bootstrap_ramdisk(b.init, b.nsm, sink);
  const Bytes& a = sink.data();
  EXPECT_EQ(s.entries, 3u);
  EXPECT_EQ(s.bytes, a.size());
  EXPECT_EQ(a.size() % 512, 0u);

  // The first header, digit by digit: ino 721, mode 040755, uid 0, gid 0,
  // nlink 2, mtime 1492533000 = 0x58f63f08, no data, dev 3:1, rdev 0:0,
  // namesize 4 ("dev" + NUL), check 0.
  const std::string first(a.begin(), a.begin() + 114);
  EXPECT_EQ(first, std::string("070701" "000002d1" "000041ed" "00000000" "00000000" "00000002" "58f63f08" "00000000"
                               "00000003" "00000001" "00000000" "00000000" "00000004" "00000000" "dev\0", 114));

  const auto es = entries(a);
  ASSERT_EQ(es.size(), 3u);
  const std::vector<std::string> names = {"dev", "init", "nsm.ko"};
  for (std::size_t i = 0; i < 3; ++i) {
    const cpio::Header& h = es[i].header;
    EXPECT_EQ(h.name, names[i]);
    EXPECT_EQ(h.ino, 721u + i);
    EXPECT_EQ(h.mode, (i == 0 ? cpio::kDirectory : cpio::kRegular) | 0755);
    EXPECT_EQ(h.uid, 0u);
    EXPECT_EQ(h.gid, 0u);
    EXPECT_EQ(h.nlink, i == 0 ? 2u : 1u);
    EXPECT_EQ(h.mtime, 1492533000u);
  }
  EXPECT_EQ(str(es[1].data), read_file(b.init));
  EXPECT_EQ(str(es[2].data), std::string(1001, 'k'));
  // The trailer follows nsm.ko's data (1001 bytes -> padded to 1004) and takes inode 724.
  const std::size_t trailer = es[2].offset + 120 + 1004;  // 110 + "nsm.ko\0" (7) = 117 -> 120
  EXPECT_EQ(std::string(a.begin() + trailer + 110, a.begin() + trailer + 120), "TRAILER!!!");
  EXPECT_EQ(field(a, trailer, 0), "000002d4");
  EXPECT_EQ(field(a, trailer, 1), "00000000");
  EXPECT_EQ(field(a, trailer, 5), "00000000");
}

TEST(BootstrapRamdisk, IsAPureFunctionOfTheBlobContents) {
  Blobs b1, b2;
  ::chmod(b2.init.c_str(), 0444);
  stamp(b2.init, 12345);
  stamp(b2.nsm, 99999999);
  VectorSink s1, s2;
  write_bootstrap_ramdisk(b1.init, b1.nsm, s1);
  write_bootstrap_ramdisk(b2.init, b2.nsm, s2);
  EXPECT_EQ(s1.data(), s2.data());
  write_file(b2.nsm, std::string(1001, 'K'));
  VectorSink s3;
  write_bootstrap_ramdisk(b2.init, b2.nsm, s3);
  EXPECT_NE(s1.data(), s3.data());
}

TEST(BootstrapRamdisk, WithoutNsmKoTheEntryIsOmitted) {
  Blobs b;
  VectorSink sink;
  const RamdiskSummary s = write_bootstrap_ramdisk(b.init, {}, sink);
  EXPECT_EQ(s.entries, 2u);
  const auto es = entries(sink.data());
  ASSERT_EQ(es.size(), 2u);
  EXPECT_EQ(es[0].header.name, "dev");
  EXPECT_EQ(es[1].header.name, "init");
}

TEST(BootstrapRamdisk, ModulesFollowAsAModulesDirectory) {
  Blobs b;
  write_file(b.dir / "00-vsock.ko", "vsock module");
  write_file(b.dir / "01-transport.ko", "transport module");
  VectorSink with, without;
  write_bootstrap_ramdisk(b.init, b.nsm, with, {b.dir / "00-vsock.ko", b.dir / "01-transport.ko"});
  write_bootstrap_ramdisk(b.init, b.nsm, without);
  const auto es = entries(with.data());
  ASSERT_EQ(es.size(), 6u);
  EXPECT_EQ(es[2].header.name, "nsm.ko");
  EXPECT_EQ(es[3].header.name, "modules");
  EXPECT_EQ(es[3].header.mode, cpio::kDirectory | 0755);
  EXPECT_EQ(es[4].header.name, "modules/00-vsock.ko");
  EXPECT_EQ(es[4].header.mode, cpio::kRegular | 0644);
  EXPECT_EQ(std::string(es[4].data.begin(), es[4].data.end()), "vsock module");
  EXPECT_EQ(es[5].header.name, "modules/01-transport.ko");
  // Without modules the archive is linuxkit's three entries, unchanged.
  EXPECT_EQ(entries(without.data()).size(), 3u);
}

TEST(BootstrapRamdisk, MissingBlobIsAnError) {
  Blobs b;
  VectorSink sink;
  EXPECT_THROW(write_bootstrap_ramdisk(b.dir / "nope", b.nsm, sink), std::system_error);
  EXPECT_THROW(write_bootstrap_ramdisk(b.init, b.dir.path(), sink), std::runtime_error);  // a directory
}

// ------------------------------------------------------------ customer

void make_image(const fs::path& root, bool reverse, std::time_t t) {
  std::vector<std::function<void()>> steps = {
      [&] { fs::create_directories(root / "usr/bin"); },
      [&] { write_file(root / "usr/bin/server", "#!/bin/sh\necho hi\n", 0755); },
      [&] { fs::create_directories(root / "etc"); },
      [&] { write_file(root / "etc/passwd", "root:x:0:0::/root:/bin/sh\n"); },
      [&] { fs::create_directories(root / "tmp"); },
      [&] { ASSERT_EQ(::symlink("/var/run", (root / "run").c_str()), 0); },
      [&] { fs::create_directories(root / "var/lib"); },
  };
  if (reverse) {
    // Parents must exist first; then everything else in reverse order.
    fs::create_directories(root / "etc");
    fs::create_directories(root / "usr/bin");
    std::reverse(steps.begin(), steps.end());
  }
  for (auto& s : steps) s();
  ::chmod((root / "tmp").c_str(), 01777);
  std::vector<fs::path> all;
  for (auto& e : fs::recursive_directory_iterator(root)) all.push_back(e.path());
  for (auto it = all.rbegin(); it != all.rend(); ++it) stamp(*it, t);
}

TEST(CustomerRamdisk, OrderFixupsCmdAndEnv) {
  TempDir img;
  make_image(img.path(), false, 1111);
  VectorSink sink;
  const RamdiskSummary s = write_customer_ramdisk(img.path(), {"/usr/bin/server", "--port", "80 80"},
                                                  {"PATH=/usr/bin", "A=b=c", "EMPTY="}, {.mtime = 1700000000}, sink);
  const auto es = entries(sink.data());
  std::vector<std::string> names;
  for (const auto& e : es) names.push_back(e.header.name);
  const std::vector<std::string> want = {
      "rootfs",
      "rootfs/dev",           // missing: added
      "rootfs/etc",
      "rootfs/etc/passwd",
      "rootfs/proc",          // missing: added
      "rootfs/run",           // a symlink in the image: replaced by a directory
      "rootfs/sys",           // missing: added
      "rootfs/tmp",           // the image's own, kept (mode 01777)
      "rootfs/usr",
      "rootfs/usr/bin",
      "rootfs/usr/bin/server",
      "rootfs/var",           // the image's own
      "rootfs/var/lib",
      "cmd",
      "env",
  };
  EXPECT_EQ(names, want);
  EXPECT_EQ(s.entries, want.size());
  EXPECT_EQ(s.bytes, sink.data().size());
  ASSERT_EQ(s.notes.size(), 1u);
  EXPECT_NE(s.notes[0].find("rootfs/run"), std::string::npos);

  std::map<std::string, Entry> by;
  for (std::size_t i = 0; i < es.size(); ++i) {
    by[es[i].header.name] = es[i];
    EXPECT_EQ(es[i].header.mtime, 1700000000u) << es[i].header.name;
    EXPECT_EQ(es[i].header.ino, 721u + i);
  }
  for (const char* d : {"rootfs", "rootfs/dev", "rootfs/proc", "rootfs/run", "rootfs/sys"}) {
    EXPECT_EQ(by[d].header.mode, cpio::kDirectory | 0755) << d;
    EXPECT_EQ(by[d].header.uid, 0u) << d;
    EXPECT_EQ(by[d].header.gid, 0u) << d;
  }
  EXPECT_EQ(by["rootfs/tmp"].header.mode, cpio::kDirectory | 01777);
  EXPECT_EQ(by["rootfs/usr/bin/server"].header.mode, cpio::kRegular | 0755);
  EXPECT_EQ(by["cmd"].header.mode, cpio::kRegular | 0644);
  EXPECT_EQ(by["env"].header.mode, cpio::kRegular | 0644);
  EXPECT_EQ(str(by["cmd"].data), "/usr/bin/server\n--port\n80 80\n");
  EXPECT_EQ(str(by["env"].data), "PATH=/usr/bin\nA=b=c\nEMPTY=\n");
}

TEST(CustomerRamdisk, SameImageSameBytes) {
  TempDir one, two;
  make_image(one.path(), false, 1000);
  make_image(two.path(), true, 2000000000);
  VectorSink s1, s2;
  write_customer_ramdisk(one.path(), {"sh"}, {"A=1"}, {.mtime = 0}, s1);
  const fs::path old_cwd = fs::current_path();
  fs::current_path(two.path());
  write_customer_ramdisk(".", {"sh"}, {"A=1"}, {.mtime = 0}, s2);
  fs::current_path(old_cwd);
  EXPECT_EQ(s1.data(), s2.data());

  VectorSink s3, s4, s5;
  write_customer_ramdisk(one.path(), {"sh", "-c"}, {"A=1"}, {}, s3);
  write_customer_ramdisk(one.path(), {"sh"}, {"A=2"}, {}, s4);
  write_customer_ramdisk(one.path(), {"sh"}, {"A=1"}, {.mtime = 1}, s5);
  EXPECT_NE(s1.data(), s3.data());
  EXPECT_NE(s1.data(), s4.data());
  EXPECT_NE(s1.data(), s5.data());
}

TEST(CustomerRamdisk, EmptyCmdAndEnvGiveEmptyFiles) {
  TempDir img;
  VectorSink sink;
  write_customer_ramdisk(img.path(), {}, {}, {}, sink);
  const auto es = entries(sink.data());
  std::vector<std::string> names;
  for (const auto& e : es) names.push_back(e.header.name);
  const std::vector<std::string> want = {"rootfs",     "rootfs/dev", "rootfs/proc", "rootfs/run", "rootfs/sys",
                                         "rootfs/tmp", "rootfs/var", "cmd",         "env"};
  EXPECT_EQ(names, want);
  EXPECT_EQ(es[7].header.filesize, 0u);
  EXPECT_EQ(es[8].header.filesize, 0u);
}

TEST(CustomerRamdisk, RefusesLinesTheInitCannotReadBack) {
  TempDir img;
  VectorSink sink;
  EXPECT_THROW(write_customer_ramdisk(img.path(), {"echo", "a\nb"}, {}, {}, sink), std::invalid_argument);
  EXPECT_THROW(write_customer_ramdisk(img.path(), {std::string("a\0b", 3)}, {}, {}, sink), std::invalid_argument);
  EXPECT_THROW(write_customer_ramdisk(img.path(), {}, {"NOEQUALS"}, {}, sink), std::invalid_argument);
  EXPECT_THROW(write_customer_ramdisk(img.path(), {}, {"=value"}, {}, sink), std::invalid_argument);
  EXPECT_THROW(write_customer_ramdisk(img.path(), {}, {"K=v\n"}, {}, sink), std::invalid_argument);
  EXPECT_TRUE(sink.data().empty());  // nothing reached the sink
  EXPECT_THROW(write_customer_ramdisk(img / "missing", {}, {}, {}, sink), std::system_error);
}

TEST(CustomerRamdisk, BothRamdisksUnpackIntoWhatTheInitExpects) {
  Blobs b;
  TempDir img, root;
  make_image(img.path(), false, 5);
  VectorSink boot, app;
  write_bootstrap_ramdisk(b.init, b.nsm, boot);
  write_customer_ramdisk(img.path(), {"/usr/bin/server"}, {"A=1"}, {}, app);
  Bytes image = boot.data();
  image.insert(image.end(), app.data().begin(), app.data().end());
  auto r = cpio::unpack(image, root.path());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->archives, 2u);
  EXPECT_EQ(read_file(root / "init"), read_file(b.init));
  EXPECT_EQ(fs::status(root / "init").permissions(), fs::perms(0755));
  EXPECT_TRUE(fs::is_regular_file(root / "nsm.ko"));
  EXPECT_TRUE(fs::is_directory(root / "dev"));
  EXPECT_EQ(read_file(root / "cmd"), "/usr/bin/server\n");
  EXPECT_EQ(read_file(root / "env"), "A=1\n");
  for (const char* d : {"dev", "proc", "run", "sys", "tmp", "var"})
    EXPECT_TRUE(fs::is_directory(fs::symlink_status(root / "rootfs" / d))) << d;
  EXPECT_EQ(read_file(root / "rootfs/usr/bin/server"), "#!/bin/sh\necho hi\n");
  EXPECT_EQ(fs::status(root / "rootfs/tmp").permissions(), fs::perms(01777));
}

}  // namespace
}  // namespace enclaver::eif
