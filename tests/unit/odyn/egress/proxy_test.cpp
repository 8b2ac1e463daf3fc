// The proxy forwarding absolute-form http:// requests, with curl and raw
// sockets as the app: Host from the URI, Proxy-* and hop-by-hop headers
// dropped, keep-alive, pipelining, a new upstream per destination.
#include <gmock/gmock.h>

#include "tests/unit/odyn/egress/proxy_harness.hpp"

namespace enclaver::odyn::egress::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST(EgressProxy, ForwardsAbsoluteFormAsOriginFormWithHostFromTheUri) {
  Upstream upstream;
  ProxyUnderTest proxy;
  std::string url = "http://allowed.com:" + std::to_string(upstream.port()) + "/echo?x=1";
  auto result = run(curl(proxy, "-H 'X-Custom: kept' -H 'Proxy-Authorization: Basic c2VjcmV0' "
                                "-H 'Proxy-Connection: keep-alive' --proxy-user u:p '" + url + "'"));
  ASSERT_EQ(result.status, 0) << result.out;
  EXPECT_THAT(result.out, HasSubstr("target /echo?x=1\n"));
  EXPECT_THAT(result.out, HasSubstr("Host: allowed.com:" + std::to_string(upstream.port()) + "\n"));
  EXPECT_THAT(result.out, HasSubstr("X-Custom: kept\n"));
  EXPECT_THAT(lower(result.out), Not(HasSubstr("proxy-")));
  EXPECT_THAT(proxy.dialled(), ::testing::ElementsAre("allowed.com:" + std::to_string(upstream.port())));
}

TEST(EgressProxy, HopByHopHeadersAreNotForwarded) {
  Upstream upstream;
  ProxyUnderTest proxy;
  auto answer = raw_exchange(proxy.port(),
                             "GET http://allowed.com:" + std::to_string(upstream.port()) + "/echo HTTP/1.1\r\n"
                             "Host: allowed.com\r\nConnection: close, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: 5\r\n"
                             "TE: trailers\r\nUpgrade: websocket\r\nProxy-Authorization: Basic eA==\r\nX-Kept: 2\r\n\r\n");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 200 OK\r\n"));
  auto body = lower(answer.substr(answer.find("\r\n\r\n")));
  EXPECT_THAT(body, HasSubstr("x-kept: 2\n"));
  for (const char* dropped : {"x-secret", "keep-alive", "\nte:", "upgrade", "proxy-", "connection"})
    EXPECT_THAT(body, Not(HasSubstr(dropped))) << dropped;
  // The response's own hop-by-hop fields (Keep-Alive) do not reach the app either.
  EXPECT_THAT(lower(answer.substr(0, answer.find("\r\n\r\n"))), Not(HasSubstr("keep-alive")));
}

