// A blobs directory: the kernel, its config, the kernel command line, the
// enclave init and (optionally) nsm.ko, as nitro-cli's
// /usr/share/nitro_enclaves/blobs holds them or scripts/blobs makes them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace enclaver::eif {

// Where nitro-cli installs its blobs on an AWS Nitro host.
inline constexpr const char* kNitroCliBlobsDir = "/usr/share/nitro_enclaves/blobs";

struct Blobs {
  std::filesystem::path dir;
  std::filesystem::path kernel;         // bzImage (x86_64)
  std::filesystem::path kernel_config;  // bzImage.config; may be absent (metadata says "Unknown")
  std::filesystem::path init;
  std::optional<std::filesystem::path> nsm_ko;  // absent when the kernel has the NSM driver built in
  std::vector<std::filesystem::path> modules;   // modules/*.ko, sorted by name (Debian kernels: vsock)
  std::string cmdline;                          // trimmed as nitro-cli trims it
};

// Checks `dir` holds bzImage, cmdline and init (and notes bzImage.config,
// nsm.ko and modules/*.ko when present). The error names what is missing and how to get it.
Result<Blobs> load_blobs(const std::filesystem::path& dir);

// The directory to use when the user gave none: nitro-cli's, when it exists.
std::optional<std::filesystem::path> default_blobs_dir();

}  // namespace enclaver::eif
