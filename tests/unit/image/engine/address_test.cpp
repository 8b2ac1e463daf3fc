// DOCKER_HOST parsing: unix:// only, with a clear message for the rest.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image/engine/address.hpp"

namespace enclaver::image::engine {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(DockerHost, EmptyMeansTheDefaultSocket) {
  auto a = parse_docker_host("");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->socket_path, "/var/run/docker.sock");
  EXPECT_EQ(a->describe(), "unix:///var/run/docker.sock");
}

TEST(DockerHost, UnixSocketPathsAreAccepted) {
  auto a = parse_docker_host("unix:///run/enclaver-test-docker/docker.sock");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->socket_path, "/run/enclaver-test-docker/docker.sock");
}

TEST(DockerHost, OtherSchemesSayOnlyUnixSocketsAreSupported) {
  for (const char* value : {"tcp://127.0.0.1:2375", "ssh://user@host", "npipe:////./pipe/docker_engine", "fd://", "https://x"}) {
    auto a = parse_docker_host(value);
    ASSERT_FALSE(a) << value;
    EXPECT_THAT(a.error().message, AllOf(HasSubstr("DOCKER_HOST="), HasSubstr("is not supported"),
                                         HasSubstr("Unix socket only"), HasSubstr("unix:///")))
        << value;
  }
  auto scheme = parse_docker_host("tcp://127.0.0.1:2375").error().message;
  EXPECT_THAT(scheme, HasSubstr("tcp:// is not supported"));
}

TEST(DockerHost, MalformedUnixAddressesAreRefused) {
  EXPECT_THAT(parse_docker_host("/var/run/docker.sock").error().message, HasSubstr("no unix:// scheme"));
  EXPECT_THAT(parse_docker_host("unix://").error().message, HasSubstr("must be absolute"));
  EXPECT_THAT(parse_docker_host("unix://relative.sock").error().message, HasSubstr("must be absolute"));
  EXPECT_THAT(parse_docker_host(std::string("unix:///a\0b", 11)).error().message, HasSubstr("NUL"));
  EXPECT_THAT(parse_docker_host("unix:///" + std::string(200, 'x')).error().message, HasSubstr("longer than"));
  EXPECT_TRUE(parse_docker_host("unix:///" + std::string(106, 'x'))) << "107 bytes plus NUL fit sun_path";
  EXPECT_FALSE(parse_docker_host("unix:///" + std::string(107, 'x')));
}

}  // namespace
}  // namespace enclaver::image::engine
