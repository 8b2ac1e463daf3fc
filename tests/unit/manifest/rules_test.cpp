// One test per manifest rule, each with the exact message a user sees.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/manifest/check.hpp"

namespace enclaver::manifest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::errors;
using testing::kMinimal;

TEST(Rules, VersionMustBeV1) {
  EXPECT_THAT(errors("version: v2\nname: a\ntarget: a\nsources: {app: a}\n"),
              ElementsAre("enclaver.yaml:1:10: version: unsupported manifest version v2; expected \"v1\""));
}

TEST(Rules, RequiredFieldsAreAllReported) {
  EXPECT_THAT(errors("name: a\n"),
              ElementsAre("enclaver.yaml:1:1: version: missing required field `version` (must be \"v1\")",
                          "enclaver.yaml:1:1: target: missing required field `target` (the tag of the release image, e.g. my-app:enclave)",
                          "enclaver.yaml:1:1: sources: missing required field `sources` (a mapping with at least `app`, the app image)"));
  EXPECT_THAT(errors("version: v1\nname: a\ntarget: a\nsources:\n  odyn: ./odyn\n"),
              ElementsAre("enclaver.yaml:5:3: sources.app: missing required field `app` (the app image)"));
}

TEST(Rules, UnknownKeySuggestsNearest) {
  EXPECT_THAT(errors(kMinimal + "ingres:\n  - listen_port: 80\n"),
              ElementsAre("enclaver.yaml:6:1: ingres: unknown field \"ingres\"; did you mean `ingress`?"));
  EXPECT_THAT(errors(kMinimal + "egress:\n  alow: [a.com]\n"),
              ElementsAre("enclaver.yaml:7:3: egress.alow: unknown field \"alow\"; did you mean `allow`?"));
  EXPECT_THAT(errors(kMinimal + "ingress:\n  - listen_prot: 80\n"),
              ElementsAre(HasSubstr("ingress[0].listen_prot: unknown field \"listen_prot\"; did you mean `listen_port`?"),
                          HasSubstr("ingress[0].listen_port: missing required field `listen_port`")));
  EXPECT_THAT(errors(kMinimal + "zzz: 1\n"),
              ElementsAre(HasSubstr("zzz: unknown field \"zzz\"; expected one of: version name target sources")));
}

TEST(Rules, PortsAreIntegersInRange) {
  EXPECT_THAT(errors(kMinimal + "api:\n  listen_port: 0\n"),
              ElementsAre("enclaver.yaml:7:16: api.listen_port: expected an integer 1..65535, got 0 (out of range)"));
  EXPECT_THAT(errors(kMinimal + "api:\n  listen_port: 65536\n"),
              ElementsAre(HasSubstr("expected an integer 1..65535, got 65536 (out of range)")));
  EXPECT_THAT(errors(kMinimal + "api:\n  listen_port: \"8080\"\n"),
              ElementsAre("enclaver.yaml:7:16: api.listen_port: expected an integer 1..65535, got the string \"8080\""));
  EXPECT_THAT(errors(kMinimal + "api:\n  listen_port: -1\n"),
              ElementsAre(HasSubstr("expected an integer 1..65535, got the number -1")));
  EXPECT_THAT(errors(kMinimal + "api:\n  listen_port: 80.5\n"),
              ElementsAre(HasSubstr("expected an integer 1..65535, got the number 80.5")));
  EXPECT_THAT(errors(kMinimal + "api:\n  listen_port:\n"),
              ElementsAre(HasSubstr("expected an integer 1..65535, got nothing (null)")));
}

TEST(Rules, PortCollisionsInsideTheEnclave) {
  EXPECT_THAT(errors(kMinimal + "ingress:\n  - listen_port: 9000\napi:\n  listen_port: 9000\n"),
              ElementsAre("enclaver.yaml:9:16: api.listen_port: port 9000 is already used by ingress[0].listen_port on line 7; "
                          "every service inside the enclave needs its own TCP port"));
  EXPECT_THAT(errors(kMinimal + "ingress:\n  - listen_port: 80\n  - listen_port: 80\n"),
              ElementsAre(HasSubstr("ingress[1].listen_port: port 80 is already used by ingress[0].listen_port on line 7")));
  // Defaults collide too: aux_api takes api + 1, egress takes 10000.
  EXPECT_THAT(errors(kMinimal + "ingress:\n  - listen_port: 9001\napi:\n  listen_port: 9000\n"),
              ElementsAre(HasSubstr("aux_api.listen_port: port 9001 (the default) is already used by ingress[0].listen_port")));
  EXPECT_THAT(errors(kMinimal + "ingress:\n  - listen_port: 10000\negress:\n  allow: [a.com]\n"),
              ElementsAre(HasSubstr("egress.proxy_port: port 10000 (the default) is already used by ingress[0].listen_port")));
  // Egress off: no proxy binds 10000.
  EXPECT_THAT(errors(kMinimal + "ingress:\n  - listen_port: 10000\negress:\n  allow: []\n"), ElementsAre());
  EXPECT_THAT(errors(kMinimal + "kms_proxy:\n  listen_port: 8545\nhelios_rpc:\n  enabled: true\n  kind: ethereum\n"
                                "  network: mainnet\n  execution_rpc: http://e.example\n"),
              ElementsAre(HasSubstr("helios_rpc.listen_port: port 8545 (the default) is already used by kms_proxy.listen_port")));
  // helios disabled: its default port is free.
  EXPECT_THAT(errors(kMinimal + "kms_proxy:\n  listen_port: 8545\nhelios_rpc:\n  enabled: false\n"), ElementsAre());
}

