#include "image/engine/address.hpp"

#include <sys/un.h>

#include "common/text.hpp"

namespace enclaver::image::engine {

namespace {

constexpr std::string_view kUnixScheme = "unix://";

Error unsupported(std::string_view value, std::string_view why) {
  return make_error("DOCKER_HOST=" + text::quote(value) + ": " + std::string(why) +
                    "; enclaver talks to the Docker engine over its Unix socket only: set DOCKER_HOST to unix:///path/to/docker.sock "
                    "(or unset it for " + std::string(kDefaultDockerHost) + ")");
}

}  // namespace

Result<EngineAddress> parse_docker_host(std::string_view value) {
  if (value.empty()) value = kDefaultDockerHost;
  if (value.substr(0, kUnixScheme.size()) != kUnixScheme) {
    const auto scheme_end = value.find("://");
    if (scheme_end == std::string_view::npos) return unsupported(value, "no unix:// scheme");
    return unsupported(value, std::string(value.substr(0, scheme_end)) + ":// is not supported");
  }
  std::string_view path = value.substr(kUnixScheme.size());
  if (path.empty() || path.front() != '/') return unsupported(value, "the socket path must be absolute");
  if (path.find('\0') != std::string_view::npos) return unsupported(value, "the socket path contains a NUL byte");
  // sun_path holds the path and its terminating NUL.
  if (path.size() >= sizeof(sockaddr_un::sun_path))
    return unsupported(value, "the socket path is longer than a Unix socket address allows (" +
                                  std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes)");
  return EngineAddress{std::string(path)};
}

}  // namespace enclaver::image::engine
