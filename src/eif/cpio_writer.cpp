// cpio newc writer (see cpio.hpp for the contract).
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "common/text.hpp"
#include "eif/cpio.hpp"

namespace enclaver::cpio {
namespace {

constexpr std::size_t kCopyChunk = 256 * 1024;

void put_hex8(std::uint8_t* out, std::uint32_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<std::uint8_t>(digits[v & 0xf]);
    v >>= 4;
  }
}

std::string where(const Header& h) { return "cpio entry " + text::quote(h.name); }

std::string octal(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0%o", v);
  return buf;
}

// Throws std::invalid_argument unless `name` is relative and canonical.
void check_name(const std::string& name) {
  auto fail = [&](const char* why) {
    throw std::invalid_argument("cpio entry name " + text::quote(name) + ": " + why);
  };
  if (name.empty()) fail("empty");
  if (name.size() + 1 > kMaxNameSize) fail("longer than 4095 bytes");
  if (name.find('\0') != std::string::npos) fail("contains NUL");
  if (name == kTrailerName) fail("reserved for the trailer");
  if (name.front() == '/') fail("absolute (leading '/')");
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    const std::string_view comp(name.data() + start, end - start);
    if (comp.empty()) fail("empty path component (\"//\" or trailing '/')");
    if (comp == ".") fail("\".\" component");
    if (comp == "..") fail("\"..\" component");
    start = end + 1;
  }
}

}  // namespace

bool known_type(std::uint32_t mode) {
  switch (mode & kTypeMask) {
    case kSocket: case kSymlink: case kRegular: case kBlockDevice:
    case kDirectory: case kCharDevice: case kFifo:
      return true;
    default:
      return false;
  }
}

Writer::Writer(ByteSink& sink, std::uint32_t first_inode) : sink_(sink), next_ino_(first_inode) {}

void Writer::put(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return;
  sink_.write(bytes);
  written_ += bytes.size();
}

void Writer::pad(std::uint64_t multiple) {
  static constexpr std::array<std::uint8_t, 512> zeros{};
  std::uint64_t n = (multiple - written_ % multiple) % multiple;
  while (n > 0) {
    const std::size_t k = n < zeros.size() ? static_cast<std::size_t>(n) : zeros.size();
    put(std::span(zeros.data(), k));
    n -= k;
  }
}

void Writer::close_entry() {
  if (!open_) return;
  if (remaining_ != 0)
    throw std::logic_error("cpio writer: entry closed with " + std::to_string(remaining_) +
                           " data bytes missing");
  pad(4);
  open_ = false;
}

std::uint32_t Writer::write_header(Header& h, bool trailer) {
  if (finished_) throw std::logic_error("cpio writer: entry after the trailer");
  close_entry();
  if (!trailer) {
    check_name(h.name);
    if (!known_type(h.mode))
      throw std::invalid_argument(where(h) + ": unknown file type in mode " + octal(h.mode));
    if ((h.mode & ~kTypeMask) > 07777)
      throw std::invalid_argument(where(h) + ": mode has bits beyond 07777 and the type");
    const std::uint32_t type = h.mode & kTypeMask;
    if (type != kRegular && type != kSymlink && h.filesize != 0)
      throw std::invalid_argument(where(h) + ": only regular files and symlinks carry data");
    if (h.nlink == 0) h.nlink = type == kDirectory ? 2 : 1;
  }
  if (h.ino == 0) h.ino = next_ino_++;

  std::vector<std::uint8_t> buf(kHeaderSize + h.name.size() + 1);
  static constexpr char magic[] = "070701";
  std::copy(magic, magic + 6, buf.begin());
  const std::uint32_t fields[13] = {h.ino,       h.mode,       h.uid,        h.gid,        h.nlink,
                                    h.mtime,     h.filesize,   h.dev_major,  h.dev_minor,  h.rdev_major,
                                    h.rdev_minor, static_cast<std::uint32_t>(h.name.size() + 1), h.check};
  for (int i = 0; i < 13; ++i) put_hex8(buf.data() + 6 + 8 * i, fields[i]);
  std::copy(h.name.begin(), h.name.end(), buf.begin() + kHeaderSize);
  buf.back() = 0;
  put(buf);
  pad(4);
  remaining_ = h.filesize;
  open_ = true;
  if (!trailer) ++entries_;
  return h.ino;
}

std::uint32_t Writer::begin(Header h) {
  if ((h.mode & kTypeMask) == kSymlink)
    throw std::invalid_argument(where(h) + ": symlinks are written with add(), which checks the target");
  return write_header(h, false);
}

void Writer::write(std::span<const std::uint8_t> data) {
  if (!open_ || data.size() > remaining_)
    throw std::logic_error("cpio writer: more data than the entry's filesize");
  put(data);
  remaining_ -= data.size();
}

std::uint32_t Writer::add(Header h, std::span<const std::uint8_t> data) {
  if (data.size() > 0xffffffffu) throw std::invalid_argument(where(h) + ": data of 4 GiB or more");
  h.filesize = static_cast<std::uint32_t>(data.size());
  if ((h.mode & kTypeMask) == kSymlink) {
    const std::string_view target(reinterpret_cast<const char*>(data.data()), data.size());
    if (target.empty() || target.size() > kMaxLinkTarget || target.find('\0') != std::string_view::npos)
      throw std::invalid_argument(where(h) + ": symlink target must be 1..4095 bytes without NUL");
  }
  const std::uint32_t ino = write_header(h, false);
  write(data);
  close_entry();
  return ino;
}

std::uint32_t Writer::add(Header h, std::string_view data) {
  return add(std::move(h), std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
}

std::uint32_t Writer::add_file(Header h, int fd) {
  const std::string name = h.name;
  const std::uint32_t ino = begin(std::move(h));
  std::vector<std::uint8_t> buf(std::min<std::uint64_t>(kCopyChunk, std::max<std::uint64_t>(remaining_, 1)));
  while (remaining_ > 0) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, buf.size()));
    const ssize_t n = ::read(fd, buf.data(), want);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "cpio: reading " + text::quote(name));
    }
    if (n == 0)
      throw std::runtime_error("cpio: " + text::quote(name) + " ended " + std::to_string(remaining_) +
                               " bytes early (did it change while being archived?)");
    write(std::span(buf.data(), static_cast<std::size_t>(n)));
  }
  close_entry();
  return ino;
}

void Writer::finish() {
  Header t;
  t.name = std::string(kTrailerName);
  t.nlink = 1;
  write_header(t, true);
  close_entry();
  pad(512);
  finished_ = true;
}

}  // namespace enclaver::cpio
