// Runs the catalogue (catalogue.hpp) against the host side: every case
// through odyn's client, a simulated vsock and the sleeve's host side, with
// the catalogue's policy and static hosts table.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/egress/catalogue.hpp"
#include "tests/unit/egress/tunnel_harness.hpp"

namespace enclaver::egress {
namespace {

using ::testing::HasSubstr;
using namespace testing;
using catalogue::Target;

class EgressCatalogue : public ::testing::TestWithParam<catalogue::Case> {
 protected:
  static void SetUpTestSuite() {
    echo_ = new EchoServer();
    blackhole_ = new Blackhole();
    closed_ = closed_port();
    HostSideOptions options;
    options.connect_timeout = 300ms;
    harness_ = new Harness(catalogue::kAllow, catalogue::kDeny,
                           std::make_shared<StaticResolver>(StaticResolver::parse(catalogue::kHosts).value()), options);
  }
  static void TearDownTestSuite() {
    delete harness_;
    delete blackhole_;
    delete echo_;
  }

  static std::uint16_t port(Target target) {
    switch (target) {
      case Target::echo: return echo_->port();
      case Target::closed: return closed_;
      case Target::blackhole: return blackhole_->port();
      case Target::none: return 443;
    }
    return 443;
  }

  static inline EchoServer* echo_ = nullptr;
  static inline Blackhole* blackhole_ = nullptr;
  static inline std::uint16_t closed_ = 0;
  static inline Harness* harness_ = nullptr;
};

TEST_P(EgressCatalogue, HostSideAnswersAsCatalogued) {
  const auto& c = GetParam();
  SCOPED_TRACE(c.description);
  const auto log_before = harness_->log().size();
  auto result = harness_->open(c.host, port(c.target));
  if (c.os_code == 0) {
    ASSERT_TRUE(std::holds_alternative<Fd>(result)) << std::get<DialError>(result).message;
    Fd& fd = std::get<Fd>(result);
    send_all(fd.get(), c.description);
    ::shutdown(fd.get(), SHUT_WR);
    EXPECT_EQ(receive_all(fd.get()), std::string("echo:") + c.description);
    EXPECT_EQ(harness_->log().size(), log_before) << "an allowed tunnel logs nothing";
    return;
  }
  ASSERT_TRUE(std::holds_alternative<DialError>(result)) << "opened a tunnel to " << c.host;
  const auto& error = std::get<DialError>(result);
  EXPECT_EQ(error.os_code, c.os_code) << error.message;
  EXPECT_THAT(error.message, HasSubstr(c.reason));
  EXPECT_EQ(error.timed_out, c.os_code == kEtimedout);
  // One log line per refusal (the log is written just before the answer).
  const auto log = harness_->log();
  ASSERT_EQ(log.size(), log_before + 1);
  EXPECT_THAT(log.back(), HasSubstr(c.reason));
}

INSTANTIATE_TEST_SUITE_P(Catalogue, EgressCatalogue, ::testing::ValuesIn(catalogue::kCases));

TEST(EgressCatalogueShape, IsLargeAndItsHostsTableParses) {
  EXPECT_GE(catalogue::kCases.size(), 40u);
  EXPECT_TRUE(StaticResolver::parse(catalogue::kHosts));
  EXPECT_TRUE(policy::Policy::create(catalogue::kAllow, catalogue::kDeny));
}

}  // namespace
}  // namespace enclaver::egress
