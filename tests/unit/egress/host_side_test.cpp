// The host side with real sockets: a simulated vsock between odyn's client
// and the sleeve, real TCP destinations on 127.0.0.x. The refusal catalogue
// is in catalogue_test.cpp; these are the behaviours around it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "tests/unit/egress/tunnel_harness.hpp"

namespace enclaver::egress {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace testing;
using namespace std::string_literals;

std::shared_ptr<Resolver> hosts(const char* text) {
  return std::make_shared<StaticResolver>(StaticResolver::parse(text).value());
}

Fd opened(Opened result) {
  if (auto* error = std::get_if<DialError>(&result)) {
    ADD_FAILURE() << "tunnel refused: " << error->os_code << " " << error->message;
    return Fd();
  }
  return std::move(std::get<Fd>(result));
}

DialError refused(Opened result) {
  if (std::holds_alternative<Fd>(result)) {
    ADD_FAILURE() << "tunnel opened";
    return {};
  }
  return std::get<DialError>(result);
}

std::string framed(const std::string& json) {
  return std::string{static_cast<char>(json.size() & 0xff), static_cast<char>(json.size() >> 8)} + json;
}

// The response frame the host side sent on a raw connection, then whether it hung up.
std::string response_json(int fd) {
  const std::string header = receive_exactly(fd, 2);
  const std::size_t length = static_cast<unsigned char>(header[0]) | static_cast<unsigned char>(header[1]) << 8;
  return receive_exactly(fd, length);
}

TEST(EgressHostSide, AllowedNameBytesFlowBothWaysWithHalfClose) {
  EchoServer echo;
  Harness h({"*.allowed.test", "127.0.0.2"}, {}, hosts("127.0.0.2 ok.allowed.test\n"));
  Fd tunnel = opened(h.open("ok.allowed.test", echo.port()));
  ASSERT_TRUE(tunnel.valid());
  std::string big(300 * 1024, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  send_all(tunnel.get(), big);
  ASSERT_EQ(::shutdown(tunnel.get(), SHUT_WR), 0);  // the echo answers only after end of stream
  int error = -1;
  EXPECT_EQ(receive_all(tunnel.get(), &error), "echo:" + big);
  EXPECT_EQ(error, 0) << "closed cleanly";
  EXPECT_THAT(echo.received(), ElementsAre(big));
  EXPECT_TRUE(h.log().empty());
}

TEST(EgressHostSide, BytesSentBeforeTheAnswerArePayload) {
  EchoServer echo;
  Harness h({"*.allowed.test", "127.0.0.2"}, {}, hosts("127.0.0.2 ok.allowed.test\n"));
  Fd raw = h.raw();
  send_all(raw.get(), *encode_request({"ok.allowed.test", echo.port()}) + "early bytes");
  ::shutdown(raw.get(), SHUT_WR);
  EXPECT_EQ(response_json(raw.get()), "\"Ok\"");
  EXPECT_EQ(receive_all(raw.get()), "echo:early bytes");
}

TEST(EgressHostSide, AMalformedRequestIsAnsweredAndClosedAndTheServerCarriesOn) {
  EchoServer echo;
  HostSideOptions options;
  options.request_timeout = 300ms;
  Harness h({"*.allowed.test", "127.0.0.2"}, {}, hosts("127.0.0.2 ok.allowed.test\n"), options);
  struct Bad {
    std::string bytes;
    const char* reason;
  };
  const Bad answered[] = {
      {"\xff\xff" + std::string(100, 'a'), "more than the limit"},
      {"\x00\x00"s, "empty frame"},
      {"\x05\x00hello"s, "not JSON"},
      {framed(R"({"host":"ok.allowed.test","port":1,"via":"x"})"), "unknown field"},
      {framed(R"({"host":"ok.allowed.test","port":1,"host":"evil.test"})"), "appears twice"},
      {framed(R"({"host":"ok.allowed.test","port":1} x)"), "not JSON"},
      {framed(R"({"host":"ok.allowed.test","port":"1"})"), "port must be an integer"},
      {framed("\"Ok\""), "must be an object"},
  };
  for (const auto& bad : answered) {
    SCOPED_TRACE(bad.reason);
    Fd raw = h.raw();
    send_all(raw.get(), bad.bytes);
    std::string json;
    try {
      json = response_json(raw.get());
    } catch (const std::exception& e) {
      ADD_FAILURE() << bad.reason << ": " << e.what() << "; log: " << ::testing::PrintToString(h.log());
      continue;
    }
    auto response = parse_response(json);
    ASSERT_TRUE(response) << json;
    ASSERT_FALSE(response->ok());
    EXPECT_EQ(response->error->os_code, kEproto);
    EXPECT_THAT(response->error->message, HasSubstr(bad.reason));
    int error = -1;
    EXPECT_EQ(receive_all(raw.get(), &error), "") << "nothing after the Err";
  }
  // Hanging up halfway, or sending nothing: closed without an answer.
  for (const std::string& partial : {""s, "\x30"s, "\x30\x00{\"host\""s}) {
    Fd raw = h.raw();
    send_all(raw.get(), partial);
    if (partial.size() == 2 + 7) ::shutdown(raw.get(), SHUT_WR);
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(receive_all(raw.get()), "");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  }
  EXPECT_THAT(h.log(), Contains(HasSubstr("no request within 300 ms")));
  EXPECT_THAT(h.log(), Contains(HasSubstr("closed before sending a whole request")));
  // Still serving.
  Fd tunnel = opened(h.open("ok.allowed.test", echo.port()));
  send_all(tunnel.get(), "still");
  ::shutdown(tunnel.get(), SHUT_WR);
  EXPECT_EQ(receive_all(tunnel.get()), "echo:still");
}

TEST(EgressHostSide, EgressOffRefusesEverything) {
  EchoServer echo;
  Harness h({}, {}, hosts("127.0.0.2 ok.allowed.test\n"));
  for (const char* host : {"ok.allowed.test", "127.0.0.2", "host"}) {
    auto error = refused(h.open(host, echo.port()));
    EXPECT_EQ(error.os_code, kEacces);
    EXPECT_THAT(error.message, HasSubstr("egress is off"));
  }
  EXPECT_EQ(h.log().size(), 3u) << "one line per refusal";
  EXPECT_TRUE(echo.received().empty());
}

TEST(EgressHostSide, TheNameHostNeedsToBeListedLiterally) {
  EchoServer echo;
  Harness h({"**", "*", "127.0.0.0/8"}, {}, hosts("127.0.0.2 host\n"));
  auto error = refused(h.open("host", echo.port()));
  EXPECT_EQ(error.os_code, kEacces);
  EXPECT_THAT(error.message, HasSubstr("\"host\" listed literally"));
}

TEST(EgressHostSide, TunnelsBeyondTheLimitAreRefusedUntilOneEnds) {
  EchoServer echo;
  HostSideOptions options;
  options.max_tunnels = 1;
  Harness h({"*.allowed.test", "127.0.0.2"}, {}, hosts("127.0.0.2 ok.allowed.test\n"), options);
  Fd first = opened(h.open("ok.allowed.test", echo.port()));
  auto error = refused(h.open("ok.allowed.test", echo.port()));
  EXPECT_EQ(error.os_code, kEagain);
  EXPECT_THAT(error.message, HasSubstr("limit 1"));
  ::shutdown(first.get(), SHUT_WR);
  EXPECT_EQ(receive_all(first.get()), "echo:");
  first.reset();
  // The slot is released when the relay ends, just after.
  for (int attempt = 0;; ++attempt) {
    auto again = h.open("ok.allowed.test", echo.port());
    if (std::holds_alternative<Fd>(again)) break;
    ASSERT_LT(attempt, 50) << std::get<DialError>(again).message;
    std::this_thread::sleep_for(20ms);
  }
}

TEST(EgressHostSide, CheckedAddressesAreTriedInOrder) {
  EchoServer echo("127.0.0.2");  // nothing at 127.0.0.3 on that port
  Harness h({"*.allowed.test", "127.0.0.2", "127.0.0.3"}, {}, hosts("127.0.0.3 two.allowed.test\n127.0.0.2 two.allowed.test\n"));
  Fd tunnel = opened(h.open("two.allowed.test", echo.port()));
  send_all(tunnel.get(), "second");
  ::shutdown(tunnel.get(), SHUT_WR);
  EXPECT_EQ(receive_all(tunnel.get()), "echo:second");
}

TEST(EgressHostSide, IdleTunnelsEnd) {
  EchoServer echo;
  HostSideOptions options;
  options.idle_timeout = 200ms;
  Harness h({"*.allowed.test", "127.0.0.2"}, {}, hosts("127.0.0.2 ok.allowed.test\n"), options);
  Fd tunnel = opened(h.open("ok.allowed.test", echo.port()));
  const auto started = std::chrono::steady_clock::now();
  receive_all(tunnel.get());  // nothing moves: the host side aborts both ends
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

// D1 without sockets: a catch-all never unlocks a special range, an explicit
// special-range pattern does.
TEST(EgressHostSide, CatchAllsNeverUnlockSpecialRangesButExplicitPatternsDo) {
  auto table = StaticResolver::parse(
      "127.0.0.1 lo.test\n10.1.2.3 vpc.test\n169.254.169.254 imds.test\n::1 lo6.test\n8.8.8.8 public.test\n");
  auto check = [&](const std::vector<std::string>& allow, const std::string& host) {
    boost::asio::io_context io;
    auto policy = policy::Policy::create(allow, {}).value();
    const TunnelRequest request{host, 443};  // checked_addresses() holds references: keep it alive
    auto future = boost::asio::co_spawn(io, checked_addresses(policy, *table, request, 1s), boost::asio::use_future);
    io.run();
    return future.get();
  };
  const std::vector<std::string> open = {"**", "0.0.0.0/0", "::/0"};
  for (const char* host : {"lo.test", "vpc.test", "imds.test", "lo6.test", "169.254.169.254", "10.1.2.3", "::1"}) {
    auto r = check(open, host);
    ASSERT_TRUE(std::holds_alternative<DialError>(r)) << host;
    EXPECT_EQ(std::get<DialError>(r).os_code, kEacces) << host;
  }
  EXPECT_TRUE(std::holds_alternative<Addresses>(check(open, "public.test")));
  EXPECT_TRUE(std::holds_alternative<Addresses>(check(open, "8.8.8.8")));
  EXPECT_TRUE(std::holds_alternative<Addresses>(check({"vpc.test", "10.0.0.0/8"}, "vpc.test")));
  EXPECT_TRUE(std::holds_alternative<Addresses>(check({"imds.test", "169.254.169.254"}, "imds.test")));
  EXPECT_TRUE(std::holds_alternative<Addresses>(check({"169.254.169.254"}, "169.254.169.254")));
  EXPECT_TRUE(std::holds_alternative<DialError>(check({"imds.test", "169.254.169.254"}, "vpc.test")));
}

// ---- odyn's client ------------------------------------------------------

boost::asio::awaitable<Opened> as_opened(boost::asio::awaitable<TunnelResult> work) {
  auto result = co_await std::move(work);
  if (auto* error = std::get_if<DialError>(&result)) co_return *error;
  co_return Harness::release(std::get<transport::Socket>(result));
}

TEST(EgressClient, NoHostSideIsConnectionRefusedNamingTheAddress) {
  TempDir dir;
  auto enclave = transport::Vsock::simulated(dir.path(), 16);
  boost::asio::io_context io;
  auto future = boost::asio::co_spawn(io, as_opened(open_tunnel(enclave, {3, 17002}, "a.test", 443, 1s)), boost::asio::use_future);
  io.run();
  auto result = future.get();
  ASSERT_TRUE(std::holds_alternative<DialError>(result));
  EXPECT_EQ(std::get<DialError>(result).os_code, ECONNREFUSED);
  EXPECT_THAT(std::get<DialError>(result).message, HasSubstr("vsock 3:17002"));
}

// A host side that is not ours: it answers `reply` (or nothing) to any request.
DialError against_fake_host_side(std::string reply, bool answer, std::chrono::milliseconds timeout = 2s) {
  TempDir dir;
  auto enclave = transport::Vsock::simulated(dir.path(), 16);
  auto host = transport::Vsock::simulated(dir.path(), 3);
  boost::asio::io_context io;
  auto acceptor = host.listen(io.get_executor(), 17002);
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        auto socket = co_await acceptor.async_accept(boost::asio::use_awaitable);
        std::string request(encode_request({"a.test", 443})->size(), '\0');
        co_await boost::asio::async_read(socket, boost::asio::buffer(request), boost::asio::use_awaitable);
        boost::system::error_code ec;
        if (answer) {
          co_await boost::asio::async_write(socket, boost::asio::buffer(reply), boost::asio::use_awaitable);
          socket.shutdown(boost::asio::socket_base::shutdown_send, ec);
        }
        std::string rest(1, '\0');
        co_await boost::asio::async_read(socket, boost::asio::buffer(rest), boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      },
      boost::asio::detached);
  auto future = boost::asio::co_spawn(io, as_opened(open_tunnel(enclave, {3, 17002}, "a.test", 443, timeout)), boost::asio::use_future);
  io.run();
  auto result = future.get();
  if (!std::holds_alternative<DialError>(result)) {
    ADD_FAILURE() << "opened";
    return {};
  }
  return std::get<DialError>(result);
}

TEST(EgressClient, AHostSideThatDoesNotAnswerTimesOut) {
  auto error = against_fake_host_side("", false, 200ms);
  EXPECT_EQ(error.os_code, kEtimedout);
  EXPECT_TRUE(error.timed_out);
  EXPECT_THAT(error.message, HasSubstr("no answer from the host side within 200 ms"));
}

TEST(EgressClient, GarbageFromTheHostSideIsAProtocolError) {
  EXPECT_EQ(against_fake_host_side("\x03\x00" "abc", true).os_code, kEproto);
  EXPECT_EQ(against_fake_host_side("\xff\xff", true).os_code, kEproto);
  EXPECT_EQ(against_fake_host_side("\x04\x00\"Ok", true).os_code, kEproto) << "closed halfway through the frame";
  auto err = against_fake_host_side(encode_response({DialError{111, "Connection refused", false}}), true);
  EXPECT_EQ(err.os_code, 111);
  EXPECT_EQ(err.message, "Connection refused") << "the host side's Err, as sent";
}

TEST(EgressClient, TheConnectorChecksThePolicyBeforeOpeningATunnel) {
  EchoServer echo;
  Harness h({"*.allowed.test", "127.0.0.2"}, {}, hosts("127.0.0.2 ok.allowed.test\n"));
  TunnelConnector connector(h.enclave(), {transport::kCidParent, kEgressPort},
                            policy::Policy::create({"*.allowed.test"}, {"bad.allowed.test"}).value(), 5s);
  auto connect = [&](const std::string& host) { return h.on_io(connector.connect(host, echo.port())); };
  auto denied = connect("bad.allowed.test");
  ASSERT_TRUE(std::holds_alternative<DialError>(denied));
  EXPECT_EQ(std::get<DialError>(denied).os_code, kEacces);
  EXPECT_THAT(std::get<DialError>(denied).message, HasSubstr("blocked by egress policy: bad.allowed.test:"));
  EXPECT_THAT(std::get<DialError>(denied).message, HasSubstr("denied by egress.deny[0]"));
  auto invalid = connect("127.1");
  ASSERT_TRUE(std::holds_alternative<DialError>(invalid));
  EXPECT_THAT(std::get<DialError>(invalid).message, HasSubstr("invalid host"));
  EXPECT_TRUE(h.log().empty()) << "refused in the enclave: the host side saw nothing";

  auto ok = connect("OK.allowed.test.");  // normalised before it goes into the tunnel
  ASSERT_TRUE(std::holds_alternative<Fd>(ok)) << std::get<DialError>(ok).message;
  Fd fd = std::move(std::get<Fd>(ok));
  send_all(fd.get(), "kms");
  ::shutdown(fd.get(), SHUT_WR);
  EXPECT_EQ(receive_all(fd.get()), "echo:kms");
}

}  // namespace
}  // namespace enclaver::egress
