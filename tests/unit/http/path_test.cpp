// normalise_target(): a table of targets and what the router sees, or why
// the request is refused. The aux API's safety rests on these (api.md:
// "/v1/eth/../eth/sign, %2e, double slashes, absolute-form targets").
#include "http/path.hpp"

#include <gmock/gmock.h>

namespace enclaver::http {
namespace {

using ::testing::HasSubstr;

struct Accepted {
  const char* target;
  const char* path;
  const char* query;
};

const Accepted kAccepted[] = {
    {"/v1/eth/address", "/v1/eth/address", ""},
    {"/v1/eth/../eth/sign", "/v1/eth/sign", ""},
    {"/v1/%2e%2e/v1/eth/sign", "/v1/eth/sign", ""},
    {"/v1/eth/%2E%2e/eth/sign", "/v1/eth/sign", ""},
    {"/v1/eth/%2e/sign", "/v1/eth/sign", ""},
    {"//v1//eth/sign", "/v1/eth/sign", ""},
    {"/v1/eth///sign", "/v1/eth/sign", ""},
    {"/V1/ETH/SIGN", "/V1/ETH/SIGN", ""},
    {"/v1/eth/sign/", "/v1/eth/sign/", ""},
    {"/v1/eth/address/", "/v1/eth/address/", ""},
    {"/v1/eth/sign//", "/v1/eth/sign/", ""},
    {"http://127.0.0.1:9000/v1/eth/sign?x=1", "/v1/eth/sign", "x=1"},
    {"HTTP://localhost/v1/random", "/v1/random", ""},
    {"https://example.com/v1/../v1/random", "/v1/random", ""},
    {"http://127.0.0.1:9000", "/", ""},
    {"http://127.0.0.1:9000?a=b", "/", "a=b"},
    {"/../../etc", "/etc", ""},
    {"/..", "/", ""},
    {"/.", "/", ""},
    {"/", "/", ""},
    {"/a/b/..", "/a/", ""},
    {"/a/b/.", "/a/b/", ""},
    {"/a/./b", "/a/b", ""},
    {"/a/.../b", "/a/.../b", ""},  // three dots are a name
    {"/a/..b/c", "/a/..b/c", ""},
    {"/%41%62c", "/Abc", ""},
    {"/v1/eth/sign?", "/v1/eth/sign", ""},
    {"/v1/x?a=%2F&b=../..&c=%zz", "/v1/x", "a=%2F&b=../..&c=%zz"},  // the query verbatim
    {"/v1/x?a?b", "/v1/x", "a?b"},
    {"/a%20b", "/a%20b", ""},          // escapes of other characters stay escapes
    {"/a%25b", "/a%25b", ""},
    {"/a%3fb", "/a%3Fb", ""},          // upper-case hex
    {"/a%c3%a9", "/a%C3%A9", ""},
    {"/a%7e%3A%40", "/a~:@", ""},
};

TEST(HttpPath, AcceptedTargets) {
  for (const auto& c : kAccepted) {
    SCOPED_TRACE(c.target);
    auto result = normalise_target(c.target);
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_EQ(result->path, c.path);
    EXPECT_EQ(result->query, c.query);
    // The result is its own normal form.
    auto again = normalise_target(result->path);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->path, result->path);
  }
}

struct Refused {
  std::string target;
  const char* why;  // a part of the message
};

const Refused kRefused[] = {
    {"/v1/eth%2fsign", "encoded '/'"},
    {"/v1/eth%2Fsign", "encoded '/'"},
    {"/v1/eth%5csign", "encoded '/' or '\\'"},
    {"/v1/%00", "NUL"},
    {"%00", "must be a path"},
    {"/a%0a", "control"},
    {"/a%7f", "control"},
    {"*", "asterisk"},
    {"example.com:443", "authority-form"},
    {"v1/eth/sign", "must be a path"},
    {"ftp://host/x", "only http"},
    {"http:///x", "without a host"},
    {"http://?x", "without a host"},
    {"/a#frag", "fragment"},
    {"/a?b#frag", "fragment"},
    {"/a b", "space"},
    {"/a\\b", "backslash"},
    {"/a?b\\c", "backslash"},
    {"/%g1", "two hex digits"},
    {"/%2", "two hex digits"},
    {"/%", "two hex digits"},
    {"/a%2/b", "two hex digits"},
    {"/caf\xc3\xa9", "non-ASCII"},
    {"/a\tb", "control"},
    {"/a\x7f", "control"},
    {std::string("/a\0b", 4), "control"},
    {"", "empty"},
};

TEST(HttpPath, RefusedTargets) {
  for (const auto& c : kRefused) {
    SCOPED_TRACE(c.target);
    auto result = normalise_target(c.target);
    ASSERT_FALSE(result) << "accepted as " << result->path;
    EXPECT_THAT(result.error().message, HasSubstr("bad request target: "));
    EXPECT_THAT(result.error().message, HasSubstr(c.why));
  }
}

}  // namespace
}  // namespace enclaver::http
