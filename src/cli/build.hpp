// `enclaver build` and `enclaver run`: the user's front door (architecture.md,
// build time and run time on the host). Both talk to the Docker engine
// through image/engine; nothing here reads the environment (main does).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace enclaver::cli {

struct BuildOptions {
  std::string manifest = "enclaver.yaml";
  std::string blobs;                         // empty: ENCLAVER_BLOBS (main), then nitro-cli's
  std::string docker_host;                   // DOCKER_HOST's value ("" = the default socket)
  std::filesystem::path programs_dir;        // where `enclaver` is: our odyn and enclaver-run are there
  std::filesystem::path work_dir = std::filesystem::temp_directory_path();  // the saved image, the EIF
  std::optional<std::int64_t> source_date_epoch;  // SOURCE_DATE_EPOCH; default 0: reproducible
  std::string eif_output;                    // also keep the EIF here (optional)
  bool json = false;
  bool progress = true;
};
int build(const BuildOptions& options, std::ostream& out, std::ostream& err);

struct RunOptions {
  std::string image;                         // the release image ("" = the manifest's target)
  std::string manifest = "enclaver.yaml";    // read for `target` when no image is given
  std::string docker_host;
  bool simulate = false;
  bool nitro_device = false;                 // /dev/nitro_enclaves exists (main checks)
  std::vector<std::string> publish;          // "[ADDRESS:]HOST_PORT:ENCLAVE_PORT" or "HOST_PORT"
  std::optional<std::uint32_t> cpu_count;
  std::optional<std::uint64_t> memory_mb;
  bool debug_mode = false;
  std::filesystem::path sim_state_dir;       // the simulator root CA's directory, shared with the sleeve
  std::uint64_t capabilities = ~0ull;        // this machine's bounding set (CapBnd): --privileged needs them all
};
int run(const RunOptions& options, std::ostream& out, std::ostream& err);

}  // namespace enclaver::cli
