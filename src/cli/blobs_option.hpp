// The --blobs option of the building commands (`enclaver build`, `enclaver
// eif build`): the directory given, else nitro-cli's when installed, loaded.
#pragma once

#include <ostream>
#include <string>
#include <variant>

#include "cli/commands.hpp"
#include "eif/blobs.hpp"

namespace enclaver::cli {

// The blobs, or the exit code after saying why on `err` (prefixed with
// `command`): kExitUsage when none was given or found, kExitInvalid when the
// directory lacks something.
inline std::variant<eif::Blobs, int> find_blobs(const std::string& given, const std::string& command, std::ostream& err) {
  std::filesystem::path dir = given;
  if (dir.empty()) {
    auto found = eif::default_blobs_dir();
    if (!found) {
      err << command << ": no blobs directory (kernel, init): pass --blobs DIR (scripts/blobs DIR makes one), "
          << "or install nitro-cli (" << eif::kNitroCliBlobsDir << ")\n";
      return kExitUsage;
    }
    dir = *found;
  }
  auto blobs = eif::load_blobs(dir);
  if (!blobs) {
    err << command << ": " << blobs.error().message << "\n";
    return kExitInvalid;
  }
  return *blobs;
}

}  // namespace enclaver::cli
