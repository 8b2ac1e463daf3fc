// Loading and checking a full manifest, against the named baseline of only
// parsing the same text with yaml-cpp (the floor our checks add to).
#include <benchmark/benchmark.h>
#include <yaml-cpp/yaml.h>

#include "manifest/load.hpp"

namespace {

const char* kManifest = R"(version: v1
name: bench-app
target: bench-app:enclave
sources:
  app: bench-app:latest
defaults:
  cpu_count: 2
  memory_mb: 2048
ingress:
  - listen_port: 8080
  - listen_port: 8443
    tls: {cert_file: cert.pem, key_file: key.pem}
egress:
  allow: ["**.amazonaws.com", "api.example.com", "*.github.com", "10.0.0.0/8", "169.254.169.254"]
  deny: ["evil.example.com"]
kms_proxy:
  listen_port: 9999
  endpoints: {us-east-1: kms.us-east-1.amazonaws.com}
api:
  listen_port: 9000
helios_rpc:
  enabled: true
  kind: ethereum
  network: mainnet
  execution_rpc: https://eth.example.com
storage:
  s3: {enabled: true, bucket: my-bucket, prefix: app/data}
)";

void ours(benchmark::State& state) {
  for (auto _ : state) {
    auto r = enclaver::manifest::load_manifest_text(kManifest, "bench.yaml", "/");
    benchmark::DoNotOptimize(r);
    if (!r.ok()) state.SkipWithError("manifest did not load");
  }
  state.SetItemsProcessed(state.iterations());
}

void baseline_yaml_cpp_parse_only(benchmark::State& state) {
  for (auto _ : state) {
    auto node = YAML::Load(kManifest);
    benchmark::DoNotOptimize(node);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(ours)->Name("manifest_load/ours");
BENCHMARK(baseline_yaml_cpp_parse_only)->Name("manifest_load/baseline_yaml_cpp_parse_only");
BENCHMARK_MAIN();
