// libFuzzer target for the layer walk and flattening: arbitrary bytes as a
// layer blob (tar, possibly compressed) applied twice on top of each other,
// then written as a customer ramdisk. It must either succeed or throw
// std::runtime_error / std::invalid_argument; any other exception type, a
// crash, or a tree whose ramdisk cannot be written is a bug.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "eif/ramdisk.hpp"
#include "image/layers/flatten.hpp"

using namespace enclaver;

namespace {

class NullSink final : public ByteSink {
 public:
  void write(std::span<const std::uint8_t>) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto fd = std::make_shared<Fd>(::memfd_create("fuzz-layer", MFD_CLOEXEC));
  if (!fd->valid() || ::write(fd->get(), data, size) != static_cast<ssize_t>(size)) std::abort();
  image::RootfsBuilder builder;
  try {
    builder.apply_layer(image::FileRange{fd, 0, size, "layer 1"});
    builder.apply_layer(image::FileRange{fd, 0, size, "layer 2"});
  } catch (const std::runtime_error&) {
    return 0;
  } catch (const std::invalid_argument&) {
    return 0;
  }
  builder.apply_export_fixups();
  NullSink sink;
  // A tree the flattener accepted must be writable: names canonical, parents present.
  eif::write_customer_ramdisk(builder.tree(), {"/sbin/odyn"}, {"A=1"}, {}, sink);
  return 0;
}
