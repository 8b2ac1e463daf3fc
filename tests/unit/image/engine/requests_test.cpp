// Request targets, image references, the container creation body, and the
// engine's JSON answers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image/engine/requests.hpp"
#include "image/engine/responses.hpp"

namespace enclaver::image::engine {
namespace {

using ::testing::HasSubstr;

TEST(Requests, PathsKeepImageNameSeparatorsAndEncodeTheRest) {
  EXPECT_EQ(encode_path("registry:5000/app@sha256:ab"), "registry:5000/app@sha256:ab");
  EXPECT_EQ(encode_path("a b?c#d%e"), "a%20b%3Fc%23d%25e");
  EXPECT_EQ(encode_query("a=b&c/d:e"), "a%3Db%26c%2Fd%3Ae");
  EXPECT_EQ(encode_query("\xff"), "%FF");
}

TEST(Requests, TargetsCarryTheVersionPrefix) {
  EXPECT_EQ(target(ApiVersion{1, 47}, "/images/a/json"), "/v1.47/images/a/json");
  EXPECT_EQ(target(std::nullopt, "/version"), "/version");
  EXPECT_EQ(target(ApiVersion{1, 41}, "/images/create", {{"fromImage", "x/y"}, {"tag", "1 2"}}),
            "/v1.41/images/create?fromImage=x%2Fy&tag=1%202");
}

TEST(Requests, ReferencesSplitAtTheTagNotThePort) {
  auto r = split_reference("registry:5000/team/app:1.2");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->repository, "registry:5000/team/app");
  EXPECT_EQ(r->tag, "1.2");
  EXPECT_EQ(r->to_string(), "registry:5000/team/app:1.2");
  auto port_only = split_reference("registry:5000/app");
  ASSERT_TRUE(port_only);
  EXPECT_EQ(port_only->repository, "registry:5000/app");
  EXPECT_EQ(port_only->tag, "latest") << "no tag means latest";
  auto digest = split_reference("app@sha256:abcd");
  ASSERT_TRUE(digest);
  EXPECT_EQ(digest->repository, "app");
  EXPECT_EQ(digest->tag, "");
  EXPECT_EQ(digest->digest, "sha256:abcd");
  auto both = split_reference("app:1@sha256:abcd");
  ASSERT_TRUE(both);
  EXPECT_EQ(both->tag, "1");
  EXPECT_EQ(both->to_string(), "app:1@sha256:abcd");
  EXPECT_THAT(split_reference("").error().message, HasSubstr("no repository name"));
  EXPECT_THAT(split_reference(":1").error().message, HasSubstr("no repository name"));
  EXPECT_THAT(split_reference("app:").error().message, HasSubstr("empty tag"));
  EXPECT_THAT(split_reference("app@").error().message, HasSubstr("empty digest"));
}

TEST(Requests, ContainerBodyForTheSimulator) {
  ContainerSpec spec;
  spec.image = "release:1";
  spec.name = "run-1";
  spec.cmd = std::vector<std::string>{"--simulate"};
  spec.env = {"A=1"};
  spec.privileged = true;
  spec.auto_remove = true;
  spec.labels = {{"k", "v"}};
  auto j = container_create_body(spec);
  EXPECT_EQ(j["Image"], "release:1");
  EXPECT_EQ(j["Cmd"], nlohmann::json::array({"--simulate"}));
  EXPECT_FALSE(j.contains("Entrypoint")) << "the image's entrypoint stays";
  EXPECT_EQ(j["Env"], nlohmann::json::array({"A=1"}));
  EXPECT_EQ(j["Tty"], false);
  EXPECT_EQ(j["AttachStdout"], true);
  EXPECT_EQ(j["Labels"]["k"], "v");
  EXPECT_EQ(j["HostConfig"]["Privileged"], true);
  EXPECT_EQ(j["HostConfig"]["NetworkMode"], "host");
  EXPECT_EQ(j["HostConfig"]["AutoRemove"], true);
  EXPECT_FALSE(j["HostConfig"].contains("Devices"));
  EXPECT_FALSE(j.contains("name")) << "the name goes in the query";
}

TEST(Requests, ContainerBodyWithADeviceAndPorts) {
  ContainerSpec spec;
  spec.image = "r";
  spec.devices = {"/dev/nitro_enclaves"};
  spec.ports = {{8080, 80, "tcp", ""}, {5353, 53, "udp", "127.0.0.1"}};
  spec.entrypoint = std::vector<std::string>{};
  auto j = container_create_body(spec);
  EXPECT_EQ(j["Entrypoint"], nlohmann::json::array()) << "an empty override clears the entrypoint";
  EXPECT_FALSE(j.contains("Cmd"));
  const auto& dev = j["HostConfig"]["Devices"][0];
  EXPECT_EQ(dev["PathOnHost"], "/dev/nitro_enclaves");
  EXPECT_EQ(dev["PathInContainer"], "/dev/nitro_enclaves");
  EXPECT_EQ(dev["CgroupPermissions"], "rwm");
  EXPECT_EQ(j["HostConfig"]["Privileged"], false);
  EXPECT_TRUE(j["ExposedPorts"].contains("80/tcp"));
  EXPECT_EQ(j["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"], "8080");
  EXPECT_EQ(j["HostConfig"]["PortBindings"]["53/udp"][0]["HostIp"], "127.0.0.1");
}

// The simulator's privileges where --privileged cannot be had.
TEST(Requests, ContainerBodyWithCapabilitiesInsteadOfPrivileged) {
  ContainerSpec spec;
  spec.image = "r";
  spec.cap_add = {"ALL"};
  spec.cap_drop = {"SYS_RESOURCE"};
  spec.security_opt = {"seccomp=unconfined"};
  spec.unmasked_paths = true;
  auto j = container_create_body(spec);
  const auto& host = j["HostConfig"];
  EXPECT_EQ(host["CapAdd"], nlohmann::json::array({"ALL"}));
  EXPECT_EQ(host["CapDrop"], nlohmann::json::array({"SYS_RESOURCE"}));
  EXPECT_EQ(host["SecurityOpt"], nlohmann::json::array({"seccomp=unconfined"}));
  EXPECT_EQ(host["MaskedPaths"], nlohmann::json::array()) << "an empty list, not absent: absent means the defaults";
  EXPECT_EQ(host["ReadonlyPaths"], nlohmann::json::array());
  ContainerSpec plain;
  plain.image = "r";
  auto p = container_create_body(plain);
  EXPECT_FALSE(p["HostConfig"].contains("MaskedPaths"));
  EXPECT_FALSE(p["HostConfig"].contains("CapAdd"));
}

TEST(Requests, BuildQuery) {
  BuildOptions o;
  o.tags = {"a:1", "a:latest"};
  o.build_args = {{"X", "1"}};
  auto q = build_query(o);
  auto has = [&](const std::string& k, const std::string& v) {
    return std::find(q.begin(), q.end(), std::make_pair(k, v)) != q.end();
  };
  EXPECT_TRUE(has("t", "a:1"));
  EXPECT_TRUE(has("t", "a:latest"));
  EXPECT_TRUE(has("version", "1")) << "the classic builder";
  EXPECT_TRUE(has("dockerfile", "Dockerfile"));
  EXPECT_TRUE(has("buildargs", R"({"X":"1"})"));
  EXPECT_TRUE(has("rm", "1"));
  EXPECT_FALSE(has("nocache", "1"));
}

TEST(Responses, ImageInspect) {
  auto info = parse_image_inspect(
      R"({"Id":"sha256:aa","RepoTags":["a:1",7],"Os":"linux","Architecture":"amd64","Config":{"Entrypoint":["/app"]}})");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->id, "sha256:aa");
  EXPECT_EQ(info->repo_tags, std::vector<std::string>{"a:1"});
  EXPECT_EQ(info->config["Entrypoint"][0], "/app");
  EXPECT_EQ(info->raw["Os"], "linux");
  auto no_config = parse_image_inspect(R"({"Id":"sha256:aa","Config":null})");
  ASSERT_TRUE(no_config);
  EXPECT_TRUE(no_config->config.is_object());
  EXPECT_FALSE(parse_image_inspect(R"({"RepoTags":[]})"));
  EXPECT_FALSE(parse_image_inspect("nope"));
}

TEST(Responses, CreateAndWait) {
  auto c = parse_create_response(R"({"Id":"abc","Warnings":["ports discarded"]})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->id, "abc");
  EXPECT_EQ(c->warnings, std::vector<std::string>{"ports discarded"});
  EXPECT_FALSE(parse_create_response(R"({"Warnings":null})"));

  auto w = parse_wait_response(R"({"StatusCode":3,"Error":null})");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->status_code, 3);
  EXPECT_EQ(w->error, "");
  auto we = parse_wait_response(R"({"StatusCode":-1,"Error":{"Message":"container removed"}})");
  ASSERT_TRUE(we);
  EXPECT_EQ(we->status_code, -1);
  EXPECT_EQ(we->error, "container removed");
  EXPECT_EQ(parse_wait_response(R"({"StatusCode":99999999999})")->status_code, -1);
  EXPECT_FALSE(parse_wait_response(R"({"StatusCode":"3"})"));
  EXPECT_FALSE(parse_wait_response(""));
}

}  // namespace
}  // namespace enclaver::image::engine
