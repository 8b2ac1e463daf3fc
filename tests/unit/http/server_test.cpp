// The server end to end over real sockets: answers in the JSON error shape,
// keep-alive, pipelining, HTTP/1.0, malformed requests.
#include <gmock/gmock.h>

#include "tests/unit/http/server_harness.hpp"

namespace enclaver::http::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(HttpServer, GetReturnsJson) {
  ServerUnderTest server;
  BeastClient client(server.port());
  auto response = client.request(verb::get, "/v1/hello");
  EXPECT_EQ(response.result(), beast_http::status::ok);
  EXPECT_EQ(response[beast_http::field::content_type], "application/json");
  EXPECT_EQ(response[beast_http::field::content_length], std::to_string(response.body().size()));
  EXPECT_EQ(response.body(), R"({"hello":"world"})");
  EXPECT_EQ(response.count(beast_http::field::access_control_allow_origin), 0u);
  EXPECT_TRUE(response.keep_alive());
}

TEST(HttpServer, UnknownPathIs404Json) {
  ServerUnderTest server;
  BeastClient client(server.port());
  auto response = client.request(verb::get, "/v1/nothing");
  EXPECT_EQ(response.result(), beast_http::status::not_found);
  EXPECT_EQ(response[beast_http::field::content_type], "application/json");
  EXPECT_EQ(response.body(), R"({"error":"no such endpoint: /v1/nothing"})");
  // The connection stays usable after a 404.
  EXPECT_EQ(client.request(verb::get, "/v1/hello").result(), beast_http::status::ok);
}

TEST(HttpServer, WrongMethodIs405WithAllowAndJson) {
  ServerUnderTest server;
  BeastClient client(server.port());
  auto response = client.request(verb::put, "/v1/both", "{}");
  EXPECT_EQ(response.result(), beast_http::status::method_not_allowed);
  EXPECT_EQ(response[beast_http::field::allow], "GET, POST");
  EXPECT_EQ(response[beast_http::field::content_type], "application/json");
  EXPECT_EQ(nlohmann::json::parse(response.body())["error"], "method PUT not allowed on /v1/both; allowed: GET, POST");
}

TEST(HttpServer, PathTricksReachTheNormalisedRouteOnly) {
  ServerUnderTest server;
  BeastClient client(server.port());
  EXPECT_EQ(client.request(verb::get, "/v1/x/../hello").result(), beast_http::status::ok);
  EXPECT_EQ(client.request(verb::get, "/v1/%2e%2e/v1//hello").result(), beast_http::status::ok);
  EXPECT_EQ(client.request(verb::get, "http://127.0.0.1:1/v1/hello?x=1").result(), beast_http::status::ok);
  EXPECT_EQ(client.request(verb::get, "/v1/hello/").result(), beast_http::status::not_found);
  EXPECT_EQ(client.request(verb::get, "/V1/HELLO").result(), beast_http::status::not_found);
}

TEST(HttpServer, BadJsonBodyIs400FromTheHandler) {
  ServerUnderTest server;
  BeastClient client(server.port());
  auto bad = client.request(verb::post, "/v1/echo", "{not json");
  EXPECT_EQ(bad.result(), beast_http::status::bad_request);
  EXPECT_THAT(nlohmann::json::parse(bad.body())["error"].get<std::string>(), StartsWith("the body is not JSON: "));
  auto array = client.request(verb::post, "/v1/echo", "[1]");
  EXPECT_EQ(nlohmann::json::parse(array.body())["error"], "the body must be a JSON object");
  auto good = client.request(verb::post, "/v1/echo", R"({"a":1})");
  EXPECT_EQ(good.result(), beast_http::status::ok);
  EXPECT_EQ(good.body(), R"({"got":{"a":1}})");
}

TEST(HttpServer, ThrowingHandlerIs500JsonAndLogged) {
  ServerUnderTest server;
  BeastClient client(server.port());
  auto response = client.request(verb::get, "/v1/throw");
  EXPECT_EQ(response.result(), beast_http::status::internal_server_error);
  EXPECT_EQ(response.body(), R"({"error":"boom"})");
  EXPECT_EQ(client.request(verb::get, "/v1/hello").result(), beast_http::status::ok);  // not a dropped connection
  auto log = server.log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0], R"(test: GET /v1/throw -> 500 {"error":"boom"})");
}

