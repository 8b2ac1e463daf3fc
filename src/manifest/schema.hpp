// The manifest's schema: reads each section of the YAML tree into a
// Manifest, reporting every problem through the YamlReader. Internal to
// src/manifest (load.cpp is the public entry point).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "manifest/manifest.hpp"
#include "manifest/yaml_reader.hpp"

namespace enclaver::manifest::detail {

// A TCP or vsock port a service will bind, with where it was configured,
// for the cross-field collision check.
struct PortUse {
  std::uint64_t port = 0;
  std::string path;   // "ingress[1].listen_port"
  YAML::Mark mark;    // where it was written; for defaults, the section's mark
  bool defaulted = false;
};

struct PortPlan {
  std::vector<PortUse> enclave_tcp;    // 127.0.0.1 inside the enclave
  std::vector<PortUse> enclave_vsock;  // vsock ports odyn listens on
  std::vector<PortUse> host_vsock;     // vsock ports the sleeve listens on
};

// Reads the root mapping into `out`, recording ports in `ports`.
void read_manifest(YamlReader& r, const YAML::Node& root, Manifest& out, PortPlan& ports);

// Reports every port that two services would share.
void check_port_collisions(YamlReader& r, const PortPlan& ports);

}  // namespace enclaver::manifest::detail
