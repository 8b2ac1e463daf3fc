// Image configs and odyn's image.json (round trip with odyn's own reader).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "image/layers/image_config.hpp"
#include "odyn/launch/image_config.hpp"

namespace enclaver::image {
namespace {

TEST(ImageConfig, ParsesTheFieldsBuildUses) {
  const ImageConfig c = parse_image_config(R"({
    "architecture": "amd64", "os": "linux",
    "config": {"Entrypoint": ["/app"], "Cmd": ["--port", "80"], "Env": ["PATH=/bin", "A=b=c"],
               "User": "app:staff", "WorkingDir": "/srv", "ExposedPorts": {"443/tcp": {}, "80/tcp": {}},
               "Labels": {"k": "v"}},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:aa"]}, "history": []})");
  EXPECT_EQ(c.entrypoint, std::vector<std::string>{"/app"});
  EXPECT_EQ(c.cmd, (std::vector<std::string>{"--port", "80"}));
  EXPECT_EQ(c.env, (std::vector<std::string>{"PATH=/bin", "A=b=c"}));
  EXPECT_EQ(c.user, "app:staff");
  EXPECT_EQ(c.working_dir, "/srv");
  EXPECT_EQ(c.exposed_ports, (std::vector<std::string>{"443/tcp", "80/tcp"}));
  EXPECT_EQ(c.labels.at("k"), "v");
  EXPECT_EQ(c.diff_ids, std::vector<std::string>{"sha256:aa"});
  EXPECT_EQ(docker_argv(c), (std::vector<std::string>{"/app", "--port", "80"}));
}

TEST(ImageConfig, NullAndAbsentAreUnsetEmptyIsSet) {
  const ImageConfig a = parse_image_config(R"({"config": {"Entrypoint": null, "Env": null, "Labels": null}})");
  EXPECT_FALSE(a.entrypoint);
  EXPECT_FALSE(a.cmd);
  EXPECT_TRUE(a.env.empty());
  const ImageConfig b = parse_image_config(R"({"config": {"Entrypoint": [], "Cmd": []}})");
  ASSERT_TRUE(b.entrypoint);
  EXPECT_TRUE(b.entrypoint->empty());
  const ImageConfig c = parse_image_config(R"({"os": "linux"})");  // no config at all (FROM scratch + nothing)
  EXPECT_FALSE(c.cmd);
  EXPECT_EQ(parse_image_config(R"({"config": {"Cmd": "sh"}})").cmd, std::vector<std::string>{"sh"});
}

TEST(ImageConfig, RefusesMalformedFields) {
  EXPECT_THROW(parse_image_config("[]"), std::runtime_error);
  EXPECT_THROW(parse_image_config(R"({"config": {"Cmd": [1]}})"), std::runtime_error);
  EXPECT_THROW(parse_image_config(R"({"config": {"Env": ["NOVALUE"]}})"), std::runtime_error);
  EXPECT_THROW(parse_image_config(R"({"config": {"User": 0}})"), std::runtime_error);
  EXPECT_THROW(parse_image_config(R"({"config": {"Labels": {"a": 1}}})"), std::runtime_error);
  EXPECT_THROW(parse_image_config(R"({"config": []})"), std::runtime_error);
}

TEST(ImageConfig, PlatformMustMatchTheEnclave) {
  EXPECT_NO_THROW(check_platform(parse_image_config(R"({"architecture":"amd64","os":"linux"})")));
  EXPECT_NO_THROW(check_platform(parse_image_config(R"({"architecture":"arm64","os":"linux"})"), "arm64"));
  try {
    check_platform(parse_image_config(R"({"architecture":"arm64","variant":"v8","os":"linux"})"));
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("linux/arm64/v8"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--platform linux/amd64"), std::string::npos) << e.what();
  }
  EXPECT_THROW(check_platform(parse_image_config(R"({"architecture":"amd64","os":"windows"})")), std::runtime_error);
}

TEST(ImageConfig, OdynImageJsonShapeAndRoundTrip) {
  const ImageConfig c = parse_image_config(R"({"config": {"Entrypoint": ["/bin/server"], "Cmd": ["-v"],
      "Env": ["A=1", "B="], "User": "1000:1000", "WorkingDir": "app"}})");
  const std::string text = odyn_image_json(c);
  EXPECT_EQ(text, R"({"entrypoint":["/bin/server"],"cmd":["-v"],"env":["A=1","B="],"user":"1000:1000","working_dir":"/app"})");
  auto parsed = odyn::parse_image_config(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->entrypoint, *c.entrypoint);
  EXPECT_EQ(parsed->cmd, *c.cmd);
  EXPECT_EQ(parsed->env, c.env);
  EXPECT_EQ(parsed->user, c.user);
  EXPECT_EQ(parsed->working_dir, "/app");
  auto argv = odyn::app_argv(*parsed);
  ASSERT_TRUE(argv);
  EXPECT_EQ(*argv, docker_argv(c));

  const std::string empty = odyn_image_json(parse_image_config("{}"));
  EXPECT_EQ(empty, R"({"entrypoint":[],"cmd":[],"env":[],"user":"","working_dir":""})");
  auto e = odyn::parse_image_config(empty);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->entrypoint.empty());
  EXPECT_EQ(e->user, "");
}

}  // namespace
}  // namespace enclaver::image
