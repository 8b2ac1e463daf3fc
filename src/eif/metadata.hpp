// The EIF metadata section (type 5; ../shared/spec/eif.md §5): compact JSON
//
//   {"ImageName":..,"ImageVersion":..,
//    "BuildMetadata":{"BuildTime":..,"BuildTool":..,"BuildToolVersion":..,
//                     "OperatingSystem":..,"KernelVersion":..},
//    "DockerInfo":..,"CustomMetadata":..}
//
// Never measured. To keep builds reproducible there is no wall clock here:
// BuildTime comes from the caller (SOURCE_DATE_EPOCH, read by the program) or
// is the epoch. Sans-IO.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace enclaver::eif {

inline constexpr std::string_view kBuildTool = "enclaver-cpp";
inline constexpr std::string_view kEpochBuildTime = "1970-01-01T00:00:00Z";
// What the Rust crate writes when the kernel config does not say.
inline constexpr std::string_view kUnknown = "Unknown";

// "YYYY-MM-DDTHH:MM:SSZ" (RFC 3339, UTC) for seconds since the epoch.
std::string rfc3339_utc(std::int64_t seconds_since_epoch);

// OperatingSystem and KernelVersion from the third line of a kernel .config,
// as the Rust crate reads it: the line is split at every ' ', '/' and '-';
// word 1 is the OS and word 3 the version ("# Linux/x86_64 6.12.38-cloud-amd64
// Kernel Configuration" gives "Linux" and "6.12.38"). Missing words give
// "Unknown".
struct KernelIdentity {
  std::string operating_system{kUnknown};
  std::string kernel_version{kUnknown};
  friend bool operator==(const KernelIdentity&, const KernelIdentity&) = default;
};
KernelIdentity parse_kernel_config(std::string_view config_text);

// DockerInfo for an image: {"ConfigDigest": ..., "Id": ...} ("Id" as
// `docker image inspect` names it; keys sorted as nitro-cli sorts them).
nlohmann::json docker_info(std::string_view image_id, std::string_view config_digest);

struct MetadataInput {
  std::string image_name;
  std::string image_version;
  std::optional<std::int64_t> build_time;  // seconds since the epoch (SOURCE_DATE_EPOCH); none: the epoch
  std::string build_tool{kBuildTool};
  std::string build_tool_version;  // empty: this build's version (ENCLAVER_VERSION)
  KernelIdentity kernel;
  nlohmann::json docker_info = nullptr;      // object or null; keys are written sorted
  nlohmann::json custom_metadata = nullptr;  // the user's JSON or null; keys are written sorted
};

// The metadata section bytes. Fails if a string is not valid UTF-8.
Result<std::string> encode_metadata(const MetadataInput& input);

// A metadata section read back, checked the way describe-eif checks it: all
// five top-level keys and all five BuildMetadata strings must be present
// (null is fine for DockerInfo and CustomMetadata, a missing key is not).
struct Metadata {
  std::string image_name;
  std::string image_version;
  std::string build_time;
  std::string build_tool;
  std::string build_tool_version;
  std::string operating_system;
  std::string kernel_version;
  nlohmann::ordered_json docker_info;
  nlohmann::ordered_json custom_metadata;
};
Result<Metadata> parse_metadata(std::string_view json_text);

}  // namespace enclaver::eif
