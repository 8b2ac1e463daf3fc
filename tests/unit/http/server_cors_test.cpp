// CORS as the aux API answers it (api.md): Access-Control-Allow-Origin on
// every response and the OPTIONS preflight; nothing of it without cors.
#include <gmock/gmock.h>

#include "tests/unit/http/server_harness.hpp"

namespace enclaver::http::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(HttpServerCors, EveryResponseAllowsAnyOrigin) {
  ServerUnderTest server([](ServerOptions& o) { o.cors = true; });
  BeastClient client(server.port());
  for (auto [method, target] : {std::pair{verb::get, "/v1/hello"}, std::pair{verb::get, "/v1/nothing"},
                                std::pair{verb::put, "/v1/hello"}, std::pair{verb::get, "/v1/throw"}}) {
    SCOPED_TRACE(target);
    auto response = client.request(method, target);
    EXPECT_EQ(response[beast_http::field::access_control_allow_origin], "*");
  }
  // Refusals by the server itself too.
  auto bad = raw_exchange(server.port(), "GET /v1%2fhello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(bad.bytes, StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(bad.bytes, HasSubstr("Access-Control-Allow-Origin: *\r\n"));
}

TEST(HttpServerCors, PreflightOnAKnownPathIs204) {
  ServerUnderTest server([](ServerOptions& o) { o.cors = true; });
  Fd fd = connect_to(server.port());
  ASSERT_TRUE(send_text(fd.get(),
                        "OPTIONS /v1/both HTTP/1.1\r\nHost: x\r\nOrigin: http://app.example\r\n"
                        "Access-Control-Request-Method: POST\r\n\r\n"
                        "GET /v1/hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string pending;
  auto preflight = read_response(fd.get(), pending);
  EXPECT_THAT(preflight.head, StartsWith("HTTP/1.1 204 No Content\r\n"));
  EXPECT_THAT(preflight.head, HasSubstr("Access-Control-Allow-Origin: *\r\n"));
  EXPECT_THAT(preflight.head, HasSubstr("Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"));
  EXPECT_THAT(preflight.head, HasSubstr("Access-Control-Allow-Headers: content-type\r\n"));
  EXPECT_THAT(preflight.head, HasSubstr("Access-Control-Max-Age: 86400\r\n"));
  EXPECT_THAT(preflight.head, Not(HasSubstr("Content-Length")));  // RFC 9110: none on a 204
  EXPECT_EQ(preflight.body, "");
  // The connection goes on: nothing was left on it by the 204.
  auto next = read_response(fd.get(), pending);
  EXPECT_EQ(next.body, R"({"hello":"world"})");
}

TEST(HttpServerCors, PreflightOnAnUnknownPathIs404) {
  ServerUnderTest server([](ServerOptions& o) { o.cors = true; });
  BeastClient client(server.port());
  auto response = client.request(verb::options, "/v1/eth/sign");
  EXPECT_EQ(response.result(), beast_http::status::not_found);
  EXPECT_EQ(response.body(), R"({"error":"no such endpoint: /v1/eth/sign"})");
  EXPECT_EQ(response[beast_http::field::access_control_allow_origin], "*");
}

TEST(HttpServerCors, WithoutCorsOptionsIsJustAMethod) {
  ServerUnderTest server;
  BeastClient client(server.port());
  auto response = client.request(verb::options, "/v1/both");
  EXPECT_EQ(response.result(), beast_http::status::method_not_allowed);
  EXPECT_EQ(response[beast_http::field::allow], "GET, POST");
  EXPECT_EQ(response.count(beast_http::field::access_control_allow_origin), 0u);
  EXPECT_EQ(response.count(beast_http::field::access_control_allow_methods), 0u);
  auto hello = client.request(verb::get, "/v1/hello");
  EXPECT_EQ(hello.count(beast_http::field::access_control_allow_origin), 0u);
}

}  // namespace
}  // namespace enclaver::http::testing