TEST(HttpServer, KeepAliveServesThreeRequestsOnOneConnection) {
  ServerUnderTest server;
  Fd fd = connect_to(server.port());
  std::string pending;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(send_text(fd.get(), "POST /v1/both HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"));
    auto response = read_response(fd.get(), pending);
    EXPECT_THAT(response.head, StartsWith("HTTP/1.1 200 OK\r\n"));
    EXPECT_THAT(response.head, Not(HasSubstr("Connection: close")));
    EXPECT_EQ(response.body, R"({"method":"POST"})");
  }
  EXPECT_TRUE(pending.empty());
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  ServerUnderTest server;
  Fd fd = connect_to(server.port());
  // The slow one first: its answer must still come first.
  ASSERT_TRUE(send_text(fd.get(),
                        "GET /v1/slow HTTP/1.1\r\nHost: x\r\n\r\n"
                        "GET /v1/hello HTTP/1.1\r\nHost: x\r\n\r\n"
                        "POST /v1/size HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"));
  std::string pending;
  EXPECT_EQ(read_response(fd.get(), pending).body, R"({"slow":true})");
  EXPECT_EQ(read_response(fd.get(), pending).body, R"({"hello":"world"})");
  EXPECT_EQ(read_response(fd.get(), pending).body, R"({"size":5})");
}

TEST(HttpServer, Http10IsAnsweredAndClosed) {
  ServerUnderTest server;
  auto start = Clock::now();
  auto answer = raw_exchange(server.port(), "GET /v1/hello HTTP/1.0\r\n\r\n");
  EXPECT_LT(Clock::now() - start, 1s);  // closed by the server, not by the client's timeout
  EXPECT_EQ(answer.end_errno, 0);
  EXPECT_THAT(answer.bytes, StartsWith("HTTP/1.0 200 OK\r\n"));
  EXPECT_THAT(answer.bytes, HasSubstr("Content-Length: 17\r\n"));
  EXPECT_EQ(body_of(answer.bytes), R"({"hello":"world"})");
}