TEST(Rules, VsockPortCollisions) {
  EXPECT_THAT(errors(kMinimal + "ingress:\n  - listen_port: 17001\n"),
              ElementsAre(HasSubstr("ingress[0].listen_port: port 17001 is already used by vsock_ports.app_log_port (by default)")));
  EXPECT_THAT(errors(kMinimal + "vsock_ports:\n  http_egress_port: 17003\n"),
              ElementsAre("enclaver.yaml:7:21: vsock_ports.http_egress_port: port 17003 is already used by "
                          "vsock_ports.clock_sync_port (by default); the sleeve listens on both, so they must differ"));
  EXPECT_THAT(errors(kMinimal + "vsock_ports:\n  status_port: 0\n"),
              ElementsAre(HasSubstr("vsock_ports.status_port: expected an integer 1..4294967294, got 0 (out of range)")));
}

TEST(Rules, SignatureBothOrNeither) {
  EXPECT_THAT(errors(kMinimal + "signature:\n  certificate: c.pem\n"),
              ElementsAre("enclaver.yaml:7:3: signature.key: `certificate` and `key` go together: give both or neither "
                          "(PEM certificate and key that sign the EIF)"));
  EXPECT_THAT(errors(kMinimal + "signature: {}\n"),
              ElementsAre(HasSubstr("signature: PEM certificate and key that sign the EIF: give both `certificate` and `key`, or remove the section")));
}

TEST(Rules, IngressTlsBothOrNeither) {
  EXPECT_THAT(errors(kMinimal + "ingress:\n  - listen_port: 443\n    tls:\n      key_file: k.pem\n"),
              ElementsAre(HasSubstr("ingress[0].tls.cert_file: `cert_file` and `key_file` go together: give both or neither")));
}

TEST(Rules, EgressPatternsAreCheckedWithTheirIndex) {
  auto e = errors(kMinimal + "egress:\n  allow:\n    - example.com\n    - 'a*.example.com'\n    - 10.0.0.1/8\n  deny:\n    - '0x7f.1'\n");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_THAT(e[0], HasSubstr("enclaver.yaml:9:7: egress.allow[1]: "));
  EXPECT_THAT(e[1], HasSubstr("enclaver.yaml:10:7: egress.allow[2]: "));
  EXPECT_THAT(e[2], HasSubstr("enclaver.yaml:12:7: egress.deny[0]: "));
  EXPECT_THAT(errors(kMinimal + "egress:\n  allow: example.com\n"),
              ElementsAre("enclaver.yaml:7:10: egress.allow: expected a list, got the string \"example.com\""));
}

TEST(Rules, KmsProxy) {
  EXPECT_THAT(errors(kMinimal + "kms_proxy:\n  endpoints: {}\n"),
              ElementsAre(HasSubstr("kms_proxy.listen_port: missing required field `listen_port`")));
  EXPECT_THAT(errors(kMinimal + "kms_proxy:\n  listen_port: 1\n  endpoints:\n    useast1: kms.example.com\n"),
              ElementsAre("enclaver.yaml:9:5: kms_proxy.endpoints.useast1: expected an AWS region name such as us-east-1"));
  EXPECT_THAT(errors(kMinimal + "kms_proxy:\n  listen_port: 1\n  endpoints:\n    us-east-1: ftp://kms.example.com\n"),
              ElementsAre(HasSubstr("kms_proxy.endpoints.us-east-1: expected host, host:port, or http(s)://host[:port]; other schemes")));
}

TEST(Rules, AuxApiNeedsAPortWithoutApi) {
  EXPECT_THAT(errors(kMinimal + "aux_api: {}\n"),
              ElementsAre(HasSubstr("aux_api.listen_port: missing `listen_port`: without an `api` section there is no default")));
  EXPECT_THAT(errors(kMinimal + "api:\n  listen_port: 65535\n"),
              ElementsAre(HasSubstr("aux_api.listen_port: api.listen_port is 65535, so the default aux_api port")));
}

