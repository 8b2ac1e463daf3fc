// Valid manifests, one per section: fields read, defaults filled in, values
// normalised, and the normalised output loads back to the same manifest.
#include <gtest/gtest.h>

#include "manifest/serialize.hpp"
#include "tests/unit/manifest/check.hpp"

namespace enclaver::manifest {
namespace {

using testing::kMinimal;
using testing::valid;

TEST(Manifest, MinimalGetsEveryDefault) {
  Manifest m = valid(kMinimal);
  EXPECT_EQ(m.version, "v1");
  EXPECT_EQ(m.name, "app");
  EXPECT_EQ(m.target, "app:enclave");
  EXPECT_EQ(m.sources.app, "app:latest");
  EXPECT_FALSE(m.sources.odyn);
  EXPECT_FALSE(m.sources.sleeve);
  EXPECT_FALSE(m.signature);
  EXPECT_EQ(m.defaults.cpu_count, 2u);
  EXPECT_EQ(m.defaults.memory_mb, 4096u);
  EXPECT_TRUE(m.ingress.empty());
  EXPECT_FALSE(m.egress_enabled());
  EXPECT_FALSE(m.api);
  EXPECT_FALSE(m.aux_api);
  EXPECT_EQ(m.vsock_ports.status_port, 17000u);
  EXPECT_EQ(m.vsock_ports.app_log_port, 17001u);
  EXPECT_EQ(m.vsock_ports.http_egress_port, 17002u);
  EXPECT_EQ(m.vsock_ports.clock_sync_port, 17003u);
  EXPECT_TRUE(m.clock_sync.enabled);
  EXPECT_EQ(m.clock_sync.interval_secs, 300u);
  EXPECT_EQ(m.base_dir, "/work/app");
}

TEST(Manifest, Sources) {
  Manifest m = valid(
      "version: v1\nname: app\ntarget: registry.example.com:5000/team/app:1.2\n"
      "sources:\n  app: app@sha256:" + std::string(64, 'a') + "\n  odyn: ./build/odyn\n  sleeve: my/sleeve:2\n");
  EXPECT_EQ(m.target, "registry.example.com:5000/team/app:1.2");
  EXPECT_EQ(*m.sources.odyn, "./build/odyn");
  EXPECT_EQ(*m.sources.sleeve, "my/sleeve:2");
  EXPECT_EQ(valid(kMinimal.substr(0, kMinimal.size()) + "").sources.app, "app:latest");
  EXPECT_EQ(*valid("version: v1\nname: a\ntarget: a\nsources: {app: a, odyn: 'odyn-image:1'}\n").sources.odyn, "odyn-image:1");
}

TEST(Manifest, SignatureResolvesAgainstManifestDirectory) {
  Manifest m = valid(kMinimal + "signature:\n  certificate: certs/cert.pem\n  key: /abs/key.pem\n");
  ASSERT_TRUE(m.signature);
  EXPECT_EQ(m.signature->certificate, "certs/cert.pem");
  EXPECT_EQ(m.resolve(m.signature->certificate), "/work/app/certs/cert.pem");
  EXPECT_EQ(m.resolve(m.signature->key), "/abs/key.pem");
}

TEST(Manifest, Defaults) {
  Manifest m = valid(kMinimal + "defaults:\n  cpu_count: 4\n  memory_mb: 8192\n");
  EXPECT_EQ(m.defaults.cpu_count, 4u);
  EXPECT_EQ(m.defaults.memory_mb, 8192u);
}

TEST(Manifest, IngressWithAndWithoutTls) {
  Manifest m = valid(kMinimal + "ingress:\n  - listen_port: 8080\n  - listen_port: 8443\n    tls:\n      cert_file: tls/c.pem\n      key_file: tls/k.pem\n");
  ASSERT_EQ(m.ingress.size(), 2u);
  EXPECT_EQ(m.ingress[0].listen_port, 8080);
  EXPECT_FALSE(m.ingress[0].tls);
  EXPECT_EQ(m.ingress[1].listen_port, 8443);
  ASSERT_TRUE(m.ingress[1].tls);
  EXPECT_EQ(m.ingress[1].tls->cert_file, "tls/c.pem");
  EXPECT_EQ(m.ingress[1].tls->key_file, "tls/k.pem");
}

TEST(Manifest, Egress) {
  Manifest m = valid(kMinimal + "egress:\n  allow:\n    - '**.amazonaws.com'\n    - 10.0.0.0/8\n    - host\n  deny: [evil.amazonaws.com]\n");
  ASSERT_TRUE(m.egress);
  EXPECT_TRUE(m.egress_enabled());
  EXPECT_EQ(m.egress->proxy_port, 10000);
  EXPECT_EQ(m.egress->allow, (std::vector<std::string>{"**.amazonaws.com", "10.0.0.0/8", "host"}));
  EXPECT_EQ(m.egress->deny, (std::vector<std::string>{"evil.amazonaws.com"}));
  EXPECT_FALSE(valid(kMinimal + "egress:\n  proxy_port: 3128\n").egress_enabled());
}

TEST(Manifest, KmsProxy) {
  Manifest m = valid(kMinimal + "kms_proxy:\n  listen_port: 9999\n  endpoints:\n    us-east-1: kms.us-east-1.amazonaws.com\n    eu-west-1: http://127.0.0.1:4566\n");
  ASSERT_TRUE(m.kms_proxy);
  EXPECT_EQ(m.kms_proxy->listen_port, 9999);
  EXPECT_EQ(m.kms_proxy->endpoints.at("us-east-1"), "kms.us-east-1.amazonaws.com");
  EXPECT_EQ(m.kms_proxy->endpoints.at("eu-west-1"), "http://127.0.0.1:4566");
}

TEST(Manifest, ApiBringsAuxApiOnNextPort) {
  Manifest m = valid(kMinimal + "api:\n  listen_port: 9000\n");
  ASSERT_TRUE(m.api && m.aux_api);
  EXPECT_EQ(m.api->listen_port, 9000);
  EXPECT_EQ(m.aux_api->listen_port, 9001);
  Manifest explicit_aux = valid(kMinimal + "api:\n  listen_port: 9000\naux_api:\n  listen_port: 7000\n");
  EXPECT_EQ(explicit_aux.aux_api->listen_port, 7000);
}

TEST(Manifest, HeliosRpc) {
  Manifest m = valid(kMinimal + "helios_rpc:\n  enabled: true\n  kind: opstack\n  network: base\n"
                                "  execution_rpc: https://base.example.com/rpc\n  checkpoint: 0x" + std::string(64, 'A') + "\n");
  ASSERT_TRUE(m.helios_rpc);
  EXPECT_TRUE(m.helios_rpc->enabled);
  EXPECT_EQ(m.helios_rpc->kind, "opstack");
  EXPECT_EQ(m.helios_rpc->network, "base");
  EXPECT_EQ(m.helios_rpc->listen_port, 8545);
  EXPECT_EQ(*m.helios_rpc->checkpoint, "0x" + std::string(64, 'a'));
  EXPECT_FALSE(m.helios_rpc->consensus_rpc);
  // Disabled: nothing is required.
  EXPECT_FALSE(valid(kMinimal + "helios_rpc:\n  enabled: false\n").helios_rpc->enabled);
}

TEST(Manifest, S3PrefixIsNormalised) {
  auto prefix = [](const std::string& p) {
    return valid(kMinimal + "storage:\n  s3:\n    enabled: true\n    bucket: my-bucket\n    prefix: " + p + "\n").s3->prefix;
  };
  EXPECT_EQ(prefix("app/data"), "app/data/");
  EXPECT_EQ(prefix("app/data/"), "app/data/");
  EXPECT_EQ(prefix("/app"), "app/");
  EXPECT_EQ(prefix("''"), "");
  Manifest m = valid(kMinimal + "storage:\n  s3:\n    enabled: true\n    bucket: my.bucket-1\n    region: eu-central-1\n");
  EXPECT_EQ(m.s3->bucket, "my.bucket-1");
  EXPECT_EQ(m.s3->prefix, "");
  EXPECT_EQ(*m.s3->region, "eu-central-1");
}

TEST(Manifest, VsockPortsAndClockSync) {
  Manifest m = valid(kMinimal + "vsock_ports:\n  status_port: 5000\n  app_log_port: 5001\n  http_egress_port: 5002\n  clock_sync_port: 5003\n"
                                "clock_sync:\n  enabled: false\n  interval_secs: 60\n");
  EXPECT_EQ(m.vsock_ports.status_port, 5000u);
  EXPECT_EQ(m.vsock_ports.app_log_port, 5001u);
  EXPECT_EQ(m.vsock_ports.http_egress_port, 5002u);
  EXPECT_EQ(m.vsock_ports.clock_sync_port, 5003u);
  EXPECT_FALSE(m.clock_sync.enabled);
  EXPECT_EQ(m.clock_sync.interval_secs, 60u);
}

TEST(Manifest, NormalisedYamlLoadsBackToTheSame) {
  const std::string full = kMinimal +
      "signature: {certificate: c.pem, key: k.pem}\n"
      "ingress: [{listen_port: 8080}, {listen_port: 8443, tls: {cert_file: c.pem, key_file: k.pem}}]\n"
      "egress: {allow: ['**.example.com', '::/0'], deny: ['on']}\n"
      "kms_proxy: {listen_port: 9999, endpoints: {us-east-1: 'kms.us-east-1.amazonaws.com:443'}}\n"
      "api: {listen_port: 9000}\n"
      "helios_rpc: {enabled: true, kind: ethereum, network: sepolia, execution_rpc: 'http://x.example:8545'}\n"
      "storage: {s3: {enabled: true, bucket: bkt, prefix: p}}\n";
  Manifest m = valid(full);
  const std::string yaml = to_yaml(m);
  Manifest again = valid(yaml);
  EXPECT_EQ(to_json(again).dump(), to_json(m).dump());
  EXPECT_EQ(to_yaml(again), yaml);
  // A string that YAML would read as a boolean stays a string.
  EXPECT_NE(yaml.find("\"on\""), std::string::npos);
}

TEST(Manifest, JsonOutputHasDefaults) {
  auto j = to_json(valid(kMinimal));
  EXPECT_EQ(j["defaults"]["cpu_count"], 2);
  EXPECT_EQ(j["defaults"]["memory_mb"], 4096);
  EXPECT_EQ(j["vsock_ports"]["clock_sync_port"], 17003);
  EXPECT_EQ(j["clock_sync"]["interval_secs"], 300);
  EXPECT_TRUE(j["ingress"].is_array());
}

}  // namespace
}  // namespace enclaver::manifest
