// cpio newc reader, sans-IO (see cpio.hpp for the contract).
#include <cstdio>
#include <string>

#include "common/text.hpp"
#include "eif/cpio.hpp"

namespace enclaver::cpio {
namespace {

constexpr const char* kFieldNames[13] = {"c_ino",      "c_mode",     "c_uid",       "c_gid",      "c_nlink",
                                         "c_mtime",    "c_filesize", "c_devmajor",  "c_devminor", "c_rdevmajor",
                                         "c_rdevminor", "c_namesize", "c_check"};

int hex_digit(std::uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string quote_bytes(std::span<const std::uint8_t> b) {
  return text::quote(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

std::size_t align4(std::size_t v) { return (v + 3) & ~static_cast<std::size_t>(3); }

std::string octal(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0%o", v);
  return buf;
}

}  // namespace

Reader::Reader(std::span<const std::uint8_t> input, std::size_t start) : in_(input), pos_(start) {}

Result<std::optional<Entry>> Reader::next() {
  if (error_) return *error_;
  if (done_) return std::optional<Entry>{};

  const std::size_t off = pos_;
  auto fail = [&](std::size_t at, const std::string& what) -> Error {
    error_ = make_error("cpio: at offset " + std::to_string(at) + ": " + what);
    return *error_;
  };
  if (off > in_.size()) return fail(off, "start lies past the end of the input");
  const std::size_t left = in_.size() - off;
  if (left == 0) return fail(off, "input ends where a header (or the trailer) was expected");
  if (left < kHeaderSize)
    return fail(off, "truncated header: " + std::to_string(left) + " of " + std::to_string(kHeaderSize) + " bytes");

  const std::uint8_t* p = in_.data() + off;
  const std::string_view magic(reinterpret_cast<const char*>(p), 6);
  if (magic != "070701") {
    if (magic == "070702") return fail(off, "cpio \"crc\" format (070702) is not supported; expected newc (070701)");
    return fail(off, "bad magic " + quote_bytes({p, 6}) + " (expected \"070701\", cpio newc)");
  }
  std::uint32_t f[13];
  for (int i = 0; i < 13; ++i) {
    std::uint32_t v = 0;
    for (int k = 0; k < 8; ++k) {
      const int d = hex_digit(p[6 + 8 * i + k]);
      if (d < 0)
        return fail(off + 6 + 8 * i, std::string("header field ") + kFieldNames[i] + " is not 8 hex digits: " +
                                          quote_bytes({p + 6 + 8 * i, 8}));
      v = (v << 4) | static_cast<std::uint32_t>(d);
    }
    f[i] = v;
  }

  Entry e;
  e.offset = off;
  Header& h = e.header;
  h.ino = f[0];
  h.mode = f[1];
  h.uid = f[2];
  h.gid = f[3];
  h.nlink = f[4];
  h.mtime = f[5];
  h.filesize = f[6];
  h.dev_major = f[7];
  h.dev_minor = f[8];
  h.rdev_major = f[9];
  h.rdev_minor = f[10];
  h.check = f[12];
  const std::size_t namesize = f[11];
  const std::size_t name_off = off + kHeaderSize;
  if (namesize == 0) return fail(off + 94, "c_namesize is 0 (it counts the name's NUL)");
  if (namesize == 1) return fail(off + 94, "empty name");
  if (namesize > kMaxNameSize)
    return fail(off + 94, "c_namesize " + std::to_string(namesize) + " exceeds " + std::to_string(kMaxNameSize));
  if (namesize > in_.size() - name_off)
    return fail(name_off, "name (c_namesize " + std::to_string(namesize) + ") runs past the end of the input (" +
                              std::to_string(in_.size() - name_off) + " bytes left)");
  const std::string_view name(reinterpret_cast<const char*>(in_.data() + name_off), namesize - 1);
  if (in_[name_off + namesize - 1] != 0) return fail(name_off, "name " + text::quote(name) + " is not NUL-terminated");
  if (const std::size_t nul = name.find('\0'); nul != std::string_view::npos)
    return fail(name_off + nul, "name contains a NUL byte before its end");
  h.name.assign(name);

  const std::size_t data_off = align4(name_off + namesize);
  if (data_off > in_.size()) return fail(name_off + namesize, "input ends inside the padding after the name");
  if (h.filesize > in_.size() - data_off)
    return fail(off + 54, "c_filesize " + std::to_string(h.filesize) + " of " + text::quote(name) + " exceeds the " +
                              std::to_string(in_.size() - data_off) + " bytes left");
  const std::size_t data_end = data_off + h.filesize;
  const std::size_t next = align4(data_end);
  if (next > in_.size()) return fail(data_end, "input ends inside the padding after the data of " + text::quote(name));

  if (name == kTrailerName) {
    done_ = true;
    pos_ = next;
    return std::optional<Entry>{};
  }

  const std::uint32_t type = h.mode & kTypeMask;
  if (!known_type(h.mode))
    return fail(off + 14, "unknown file type in mode " + octal(h.mode) + " of " + text::quote(name));
  if (h.mode > 0177777)
    return fail(off + 14, "mode " + octal(h.mode) + " of " + text::quote(name) + " has bits above the file type");
  if (type != kRegular && type != kSymlink && h.filesize != 0)
    return fail(off + 54, text::quote(name) + " is not a regular file or symlink but has " +
                              std::to_string(h.filesize) + " bytes of data");
  e.data = in_.subspan(data_off, h.filesize);
  if (type == kSymlink) {
    const std::string_view target(reinterpret_cast<const char*>(e.data.data()), e.data.size());
    if (target.empty() || target.size() > kMaxLinkTarget)
      return fail(off + 54, "symlink " + text::quote(name) + " has a target of " + std::to_string(target.size()) +
                                " bytes (1.." + std::to_string(kMaxLinkTarget) + " allowed)");
    if (const std::size_t nul = target.find('\0'); nul != std::string_view::npos)
      return fail(data_off + nul, "symlink target of " + text::quote(name) + " contains NUL");
  }
  pos_ = next;
  return std::optional<Entry>(std::move(e));
}

Result<Archive> read_archive(std::span<const std::uint8_t> input) {
  Archive a;
  Reader r(input);
  for (;;) {
    auto next = r.next();
    if (!next) return next.error();
    if (!next->has_value()) break;
    a.entries.push_back(std::move(**next));
  }
  a.end = r.end_offset();
  return a;
}

}  // namespace enclaver::cpio
