// The JSON helpers: one error shape, and parse_json_object's 400 messages.
#include "http/json.hpp"

#include <gmock/gmock.h>

namespace enclaver::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(HttpJson, ResponseIsCompactJsonWithTypeAndLength) {
  auto response = json_response(beast_http::status::ok, {{"a", 1}, {"b", "x"}});
  EXPECT_EQ(response.result(), beast_http::status::ok);
  EXPECT_EQ(response.version(), 11u);
  EXPECT_EQ(response[beast_http::field::content_type], "application/json");
  EXPECT_EQ(response.body(), R"({"a":1,"b":"x"})");
  EXPECT_EQ(response[beast_http::field::content_length], std::to_string(response.body().size()));
  EXPECT_EQ(json_response(beast_http::status::ok, nlohmann::json::object(), 10).version(), 10u);
}

TEST(HttpJson, ErrorShape) {
  auto response = error_response(beast_http::status::bad_request, "field \"x\" is missing");
  EXPECT_EQ(response.result(), beast_http::status::bad_request);
  EXPECT_EQ(response[beast_http::field::content_type], "application/json");
  EXPECT_EQ(nlohmann::json::parse(response.body()), (nlohmann::json{{"error", "field \"x\" is missing"}}));
}

TEST(HttpJson, ErrorWithInvalidUtf8DoesNotThrow) {
  // Messages may quote client bytes; a bad byte becomes U+FFFD.
  auto response = error_response(beast_http::status::bad_request, "bad \xff byte");
  auto body = nlohmann::json::parse(response.body());
  EXPECT_EQ(body["error"], "bad \xef\xbf\xbd byte");
}

TEST(HttpJson, ParsesAnObject) {
  auto value = parse_json_object(R"({"message":"hi","n":[1,2]})");
  ASSERT_TRUE(value) << value.error().message;
  EXPECT_EQ((*value)["message"], "hi");
  EXPECT_EQ((*value)["n"].size(), 2u);
}

TEST(HttpJson, RefusesWhatIsNotAnObject) {
  for (const char* body : {"[1,2]", "\"text\"", "42", "null", "true"}) {
    SCOPED_TRACE(body);
    auto value = parse_json_object(body);
    ASSERT_FALSE(value);
    EXPECT_EQ(value.error().message, "the body must be a JSON object");
  }
}

TEST(HttpJson, RefusesWhatIsNotJson) {
  for (const char* body : {"{", "{\"a\":}", "{'a':1}", "x", " ", "{} {}", "{\"a\":\"\xff\"}"}) {
    SCOPED_TRACE(body);
    auto value = parse_json_object(body);
    ASSERT_FALSE(value);
    EXPECT_THAT(value.error().message, StartsWith("the body is not JSON: "));
    EXPECT_THAT(value.error().message, Not(HasSubstr("json.exception")));
  }
}

TEST(HttpJson, EmptyBodyOnlyWhenAllowed) {
  auto refused = parse_json_object("");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "the body is empty: a JSON object is expected");
  auto allowed = parse_json_object("", true);
  ASSERT_TRUE(allowed);
  EXPECT_TRUE(allowed->is_object());
  EXPECT_TRUE(allowed->empty());
  EXPECT_FALSE(parse_json_object(" ", true));  // whitespace is not empty
}

TEST(HttpJson, NestingIsBounded) {
  auto nested = [](int depth) {
    std::string text = "{\"a\":";
    for (int i = 1; i < depth; ++i) text += "[";
    text += "1";
    for (int i = 1; i < depth; ++i) text += "]";
    return text + "}";
  };
  EXPECT_TRUE(parse_json_object(nested(kMaxJsonDepth)));
  auto deep = parse_json_object(nested(kMaxJsonDepth + 1));
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().message, "the body nests deeper than 128 levels");
  // Brackets inside strings (escaped quotes included) do not count.
  std::string in_string = "{\"a\":\"\\\"" + std::string(1000, '[') + "\"}";
  EXPECT_TRUE(parse_json_object(in_string));
  // A megabyte of brackets is refused quickly, without recursing.
  EXPECT_FALSE(parse_json_object(std::string(1 << 20, '[')));
}

}  // namespace
}  // namespace enclaver::http
