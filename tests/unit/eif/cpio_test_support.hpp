// Shared helpers of the cpio tests: raw newc entries built independently of
// the Writer, field accessors, and a tree with one of everything.
#pragma once

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


namespace enclaver::cpio::testing {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

// ------------------------------------------------------------ helpers


inline void write_file(const fs::path& p, const std::string& content, mode_t mode = 0644) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
  ASSERT_EQ(::chmod(p.c_str(), mode), 0);
}

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string str(std::span<const std::uint8_t> b) { return std::string(b.begin(), b.end()); }
inline Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

// The 8 hex digits of header field `index` (0 = c_ino ... 12 = c_check) of
// the header at `offset`.
inline std::string field(const Bytes& a, std::size_t offset, int index) {
  return std::string(a.begin() + offset + 6 + 8 * index, a.begin() + offset + 14 + 8 * index);
}

// A raw newc entry, built here independently of the Writer so that tests can
// make archives the Writer would refuse.
inline std::string raw_entry(const std::string& name, std::uint32_t mode, const std::string& data, std::uint32_t ino = 1,
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
inline std::string raw_trailer() { return raw_entry("TRAILER!!!", 0, "", 0); }

inline Bytes archive_of_tree(const fs::path& root, const std::string& prefix = "", std::uint32_t mtime = 0) {
  VectorSink sink;
  Writer w(sink);
  write_tree(w, scan_tree(root), {.prefix = prefix, .mtime = mtime});
  w.finish();
  return sink.data();
}

inline std::vector<std::string> names_of(const Bytes& archive) {
  auto a = read_archive(archive);
  EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message);
  std::vector<std::string> out;
  if (a.ok())
    for (const Entry& e : a->entries) out.push_back(e.header.name);
  return out;
}

inline bool mknod_works(const fs::path& dir) {
  const fs::path p = dir / ".probe";
  const bool ok = ::mknod(p.c_str(), S_IFCHR | 0600, ::makedev(1, 3)) == 0;
  ::unlink(p.c_str());
  return ok;
}

// A tree with one of everything. `reverse` creates the files in the opposite
// order (so readdir order differs); `mtime` stamps every object.
inline void populate(const fs::path& root, bool reverse, std::time_t mtime) {
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


}  // namespace enclaver::cpio::testing
