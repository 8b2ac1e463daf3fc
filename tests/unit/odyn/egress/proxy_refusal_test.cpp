// What the app gets when the proxy says no, in egress.md's exact shapes:
// 400 (malformed, D4, D7, D11, D13), 403 (our policy, or the host's: os_code
// 13), 431 (limits), 502 (dial failure), 504 (timeout); each refusal logged
// once with host, port and reason. And a catalogue of bypass attempts, run
// against the real proxy end to end.
#include <gmock/gmock.h>

#include "tests/unit/odyn/egress/proxy_harness.hpp"

namespace enclaver::odyn::egress::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string body_of(const std::string& answer) {
  auto at = answer.find("\r\n\r\n");
  return at == std::string::npos ? "" : answer.substr(at + 4);
}

TEST(EgressProxyRefusal, PolicyDenialIs403WithTheExactShape) {
  ProxyUnderTest proxy;
  auto answer = raw_exchange(proxy.port(), "CONNECT evil.com:443 HTTP/1.1\r\nHost: evil.com:443\r\n\r\n");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 403 Forbidden\r\n"));
  EXPECT_THAT(answer, HasSubstr("\r\nX-Enclaver-Egress: denied\r\n"));
  EXPECT_THAT(answer, HasSubstr("\r\nConnection: close\r\n"));
  auto body = body_of(answer);
  EXPECT_THAT(body, StartsWith("blocked by egress policy: evil.com:443 ("));
  EXPECT_EQ(body.back(), ')');
  EXPECT_THAT(answer, HasSubstr("Content-Length: " + std::to_string(body.size()) + "\r\n"));
  EXPECT_TRUE(proxy.dialled().empty());
  auto log = proxy.log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_THAT(log[0], HasSubstr("evil.com:443"));
  EXPECT_THAT(log[0], HasSubstr("403"));
  // The deny list wins over an allow pattern.
  auto denied = raw_exchange(proxy.port(), "GET http://blocked.allowed.com/ HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(body_of(denied), StartsWith("blocked by egress policy: blocked.allowed.com:80 ("));
}

TEST(EgressProxyRefusal, HostPolicyRefusalOsCode13Is403) {
  ProxyUnderTest proxy;
  auto answer = raw_exchange(proxy.port(), "CONNECT refused.test:443 HTTP/1.1\r\n\r\n");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 403 Forbidden\r\n"));
  EXPECT_THAT(answer, HasSubstr("X-Enclaver-Egress: denied\r\n"));
  EXPECT_EQ(body_of(answer),
            "blocked by egress policy: refused.test:443 (host side: refused.test matches deny rule 'refused.test')");
  EXPECT_THAT(proxy.dialled(), ::testing::ElementsAre("refused.test:443"));
  ASSERT_EQ(proxy.log().size(), 1u);
}

TEST(EgressProxyRefusal, DialFailureIs502WithTheOsError) {
  ProxyUnderTest proxy;
  auto answer = raw_exchange(proxy.port(), "CONNECT down.test:443 HTTP/1.1\r\n\r\n");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 502 Bad Gateway\r\n"));
  EXPECT_THAT(body_of(answer), HasSubstr("down.test:443"));
  EXPECT_THAT(body_of(answer), HasSubstr("Connection refused"));
  // No 200 before the dial succeeded.
  EXPECT_THAT(answer, ::testing::Not(HasSubstr("200")));
  auto http = raw_exchange(proxy.port(), "GET http://down.test/ HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(http, StartsWith("HTTP/1.1 502 Bad Gateway\r\n"));
  auto log = proxy.log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_THAT(log[0], HasSubstr("down.test:443"));
  EXPECT_THAT(log[0], HasSubstr("Connection refused"));
}

TEST(EgressProxyRefusal, ConnectTimeoutIs504) {
  ProxyUnderTest proxy([](ProxyOptions& o) { o.connect_timeout = 300ms; });
  auto answer = raw_exchange(proxy.port(), "CONNECT slow.test:443 HTTP/1.1\r\n\r\n");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 504 Gateway Timeout\r\n"));
  EXPECT_THAT(body_of(answer), HasSubstr("slow.test:443"));
  EXPECT_THAT(body_of(answer), HasSubstr("timed out"));
  ASSERT_EQ(proxy.log().size(), 1u);
}

TEST(EgressProxyRefusal, IdleClientIsClosed) {
  ProxyUnderTest proxy([](ProxyOptions& o) { o.idle_timeout = 300ms; });
  Fd fd = connect_to(proxy.port());
  send_text(fd.get(), "GET http://allowed.com/ HTTP/1.1\r\n");  // and never the rest
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(read_to_end(fd.get()), "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);  // closed by the proxy, not our 10 s receive timeout
}

struct Malformed {
  const char* name;
  std::string request;
  int status;
};

class EgressProxyMalformed : public ::testing::TestWithParam<Malformed> {};

TEST_P(EgressProxyMalformed, AnswersAndCloses) {
  ProxyUnderTest proxy;
  auto answer = raw_exchange(proxy.port(), GetParam().request);
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 " + std::to_string(GetParam().status) + " ")) << GetParam().name;
  EXPECT_THAT(answer, HasSubstr("\r\nConnection: close\r\n"));
  EXPECT_THAT(body_of(answer), StartsWith("bad request: "));
  EXPECT_TRUE(proxy.dialled().empty()) << GetParam().name;
  EXPECT_EQ(proxy.log().size(), 1u);
}

const std::string kGet = "GET http://allowed.com/ HTTP/1.1\r\n";
INSTANTIATE_TEST_SUITE_P(
    D7, EgressProxyMalformed,
    ::testing::Values(
        Malformed{"duplicate Host", kGet + "Host: a\r\nHost: b\r\n\r\n", 400},
        Malformed{"conflicting Content-Length", "POST http://allowed.com/ HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400},
        Malformed{"Content-Length list disagreeing", "POST http://allowed.com/ HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\nab", 400},
        Malformed{"CL and TE", "POST http://allowed.com/ HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        Malformed{"TE and CL", "POST http://allowed.com/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", 400},
        Malformed{"TE not ending in chunked", "POST http://allowed.com/ HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400},
        Malformed{"TE gzip only", "POST http://allowed.com/ HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
        Malformed{"obs-fold", kGet + "X-A: b\r\n  folded\r\n\r\n", 400},
        Malformed{"whitespace before colon", kGet + "Host : a\r\n\r\n", 400},
        Malformed{"whitespace after request line", kGet + " Host: a\r\n\r\n", 400},
        Malformed{"bare LF", "GET http://allowed.com/ HTTP/1.1\nHost: a\n\n\r\n\r\n", 400},
        Malformed{"control byte in value", kGet + "X-A: b\x01" "c\r\n\r\n", 400},
        Malformed{"HTTP/2.0 in text", "GET http://allowed.com/ HTTP/2.0\r\n\r\n", 400},
        Malformed{"not HTTP", "HELLO\r\n\r\n", 400},
        Malformed{"origin-form", "GET / HTTP/1.1\r\nHost: allowed.com\r\n\r\n", 400},
        Malformed{"asterisk-form", "OPTIONS * HTTP/1.1\r\nHost: allowed.com\r\n\r\n", 400},
        Malformed{"unsupported scheme", "GET ftp://allowed.com/ HTTP/1.1\r\n\r\n", 400},
        Malformed{"CONNECT without port", "CONNECT allowed.com HTTP/1.1\r\n\r\n", 400},
        Malformed{"CONNECT with userinfo", "CONNECT user@allowed.com:443 HTTP/1.1\r\n\r\n", 400},
        Malformed{"CONNECT port 0", "CONNECT allowed.com:0 HTTP/1.1\r\n\r\n", 400},
        Malformed{"CONNECT port too big", "CONNECT allowed.com:65536 HTTP/1.1\r\n\r\n", 400},
        Malformed{"zone id", "CONNECT [fe80::1%25eth0]:443 HTTP/1.1\r\n\r\n", 400},
        Malformed{"bracketed IPv4", "CONNECT [127.0.0.1]:443 HTTP/1.1\r\n\r\n", 400},
        Malformed{"head too large", kGet + "X-Big: " + std::string(70 * 1024, 'a') + "\r\n\r\n", 431},
        Malformed{"too many fields", [] {
                    std::string r = kGet;
                    for (int i = 0; i < 101; ++i) r += "X-" + std::to_string(i) + ": v\r\n";
                    return r + "\r\n";
                  }(), 400}));

// ---- bypass attempts: each with its expected outcome ---------------------

struct Attempt {
  const char* name;
  std::string request_line;  // method and target
  int status;                // 403 refused by policy, 400 malformed
};

class EgressProxyBypass : public ::testing::TestWithParam<Attempt> {};

TEST_P(EgressProxyBypass, IsRefused) {
  ProxyUnderTest proxy;
  auto answer = raw_exchange(proxy.port(), GetParam().request_line + " HTTP/1.1\r\nHost: allowed.com\r\n\r\n");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 " + std::to_string(GetParam().status) + " ")) << GetParam().name << "\n" << answer;
  if (GetParam().status == 403) {
    EXPECT_THAT(answer, HasSubstr("X-Enclaver-Egress: denied\r\n"));
    EXPECT_THAT(body_of(answer), StartsWith("blocked by egress policy: "));
  }
  EXPECT_TRUE(proxy.dialled().empty()) << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(
    Catalogue, EgressProxyBypass,
    ::testing::Values(
        Attempt{"decimal IP", "CONNECT 2130706433:443", 403},
        Attempt{"hex IP", "CONNECT 0x7f000001:443", 403},
        Attempt{"short IP", "CONNECT 127.1:443", 403},
        Attempt{"octal IP", "CONNECT 0177.0.0.1:443", 403},
        Attempt{"hex dotted", "CONNECT 0x7f.0.0.1:443", 403},
        Attempt{"leading zero quad", "CONNECT 127.0.0.01:443", 403},
        Attempt{"five parts", "CONNECT 1.2.3.4.5:443", 403},
        Attempt{"out of range quad", "CONNECT 256.0.0.1:443", 403},
        Attempt{"loopback not allowed by pattern", "CONNECT 127.0.0.2:443", 403},
        Attempt{"IPv4-mapped IPv6 of a denied address", "CONNECT [::ffff:127.0.0.2]:443", 403},
        Attempt{"IPv4-compatible IPv6", "CONNECT [::127.0.0.1]:443", 403},
        Attempt{"IPv6 loopback", "CONNECT [::1]:443", 403},
        Attempt{"link-local IMDS", "GET http://169.254.169.254/latest/meta-data/", 403},
        Attempt{"private range", "CONNECT 10.0.0.1:443", 403},
        Attempt{"not allowed name", "CONNECT evil.com:443", 403},
        Attempt{"suffix trick", "CONNECT allowed.com.evil.com:443", 403},
        Attempt{"prefix trick", "CONNECT evilallowed.com:443", 403},
        Attempt{"deep subdomain for *", "CONNECT a.b.allowed.com:443", 403},
        Attempt{"denied subdomain", "CONNECT blocked.allowed.com:443", 403},
        Attempt{"denied subdomain, upper case", "CONNECT BLOCKED.Allowed.COM:443", 403},
        Attempt{"denied subdomain, trailing dot", "CONNECT blocked.allowed.com.:443", 403},
        Attempt{"two trailing dots", "CONNECT allowed.com..:443", 403},
        Attempt{"empty label", "CONNECT a..allowed.com:443", 403},
        Attempt{"leading dot", "CONNECT .allowed.com:443", 403},
        Attempt{"percent-encoded", "CONNECT allowed%2ecom:443", 403},
        Attempt{"percent in absolute", "GET http://allowed%2Ecom/", 403},
        Attempt{"underscore", "CONNECT a_b.allowed.com:443", 403},
        Attempt{"asterisk", "CONNECT *.allowed.com:443", 403},
        Attempt{"IDN homograph (Cyrillic a)", "CONNECT \xd0\xb0llowed.com:443", 403},
        Attempt{"full-width dot", "CONNECT allowed\xef\xbc\x8e" "com.evil.com:443", 403},
        Attempt{"bogus punycode", "CONNECT xn--abc-.allowed.com:443", 403},
        Attempt{"label too long", "CONNECT " + std::string(64, 'a') + ".allowed.com:443", 403},
        Attempt{"name too long", "CONNECT " + [] {
                  std::string s;
                  for (int i = 0; i < 60; ++i) s += "abcd.";
                  return s;
                }() + "allowed.com:443", 403},
        Attempt{"localhost variant", "CONNECT localhost.evil.com:443", 403},
        Attempt{"host", "CONNECT host:443", 403},
        Attempt{"userinfo", "GET http://allowed.com@evil.com/", 403},
        Attempt{"userinfo with port", "GET http://allowed.com:80@evil.com/", 403},
        Attempt{"double userinfo", "GET http://a@allowed.com@evil.com/", 400},
        Attempt{"backslash", "GET http://evil.com\\@allowed.com/", 400},
        Attempt{"CONNECT without port", "CONNECT allowed.com", 400},
        Attempt{"CONNECT userinfo", "CONNECT evil.com@allowed.com:443", 400},
        Attempt{"zone id", "CONNECT [::1%lo]:443", 400},
        Attempt{"unbracketed IPv6", "CONNECT ::1:443", 400},
        Attempt{"bracketed name", "CONNECT [allowed.com]:443", 400},
        Attempt{"origin-form", "GET /", 400},
        Attempt{"scheme-relative", "GET //evil.com/", 400},
        Attempt{"file scheme", "GET file:///etc/passwd", 400},
        Attempt{"signed port", "CONNECT allowed.com:+443", 400},
        Attempt{"hex port", "CONNECT allowed.com:0x50", 400}));

}  // namespace
}  // namespace enclaver::odyn::egress::testing
