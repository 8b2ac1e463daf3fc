// Walking the members of a tar archive that lies in a byte range of a file
// (a saved image archive, or a layer inside one), with libarchive, recording
// where each regular file's data sits so that it can be read back later with
// pread instead of being copied.
//
// Any tar dialect libarchive reads (ustar, pax, GNU); the range may also be
// compressed (gzip, zstd, xz, bzip2...), in which case no member's data is
// contiguous in the file and callers copy it out through MemberData.
//
// Errors: std::runtime_error naming `range.what`, the member and libarchive's
// message; exceptions thrown by the visitor propagate.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "image/layers/io.hpp"

struct archive;

namespace enclaver::image {

struct TarMember {
  std::string name;          // as stored: not normalised, may start with "./" or end with "/"
  std::uint32_t mode = 0;    // file type (S_IF*) | permission bits
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint32_t rdev_major = 0;  // devices
  std::uint32_t rdev_minor = 0;
  std::uint64_t size = 0;        // data bytes
  std::string symlink;           // symlinks: the target
  std::string hardlink;          // hard links: the name of the member linked to ("" otherwise)
  std::vector<std::string> xattrs;  // names of the extended attributes (pax SCHILY.xattr.* ...)
  // Regular files stored as one run of bytes in the uncompressed range:
  // the data is range.file bytes [data_offset, data_offset + size).
  bool contiguous = false;
  std::uint64_t data_offset = 0;
};

// Sequential access to the current member's data (what libarchive decodes:
// decompressed, sparse holes filled). read() returns 0 at the end.
class MemberData {
 public:
  explicit MemberData(archive* a, const std::string* what) : a_(a), what_(what) {}
  std::size_t read(std::span<std::uint8_t> out);

 private:
  archive* a_;
  const std::string* what_;
};

// Calls `visit` for every member in archive order. An empty range is an
// archive without members.
void walk_tar(const FileRange& range, const std::function<void(const TarMember&, MemberData&)>& visit);

// True when the range starts with the magic of a compressed stream (gzip,
// zstd, xz, bzip2, lz4) rather than a tar header.
bool looks_compressed(const FileRange& range);

}  // namespace enclaver::image
