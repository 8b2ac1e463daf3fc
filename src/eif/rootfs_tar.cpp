#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>

#include "eif/eif_build.hpp"

namespace enclaver::eif {
namespace {

std::filesystem::path relative(std::string_view name) {
  while (name.starts_with("/")) name.remove_prefix(1);
  return std::filesystem::path(name);
}

}  // namespace

void extract_rootfs_tar(const std::filesystem::path& tar, const std::filesystem::path& dir) {
  using ArchivePtr = std::unique_ptr<archive, int (*)(archive*)>;
  ArchivePtr in(archive_read_new(), archive_read_free);
  ArchivePtr out(archive_write_disk_new(), archive_write_free);
  archive_read_support_format_all(in.get());
  archive_read_support_filter_all(in.get());
  int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
              ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_UNLINK;
  if (geteuid() == 0) flags |= ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_XATTR;
  archive_write_disk_set_options(out.get(), flags);
  archive_write_disk_set_standard_lookup(out.get());
  const std::string where = "rootfs tar " + tar.string();
  // Canonical, so that SECURE_SYMLINKS does not trip over a symlink in the
  // directory's own path (such as /tmp on some systems).
  const std::filesystem::path root = std::filesystem::canonical(dir);
  if (archive_read_open_filename(in.get(), tar.c_str(), 1 << 16) != ARCHIVE_OK)
    throw std::runtime_error("cannot open " + where + ": " + archive_error_string(in.get()));
  for (;;) {
    archive_entry* entry = nullptr;
    const int rc = archive_read_next_header(in.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) throw std::runtime_error("cannot read " + where + ": " + archive_error_string(in.get()));
    // Paths in the archive are relative to the rootfs, hard link targets too;
    // a leading "/" is dropped as tar does (libarchive's own absolute-path
    // check cannot be used: every path we give it is under `root`).
    const std::string name = archive_entry_pathname(entry);
    archive_entry_set_pathname(entry, (root / relative(name)).c_str());
    if (const char* link = archive_entry_hardlink(entry)) archive_entry_set_hardlink(entry, (root / relative(link)).c_str());
    if (archive_write_header(out.get(), entry) < ARCHIVE_WARN)
      throw std::runtime_error("cannot extract " + name + " from " + where + ": " + archive_error_string(out.get()));
    const void* buf;
    size_t size;
    la_int64_t offset;
    int r;
    while ((r = archive_read_data_block(in.get(), &buf, &size, &offset)) == ARCHIVE_OK)
      if (archive_write_data_block(out.get(), buf, size, offset) < ARCHIVE_WARN)
        throw std::runtime_error("cannot write " + name + " from " + where + ": " + archive_error_string(out.get()));
    if (r != ARCHIVE_EOF) throw std::runtime_error("cannot read " + name + " in " + where + ": " + archive_error_string(in.get()));
    archive_write_finish_entry(out.get());
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK)
    throw std::runtime_error("cannot finish extracting " + where + ": " + archive_error_string(out.get()));
}

}  // namespace enclaver::eif
