// `enclaver policy check`: verdicts and reasons for destinations, as users
// debug their allow lists.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/support/process.hpp"

namespace enclaver::testing {
namespace {

using ::testing::HasSubstr;

ProcessResult policy_check(std::vector<std::string> args, const std::string& manifest = fixture("manifest/full.yaml")) {
  args.insert(args.begin(), {program("enclaver"), "policy", "check", "--manifest", manifest});
  return run(args);
}

TEST(PolicyCheckCli, AllAllowedExitsZero) {
  auto r = policy_check({"kms.us-east-1.amazonaws.com", "api.example.com:80", "169.254.169.254:80"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("kms.us-east-1.amazonaws.com:443  allowed  (allowed by egress.allow[0] \"**.amazonaws.com\")\n"));
  EXPECT_THAT(r.out, HasSubstr("api.example.com:80  allowed"));
  EXPECT_THAT(r.out, HasSubstr("169.254.169.254:80  allowed"));
}

TEST(PolicyCheckCli, DeniedDestinationsSayWhyAndExitThree) {
  auto r = policy_check({"evil.amazonaws.com", "amazonaws.com", "0x7f.1", "[::ffff:127.0.0.1]:443", "api.example.com"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.out, HasSubstr("evil.amazonaws.com:443  denied  (denied by egress.deny[0] \"evil.amazonaws.com\")"));
  EXPECT_THAT(r.out, HasSubstr("amazonaws.com:443  denied  (no allow rule matches)"));
  EXPECT_THAT(r.out, HasSubstr("0x7f.1:443  denied  (invalid host"));
  EXPECT_THAT(r.out, HasSubstr("[::ffff:127.0.0.1]:443 (as 127.0.0.1)  denied"));
  EXPECT_THAT(r.out, HasSubstr("api.example.com:443  allowed"));
}

TEST(PolicyCheckCli, ShowsTheNormalisedHost) {
  auto r = policy_check({"API.Example.COM.:80", "xn--bcher-kva.example"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.out, HasSubstr("API.Example.COM.:80 (as api.example.com)  allowed"));
  EXPECT_THAT(r.out, HasSubstr("xn--bcher-kva.example:443  denied  (no allow rule matches)"));
  auto j = nlohmann::json::parse(policy_check({"--json", "b\xc3\xbc" "cher.example"}).out);
  EXPECT_EQ(j[0]["normalized_host"], "xn--bcher-kva.example");
}

TEST(PolicyCheckCli, BrokenManifestIsReportedNotChecked) {
  auto r = policy_check({"example.com"}, fixture("manifest/broken.yaml"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("ingres: unknown field"));
}

TEST(PolicyCheckCli, EgressOffDeniesEverything) {
  auto r = policy_check({"example.com"}, fixture("manifest/egress-off.yaml"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.out, HasSubstr("note: egress is off (no egress.allow rules)"));
  EXPECT_THAT(r.out, HasSubstr("example.com:443  denied  (egress is off (no egress.allow rules))"));
}

TEST(PolicyCheckCli, JsonVerdicts) {
  auto r = policy_check({"--json", "s3.amazonaws.com:443", "evil.amazonaws.com"});
  EXPECT_EQ(r.exit_code, 3);
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["allowed"], true);
  EXPECT_EQ(j[0]["port"], 443);
  EXPECT_EQ(j[1]["allowed"], false);
  EXPECT_THAT(j[1]["reason"].get<std::string>(), HasSubstr("egress.deny[0]"));
}

TEST(PolicyCheckCli, BadDestinationIsAUsageError) {
  auto r = policy_check({"example.com:99999"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("port must be a number 1..65535, got 99999"));
  auto v6 = policy_check({"::1"});
  EXPECT_EQ(v6.exit_code, 2);
  EXPECT_THAT(v6.err, HasSubstr("IPv6 addresses go in brackets: [::1]:443"));
}

}  // namespace
}  // namespace enclaver::testing
