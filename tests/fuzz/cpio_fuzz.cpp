// libFuzzer target for the cpio newc reader: arbitrary bytes as an archive.
// Beyond "does not crash" (run under ASan/UBSan), it checks:
//  - every error is a message naming an offset, and errors are sticky;
//  - entries come at increasing 4-aligned offsets, their data lies inside the
//    input, names are non-empty, bounded and NUL-free, types are known, only
//    regular files and symlinks carry data;
//  - the end offset of a complete archive is 4-aligned and inside the input;
//  - re-encoding a complete archive with the Writer succeeds exactly when
//    every name is canonical, and reading that back gives the same headers
//    (the inode and nlink the writer fills in aside) and the same data.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "eif/cpio.hpp"

namespace {

using namespace enclaver::cpio;

void require(bool ok) {
  if (!ok) std::abort();
}

bool canonical(std::string_view name) {
  if (name.empty() || name.size() > 4095 || name.front() == '/') return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view comp = name.substr(start, end - start);
    if (comp.empty() || comp == "." || comp == "..") return false;
    start = end + 1;
  }
  return true;
}

void reencode(const std::vector<Entry>& entries) {
  bool all_canonical = true;
  for (const Entry& e : entries) all_canonical = all_canonical && canonical(e.header.name);

  enclaver::VectorSink sink;
  Writer w(sink);
  std::vector<Header> expected;
  try {
    for (const Entry& e : entries) {
      Header want = e.header;
      want.ino = w.add(e.header, e.data);
      if (want.nlink == 0) want.nlink = (want.mode & kTypeMask) == kDirectory ? 2 : 1;
      want.filesize = static_cast<std::uint32_t>(e.data.size());
      expected.push_back(want);
    }
    w.finish();
  } catch (const std::invalid_argument&) {
    require(!all_canonical);
    return;
  }
  require(all_canonical);
  require(sink.data().size() % 512 == 0);

  auto again = read_archive(sink.data());
  require(again.ok());
  require(again->entries.size() == entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    require(again->entries[i].header == expected[i]);
    const auto& a = again->entries[i].data;
    const auto& b = entries[i].data;
    require(a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin()));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  Reader reader(input);
  std::vector<Entry> entries;
  std::size_t last_end = 0;
  for (;;) {
    auto next = reader.next();
    if (!next) {
      const std::string& m = next.error().message;
      require(m.rfind("cpio: at offset ", 0) == 0);
      auto again = reader.next();
      require(!again.ok() && again.error().message == m);
      return 0;
    }
    if (!next->has_value()) break;
    const Entry& e = **next;
    require(e.offset == last_end && e.offset % 4 == 0);
    require(e.data.data() >= data && e.data.data() + e.data.size() <= data + size);
    require(e.data.size() == e.header.filesize);
    const std::string& name = e.header.name;
    require(!name.empty() && name.size() < kMaxNameSize && name.find('\0') == std::string::npos);
    require(name != kTrailerName);
    require(known_type(e.header.mode) && e.header.mode <= 0177777);
    const std::uint32_t type = e.header.mode & kTypeMask;
    require(type == kRegular || type == kSymlink || e.data.empty());
    if (type == kSymlink) require(!e.data.empty() && e.data.size() <= kMaxLinkTarget);
    // The next header starts after the 4-aligned data.
    last_end = (static_cast<std::size_t>(e.data.data() - data) + e.data.size() + 3) & ~std::size_t{3};
    entries.push_back(e);
  }
  require(reader.end_offset() <= size && reader.end_offset() % 4 == 0);
  require(!reader.next().value().has_value());
  reencode(entries);
  return 0;
}
