// Layer semantics of the flattener: whiteouts, opaque directories,
// replacements, hard links, symlinked parents, refusals, additions, fix-ups.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "image/layers/flatten.hpp"
#include "tests/unit/image/layers/layer_test_support.hpp"

namespace enclaver::image {
namespace {

using namespace testing;

class Flatten : public ::testing::Test {
 protected:
  // Applies each layer (given as items) in order.
  void apply(const std::vector<std::vector<Item>>& layers, const std::string& filter = "") {
    for (const auto& items : layers) {
      const fs::path p = tmp / ("layer" + std::to_string(n++) + ".tar");
      write_text(p, make_tar(items, filter));
      auto fd = open_shared(p);
      builder.apply_layer(FileRange{fd, 0, fs::file_size(p), "layer " + std::to_string(n)});
    }
  }
  std::vector<std::string> paths() const {
    std::vector<std::string> out;
    for (const auto& [p, _] : builder.nodes()) out.push_back(p);
    return out;
  }
  // The contents of a regular file, read back through the tree's source.
  std::string contents(const std::string& path) {
    const auto* node = builder.find(path);
    EXPECT_NE(node, nullptr) << path;
    if (!node) return {};
    eif::RootfsTree t = builder.tree();
    for (const auto& e : t.entries)
      if (e.path == path) {
        VectorSink sink;
        cpio::Writer w(sink);
        cpio::Header h;
        h.name = "x";
        h.mode = cpio::kRegular | 0644;
        h.filesize = static_cast<std::uint32_t>(e.size);
        t.contents->add_file(w, h, e);
        const auto& d = sink.data();
        return std::string(d.begin() + 112, d.begin() + 112 + e.size);  // 110 header + "x\0"
      }
    return {};
  }

