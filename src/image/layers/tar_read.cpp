#include "image/layers/tar_read.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "common/text.hpp"

namespace enclaver::image {
namespace {

// Client state of libarchive's callbacks: a cursor over the range.
struct RangeReader {
  const FileRange* range;
  std::uint64_t pos = 0;
  std::vector<std::uint8_t> buf = std::vector<std::uint8_t>(128 * 1024);
  std::string error;
};

la_ssize_t read_cb(archive* a, void* client, const void** out) {
  auto* r = static_cast<RangeReader*>(client);
  const std::uint64_t left = r->range->size - r->pos;
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, r->buf.size()));
  if (n == 0) return 0;
  try {
    pread_exact(r->range->file->get(), r->range->offset + r->pos, std::span(r->buf.data(), n), r->range->what);
  } catch (const std::exception& e) {
    archive_set_error(a, EIO, "%s", e.what());
    return -1;
  }
  r->pos += n;
  *out = r->buf.data();
  return static_cast<la_ssize_t>(n);
}

// Lets libarchive jump over data it does not need (most of a layer when only
// headers are wanted) instead of reading it.
la_int64_t skip_cb(archive*, void* client, la_int64_t request) {
  auto* r = static_cast<RangeReader*>(client);
  const std::uint64_t left = r->range->size - r->pos;
  const std::uint64_t n = std::min<std::uint64_t>(left, static_cast<std::uint64_t>(request < 0 ? 0 : request));
  r->pos += n;
  return static_cast<la_int64_t>(n);
}

std::string message(archive* a) {
  const char* s = archive_error_string(a);
  return s ? s : "unknown libarchive error";
}

}  // namespace

std::size_t MemberData::read(std::span<std::uint8_t> out) {
  const la_ssize_t n = archive_read_data(a_, out.data(), out.size());
  if (n < 0) throw std::runtime_error("cannot read " + *what_ + ": " + message(a_));
  return static_cast<std::size_t>(n);
}

bool looks_compressed(const FileRange& range) {
  std::uint8_t m[6] = {};
  if (range.size < sizeof m) return false;
  pread_exact(range.file->get(), range.offset, m, range.what);
  auto is = [&](std::initializer_list<std::uint8_t> magic) { return std::memcmp(m, magic.begin(), magic.size()) == 0; };
  return is({0x1f, 0x8b}) || is({0x28, 0xb5, 0x2f, 0xfd}) || is({0xfd, '7', 'z', 'X', 'Z', 0x00}) ||
         is({'B', 'Z', 'h'}) || is({0x04, 0x22, 0x4d, 0x18});
}

void walk_tar(const FileRange& range, const std::function<void(const TarMember&, MemberData&)>& visit) {
  if (range.size == 0) return;
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(a.get());
  archive_read_support_format_empty(a.get());
  archive_read_support_filter_all(a.get());
  RangeReader reader{&range};
  archive_read_set_read_callback(a.get(), read_cb);
  archive_read_set_skip_callback(a.get(), skip_cb);
  archive_read_set_callback_data(a.get(), &reader);
  if (archive_read_open1(a.get()) != ARCHIVE_OK)
    throw std::runtime_error("cannot read " + range.what + " as a tar archive: " + message(a.get()));

  for (;;) {
    archive_entry* e = nullptr;
    const int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) throw std::runtime_error("cannot read " + range.what + " as a tar archive: " + message(a.get()));
    TarMember m;
    const char* name = archive_entry_pathname(e);
    if (name == nullptr) throw std::runtime_error(range.what + ": a member has no readable name");
    m.name = name;
    m.mode = static_cast<std::uint32_t>(archive_entry_mode(e));
    m.uid = static_cast<std::uint32_t>(archive_entry_uid(e));
    m.gid = static_cast<std::uint32_t>(archive_entry_gid(e));
    m.rdev_major = static_cast<std::uint32_t>(archive_entry_rdevmajor(e));
    m.rdev_minor = static_cast<std::uint32_t>(archive_entry_rdevminor(e));
    m.size = archive_entry_size_is_set(e) ? static_cast<std::uint64_t>(archive_entry_size(e)) : 0;
    if (const char* s = archive_entry_symlink(e)) m.symlink = s;
    if (const char* h = archive_entry_hardlink(e)) m.hardlink = h;
    if (archive_entry_xattr_reset(e) > 0) {
      const char* xname = nullptr;
      const void* value = nullptr;
      std::size_t size = 0;
      while (archive_entry_xattr_next(e, &xname, &value, &size) == ARCHIVE_OK)
        // libarchive's pax writer stores each attribute twice (SCHILY and
        // LIBARCHIVE keys) and its reader reports both: keep one.
        if (xname && std::find(m.xattrs.begin(), m.xattrs.end(), xname) == m.xattrs.end()) m.xattrs.emplace_back(xname);
    }
    // In an uncompressed stream the format reader has consumed exactly the
    // header blocks (pax and GNU extensions included), so the consumed count
    // is where the data starts.
    const bool plain = archive_filter_code(a.get(), 0) == ARCHIVE_FILTER_NONE;
    m.contiguous = plain && (m.mode & AE_IFMT) == AE_IFREG && m.hardlink.empty() && archive_entry_sparse_count(e) == 0;
    if (m.contiguous) {
      m.data_offset = range.offset + static_cast<std::uint64_t>(archive_filter_bytes(a.get(), 0));
      if (m.data_offset + m.size > range.offset + range.size)
        throw std::runtime_error(range.what + ": member " + text::quote(m.name) + " runs past the end of the archive");
    }
    const std::string what = range.what + ", member " + text::quote(m.name);
    MemberData data(a.get(), &what);
    visit(m, data);
  }
}

}  // namespace enclaver::image
