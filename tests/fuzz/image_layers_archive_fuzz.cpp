// libFuzzer target for the saved image archive reader (outer tar walk,
// manifest.json / index.json / config parsing, link following, selection):
// arbitrary bytes as a `docker save` file. It must either return an image
// whose layers lie inside the file, or throw std::runtime_error /
// std::invalid_argument; any other exception type or a crash is a bug.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "image/layers/image_archive.hpp"

using namespace enclaver;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto fd = std::make_shared<Fd>(::memfd_create("fuzz-saved-image", MFD_CLOEXEC));
  if (!fd->valid() || ::write(fd->get(), data, size) != static_cast<ssize_t>(size)) std::abort();
  try {
    const image::SavedImage img = image::open_saved_image(fd, "fuzz input");
    for (const auto& l : img.layers)
      if (l.bytes.offset > size || l.bytes.size > size - l.bytes.offset) std::abort();
  } catch (const std::runtime_error&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
