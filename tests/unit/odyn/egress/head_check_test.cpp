// The D7 checks Beast does not make: obs-fold, duplicate Host,
// Transfer-Encoding not ending in chunked, field counts.
#include "odyn/egress/head_check.hpp"

#include <gtest/gtest.h>

#include "odyn/egress/responses.hpp"

namespace enclaver::odyn::egress {
namespace {

TEST(EgressHeadCheck, FindsTheEndOfTheHead) {
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\nA: b\r\n\r\nbody"), 24u);
  EXPECT_FALSE(find_head_end("GET / HTTP/1.1\r\nA: b\r\n"));
}

TEST(EgressHeadCheck, RawHead) {
  EXPECT_FALSE(check_head_bytes("GET http://a/ HTTP/1.1\r\nA: b\r\nC: d\r\n\r\n"));
  EXPECT_TRUE(check_head_bytes("GET http://a/ HTTP/1.1\r\nA: b\r\n c\r\n\r\n"));   // obs-fold
  EXPECT_TRUE(check_head_bytes("GET http://a/ HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n"));
  EXPECT_TRUE(check_head_bytes("GET http://a/ HTTP/1.1\r\n A: b\r\n\r\n"));        // whitespace line first
  EXPECT_TRUE(check_head_bytes("GET http://a/ HTTP/1.1\nA: b\r\n\r\n"));           // bare LF
  EXPECT_TRUE(check_head_bytes("GET http://a/ HTTP/1.1\r\nA: b\rc\r\n\r\n"));      // bare CR
  EXPECT_TRUE(check_head_bytes(std::string("GET http://a/ HTTP/1.1\r\nA: \0\r\n\r\n", 30)));
}

TEST(EgressHeadCheck, Fields) {
  using F = std::vector<Field>;
  EXPECT_FALSE(check_fields(F{{"Host", "a"}, {"Content-Length", "3"}}, 100));
  EXPECT_TRUE(check_fields(F{{"Host", "a"}, {"host", "b"}}, 100));
  EXPECT_TRUE(check_fields(F{{"Host", "a"}, {"Host", "a"}}, 100));
  EXPECT_FALSE(check_fields(F{{"Content-Length", "3"}, {"content-length", "3"}}, 100));
  EXPECT_TRUE(check_fields(F{{"Content-Length", "3"}, {"content-length", "4"}}, 100));
  EXPECT_TRUE(check_fields(F{{"Content-Length", "3"}, {"Transfer-Encoding", "chunked"}}, 100));
  EXPECT_FALSE(check_fields(F{{"Transfer-Encoding", "gzip, chunked"}}, 100));
  EXPECT_FALSE(check_fields(F{{"Transfer-Encoding", "gzip"}, {"Transfer-Encoding", "Chunked "}}, 100));
  EXPECT_TRUE(check_fields(F{{"Transfer-Encoding", "chunked, gzip"}}, 100));
  EXPECT_TRUE(check_fields(F{{"Transfer-Encoding", "gzip"}}, 100));
  F many(101, Field{"X-A", "b"});
  EXPECT_TRUE(check_fields(many, 100));
  many.pop_back();
  EXPECT_FALSE(check_fields(many, 100));
}

TEST(EgressResponses, Shapes) {
  EXPECT_EQ(refusal_response(Refusal{403, "no allow rule matches", "evil.com", 443}),
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nX-Enclaver-Egress: denied\r\n"
            "Content-Length: 62\r\nConnection: close\r\n\r\n"
            "blocked by egress policy: evil.com:443 (no allow rule matches)");
  auto bad = refusal_response(Refusal{400, "CONNECT needs a port (host:port)", {}, 0});
  EXPECT_EQ(bad.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u);
  EXPECT_EQ(bad.find("X-Enclaver-Egress"), std::string::npos);
  EXPECT_NE(bad.find("\r\n\r\nbad request: CONNECT needs a port (host:port)"), std::string::npos);
}

TEST(EgressResponses, ProxyEnvironment) {
  EXPECT_EQ(proxy_environment(10000),
            (std::vector<std::string>{"http_proxy=http://127.0.0.1:10000", "https_proxy=http://127.0.0.1:10000",
                                      "HTTP_PROXY=http://127.0.0.1:10000", "HTTPS_PROXY=http://127.0.0.1:10000",
                                      "no_proxy=localhost,127.0.0.1", "NO_PROXY=localhost,127.0.0.1"}));
}

}  // namespace
}  // namespace enclaver::odyn::egress
