// The strongest check of the streaming path: for the same final tree, the
// customer ramdisk written from flattened layers (contents pread from the
// saved archive) is byte for byte the one write_customer_ramdisk writes from
// an extracted directory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "eif/ramdisk.hpp"
#include "image/layers/flatten.hpp"
#include "tests/unit/image/layers/layer_test_support.hpp"

namespace enclaver::image {
namespace {

using namespace testing;

// Creates `items` below `root` as a container runtime would extract them.
// Returns false when something needs privileges we lack (devices).
// On a mismatch, the first entry that differs, for the failure message.
std::string first_difference(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  auto ra = cpio::read_archive(a);
  auto rb = cpio::read_archive(b);
  if (!ra || !rb) return "unreadable archive";
  for (std::size_t i = 0; i < std::max(ra->entries.size(), rb->entries.size()); ++i) {
    if (i >= ra->entries.size() || i >= rb->entries.size()) return "entry count differs";
    const auto& x = ra->entries[i];
    const auto& y = rb->entries[i];
    if (!(x.header == y.header) || !std::equal(x.data.begin(), x.data.end(), y.data.begin(), y.data.end()))
      return "entry " + std::to_string(i) + ": " + x.header.name + " mode " + std::to_string(x.header.mode) + " uid " +
             std::to_string(x.header.uid) + " ino " + std::to_string(x.header.ino) + " nlink " +
             std::to_string(x.header.nlink) + " size " + std::to_string(x.header.filesize) + " vs " + y.header.name +
             " mode " + std::to_string(y.header.mode) + " uid " + std::to_string(y.header.uid) + " ino " +
             std::to_string(y.header.ino) + " nlink " + std::to_string(y.header.nlink) + " size " +
             std::to_string(y.header.filesize);
  }
  return "same entries";
}

bool materialise(const fs::path& root, const std::vector<Item>& items) {
  for (const auto& it : items) {
    const fs::path p = root / it.name;
    switch (it.type) {
      case 'd': fs::create_directories(p); break;
      case 'f': write_text(p, it.data); break;
      case 'l': fs::create_symlink(it.data, p); break;
      case 'h': fs::create_hard_link(root / it.data, p); break;
      case 'p': EXPECT_EQ(::mkfifo(p.c_str(), 0600), 0); break;
      case 'c':
        if (::mknod(p.c_str(), S_IFCHR | it.perms, ::makedev(it.rmajor, it.rminor)) != 0) return false;
        break;
      default: break;
    }
    if (it.type == 'l' || it.type == 'h') continue;
    // Owner first: chown clears set-user-ID.
    if (::geteuid() == 0 && ::lchown(p.c_str(), it.uid, it.gid) != 0) ADD_FAILURE() << "chown " << p;
    if (::chmod(p.c_str(), it.perms) != 0) ADD_FAILURE() << "chmod " << p;
  }
  return true;
}

// Owners the directory can hold: ours unless we are root.
std::vector<Item> owned(std::vector<Item> items) {
  if (::geteuid() == 0) return items;
  for (auto& it : items) {
    it.uid = ::geteuid();
    it.gid = ::getegid();
  }
  return items;
}

std::vector<std::uint8_t> from_layers(const TempDir& tmp, const std::vector<std::vector<Item>>& layers,
                                      const std::vector<std::string>& cmd, const std::vector<std::string>& env) {
  std::vector<TestImage> images{{{"app:1"}, config_json(layers.size()), {}}};
  for (const auto& l : layers) images[0].layers.push_back(make_tar(l));
  write_text(tmp / "saved.tar", make_docker_save(images));
  RootfsBuilder b(FlattenOptions{tmp.path()});
  b.apply_image(open_saved_image(tmp / "saved.tar"));
  VectorSink sink;
  eif::write_customer_ramdisk(b.tree(), cmd, env, {.mtime = 1234}, sink);
  return sink.data();
}

TEST(FlattenRamdisk, SameBytesAsTheDirectoryWriter) {
  const bool root = ::geteuid() == 0;
  std::vector<Item> lower = owned({dir("bin", 0755), file("bin/tool", "#!/bin/sh\necho hi\n", 04755, 0, 0),
                                   hardlink("bin/tool-alias", "bin/tool"), dir("etc", 0755),
                                   file("etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644),
                                   file("etc/shadow", "secret", 0640, 0, 42), file("empty", "", 0600),
                                   dir("srv", 0750, 1000, 1000), file("srv/data", std::string(70000, 'd'), 0644, 1000, 1000),
                                   dir("gone"), file("gone/x", "x"), dir("opaque"), file("opaque/old", "o"),
                                   symlink("run", "/var/run"), Item{"pipe", 'p', "", 0600}});
  if (root) lower.push_back(Item{"null", 'c', "", 0666, 0, 0, 1, 3});
  const std::vector<Item> upper = owned({file(".wh.gone", ""), dir("opaque", 0700), file("opaque/.wh..wh..opq", ""),
                                         file("opaque/new", "n"), file("bin/tool", "#!/bin/sh\necho new\n", 0755),
                                         symlink("lib", "usr/lib"), dir("usr"), dir("usr/lib"), file("usr/lib/l.so", "so")});
  // The final tree, as an overlay mount would show it.
  std::vector<Item> final_tree = owned({dir("bin", 0755), file("bin/tool", "#!/bin/sh\necho new\n", 0755),
                                        file("bin/tool-alias", "#!/bin/sh\necho hi\n", 04755), dir("etc", 0755),
                                        file("etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644),
                                        file("etc/shadow", "secret", 0640, 0, 42), file("empty", "", 0600),
                                        dir("srv", 0750, 1000, 1000), file("srv/data", std::string(70000, 'd'), 0644, 1000, 1000),
                                        dir("opaque", 0700), file("opaque/new", "n"), symlink("run", "/var/run"),
                                        Item{"pipe", 'p', "", 0600}, dir("usr"), dir("usr/lib"), file("usr/lib/l.so", "so"),
                                        symlink("lib", "usr/lib")});
  if (root) final_tree.push_back(Item{"null", 'c', "", 0666, 0, 0, 1, 3});
  TempDir tmp;
  fs::create_directory(tmp / "rootfs");
  ASSERT_TRUE(materialise(tmp / "rootfs", final_tree));
  VectorSink expected;
  eif::write_customer_ramdisk(tmp / "rootfs", {"/sbin/odyn", "--"}, {"A=1"}, {.mtime = 1234}, expected);
  const auto got = from_layers(tmp, {lower, upper}, {"/sbin/odyn", "--"}, {"A=1"});
  EXPECT_TRUE(got == expected.data()) << first_difference(got, expected.data());
}

TEST(FlattenRamdisk, HardLinkGroupsMatchTheDirectoryWriter) {
  // Three names of one file, one of them replaced later: the other two stay
  // one group (inode shared, data on the last member).
  const std::vector<Item> lower = owned({file("a", "shared", 0644), hardlink("b", "a"), hardlink("c", "a")});
  const std::vector<Item> upper = owned({file("b", "other", 0644)});
  TempDir tmp;
  fs::create_directory(tmp / "rootfs");
  ASSERT_TRUE(materialise(tmp / "rootfs", owned({file("a", "shared", 0644), hardlink("c", "a"), file("b", "other", 0644)})));
  VectorSink expected;
  eif::write_customer_ramdisk(tmp / "rootfs", {}, {}, {.mtime = 1234}, expected);
  const auto got = from_layers(tmp, {lower, upper}, {}, {});
  EXPECT_TRUE(got == expected.data()) << first_difference(got, expected.data());
}

}  // namespace
}  // namespace enclaver::image