TEST(EgressProxy, HostHeaderNeverChoosesTheDestination) {
  Upstream upstream;
  ProxyUnderTest proxy;
  const std::string port = std::to_string(upstream.port());
  auto answer = raw_exchange(proxy.port(), "GET http://allowed.com:" + port + "/echo HTTP/1.1\r\n"
                                           "Host: evil.com\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 200 OK"));
  EXPECT_THAT(answer, HasSubstr("Host: allowed.com:" + port + "\n"));
  EXPECT_THAT(answer, Not(HasSubstr("evil.com")));
  // Origin-form with a forged Host: 400, nothing dialled.
  auto origin = raw_exchange(proxy.port(), "GET /echo HTTP/1.1\r\nHost: allowed.com:" + port + "\r\n\r\n");
  EXPECT_THAT(origin, StartsWith("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_THAT(proxy.dialled(), ::testing::ElementsAre("allowed.com:" + port));
}

TEST(EgressProxy, UserinfoIsNotATrick) {
  Upstream upstream;
  ProxyUnderTest proxy;
  const std::string port = std::to_string(upstream.port());
  // evil.com@allowed.com: the host is allowed.com; the userinfo is not forwarded.
  auto allowed = raw_exchange(proxy.port(), "GET http://evil.com@allowed.com:" + port + "/echo HTTP/1.1\r\n"
                                            "Host: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(allowed, StartsWith("HTTP/1.1 200 OK"));
  EXPECT_THAT(allowed, Not(HasSubstr("evil.com")));
  // allowed.com@evil.com: the host is evil.com, refused.
  auto refused = raw_exchange(proxy.port(), "GET http://allowed.com@evil.com:" + port + "/ HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(refused, StartsWith("HTTP/1.1 403 Forbidden\r\n"));
  EXPECT_THAT(refused, HasSubstr("\r\n\r\nblocked by egress policy: evil.com:" + port + " ("));
  // Two '@': 400 (D11).
  auto twice = raw_exchange(proxy.port(), "GET http://a@allowed.com@evil.com:" + port + "/ HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(twice, StartsWith("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_THAT(proxy.dialled(), ::testing::ElementsAre("allowed.com:" + port));
}

TEST(EgressProxy, KeepAliveAndPipeliningUseOneUpstreamConnection) {
  Upstream upstream;
  ProxyUnderTest proxy;
  const std::string base = "http://allowed.com:" + std::to_string(upstream.port());
  Fd fd = connect_to(proxy.port());
  // Three requests in one write: bodies sized and chunked between them.
  send_text(fd.get(), "GET " + base + "/echo/1 HTTP/1.1\r\nHost: a\r\n\r\n"
                      "POST " + base + "/echo/2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
                      "POST " + base + "/echo/3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
                      "GET " + base + "/echo/4 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  auto all = read_to_end(fd.get());
  std::vector<std::string> targets;
  beast::flat_buffer buffer;
  auto data = asio::buffer(all);
  for (int i = 0; i < 4; ++i) {
    http::response_parser<http::string_body> parser;
    boost::system::error_code ec;
    auto used = parser.put(data, ec);
    if (!ec && !parser.is_done()) used += parser.put(asio::buffer(data + used), ec);
    ASSERT_FALSE(ec) << ec.message() << " at response " << i << "\n" << all;
    ASSERT_TRUE(parser.is_done()) << all;
    EXPECT_EQ(parser.get().result_int(), 200u);
    targets.push_back(parser.get().body().substr(0, parser.get().body().find("\nhost")));
    data += used;
  }
  EXPECT_EQ(data.size(), 0u);
  EXPECT_THAT(targets[0], HasSubstr("target /echo/1\n"));
  EXPECT_THAT(targets[1], HasSubstr("target /echo/2\n"));
  EXPECT_THAT(targets[2], HasSubstr("target /echo/3\n"));
  EXPECT_THAT(targets[3], HasSubstr("target /echo/4\n"));
  EXPECT_EQ(upstream.connections(), 1);
}

TEST(EgressProxy, ChunkedAndSizedBodiesArriveWhole) {
  Upstream upstream;
  ProxyUnderTest proxy;
  const std::string base = "http://allowed.com:" + std::to_string(upstream.port());
  auto answer = raw_exchange(proxy.port(), "POST " + base + "/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                                           "Connection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  Sha256 sha;
  sha.update("abcde", 5);
  EXPECT_THAT(answer, HasSubstr("body " + sha.hex() + " 5\n"));
}

TEST(EgressProxy, CurlKeepAliveAcrossRequestsAndANewUpstreamPerDestination) {
  Upstream first, second;
  ProxyUnderTest proxy;
  std::string a = "http://allowed.com:" + std::to_string(first.port()) + "/echo";
  std::string b = "http://b.allowed.com:" + std::to_string(second.port()) + "/echo";
  auto result = run(curl(proxy, "'" + a + "/1' '" + a + "/2' '" + b + "/3' '" + a + "/4'"));
  ASSERT_EQ(result.status, 0) << result.out;
  EXPECT_THAT(result.out, HasSubstr("target /echo/1\n"));
  auto third = result.out.substr(result.out.find("target /echo/3\n"));
  EXPECT_THAT(third.substr(0, third.find("body ")), HasSubstr("Host: b.allowed.com:" + std::to_string(second.port()) + "\n"));
  EXPECT_THAT(result.out, HasSubstr("target /echo/4\n"));
  // curl reused its proxy connection; the proxy opened a new upstream for
  // the new destination, and another when the first came back.
  EXPECT_EQ(first.connections(), 2);
  EXPECT_EQ(second.connections(), 1);
}

TEST(EgressProxy, HeadRequestsGetNoBody) {
  Upstream upstream;
  ProxyUnderTest proxy;
  auto result = run(curl(proxy, "-I 'http://allowed.com:" + std::to_string(upstream.port()) + "/echo'"));
  ASSERT_EQ(result.status, 0) << result.out;
  EXPECT_THAT(result.out, StartsWith("HTTP/1.1 200 OK"));
}

}  // namespace
}  // namespace enclaver::odyn::egress::testing
