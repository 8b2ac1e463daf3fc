// docs/manifest.md and the parser cannot drift: the field table of the docs
// lists exactly the fields the schema accepts, as the parser itself reports
// them (LoadResult::known_fields) for a manifest with every section.
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "manifest/load.hpp"

namespace enclaver::manifest {
namespace {

// Every section present, so that the parser visits every mapping.
constexpr const char* kEverySection = R"(version: v1
name: app
target: app:enclave
sources: {app: app:latest, odyn: ./odyn, sleeve: sleeve:1}
signature: {certificate: c.pem, key: k.pem}
defaults: {cpu_count: 2, memory_mb: 1024}
ingress:
  - listen_port: 8443
    tls: {cert_file: c.pem, key_file: k.pem}
egress: {proxy_port: 10000, allow: ["**"], deny: []}
kms_proxy: {listen_port: 9999, endpoints: {us-east-1: kms.us-east-1.amazonaws.com}}
api: {listen_port: 9000}
aux_api: {listen_port: 9001}
helios_rpc: {enabled: true, kind: ethereum, listen_port: 8545, network: mainnet, execution_rpc: "https://x",
             consensus_rpc: "https://y", checkpoint: "0x0000000000000000000000000000000000000000000000000000000000000001"}
storage: {s3: {enabled: true, bucket: my-bucket, prefix: p, region: us-east-1}}
vsock_ports: {status_port: 17000, app_log_port: 17001, http_egress_port: 17002, clock_sync_port: 17003}
clock_sync: {enabled: true, interval_secs: 300}
)";

// The leaves the parser knows, "ingress[1].tls.cert_file" -> "ingress[].tls.cert_file".
std::set<std::string> parser_fields() {
  auto loaded = load_manifest_text(kEverySection, "every-section.yaml", ".");
  EXPECT_TRUE(loaded.ok()) << (loaded.diagnostics.empty() ? "" : loaded.diagnostics.front().to_string());
  std::set<std::string> all;
  for (const auto& f : loaded.known_fields) all.insert(std::regex_replace(f, std::regex("\\[[0-9]+\\]"), "[]"));
  std::set<std::string> leaves;
  for (const auto& f : all) {
    auto next = all.upper_bound(f);
    const bool parent = next != all.end() && (next->starts_with(f + ".") || next->starts_with(f + "["));
    // Maps keyed by the user (kms_proxy.endpoints.<region>) are leaves too.
    if (!parent) leaves.insert(f);
  }
  return leaves;
}

// The first cell of each row of the docs' field table: "`a.b`, `.c`" gives
// a.b and a.c; a trailing "[]" (a list of scalars) is dropped.
std::set<std::string> documented_fields() {
  std::ifstream in(ENCLAVER_SOURCE_DIR "/docs/manifest.md");
  EXPECT_TRUE(in) << "docs/manifest.md";
  std::set<std::string> fields;
  bool in_table = false;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("## ")) in_table = line == "## Fields";
    if (!in_table || !line.starts_with("| `")) continue;
    const std::string cell = line.substr(2, line.find(" |", 2) - 2);
    std::string parent;
    static const std::regex quoted("`([^`]+)`");
    for (std::sregex_iterator it(cell.begin(), cell.end(), quoted), end; it != end; ++it) {
      std::string name = (*it)[1];
      if (name.starts_with(".")) name = parent + name;
      else parent = name.substr(0, name.rfind('.'));
      if (name.ends_with("[]")) name.resize(name.size() - 2);
      fields.insert(name);
    }
  }
  return fields;
}

TEST(ManifestDocs, TheFieldTableListsExactlyTheFieldsTheParserAccepts) {
  const auto parsed = parser_fields();
  const auto documented = documented_fields();
  ASSERT_FALSE(parsed.empty());
  for (const auto& f : parsed) EXPECT_TRUE(documented.count(f)) << f << " is accepted by the parser but not in docs/manifest.md";
  for (const auto& f : documented) EXPECT_TRUE(parsed.count(f)) << f << " is in docs/manifest.md but the parser does not accept it";
}

}  // namespace
}  // namespace enclaver::manifest
