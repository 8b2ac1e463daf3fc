// write_customer_ramdisk from a RootfsTree (a rootfs that is not a directory,
// such as flattened image layers): same bytes as from a directory holding the
// same tree, whatever the content source.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>

#include "common/temp_dir.hpp"
#include "eif/ramdisk.hpp"

namespace enclaver::eif {
namespace {

namespace fs = std::filesystem;

// Contents from memory, indexed by TreeEntry::content_ref.
class MemoryContents final : public cpio::ContentSource {
 public:
  explicit MemoryContents(std::vector<std::string> blobs) : blobs_(std::move(blobs)) {}
  std::uint32_t add_file(cpio::Writer& w, cpio::Header h, const cpio::TreeEntry& e) const override {
    const std::string& b = blobs_.at(e.content_ref);
    const std::uint32_t ino = w.begin(std::move(h));
    w.write(std::span(reinterpret_cast<const std::uint8_t*>(b.data()), b.size()));
    return ino;
  }

 private:
  std::vector<std::string> blobs_;
};

cpio::TreeEntry entry(std::string path, std::uint32_t mode, std::uint64_t size = 0, std::uint64_t ref = 0) {
  cpio::TreeEntry e;
  e.path = std::move(path);
  e.mode = mode;
  e.uid = ::geteuid();
  e.gid = ::getegid();
  e.size = size;
  e.content_ref = ref;
  return e;
}

TEST(CustomerRamdiskTree, SameBytesAsTheDirectory) {
  TempDir dir;
  fs::create_directories(dir / "etc");
  ::chmod((dir / "etc").c_str(), 0750);
  std::ofstream(dir / "etc/a") << "alpha";
  std::ofstream(dir / "b") << "beta!";
  ::chmod((dir / "etc/a").c_str(), 0600);
  ::chmod((dir / "b").c_str(), 0644);
  fs::create_hard_link(dir / "b", dir / "c");
  fs::create_symlink("etc/a", dir / "run");  // a mount point that is not a directory: replaced
  VectorSink from_dir;
  const RamdiskSummary a = write_customer_ramdisk(dir.path(), {"sh"}, {"A=1"}, {.mtime = 9}, from_dir);

  RootfsTree tree;
  // Any order: the writer sorts.
  tree.entries = {entry("run", cpio::kSymlink | 0777), entry("etc/a", cpio::kRegular | 0600, 5, 0),
                  entry("b", cpio::kRegular | 0644, 5, 1), entry("c", cpio::kRegular | 0644, 5, 1),
                  entry("etc", cpio::kDirectory | 0750)};
  tree.entries[0].link_target = "etc/a";
  for (int i : {2, 3}) {  // one hard-link group
    tree.entries[i].src_dev = 1;
    tree.entries[i].src_ino = 7;
    tree.entries[i].src_nlink = 2;
  }
  tree.notes = {"a note from the source"};
  tree.contents = std::make_shared<MemoryContents>(std::vector<std::string>{"alpha", "beta!"});
  VectorSink from_tree;
  const RamdiskSummary b = write_customer_ramdisk(tree, {"sh"}, {"A=1"}, {.mtime = 9}, from_tree);
  EXPECT_TRUE(from_dir.data() == from_tree.data());
  EXPECT_EQ(a.entries, b.entries);
  ASSERT_EQ(b.notes.size(), 2u);
  EXPECT_EQ(b.notes[0], "a note from the source");
  EXPECT_EQ(b.notes[1], a.notes.at(0));
}

TEST(CustomerRamdiskTree, RegularFilesNeedAContentSource) {
  RootfsTree tree;
  tree.entries = {entry("d", cpio::kDirectory | 0755)};
  VectorSink sink;
  EXPECT_NO_THROW(write_customer_ramdisk(tree, {}, {}, {}, sink));
  tree.entries.push_back(entry("f", cpio::kRegular | 0644, 1));
  VectorSink again;
  EXPECT_THROW(write_customer_ramdisk(tree, {}, {}, {}, again), std::invalid_argument);
  EXPECT_TRUE(again.data().empty());
}

}  // namespace
}  // namespace enclaver::eif