TEST(HttpServer, Http10KeepAliveIsHonoured) {
  ServerUnderTest server;
  Fd fd = connect_to(server.port());
  std::string pending;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(send_text(fd.get(), "GET /v1/hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto response = read_response(fd.get(), pending);
    EXPECT_THAT(response.head, StartsWith("HTTP/1.0 200 OK\r\n"));
    EXPECT_THAT(response.head, HasSubstr("Connection: keep-alive\r\n"));
  }
}

TEST(HttpServer, ConnectionCloseIsHonoured) {
  ServerUnderTest server;
  auto start = Clock::now();
  auto answer = raw_exchange(server.port(), "GET /v1/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_THAT(answer.bytes, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(answer.bytes, HasSubstr("Connection: close\r\n"));
  EXPECT_EQ(body_of(answer.bytes), R"({"hello":"world"})");
}

TEST(HttpServer, HeadKeepsContentLengthAndDropsTheBody) {
  ServerUnderTest server;
  Fd fd = connect_to(server.port());
  ASSERT_TRUE(send_text(fd.get(),
                        "HEAD /v1/head HTTP/1.1\r\nHost: x\r\n\r\n"
                        "HEAD /v1/hello HTTP/1.1\r\nHost: x\r\n\r\n"
                        "GET /v1/hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string pending;
  // Read heads only: a body after a HEAD answer would show as the next head.
  auto head_only = [&] {
    std::size_t end;
    while ((end = pending.find("\r\n\r\n")) == std::string::npos) {
      char buffer[4096];
      ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
      if (n <= 0) throw std::runtime_error("closed");
      pending.append(buffer, static_cast<std::size_t>(n));
    }
    std::string head = pending.substr(0, end + 4);
    pending.erase(0, end + 4);
    return head;
  };
  auto first = head_only();
  EXPECT_THAT(first, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(first, HasSubstr("Content-Length: 12\r\n"));  // {"head":"x"}
  auto second = head_only();
  EXPECT_THAT(second, StartsWith("HTTP/1.1 405 Method Not Allowed\r\n"));  // HEAD is not implied by GET
  EXPECT_THAT(pending, Not(HasSubstr("error")));  // no 405 body on the wire
  auto third = read_response(fd.get(), pending);
  EXPECT_THAT(third.head, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_EQ(third.body, R"({"hello":"world"})");
}

// A malformed request: 400 in the JSON shape, then the connection closes.
void expect_400(std::uint16_t port, const std::string& request, const std::string& why) {
  SCOPED_TRACE(request);
  auto start = Clock::now();
  auto answer = raw_exchange(port, request);
  EXPECT_LT(Clock::now() - start, 3s);
  EXPECT_EQ(answer.end_errno, 0) << "the answer must not be reset away";
  EXPECT_THAT(answer.bytes, StartsWith("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_THAT(answer.bytes, HasSubstr("Content-Type: application/json\r\n"));
  EXPECT_THAT(answer.bytes, HasSubstr("Connection: close\r\n"));
  auto body = json_of(answer.bytes);
  ASSERT_TRUE(body.is_object()) << answer.bytes;
  EXPECT_THAT(body["error"].get<std::string>(), HasSubstr(why));
}

TEST(HttpServer, MalformedRequestsAre400Json) {
  ServerUnderTest server;
  const auto port = server.port();
  expect_400(port, "GET\r\n\r\n", "malformed request");
  expect_400(port, "GET /v1/hello HTTP/1.1 extra\r\n\r\n", "malformed request");
  expect_400(port, "G@T /v1/hello HTTP/1.1\r\nHost: x\r\n\r\n", "malformed request");
  expect_400(port, "GET /v1/hello HTTP/1.1\r\nBad Header: x\r\n\r\n", "malformed request");
  expect_400(port, "GET /v1/hello HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", "malformed request");
  expect_400(port, "GET /v1/hello HTTP/x.1\r\nHost: x\r\n\r\n", "malformed request");
  expect_400(port, "POST /v1/size HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\n\r\nhello", "malformed request");
  expect_400(port, "POST /v1/size HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", "malformed request");
  expect_400(port, "GET /v1%2fhello HTTP/1.1\r\nHost: x\r\n\r\n", "bad request target: an encoded '/'");
  expect_400(port, "GET example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n", "bad request target: ");
  expect_400(port, "GET * HTTP/1.1\r\nHost: x\r\n\r\n", "bad request target: asterisk");
}

TEST(HttpServer, ContentLengthWithTransferEncodingIs400) {
  ServerUnderTest server;
  expect_400(server.port(),
             "POST /v1/size HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\nhello\r\n0\r\n\r\n",
             "malformed request");
  expect_400(server.port(),
             "POST /v1/size HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
             "5\r\nhello\r\n0\r\n\r\n",
             "malformed request");
}

TEST(HttpServer, TransferEncodingNotEndingInChunkedIs400) {
  ServerUnderTest server;
  expect_400(server.port(), "POST /v1/size HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nxxxx",
             "Transfer-Encoding must end in chunked");
}

TEST(HttpServer, BadChunkingIs400) {
  ServerUnderTest server;
  expect_400(server.port(), "POST /v1/size HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
             "malformed request body");
}

TEST(HttpServer, ChunkedBodyIsRead) {
  ServerUnderTest server;
  auto answer = raw_exchange(server.port(),
                             "POST /v1/size HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                             "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  EXPECT_EQ(body_of(answer.bytes), R"({"size":11})");
}

TEST(HttpServer, OtherHttpVersionsAre400) {
  ServerUnderTest server;
  expect_400(server.port(), "GET /v1/hello HTTP/2.0\r\nHost: x\r\n\r\n", "malformed request: bad version");
  expect_400(server.port(), "GET /v1/hello HTTP/1.2\r\nHost: x\r\n\r\n", "malformed request: bad version");
  expect_400(server.port(), "GET /v1/hello HTTP/0.9\r\nHost: x\r\n\r\n", "malformed request: bad version");
}

TEST(HttpServer, EmptyLinesBeforeARequestAreIgnored) {
  ServerUnderTest server;
  auto answer = raw_exchange(server.port(), "\r\n\r\nGET /v1/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(answer.bytes, StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST(HttpServer, ExpectContinueGetsA100) {
  ServerUnderTest server;
  Fd fd = connect_to(server.port());
  ASSERT_TRUE(send_text(fd.get(), "POST /v1/size HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  std::string pending;
  auto go_on = read_response(fd.get(), pending);
  EXPECT_EQ(go_on.head, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(send_text(fd.get(), "hello"));
  auto response = read_response(fd.get(), pending);
  EXPECT_THAT(response.head, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_EQ(response.body, R"({"size":5})");
}

TEST(HttpServer, ListenLoopbackNamesThePortWhenTaken) {
  asio::io_context io;
  auto first = listen_loopback(io.get_executor(), 0);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->local_endpoint().address(), asio::ip::make_address("127.0.0.1"));
  const auto port = first->local_endpoint().port();
  auto second = listen_loopback(io.get_executor(), port);
  ASSERT_FALSE(second);
  EXPECT_THAT(second.error().message, StartsWith("cannot listen on 127.0.0.1:" + std::to_string(port) + ": "));
}

}  // namespace
}  // namespace enclaver::http::testing
