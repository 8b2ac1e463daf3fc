// Building the engine's requests, sans-IO: request targets (paths and
// queries, percent-encoded), image references split as the pull and tag
// calls want them, and the JSON body of container creation.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "image/engine/api_version.hpp"

namespace enclaver::image::engine {

// Percent-encodes a path segment that names an image or container. '/',
// ':' and '@' stay as they are: image names contain them and the engine's
// router expects them literal ("/images/registry:5000/app:1/json").
std::string encode_path(std::string_view name);
// Percent-encodes a query value (everything but unreserved characters).
std::string encode_query(std::string_view value);

using Query = std::vector<std::pair<std::string, std::string>>;
// "/v1.47" + path + "?k=v&..." (no version prefix when `version` is null:
// GET /version itself). `path` must start with '/'; its names already encoded.
std::string target(const std::optional<ApiVersion>& version, std::string_view path, const Query& query = {});

// An image reference split as POST /images/create (fromImage, tag) and
// POST /images/{name}/tag (repo, tag) take it.
struct ImageReference {
  std::string repository;  // "docker.io/library/alpine", "registry:5000/app", "app"
  std::string tag;         // "3.20"; "latest" when the reference names neither tag nor digest
  std::string digest;      // "sha256:..." when the reference has one (then tag may be empty)
  // The reference again: repository[:tag][@digest].
  std::string to_string() const;
};

// Splits "name[:tag][@digest]". The tag's ':' is the last one after the last
// '/' (a registry's port, "host:5000/app", is not a tag). Empty names, empty
// tags and digests are errors; the engine validates the rest.
Result<ImageReference> split_reference(std::string_view reference);

// A port the container publishes on the host (ignored by the engine in
// network mode "host", where the container's ports are the host's already).
struct PortBinding {
  std::uint16_t host_port = 0;
  std::uint16_t container_port = 0;
  std::string protocol = "tcp";
  std::string host_ip;  // empty: all addresses
};

// What POST /containers/create gets. Everything the engine would default
// is left to it (user, working directory, ...).
struct ContainerSpec {
  std::string image;
  std::string name;                                     // empty: the engine picks one
  std::optional<std::vector<std::string>> entrypoint;   // overrides the image's
  std::optional<std::vector<std::string>> cmd;          // overrides the image's
  std::vector<std::string> env;                         // "KEY=value", added to the image's
  std::map<std::string, std::string> labels;
  bool tty = false;            // with a TTY the output is one raw stream, without it multiplexed
  bool privileged = false;     // the simulator needs it (namespaces, mounts)
  // Where --privileged cannot be had (a host without every capability):
  // "ALL" minus what is missing, and "seccomp=unconfined", ...
  std::vector<std::string> cap_add, cap_drop, security_opt;
  bool unmasked_paths = false;  // no masked or read-only /proc and /sys paths
  std::vector<std::string> devices;  // host device paths, mapped at the same path, rwm ("/dev/nitro_enclaves")
  std::vector<std::string> binds;    // "host-path:container-path[:ro]"
  std::string network_mode = "host"; // the test engine has no bridge; `enclaver run` serves on the host's ports
  std::vector<PortBinding> ports;
  bool auto_remove = false;    // the engine removes the container once it exits
};

// The JSON body for POST /containers/create.
nlohmann::json container_create_body(const ContainerSpec& spec);

// POST /build's query parameters.
struct BuildOptions {
  std::vector<std::string> tags;        // "name:tag", each applied to the result
  std::string dockerfile = "Dockerfile";  // path inside the context
  std::map<std::string, std::string> build_args;
  std::map<std::string, std::string> labels;
  bool no_cache = false;
  bool remove_intermediate = true;      // rm=1: no leftover intermediate containers
  std::string platform;                 // empty: the engine's own
};
Query build_query(const BuildOptions& options);

}  // namespace enclaver::image::engine
