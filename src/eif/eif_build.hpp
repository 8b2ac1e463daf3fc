// Building an EIF from a blobs directory and an application root filesystem:
// the bootstrap ramdisk (init, nsm.ko), the customer ramdisk (rootfs/, cmd,
// env) and the metadata, written atomically with PCRs computed on the way.
// The same inputs give the same bytes (no wall-clock time unless
// `build_time` is given, e.g. from SOURCE_DATE_EPOCH by the program).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eif/blobs.hpp"
#include "eif/eif_writer.hpp"
#include "eif/ramdisk.hpp"

namespace enclaver::eif {

struct BuildRequest {
  Blobs blobs;
  std::filesystem::path rootfs;       // a directory (see extract_rootfs_tar for tar input)
  // When set, the customer ramdisk's rootfs comes from this tree (e.g. an
  // image's layers flattened by image/layers) and `rootfs` is ignored.
  std::optional<RootfsTree> rootfs_tree;
  std::vector<std::string> cmd;       // argv, one element per line of /cmd
  std::vector<std::string> env;       // KEY=VALUE
  std::string image_name;             // metadata
  std::string image_version;
  std::optional<std::int64_t> build_time;  // seconds since the epoch; also the ramdisks' mtime
  nlohmann::json docker_info = nullptr;
  SignatureProducer signature;        // empty: unsigned
  std::filesystem::path output;
};

struct BuildResult {
  WriteSummary summary;
  std::vector<std::string> notes;  // skipped files and other things the user should know
};

// Throws std::runtime_error with a message that says what failed.
BuildResult build_eif(const BuildRequest& request);

// Unpacks a tar archive (any format libarchive reads) into `dir`, refusing
// absolute paths, ".." and writes through symlinks; ownership is kept when
// running as root. Throws std::runtime_error.
void extract_rootfs_tar(const std::filesystem::path& tar, const std::filesystem::path& dir);

}  // namespace enclaver::eif