TEST(Rules, HeliosRequiredFieldsWhenEnabled) {
  EXPECT_THAT(errors(kMinimal + "helios_rpc:\n  enabled: true\n"),
              ElementsAre(HasSubstr("helios_rpc.kind: missing required field `kind` (required when helios_rpc.enabled is true)"),
                          HasSubstr("helios_rpc.network: missing required field `network`"),
                          HasSubstr("helios_rpc.execution_rpc: missing required field `execution_rpc`")));
  EXPECT_THAT(errors(kMinimal + "helios_rpc:\n  enabled: true\n  kind: ethereum\n  network: base\n  execution_rpc: http://e.example\n"),
              ElementsAre("enclaver.yaml:9:12: helios_rpc.network: unknown ethereum network base; expected one of: mainnet sepolia holesky"));
  EXPECT_THAT(errors(kMinimal + "helios_rpc:\n  enabled: true\n  kind: cosmos\n  network: mainnet\n  execution_rpc: ws://e\n"),
              ElementsAre(HasSubstr("helios_rpc.kind: expected `ethereum` or `opstack`, got cosmos"),
                          HasSubstr("helios_rpc.execution_rpc: expected an http:// or https:// URL")));
  EXPECT_THAT(errors(kMinimal + "helios_rpc:\n  enabled: yes\n"),
              ElementsAre(HasSubstr("helios_rpc.enabled: expected true or false, got the string \"yes\"")));
  EXPECT_THAT(errors(kMinimal + "helios_rpc:\n  checkpoint: 0x1234\n"),
              ElementsAre(HasSubstr("helios_rpc.checkpoint: expected 0x followed by 64 hex digits")));
}

TEST(Rules, S3) {
  EXPECT_THAT(errors(kMinimal + "storage:\n  s3:\n    enabled: true\n"),
              ElementsAre("enclaver.yaml:8:5: storage.s3.bucket: missing required field `bucket` (required when storage.s3.enabled is true)"));
  EXPECT_THAT(errors(kMinimal + "storage:\n  s3:\n    enabled: true\n    bucket: My_Bucket\n"),
              ElementsAre(HasSubstr("storage.s3.bucket: bucket names use only a-z, 0-9, '.' and '-'")));
  EXPECT_THAT(errors(kMinimal + "storage:\n  s3:\n    bucket: b12\n    prefix: a/../b\n"),
              ElementsAre(HasSubstr("storage.s3.prefix: \".\" and \"..\" segments are not allowed in a prefix")));
  EXPECT_THAT(errors(kMinimal + "storage:\n  s3:\n    bucket: 192.168.1.1\n"),
              ElementsAre(HasSubstr("bucket names must not look like an IP address")));
}

TEST(Rules, ImageReferences) {
  EXPECT_THAT(errors("version: v1\nname: a\ntarget: My-App:latest\nsources: {app: 'a b'}\n"),
              ElementsAre(HasSubstr("enclaver.yaml:3:9: target: bad name component My-App; names are lower case"),
                          HasSubstr("sources.app: image reference contains whitespace")));
  EXPECT_THAT(errors("version: v1\nname: a\ntarget: app:-bad\nsources: {app: a}\n"), ElementsAre(HasSubstr("target: bad tag -bad")));
  EXPECT_THAT(errors("version: v1\nname: a\ntarget: app@sha256:abc\nsources: {app: a}\n"), ElementsAre(HasSubstr("target: bad digest sha256:abc")));
}

TEST(Rules, DefaultsAndClockSyncRanges) {
  EXPECT_THAT(errors(kMinimal + "defaults:\n  cpu_count: 0\n  memory_mb: 10\n"),
              ElementsAre(HasSubstr("defaults.cpu_count: expected an integer 1..4096, got 0 (out of range)"),
                          HasSubstr("defaults.memory_mb: expected an integer 64..16777216, got 10 (out of range)")));
  EXPECT_THAT(errors(kMinimal + "clock_sync:\n  interval_secs: 0\n"),
              ElementsAre(HasSubstr("clock_sync.interval_secs: expected an integer 1..604800, got 0 (out of range)")));
}

TEST(Rules, WrongTypesSayWhatWasFound) {
  EXPECT_THAT(errors(kMinimal + "ingress:\n  listen_port: 80\n"),
              ElementsAre("enclaver.yaml:7:3: ingress: expected a list, got a mapping"));
  EXPECT_THAT(errors("version: v1\nname: [a]\ntarget: a\nsources: a\n"),
              ElementsAre("enclaver.yaml:2:7: name: expected a string, got a list",
                          "enclaver.yaml:4:10: sources: expected a mapping, got the string \"a\""));
}

}  // namespace
}  // namespace enclaver::manifest