  TempDir tmp;
  RootfsBuilder builder{FlattenOptions{tmp.path()}};
  int n = 0;
};

TEST_F(Flatten, NormalisesPathsAndKeepsAttributes) {
  Item dev = Item{"./dev/null", 'c', "", 0666, 0, 0, 1, 3};
  apply({{dir("./"), dir("./usr/", 0750, 5, 6), file("./usr/bin", "x", 04755, 7, 8), symlink("lnk", "/usr/bin"),
          Item{"fifo", 'p', "", 0600}, dev}});
  EXPECT_EQ(paths(), (std::vector<std::string>{"dev", "dev/null", "fifo", "lnk", "usr", "usr/bin"}));
  const auto* usr = builder.find("usr");
  EXPECT_EQ(usr->mode, S_IFDIR | 0750u);
  EXPECT_EQ(usr->uid, 5u);
  EXPECT_EQ(usr->gid, 6u);
  EXPECT_EQ(builder.find("usr/bin")->mode, S_IFREG | 04755u);
  EXPECT_EQ(builder.find("lnk")->link_target, "/usr/bin");
  EXPECT_EQ(builder.find("dev/null")->rdev_minor, 3u);
  EXPECT_EQ(builder.find("dev")->mode, S_IFDIR | 0755u);  // implicit parent
  EXPECT_EQ(contents("usr/bin"), "x");
}

TEST_F(Flatten, WhiteoutsDeleteFromLowerLayersOnly) {
  apply({{dir("a"), file("a/x", "1"), file("a/y", "2"), dir("a/sub"), file("a/sub/z", "3"), file("keep", "k")},
         // The whiteout comes after the same layer's own "a/y": it must not hide it.
         {file("a/y", "new"), file("a/.wh.y", ""), file("a/.wh.sub", ""), file(".wh.nothing", "")}});
  EXPECT_EQ(paths(), (std::vector<std::string>{"a", "a/x", "a/y", "keep"}));
  EXPECT_EQ(contents("a/y"), "new");
}

TEST_F(Flatten, OpaqueDirectoriesHideLowerContentsWhateverTheOrder) {
  apply({{dir("d"), file("d/old", "o"), dir("d/deep"), file("d/deep/f", "f"), file("dx", "sibling")},
         {file("d/new", "n"), dir("d", 0700), file("d/.wh..wh..opq", "")}});
  EXPECT_EQ(paths(), (std::vector<std::string>{"d", "d/new", "dx"}));
  EXPECT_EQ(builder.find("d")->mode, S_IFDIR | 0700u);
}

TEST_F(Flatten, FileReplacesDirectoryAndBack) {
  apply({{dir("p"), file("p/child", "c"), file("q", "file")},
         {file("p", "now a file")},
         {dir("q"), file("q/inside", "i")}});
  EXPECT_EQ(paths(), (std::vector<std::string>{"p", "q", "q/inside"}));
  EXPECT_EQ(contents("p"), "now a file");
}

TEST_F(Flatten, HardLinksShareAGroupAndSurviveReplacement) {
  apply({{file("bin", "data", 0755, 3, 4), hardlink("alias", "bin")}});
  const auto* a = builder.find("alias");
  ASSERT_NE(a, nullptr);
  EXPECT_NE(a->link_group, 0u);
  EXPECT_EQ(a->link_group, builder.find("bin")->link_group);
  EXPECT_EQ(a->uid, 3u);
  eif::RootfsTree t = builder.tree();
  EXPECT_EQ(t.entries[0].src_ino, t.entries[1].src_ino);
  EXPECT_EQ(t.entries[0].src_nlink, 2u);

  apply({{file("bin", "replaced")}});
  EXPECT_EQ(contents("alias"), "data");
  EXPECT_EQ(contents("bin"), "replaced");
  EXPECT_EQ(builder.find("bin")->link_group, 0u);
}

TEST_F(Flatten, HardLinkToAMissingOrDirectoryTargetIsRefused) {
  EXPECT_THROW(apply({{hardlink("a", "missing")}}), std::runtime_error);
  EXPECT_THROW(apply({{dir("d"), hardlink("a", "d")}}), std::runtime_error);
}

TEST_F(Flatten, SymlinkedParentsAreFollowedInsideTheRoot) {
  apply({{dir("usr"), dir("usr/lib"), symlink("lib", "usr/lib"), symlink("up", "../../..")},
         {file("lib/libx.so", "x"), file("up/top", "t")}});
  EXPECT_NE(builder.find("usr/lib/libx.so"), nullptr);
  EXPECT_EQ(builder.find("lib")->mode & S_IFMT, static_cast<std::uint32_t>(S_IFLNK));
  EXPECT_NE(builder.find("top"), nullptr);  // ".." stops at the root
  EXPECT_THROW(apply({{symlink("loop", "loop"), file("loop/x", "")}}), std::runtime_error);
}

TEST_F(Flatten, RefusesEscapesNamingLayerAndPath) {
  try {
    apply({{file("../etc/passwd", "x")}});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("layer 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("../etc/passwd"), std::string::npos) << e.what();
  }
  EXPECT_THROW(apply({{file("/etc/passwd", "x")}}), std::runtime_error);
}

TEST_F(Flatten, NotesDroppedXattrs) {
  // (tar cannot carry sockets, so the flattener's socket branch is not reachable from a test layer.)
  Item ping = file("bin/ping", "p", 0755);
  ping.xattrs["security.capability"] = std::string("\x01\x00\x00\x02", 4);
  apply({{ping}});
  const eif::RootfsTree t = builder.tree();
  std::string all;
  for (const auto& note : t.notes) all += note + "\n";
  EXPECT_NE(all.find("security.capability of /bin/ping"), std::string::npos) << all;
  EXPECT_NE(all.find("file capabilities"), std::string::npos) << all;
}

TEST_F(Flatten, CompressedLayersAreSpilled) {
  apply({{dir("etc"), file("etc/one", "gzip data")}}, "gzip");
  apply({{file("etc/two", std::string(100000, 'z'))}}, "zstd");
  EXPECT_EQ(contents("etc/one"), "gzip data");
  EXPECT_EQ(contents("etc/two"), std::string(100000, 'z'));
}

TEST_F(Flatten, AdditionsWinAndFollowSymlinkedParents) {
  apply({{dir("usr"), dir("usr/sbin"), symlink("sbin", "usr/sbin"), dir("etc"), dir("etc/enclaver"),
          file("etc/enclaver/enclaver.yaml", "from the image")}});
  write_text(tmp / "odyn", "ODYN");
  builder.add_file("/sbin/odyn", tmp / "odyn", 0755);
  builder.add_bytes("/etc/enclaver/enclaver.yaml", "version: v1\n");
  builder.add_bytes("/etc/enclaver/tls/server/443/key.pem", "KEY", 0600);
  EXPECT_EQ(contents("usr/sbin/odyn"), "ODYN");
  EXPECT_EQ(builder.find("usr/sbin/odyn")->mode, S_IFREG | 0755u);
  EXPECT_EQ(contents("etc/enclaver/enclaver.yaml"), "version: v1\n");
  EXPECT_EQ(builder.find("etc/enclaver/tls/server/443/key.pem")->mode, S_IFREG | 0600u);
  EXPECT_EQ(builder.find("etc/enclaver/tls/server")->mode, S_IFDIR | 0755u);
  EXPECT_THROW(builder.add_bytes("/../x", ""), std::invalid_argument);
  EXPECT_THROW(builder.add_file("/x", tmp / "absent"), std::system_error);
}

TEST_F(Flatten, ExportFixupsOfEifSpecSection7) {
  apply({{file(".dockerenv", ""), file("Dockerfile", "FROM x"), dir("dev"), Item{"dev/console", 'c', "", 0600, 0, 0, 5, 1},
          dir("etc"), file("etc/hostname", "h"), file("etc/hosts", "10.0.0.1 x"), file("etc/resolv.conf", "nameserver 1.1.1.1"),
          dir("bin")}});
  builder.apply_export_fixups();
  EXPECT_EQ(paths(), (std::vector<std::string>{"bin", "dev", "dev/pts", "dev/shm", "etc", "etc/hosts", "etc/mtab",
                                               "etc/resolv.conf", "proc", "sys"}));
  EXPECT_EQ(contents("etc/hosts"), std::string(kEnclaveHosts));
  EXPECT_EQ(builder.find("etc/resolv.conf")->link_target, "/run/resolvconf/resolv.conf");
  EXPECT_EQ(builder.find("etc/mtab")->link_target, "/proc/mounts");
}

TEST_F(Flatten, CopyOutFollowsSymlinks) {
  apply({{dir("usr"), dir("usr/bin"), file("usr/bin/odyn-1", "ODYN", 0750), symlink("usr/bin/odyn", "odyn-1"),
          symlink("bin", "usr/bin")}});
  EXPECT_TRUE(builder.copy_out("/bin/odyn", tmp / "odyn"));
  EXPECT_EQ(read_text(tmp / "odyn"), "ODYN");
  EXPECT_EQ(fs::status(tmp / "odyn").permissions(), static_cast<fs::perms>(0750));
  EXPECT_FALSE(builder.copy_out("usr/bin", tmp / "dir"));
  EXPECT_FALSE(builder.copy_out("missing", tmp / "missing"));
  EXPECT_FALSE(fs::exists(tmp / "missing"));
}

TEST_F(Flatten, TreeIsIndependentOfLaterChanges) {
  apply({{file("a", "1")}});
  const eif::RootfsTree before = builder.tree();
  builder.add_bytes("b", "2");
  EXPECT_EQ(before.entries.size(), 1u);
  EXPECT_EQ(builder.tree().entries.size(), 2u);
}

}  // namespace
}  // namespace enclaver::image
