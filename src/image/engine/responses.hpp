// Decoding the engine's JSON answers into the few fields callers use, with
// the whole document kept for the rest. Sans-IO; errors are values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "image/engine/progress.hpp"

namespace enclaver::image::engine {

// GET /images/{name}/json.
struct ImageInfo {
  std::string id;                      // "sha256:..."
  std::vector<std::string> repo_tags;  // "app:1"
  std::string os;                      // "linux"
  std::string architecture;            // "amd64"
  nlohmann::json config;               // .Config: Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts, ...
  nlohmann::json raw;                  // the whole answer
};
Result<ImageInfo> parse_image_inspect(std::string_view body);

// POST /containers/create.
struct CreatedContainer {
  std::string id;
  std::vector<std::string> warnings;  // e.g. published ports discarded in host network mode
};
Result<CreatedContainer> parse_create_response(std::string_view body);

// POST /containers/{id}/wait: {"StatusCode": 3, "Error": {"Message": ""}}.
struct WaitResponse {
  int status_code = 0;
  std::string error;  // the engine's Error.Message; empty when none
};
Result<WaitResponse> parse_wait_response(std::string_view body);

// What a load reported loading: "Loaded image: app:1" gives "app:1",
// "Loaded image ID: sha256:..." gives "sha256:..." (an untagged image).
// nullopt for other events.
std::optional<std::string> loaded_image(const ProgressEvent& event);

// The image ID a build reports in its aux line ({"aux": {"ID": "sha256:..."}}),
// or the "Successfully built 0123abcd" of older engines; nullopt otherwise.
std::optional<std::string> built_image_id(const ProgressEvent& event);

}  // namespace enclaver::image::engine
