// The resolvers the host side can use: the static table (tests, integration
// tests) and the system's.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "egress/resolver.hpp"

namespace enclaver::egress {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using policy::IpAddress;

IpAddress ip(const char* text) { return *policy::parse_ip(text); }

Resolution run(Resolver& resolver, const std::string& name, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  boost::asio::io_context io;
  auto future = boost::asio::co_spawn(io, resolver.resolve(name, timeout), boost::asio::use_future);
  io.run();
  return future.get();
}

TEST(StaticResolver, ReadsAHostsFile) {
  auto table = StaticResolver::parse(
      "# comment\n"
      "127.0.0.2   a.test  B.Test.  # trailing comment\n"
      "\n"
      "  \t\r\n"
      "::1\ta.test\r\n"
      "127.0.0.2 a.test\n"
      "::ffff:10.0.0.1 mapped.test");
  ASSERT_TRUE(table) << table.error().message;
  EXPECT_THAT(table->lookup("a.test"), ElementsAre(ip("127.0.0.2"), ip("::1"))) << "order kept, duplicates dropped";
  EXPECT_THAT(table->lookup("b.test"), ElementsAre(ip("127.0.0.2")));
  EXPECT_THAT(table->lookup("A.TEST."), ElementsAre(ip("127.0.0.2"), ip("::1")));
  auto mapped = table->lookup("mapped.test");
  ASSERT_EQ(mapped.size(), 1u);
  EXPECT_FALSE(mapped[0].v6) << "IPv4-mapped is IPv4";
  EXPECT_TRUE(table->lookup("c.test").empty());
}

TEST(StaticResolver, BadLinesAreRefusedSayingWhich) {
  EXPECT_THAT(StaticResolver::parse("127.0.0.1 a\nnot-an-ip b\n").error().message, HasSubstr("hosts line 2"));
  EXPECT_THAT(StaticResolver::parse("127.1 a\n").error().message, HasSubstr("not an IP address"));
  EXPECT_THAT(StaticResolver::parse("127.0.0.1\n").error().message, HasSubstr("without a name"));
  EXPECT_TRUE(StaticResolver::parse(""));
}

TEST(StaticResolver, UnknownNamesDoNotResolveAndNeverReachDns) {
  auto table = StaticResolver::parse("127.0.0.2 a.test\n");
  auto known = run(*table, "a.test");
  ASSERT_TRUE(std::holds_alternative<Addresses>(known));
  auto unknown = run(*table, "localhost");
  ASSERT_TRUE(std::holds_alternative<DialError>(unknown)) << "no fallback to the system's resolver";
  EXPECT_EQ(std::get<DialError>(unknown).os_code, kEhostunreach);
  EXPECT_THAT(std::get<DialError>(unknown).message, HasSubstr("cannot resolve localhost"));
}

// Only localhost (from /etc/hosts): a test must not depend on DNS.
TEST(SystemResolver, ResolvesLocalhostToLoopback) {
  SystemResolver resolver;
  auto local = run(resolver, "localhost");
  if (auto* error = std::get_if<DialError>(&local)) GTEST_SKIP() << "localhost does not resolve here: " << error->message;
  const auto& addresses = std::get<Addresses>(local);
  ASSERT_FALSE(addresses.empty());
  for (const auto& address : addresses) EXPECT_EQ(policy::special_range(address), "loopback");
}

}  // namespace
}  // namespace enclaver::egress
