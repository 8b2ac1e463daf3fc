// Where the Docker engine listens: the value of DOCKER_HOST, parsed. Only
// Unix sockets are supported: the engine is always local to `enclaver`
// (build and run happen on the machine that has the engine), and a Unix
// socket needs neither TLS nor credentials. Sans-IO: no socket is opened.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace enclaver::image::engine {

// The engine's socket when DOCKER_HOST is unset or empty.
inline constexpr std::string_view kDefaultDockerHost = "unix:///var/run/docker.sock";

struct EngineAddress {
  std::string socket_path;  // absolute, fits sockaddr_un::sun_path
  // "unix:///var/run/docker.sock", for messages.
  std::string describe() const { return "unix://" + socket_path; }
  friend bool operator==(const EngineAddress&, const EngineAddress&) = default;
};

// Parses a DOCKER_HOST value (programs pass getenv's result, or "" when it
// is unset): "unix:///abs/path" is accepted; "" means kDefaultDockerHost.
// tcp://, ssh://, fd://, npipe:// and anything else are an error saying that
// only Unix sockets are supported and what to set instead; so are a
// relative or empty path and one too long for a Unix socket address.
Result<EngineAddress> parse_docker_host(std::string_view docker_host);

}  // namespace enclaver::image::engine
