// image.json, Docker's argv joining, users and groups from the image's own
// files, and the app's environment.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "odyn/launch/image_config.hpp"

namespace enclaver::odyn {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "app:x:1000:1000:App:/home/app:/bin/sh\n"
    "broken:x:abc:1::/:/bin/sh\n";
constexpr const char* kGroup =
    "root:x:0:\n"
    "app:x:1000:\n"
    "audio:x:29:app,other\n"
    "video:x:44:other\n"
    "staff:x:50:app\n";

TEST(ImageConfig, ParsesEveryField) {
  auto c = parse_image_config(
      R"({"entrypoint":["/bin/app","--serve"],"cmd":["8080"],"env":["A=1","PATH=/bin"],"user":"app:staff","working_dir":"/srv","future":1})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->entrypoint, (std::vector<std::string>{"/bin/app", "--serve"}));
  EXPECT_EQ(c->cmd, (std::vector<std::string>{"8080"}));
  EXPECT_EQ(c->user, "app:staff");
  EXPECT_EQ(c->working_dir, "/srv");
  EXPECT_EQ(*app_argv(*c), (std::vector<std::string>{"/bin/app", "--serve", "8080"}));
}

TEST(ImageConfig, NullsAndMissingKeysTakeDefaults) {
  auto c = parse_image_config(R"({"entrypoint":null,"cmd":["/bin/sh"]})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->entrypoint.empty());
  EXPECT_EQ(*app_argv(*c), std::vector<std::string>{"/bin/sh"});
  EXPECT_EQ(c->user, "");
}

TEST(ImageConfig, RefusesWrongShapesNamingTheField) {
  EXPECT_THAT(parse_image_config("[]").error().message, HasSubstr("not a JSON object"));
  EXPECT_THAT(parse_image_config(R"({"cmd":"x"})").error().message, HasSubstr("\"cmd\""));
  EXPECT_THAT(parse_image_config(R"({"env":["NOEQUALS"]})").error().message, HasSubstr("NAME=VALUE"));
  EXPECT_THAT(parse_image_config(R"({"working_dir":"rel"})").error().message, HasSubstr("absolute"));
  EXPECT_THAT(parse_image_config(R"({"user":5})").error().message, HasSubstr("\"user\""));
  EXPECT_THAT(app_argv(ImageConfig{}).error().message, HasSubstr("nothing to run"));
}

TEST(Identity, RootByDefault) {
  auto id = resolve_identity(*parse_user_spec(""), kPasswd, kGroup);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->uid, 0u);
  EXPECT_EQ(id->gid, 0u);
  EXPECT_EQ(id->home, "/root");
}

TEST(Identity, ANameTakesItsUidGidHomeAndSupplementaryGroups) {
  auto id = resolve_identity(*parse_user_spec("app"), kPasswd, kGroup);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->uid, 1000u);
  EXPECT_EQ(id->gid, 1000u);
  EXPECT_EQ(id->home, "/home/app");
  EXPECT_EQ(id->groups, (std::vector<gid_t>{1000, 29, 50}));
}

TEST(Identity, ANumberFindsItsEntryOrStandsAlone) {
  auto known = resolve_identity(*parse_user_spec("1"), kPasswd, kGroup);
  ASSERT_TRUE(known);
  EXPECT_EQ(known->gid, 1u);
  EXPECT_EQ(known->home, "/usr/sbin");
  auto unknown = resolve_identity(*parse_user_spec("4242"), kPasswd, kGroup);
  ASSERT_TRUE(unknown) << unknown.error().message;
  EXPECT_EQ(unknown->uid, 4242u);
  EXPECT_EQ(unknown->gid, 0u);
  EXPECT_EQ(unknown->home, "/");
}

TEST(Identity, AnExplicitGroupByNameOrNumber) {
  auto named = resolve_identity(*parse_user_spec("app:video"), kPasswd, kGroup);
  ASSERT_TRUE(named) << named.error().message;
  EXPECT_EQ(named->gid, 44u);
  EXPECT_EQ(named->groups.front(), 44u);
  auto numbered = resolve_identity(*parse_user_spec("4242:777"), kPasswd, kGroup);
  ASSERT_TRUE(numbered);
  EXPECT_EQ(numbered->gid, 777u);
}

TEST(Identity, UnknownNamesAreErrorsThatSayWhere) {
  EXPECT_THAT(resolve_identity(*parse_user_spec("nobody"), kPasswd, kGroup).error().message, HasSubstr("/etc/passwd"));
  EXPECT_THAT(resolve_identity(*parse_user_spec("app:wheel"), kPasswd, kGroup).error().message, HasSubstr("/etc/group"));
  EXPECT_THAT(resolve_identity(*parse_user_spec("nobody"), "", "").error().message, HasSubstr("nobody"));
  EXPECT_FALSE(parse_user_spec("app:"));
  EXPECT_FALSE(parse_user_spec(":grp"));
  EXPECT_FALSE(parse_user_spec("a:b:c"));
}

manifest::Manifest manifest_with(bool egress, bool kms, bool api) {
  manifest::Manifest m;
  if (egress) {
    m.egress.emplace();
    m.egress->proxy_port = 10000;
    m.egress->allow = {"example.com"};
  }
  if (kms) m.kms_proxy = manifest::KmsProxy{9999, {}};
  if (api) m.api = manifest::Api{9000};
  return m;
}

TEST(AppEnvironment, ImageVariablesStayAndManifestOnesAreAdded) {
  Identity id;
  id.home = "/home/app";
  auto env = app_environment({"A=1", "PATH=/opt/bin", "IN_ENCLAVE=false"}, manifest_with(true, true, true), id);
  EXPECT_THAT(env, Contains("A=1"));
  EXPECT_THAT(env, Contains("PATH=/opt/bin"));
  EXPECT_THAT(env, Contains("HOME=/home/app"));
  EXPECT_THAT(env, Contains("IN_ENCLAVE=true"));
  EXPECT_THAT(env, Not(Contains("IN_ENCLAVE=false")));
  EXPECT_THAT(env, Contains("https_proxy=http://127.0.0.1:10000"));
  EXPECT_THAT(env, Contains("NO_PROXY=localhost,127.0.0.1"));
  EXPECT_THAT(env, Contains("AWS_ENDPOINT_URL_KMS=http://127.0.0.1:9999"));
  EXPECT_THAT(env, Contains("AWS_KMS_ENDPOINT=http://127.0.0.1:9999"));
  EXPECT_THAT(env, Contains("ENCLAVER_API=http://127.0.0.1:9000"));
}

TEST(AppEnvironment, WithoutServicesOnlyInEnclaveAndDockersDefaults) {
  auto env = app_environment({}, manifest_with(false, false, false), Identity{});
  EXPECT_EQ(env, (std::vector<std::string>{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/",
                                           "IN_ENCLAVE=true"}));
  EXPECT_EQ(env_value(env, "HOME"), "/");
  EXPECT_FALSE(env_value(env, "HOM"));
}

}  // namespace
}  // namespace enclaver::odyn
