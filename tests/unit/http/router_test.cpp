// The router alone: exact matching on normalised paths, 404 and 405 in the
// error shape, per-route body limits, handler exceptions as 500.
#include "http/router.hpp"

#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gmock/gmock.h>
#include <nlohmann/json.hpp>

#include "http/json.hpp"

namespace enclaver::http {
namespace {

namespace asio = boost::asio;
using verb = beast_http::verb;
using beast_http::status;

Handler answer(std::string text) {
  return [text](RouteContext context) -> asio::awaitable<Response> {
    co_return json_response(status::ok, {{"route", text}, {"path", context.target.path}, {"body", context.request.body()}});
  };
}

Router test_router() {
  Router router;
  router.add(verb::get, "/v1/eth/address", answer("address"))
      .add(verb::post, "/v1/eth/sign", answer("sign"))
      .add(verb::post, "/v1/s3/put", answer("put"), 8 << 20)
      .add(verb::get, "/v1/s3/put", answer("put-get"), 100)
      .add(verb::get, "/v1/throw", [](RouteContext) -> asio::awaitable<Response> {
        throw std::runtime_error("the NSM is gone");
        co_return Response{};
      })
      .add(verb::get, "/v1/throw-int", [](RouteContext) -> asio::awaitable<Response> {
        throw 42;
        co_return Response{};
      });
  return router;
}

Response dispatch(const Router& router, verb method, const std::string& target, std::string body = "") {
  asio::io_context io;
  Request request{method, target, 11};
  request.body() = std::move(body);
  auto normal = normalise_target(target);
  if (!normal) throw std::runtime_error(normal.error().message);
  auto future = asio::co_spawn(io, router.dispatch(request, *normal, io.get_executor()), asio::use_future);
  io.run();
  return future.get();
}

nlohmann::json body_of(const Response& response) { return nlohmann::json::parse(response.body()); }

TEST(HttpRouter, RoutesToTheHandler) {
  auto router = test_router();
  auto response = dispatch(router, verb::post, "/v1/eth/sign", "{}");
  EXPECT_EQ(response.result(), status::ok);
  EXPECT_EQ(body_of(response), (nlohmann::json{{"route", "sign"}, {"path", "/v1/eth/sign"}, {"body", "{}"}}));
  // Any spelling that normalises to the route's path.
  EXPECT_EQ(body_of(dispatch(router, verb::post, "/v1/x/../eth//sign"))["route"], "sign");
}

TEST(HttpRouter, UnknownPathIs404) {
  auto router = test_router();
  for (const char* target : {"/v1/eth/sign/", "/V1/ETH/SIGN", "/v1/eth", "/", "/v1/eth/address/x"}) {
    SCOPED_TRACE(target);
    auto response = dispatch(router, verb::post, target);
    EXPECT_EQ(response.result(), status::not_found);
    EXPECT_EQ(response[beast_http::field::content_type], "application/json");
    EXPECT_EQ(body_of(response), (nlohmann::json{{"error", "no such endpoint: " + normalise_target(target)->path}}));
  }
}

TEST(HttpRouter, WrongMethodIs405WithAllow) {
  auto router = test_router();
  auto response = dispatch(router, verb::get, "/v1/eth/sign");
  EXPECT_EQ(response.result(), status::method_not_allowed);
  EXPECT_EQ(response[beast_http::field::allow], "POST");
  EXPECT_EQ(body_of(response)["error"], "method GET not allowed on /v1/eth/sign; allowed: POST");
  auto both = dispatch(router, verb::delete_, "/v1/s3/put");
  EXPECT_EQ(both[beast_http::field::allow], "GET, POST");
  EXPECT_EQ(body_of(both)["error"], "method DELETE not allowed on /v1/s3/put; allowed: GET, POST");
  // HEAD is not implied by GET.
  EXPECT_EQ(dispatch(router, verb::head, "/v1/eth/address").result(), status::method_not_allowed);
}

TEST(HttpRouter, ThrowingHandlerIs500) {
  auto router = test_router();
  auto response = dispatch(router, verb::get, "/v1/throw");
  EXPECT_EQ(response.result(), status::internal_server_error);
  EXPECT_EQ(body_of(response), (nlohmann::json{{"error", "the NSM is gone"}}));
  auto odd = dispatch(router, verb::get, "/v1/throw-int");
  EXPECT_EQ(odd.result(), status::internal_server_error);
  EXPECT_THAT(body_of(odd)["error"].get<std::string>(), ::testing::HasSubstr("unknown exception"));
}

TEST(HttpRouter, BodyLimits) {
  auto router = test_router();
  EXPECT_EQ(router.body_limit("/v1/eth/sign", verb::post), kDefaultMaxBody);
  EXPECT_EQ(router.body_limit("/v1/s3/put", verb::post), 8u << 20);
  EXPECT_EQ(router.body_limit("/v1/s3/put", verb::get), 100u);
  EXPECT_EQ(router.body_limit("/v1/s3/put", verb::delete_), 8u << 20);  // 405 coming: the largest
  EXPECT_EQ(router.body_limit("/v1/nothing", verb::post), std::nullopt);
}

TEST(HttpRouter, Allowed) {
  auto router = test_router();
  EXPECT_EQ(router.allowed("/v1/s3/put"), "GET, POST");
  EXPECT_EQ(router.allowed("/v1/eth/address"), "GET");
  EXPECT_EQ(router.allowed("/v1/eth/address/"), "");
}

TEST(HttpRouter, AddRefusesMistakes) {
  Router router;
  router.add(verb::get, "/a", answer("a"));
  EXPECT_THROW(router.add(verb::get, "/a", answer("again")), std::invalid_argument);
  EXPECT_NO_THROW(router.add(verb::post, "/a", answer("post")));
  EXPECT_THROW(router.add(verb::get, "/b", Handler{}), std::invalid_argument);
  for (const char* path : {"a", "/a/../b", "//a", "/a?x", "/%2e", "/a/./b", ""}) {
    SCOPED_TRACE(path);
    EXPECT_THROW(router.add(verb::get, path, answer("x")), std::invalid_argument);
  }
}

}  // namespace
}  // namespace enclaver::http
