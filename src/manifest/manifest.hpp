// The enclaver.yaml manifest, version v1 (../shared/spec/manifest.md), as a
// typed value with every default filled in. Produced only by load_manifest()
// (load.hpp), so a Manifest in hand has passed every check of the spec.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace enclaver::manifest {

struct Sources {
  std::string app;                    // image reference
  std::optional<std::string> odyn;    // image reference or local path; default: our odyn
  std::optional<std::string> sleeve;  // image reference; default: our sleeve base
};

struct Signature {
  std::string certificate;  // PEM path as written (see Manifest::resolve)
  std::string key;
};

struct Defaults {
  std::uint32_t cpu_count = 2;
  std::uint64_t memory_mb = 4096;
};

struct TlsFiles {
  std::string cert_file;  // as written; resolved against the manifest's directory at build time
  std::string key_file;
};

struct Ingress {
  std::uint16_t listen_port = 0;
  std::optional<TlsFiles> tls;
};

struct Egress {
  std::uint16_t proxy_port = 10000;
  std::vector<std::string> allow;  // policy patterns, already checked (policy/policy.hpp)
  std::vector<std::string> deny;
  bool enabled() const { return !allow.empty(); }
};

struct KmsProxy {
  std::uint16_t listen_port = 0;
  std::map<std::string, std::string> endpoints;  // region -> host[:port] or http(s)://host[:port]
};

struct Api {
  std::uint16_t listen_port = 0;
};

struct AuxApi {
  std::uint16_t listen_port = 0;  // default: api port + 1
};

struct HeliosRpc {
  bool enabled = false;
  std::string kind;     // "ethereum" or "opstack" (required if enabled)
  std::uint16_t listen_port = 8545;
  std::string network;  // see manifest.md (required if enabled)
  std::string execution_rpc;
  std::optional<std::string> consensus_rpc;  // default: per network (light-client issue)
  std::optional<std::string> checkpoint;     // 0x + 64 hex digits, lower case
};

struct S3Storage {
  bool enabled = false;
  std::string bucket;
  std::string prefix;  // "" or ending in "/", never starting with "/"
  std::optional<std::string> region;
};

struct VsockPorts {
  std::uint32_t status_port = 17000;
  std::uint32_t app_log_port = 17001;
  std::uint32_t http_egress_port = 17002;
  std::uint32_t clock_sync_port = 17003;
};

struct ClockSync {
  bool enabled = true;
  std::uint32_t interval_secs = 300;
};

struct Manifest {
  std::string version = "v1";
  std::string name;
  std::string target;
  Sources sources;
  std::optional<Signature> signature;
  Defaults defaults;
  std::vector<Ingress> ingress;
  std::optional<Egress> egress;
  std::optional<KmsProxy> kms_proxy;
  std::optional<Api> api;
  std::optional<AuxApi> aux_api;  // present whenever api is
  std::optional<HeliosRpc> helios_rpc;
  std::optional<S3Storage> s3;
  VsockPorts vsock_ports;
  ClockSync clock_sync;

  // Directory the manifest was read from (the working directory for stdin):
  // relative paths in the manifest resolve against it.
  std::filesystem::path base_dir;
  std::filesystem::path resolve(const std::string& path) const { return base_dir / path; }

  bool egress_enabled() const { return egress && egress->enabled(); }
};

}  // namespace enclaver::manifest
