// API version parsing and negotiation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image/engine/api_version.hpp"

namespace enclaver::image::engine {
namespace {

using ::testing::HasSubstr;

TEST(ApiVersion, Parsing) {
  auto v = parse_api_version("1.43");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->major, 1u);
  EXPECT_EQ(v->minor, 43u);
  EXPECT_EQ(v->to_string(), "1.43");
  for (const char* bad : {"", "1", "1.", ".4", "1.x", "v1.43", "1.43.0", "-1.4", "1.+4", " 1.4", "1.4 ", "99999999.1"})
    EXPECT_FALSE(parse_api_version(bad)) << bad;
}

TEST(ApiVersion, Ordering) {
  EXPECT_LT((ApiVersion{1, 9}), (ApiVersion{1, 10})) << "numeric, not lexicographic";
  EXPECT_LT((ApiVersion{1, 99}), (ApiVersion{2, 0}));
}

TEST(ApiVersion, VersionResponse) {
  auto v = parse_version_response(
      R"({"Version":"28.2.2","ApiVersion":"1.50","MinAPIVersion":"1.24","Os":"linux","Arch":"amd64","Extra":[1]})");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->version, "28.2.2");
  EXPECT_EQ(v->api, (ApiVersion{1, 50}));
  EXPECT_EQ(v->min_api, (ApiVersion{1, 24}));
  EXPECT_EQ(v->os, "linux");
  EXPECT_EQ(v->arch, "amd64");
  auto no_min = parse_version_response(R"({"ApiVersion":"1.41"})");
  ASSERT_TRUE(no_min);
  EXPECT_FALSE(no_min->min_api);
  EXPECT_THAT(parse_version_response("[]").error().message, HasSubstr("not a JSON object"));
  EXPECT_THAT(parse_version_response("{").error().message, HasSubstr("not a JSON object"));
  EXPECT_THAT(parse_version_response(R"({"ApiVersion":1.4})").error().message, HasSubstr("no usable ApiVersion"));
  EXPECT_THAT(parse_version_response(R"({"ApiVersion":"1.41","MinAPIVersion":"x"})").error().message,
              HasSubstr("MinAPIVersion"));
}

TEST(ApiVersion, NegotiationTakesTheNewestBothKnow) {
  EngineVersion newer{"28.2.2", {1, 50}, ApiVersion{1, 24}};
  EXPECT_EQ(*negotiate(newer), kMaxApiVersion);
  EngineVersion older{"24.0.0", {1, 43}, ApiVersion{1, 12}};
  EXPECT_EQ(*negotiate(older), (ApiVersion{1, 43}));
  EngineVersion exact{"20.10.0", kMinApiVersion, std::nullopt};
  EXPECT_EQ(*negotiate(exact), kMinApiVersion);
}

TEST(ApiVersion, TooOldAnEngineIsRefusedWithWhatToDo) {
  EngineVersion ancient{"19.03.1", {1, 40}, ApiVersion{1, 12}};
  auto r = negotiate(ancient);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("Docker 19.03.1"));
  EXPECT_THAT(r.error().message, HasSubstr("serves API version 1.40, enclaver needs 1.41 or newer: upgrade Docker"));
}

TEST(ApiVersion, AnEngineThatDroppedOurVersionAsksToUpgradeEnclaver) {
  EngineVersion future{"99.0", {2, 5}, ApiVersion{1, 60}};
  auto r = negotiate(future);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("no longer serves API version 1.47 (its oldest is 1.60): upgrade enclaver"));
}

}  // namespace
}  // namespace enclaver::image::engine
