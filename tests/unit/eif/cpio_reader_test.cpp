// cpio newc: reader validation, unpack semantics and safety, and GNU cpio as an
// independent reader of what we write.
#include "tests/unit/eif/cpio_test_support.hpp"

namespace enclaver::cpio {
namespace {

using namespace enclaver::cpio::testing;

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
