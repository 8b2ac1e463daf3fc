// `enclaver manifest check` as a user runs it: files, stdin, YAML and JSON
// output, exit codes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "tests/integration/support/process.hpp"

namespace enclaver::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

ProcessResult check(std::vector<std::string> args, const std::string& input = "") {
  args.insert(args.begin(), {program("enclaver"), "manifest", "check"});
  return run(args, input);
}

TEST(ManifestCheckCli, ValidFilePrintsNormalisedYamlAndExitsZero) {
  auto r = check({fixture("manifest/full.yaml")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(r.out, StartsWith("version: \"v1\"\nname: \"fixture-app\"\n"));
  EXPECT_THAT(r.out, HasSubstr("aux_api:\n  listen_port: 9001\n"));        // default filled in
  EXPECT_THAT(r.out, HasSubstr("prefix: \"apps/fixture/\""));              // normalised
  EXPECT_THAT(r.out, HasSubstr("clock_sync:\n  enabled: true\n  interval_secs: 300\n"));
}

TEST(ManifestCheckCli, NormalisedOutputChecksAgainUnchanged) {
  auto first = check({fixture("manifest/full.yaml")});
  ASSERT_EQ(first.exit_code, 0);
  auto second = check({"-"}, first.out);
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, first.out);
}

TEST(ManifestCheckCli, EveryErrorWithFileLineAndField) {
  auto r = check({fixture("manifest/broken.yaml")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  const std::string file = fixture("manifest/broken.yaml");
  EXPECT_THAT(r.err, HasSubstr(file + ":6:1: ingres: unknown field \"ingres\"; did you mean `ingress`?\n"));
  EXPECT_THAT(r.err, HasSubstr(file + ":10:7: egress.allow[0]: "));
  EXPECT_THAT(r.err, HasSubstr(file + ":14:16: kms_proxy.listen_port: port 9000 is already used by api.listen_port on line 12"));
  EXPECT_THAT(r.err, HasSubstr("3 errors in " + file + "\n"));
}

TEST(ManifestCheckCli, JsonResult) {
  auto ok = check({"--json", fixture("manifest/full.yaml")});
  EXPECT_EQ(ok.exit_code, 0);
  auto j = nlohmann::json::parse(ok.out);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["manifest"]["egress"]["proxy_port"], 10000);
  EXPECT_EQ(j["manifest"]["defaults"]["memory_mb"], 1024);

  auto bad = check({"--json", fixture("manifest/broken.yaml")});
  EXPECT_EQ(bad.exit_code, 1);
  auto e = nlohmann::json::parse(bad.out);
  EXPECT_EQ(e["ok"], false);
  ASSERT_EQ(e["errors"].size(), 3u);
  EXPECT_EQ(e["errors"][0]["line"], 6);
  EXPECT_EQ(e["errors"][0]["column"], 1);
  EXPECT_EQ(e["errors"][0]["path"], "ingres");
}

TEST(ManifestCheckCli, DashReadsStdin) {
  auto r = check({"-"}, "version: v1\nname: s\ntarget: s\nsources: {app: s}\nzone: 1\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("<stdin>:5:1: zone: unknown field \"zone\""));
}

TEST(ManifestCheckCli, MissingFileAndDirectory) {
  auto missing = check({"/nonexistent/enclaver.yaml"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("/nonexistent/enclaver.yaml: cannot open: No such file or directory"));
  auto dir = check({"/tmp"});
  EXPECT_EQ(dir.exit_code, 1);
  EXPECT_THAT(dir.err, HasSubstr("/tmp: is a directory"));
}

TEST(ManifestCheckCli, UsageErrorsExitTwo) {
  auto r = run({program("enclaver"), "manifest", "check"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("FILE is required"));
  auto unknown = run({program("enclaver"), "manifst"});
  EXPECT_EQ(unknown.exit_code, 2);
}

TEST(ManifestCheckCli, HugeStdinIsRefusedWithoutReadingItAll) {
  std::string big(12 * 1024 * 1024, '#');
  auto r = check({"-"}, big);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("<stdin>: too large"));
}

}  // namespace
}  // namespace enclaver::testing
