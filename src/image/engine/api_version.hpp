// Docker Engine API versions and their negotiation. Every request but
// GET /version goes to /v<major>.<minor>/...: the engine then behaves as that
// API version documents, whatever its own release. We use the newest version
// both sides know: min(engine's ApiVersion, kMaxApiVersion), and refuse an
// engine older than kMinApiVersion (or one that dropped our maximum) with a
// message saying what to upgrade. Sans-IO.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace enclaver::image::engine {

struct ApiVersion {
  unsigned major = 0;
  unsigned minor = 0;
  friend auto operator<=>(const ApiVersion&, const ApiVersion&) = default;
  std::string to_string() const { return std::to_string(major) + "." + std::to_string(minor); }
};

// 1.41 is Docker 20.10 (2020), the oldest release we accept: every call we
// make (AutoRemove, Devices, wait's early header, the attach upgrade) is
// older, and older engines are out of support everywhere.
inline constexpr ApiVersion kMinApiVersion{1, 41};
// 1.47 is Docker 27: the newest API this client was written against. Newer
// engines serve it too (they keep old versions back to their MinAPIVersion).
inline constexpr ApiVersion kMaxApiVersion{1, 47};

// "1.43" -> {1, 43}. Anything else ("", "1", "1.x", "v1.43", "1.43.0") is an error.
Result<ApiVersion> parse_api_version(std::string_view text);

// What GET /version says about the engine (the fields we use).
struct EngineVersion {
  std::string version;                 // the engine's release, "28.2.2"
  ApiVersion api;                      // the newest API version it serves
  std::optional<ApiVersion> min_api;   // the oldest it serves, when it says
  std::string os;                      // "linux"
  std::string arch;                    // "amd64"
};

// Parses the JSON body of GET /version.
Result<EngineVersion> parse_version_response(std::string_view body);

// The version to use with this engine: min(engine.api, ours_max); an error
// when that is below ours_min (the engine is too old: upgrade Docker) or
// below the engine's own minimum (the engine is too new for this client).
Result<ApiVersion> negotiate(const EngineVersion& engine, ApiVersion ours_min = kMinApiVersion,
                             ApiVersion ours_max = kMaxApiVersion);

}  // namespace enclaver::image::engine
