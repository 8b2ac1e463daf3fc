#include "eif/blobs.hpp"

#include <algorithm>
#include <system_error>

#include "eif/eif_writer.hpp"

namespace enclaver::eif {
namespace fs = std::filesystem;

Result<Blobs> load_blobs(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return make_error("blobs directory " + dir.string() +
                      " does not exist; make one with scripts/blobs DIR, or pass the nitro-cli blobs directory");
  Blobs b;
  b.dir = dir;
  b.kernel = dir / "bzImage";
  b.init = dir / "init";
  std::string missing;
  for (const auto& required : {b.kernel, b.init, dir / "cmdline"})
    if (!fs::is_regular_file(required, ec)) missing += " " + required.filename().string();
  if (!missing.empty())
    return make_error("blobs directory " + dir.string() + " lacks" + missing +
                      "; a blobs directory holds bzImage, bzImage.config, cmdline, init and optionally nsm.ko "
                      "(scripts/blobs DIR makes one)");
  if (fs::is_regular_file(dir / "bzImage.config", ec)) b.kernel_config = dir / "bzImage.config";
  if (fs::is_regular_file(dir / "nsm.ko", ec)) b.nsm_ko = dir / "nsm.ko";
  if (fs::is_directory(dir / "modules", ec)) {
    for (const auto& e : fs::directory_iterator(dir / "modules"))
      if (e.is_regular_file() && e.path().extension() == ".ko") b.modules.push_back(e.path());
    std::sort(b.modules.begin(), b.modules.end());
  }
  auto cmdline = read_cmdline_file(dir / "cmdline");
  if (!cmdline) return cmdline.error();
  b.cmdline = *cmdline;
  return b;
}

std::optional<fs::path> default_blobs_dir() {
  std::error_code ec;
  if (fs::is_directory(kNitroCliBlobsDir, ec)) return fs::path(kNitroCliBlobsDir);
  return std::nullopt;
}

}  // namespace enclaver::eif
