// parse_target() and decide(): every form and refusal of egress.md's
// "Proxy behaviour" and D4, D6, D11, D13, D15, without sockets.
#include "odyn/egress/target.hpp"

#include <gtest/gtest.h>

namespace enclaver::odyn::egress {
namespace {

// By value: the Decision is a temporary.
Target ok(const Decision& d) {
  if (auto* r = std::get_if<Refusal>(&d)) {
    ADD_FAILURE() << "refused " << r->status << ": " << r->reason;
    return {};
  }
  return std::get<Target>(d);
}

int status(const Decision& d) {
  if (auto* r = std::get_if<Refusal>(&d)) return r->status;
  return 200;
}

TEST(EgressTarget, ConnectAuthorityForm) {
  auto t = ok(parse_target("CONNECT", "Example.COM:443"));
  EXPECT_EQ(t.scheme, Scheme::connect);
  EXPECT_EQ(t.host, "Example.COM");
  EXPECT_EQ(t.dial_host, "example.com");
  EXPECT_EQ(t.port, 443);
  auto v6 = ok(parse_target("CONNECT", "[2001:db8::1]:8443"));
  EXPECT_EQ(v6.host, "[2001:db8::1]");
  EXPECT_EQ(v6.dial_host, "2001:db8::1");
  EXPECT_TRUE(v6.dial_host_is_ip);
  EXPECT_EQ(ok(parse_target("CONNECT", "a.example:0443")).port, 443);  // D13: leading zeros are decimal
}

TEST(EgressTarget, ConnectRefusals) {
  EXPECT_EQ(status(parse_target("CONNECT", "example.com")), 400);            // port required
  EXPECT_EQ(status(parse_target("CONNECT", "example.com:")), 400);
  EXPECT_EQ(status(parse_target("CONNECT", "example.com:0")), 400);
  EXPECT_EQ(status(parse_target("CONNECT", "example.com:65536")), 400);
  EXPECT_EQ(status(parse_target("CONNECT", "example.com:+443")), 400);
  EXPECT_EQ(status(parse_target("CONNECT", "example.com:44 3")), 400);
  EXPECT_EQ(status(parse_target("CONNECT", "example.com:0x1bb")), 400);
  EXPECT_EQ(status(parse_target("CONNECT", "user@example.com:443")), 400);   // D11
  EXPECT_EQ(status(parse_target("CONNECT", "[1.2.3.4]:443")), 400);          // brackets for IPv6 only
  EXPECT_EQ(status(parse_target("CONNECT", "[fe80::1%25eth0]:443")), 400);   // zone id
  EXPECT_EQ(status(parse_target("CONNECT", "[fe80::1%eth0]:443")), 400);
  EXPECT_EQ(status(parse_target("CONNECT", "2001:db8::1:443")), 400);        // unbracketed IPv6
  EXPECT_EQ(status(parse_target("CONNECT", "[::1]443")), 400);
  EXPECT_EQ(status(parse_target("CONNECT", "exa\tmple.com:443")), 400);
  EXPECT_EQ(status(parse_target("CONNECT", "http://example.com:443")), 400);
  EXPECT_EQ(status(parse_target("CONNECT", "/path")), 400);
  EXPECT_EQ(status(parse_target("CONNECT", ":443")), 400);
  // Valid syntax, host refused by normalisation: 403 (D4, D5, D6, D12).
  EXPECT_EQ(status(parse_target("CONNECT", "exa%6dple.com:443")), 403);
  EXPECT_EQ(status(parse_target("CONNECT", "127.1:443")), 403);
  EXPECT_EQ(status(parse_target("CONNECT", "0x7f.0.0.1:443")), 403);
  EXPECT_EQ(status(parse_target("CONNECT", "2130706433:443")), 403);
  EXPECT_EQ(status(parse_target("CONNECT", "a_b.example.com:443")), 403);
  EXPECT_EQ(status(parse_target("CONNECT", "a..example.com:443")), 403);
  auto refused = std::get<Refusal>(parse_target("CONNECT", "127.1:443"));
  EXPECT_EQ(host_port(refused), "127.1:443");
  EXPECT_FALSE(refused.reason.empty());
}

TEST(EgressTarget, AbsoluteForm) {
  auto t = ok(parse_target("GET", "http://Example.com/a/b?c=d"));
  EXPECT_EQ(t.scheme, Scheme::http);
  EXPECT_EQ(t.port, 80);
  EXPECT_EQ(t.path, "/a/b?c=d");
  EXPECT_EQ(t.host_header, "Example.com");
  auto s = ok(parse_target("POST", "HTTPS://example.com"));
  EXPECT_EQ(s.scheme, Scheme::https);
  EXPECT_EQ(s.port, 443);
  EXPECT_EQ(s.path, "/");
  auto q = ok(parse_target("GET", "http://example.com:8080?x=1"));
  EXPECT_EQ(q.path, "/?x=1");
  EXPECT_EQ(q.host_header, "example.com:8080");
  auto v6 = ok(parse_target("GET", "http://[::1]:81/"));
  EXPECT_EQ(v6.host_header, "[::1]:81");
  EXPECT_EQ(v6.dial_host, "::1");
  EXPECT_EQ(ok(parse_target("GET", "http://example.com:80/")).host_header, "example.com");
}

TEST(EgressTarget, UserinfoIsNotATrick) {
  auto t = ok(parse_target("GET", "http://allowed.com@evil.com/"));
  EXPECT_EQ(t.host, "evil.com");
  EXPECT_EQ(t.host_header, "evil.com");
  auto u = ok(parse_target("GET", "http://user:pass@example.com:8080/x"));
  EXPECT_EQ(u.host, "example.com");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(u.host_header, "example.com:8080");
  EXPECT_EQ(status(parse_target("GET", "http://a@b@evil.com/")), 400);  // D11
  EXPECT_EQ(status(parse_target("GET", "http://a@evil.com/x@y")), 400);  // D11 counts the whole URI
  EXPECT_EQ(ok(parse_target("GET", "http://registry.example/@types/node")).path, "/@types/node");
}

TEST(EgressTarget, AbsoluteRefusals) {
  EXPECT_EQ(status(parse_target("GET", "/index.html")), 400);  // origin-form
  EXPECT_EQ(status(parse_target("OPTIONS", "*")), 400);
  EXPECT_EQ(status(parse_target("GET", "ftp://example.com/")), 400);
  EXPECT_EQ(status(parse_target("GET", "ws://example.com/")), 400);
  EXPECT_EQ(status(parse_target("GET", "http:/example.com/")), 400);
  EXPECT_EQ(status(parse_target("GET", "http:///path")), 400);
  EXPECT_EQ(status(parse_target("GET", "http://:80/")), 400);
  EXPECT_EQ(status(parse_target("GET", "http://example.com:/")), 400);
  EXPECT_EQ(status(parse_target("GET", "http://example.com:99999/")), 400);
  EXPECT_EQ(status(parse_target("GET", "http://example.com/#frag")), 400);
  EXPECT_EQ(status(parse_target("GET", "http://exa mple.com/")), 400);
  EXPECT_EQ(status(parse_target("GET", std::string("http://example.com\0/", 19))), 400);
  EXPECT_EQ(status(parse_target("GET", "http://[1.2.3.4]/")), 400);
  EXPECT_EQ(status(parse_target("GET", "http://[::1%251]/")), 400);
  EXPECT_EQ(status(parse_target("GET", "http://ex\\ample.com/")), 400);
  EXPECT_EQ(status(parse_target("GET", "http://evil.com\\@allowed.com/")), 400);
  EXPECT_EQ(status(parse_target("GET", "")), 400);
  EXPECT_EQ(status(parse_target("GET", "http://exa%6dple.com/")), 403);  // D6
  EXPECT_EQ(status(parse_target("GET", "http://0177.0.0.1/")), 403);     // D5
}

TEST(EgressTarget, DecideAppliesThePolicy) {
  auto policy = policy::Policy::create({"**.example.com", "10.0.0.0/8"}, {"bad.example.com"});
  ASSERT_TRUE(policy);
  EXPECT_EQ(status(decide("CONNECT", "a.example.com:443", *policy)), 200);
  EXPECT_EQ(status(decide("CONNECT", "example.com:443", *policy)), 403);
  EXPECT_EQ(status(decide("CONNECT", "bad.example.com:443", *policy)), 403);
  EXPECT_EQ(status(decide("GET", "http://10.1.2.3/", *policy)), 200);
  EXPECT_EQ(status(decide("GET", "http://a.example.com@11.0.0.1/", *policy)), 403);
  EXPECT_EQ(status(decide("CONNECT", "a.example.com", *policy)), 400);  // syntax before policy
  auto refused = std::get<Refusal>(decide("CONNECT", "evil.com:443", *policy));
  EXPECT_EQ(host_port(refused), "evil.com:443");
}

TEST(EgressTarget, Ports) {
  EXPECT_EQ(parse_port("1"), 1);
  EXPECT_EQ(parse_port("65535"), 65535);
  EXPECT_EQ(parse_port("0000000000000000000080"), 80);
  EXPECT_FALSE(parse_port("65536"));
  EXPECT_FALSE(parse_port("99999999999999999999999"));
  EXPECT_FALSE(parse_port("-1"));
  EXPECT_FALSE(parse_port(""));
  EXPECT_FALSE(parse_port("0"));
}

}  // namespace
}  // namespace enclaver::odyn::egress
