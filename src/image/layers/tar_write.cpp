#include "image/layers/tar_write.hpp"

#include <array>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "common/text.hpp"

namespace enclaver::image {
namespace {

constexpr std::size_t kBlock = 512;

// An octal field of `width` bytes: width-1 digits and a NUL.
void octal(char* field, std::size_t width, std::uint64_t value) {
  std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1), static_cast<unsigned long long>(value));
}

void check_name(const std::string& name) {
  bool ok = !name.empty() && name.front() != '/' && name.back() != '/' && name.find('\0') == std::string::npos;
  for (auto part : text::split(name, '/')) ok = ok && !part.empty() && part != "." && part != "..";
  if (!ok) throw std::invalid_argument("tar member name " + text::quote(name) + " is not a canonical relative path");
}

class CountingSink final : public ByteSink {
 public:
  explicit CountingSink(ByteSink& next) : next_(next) {}
  void write(std::span<const std::uint8_t> bytes) override {
    next_.write(bytes);
    count += bytes.size();
  }
  std::uint64_t count = 0;

 private:
  ByteSink& next_;
};

}  // namespace

void TarWriter::put(const std::uint8_t* data, std::size_t size) {
  sink_.write(std::span(data, size));
  written_ += size;
}

void TarWriter::pad() {
  static constexpr std::array<std::uint8_t, kBlock> zeros{};
  const std::size_t n = static_cast<std::size_t>((kBlock - written_ % kBlock) % kBlock);
  if (n) put(zeros.data(), n);
}

void TarWriter::header(const std::string& path, char type, std::uint32_t perms, std::int64_t mtime, std::uint64_t size) {
  if (finished_) throw std::logic_error("tar: member after the end of the archive");
  check_name(path);
  const std::string name = type == '5' ? path + "/" : path;
  if (size >= (1ull << 33)) throw std::invalid_argument("tar member " + text::quote(path) + " is 8 GiB or larger");
  if (mtime < 0 || mtime >= (1ll << 33)) throw std::invalid_argument("tar: mtime out of the ustar range");
  std::array<char, kBlock> h{};
  // ustar splits long names into prefix (155) '/' name (100).
  std::string prefix, base = name;
  if (name.size() > 100) {
    std::size_t cut = std::string::npos;
    for (std::size_t i = name.find('/'); i != std::string::npos; i = name.find('/', i + 1))
      if (i <= 155 && name.size() - i - 1 <= 100 && name.size() - i - 1 > 0) {
        cut = i;
        break;
      }
    if (cut == std::string::npos)
      throw std::invalid_argument("tar member name " + text::quote(path) + " is too long for ustar");
    prefix = name.substr(0, cut);
    base = name.substr(cut + 1);
  }
  std::memcpy(h.data(), base.data(), base.size());
  octal(h.data() + 100, 8, perms & 07777);
  octal(h.data() + 108, 8, 0);  // uid
  octal(h.data() + 116, 8, 0);  // gid
  octal(h.data() + 124, 12, size);
  octal(h.data() + 136, 12, static_cast<std::uint64_t>(mtime));
  std::memset(h.data() + 148, ' ', 8);
  h[156] = type;
  std::memcpy(h.data() + 257, "ustar", 6);
  std::memcpy(h.data() + 263, "00", 2);
  octal(h.data() + 329, 8, 0);  // devmajor
  octal(h.data() + 337, 8, 0);  // devminor
  std::memcpy(h.data() + 345, prefix.data(), prefix.size());
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  std::snprintf(h.data() + 148, 7, "%06o", sum);  // six digits, NUL, then the space already there
  put(reinterpret_cast<const std::uint8_t*>(h.data()), h.size());
}

void TarWriter::directory(const std::string& name, std::uint32_t perms, std::int64_t mtime) {
  header(name, '5', perms, mtime, 0);
}

void TarWriter::file(const std::string& name, std::uint32_t perms, std::int64_t mtime, std::uint64_t size,
                     const std::function<void(ByteSink&)>& body) {
  header(name, '0', perms, mtime, size);
  CountingSink counting(sink_);
  body(counting);
  written_ += counting.count;
  if (counting.count != size)
    throw std::runtime_error("tar member " + text::quote(name) + ": " + std::to_string(counting.count) +
                             " bytes written, " + std::to_string(size) + " announced (did the file change?)");
  pad();
}

void TarWriter::file(const std::string& name, std::uint32_t perms, std::int64_t mtime, std::string_view bytes) {
  file(name, perms, mtime, bytes.size(), [&](ByteSink& s) {
    s.write(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  });
}

void TarWriter::finish() {
  if (finished_) return;
  static constexpr std::array<std::uint8_t, 2 * kBlock> zeros{};
  put(zeros.data(), zeros.size());
  finished_ = true;
}

}  // namespace enclaver::image
