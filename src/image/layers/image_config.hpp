// The image config JSON (OCI image-spec config.md / Docker's image JSON):
// the parts `enclaver build` uses, and odyn's /etc/enclaver/image.json made
// from them.
//
// Null and absent are the same ("not set"); an empty list is set and empty.
// That matters for Cmd/Entrypoint: Docker keeps them apart ("Cmd": null
// after an ENTRYPOINT, "Entrypoint": [""] to clear one).
//
// Errors: std::runtime_error naming the field and what was expected.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace enclaver::image {

struct ImageConfig {
  std::optional<std::vector<std::string>> entrypoint;  // config.Entrypoint
  std::optional<std::vector<std::string>> cmd;         // config.Cmd
  std::vector<std::string> env;                        // config.Env, "K=V"
  std::string user;                                    // config.User ("" = root)
  std::string working_dir;                             // config.WorkingDir ("" = /)
  std::vector<std::string> exposed_ports;              // keys of config.ExposedPorts ("80/tcp"), sorted
  std::map<std::string, std::string> labels;           // config.Labels
  std::string architecture;                            // "amd64", "arm64", ...
  std::string variant;                                 // "v8", ...; "" if absent
  std::string os;                                      // "linux"
  std::vector<std::string> diff_ids;                   // rootfs.diff_ids
};

// Parses the config document. Unknown fields are ignored.
ImageConfig parse_image_config(std::string_view json_text);

// Refuses an image that cannot run in the enclave: os must be linux and the
// architecture `architecture` ("amd64" for x86_64 Nitro enclaves, "arm64"
// for Graviton ones). The message names what the image is and how to get the
// right variant (docker pull --platform).
void check_platform(const ImageConfig& config, std::string_view architecture = "amd64");

// odyn's /etc/enclaver/image.json (src/odyn/launch/image_config.hpp):
// compact JSON {"entrypoint":[...],"cmd":[...],"env":[...],"user":"...",
// "working_dir":"..."}, keys in that order, unset lists as []. A relative
// WorkingDir (old images) is made absolute, as Docker does.
std::string odyn_image_json(const ImageConfig& config);

// What `docker run` would execute: Entrypoint followed by Cmd.
std::vector<std::string> docker_argv(const ImageConfig& config);

}  // namespace enclaver::image
