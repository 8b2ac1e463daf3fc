// The relay's contract (relay.hpp), as the programs on both sides of a proxy
// see it: half-close, reset, idle timeout, cancellation, byte counts. Each
// behaviour runs on both paths: splice(2) ("Splice/") and the buffered copy
// ("Copy/").
#include "transport/relay.hpp"

#include <signal.h>

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>

#include "common/temp_dir.hpp"
#include "relay_test_support.hpp"

namespace enclaver::transport {
namespace {

using namespace testing;
using std::chrono::steady_clock;

::testing::AssertionResult same_bytes(const std::string& got, const std::string& want) {
  if (got == want) return ::testing::AssertionSuccess();
  auto [g, w] = std::mismatch(got.begin(), got.end(), want.begin(), want.end());
  return ::testing::AssertionFailure() << "got " << got.size() << " bytes, want " << want.size()
                                       << "; first difference at byte " << (g - got.begin());
}

class RelayPaths : public BothPaths {};

INSTANTIATE_TEST_SUITE_P(Splice, RelayPaths, ::testing::Values(true));
INSTANTIATE_TEST_SUITE_P(Copy, RelayPaths, ::testing::Values(false));

TEST_P(RelayPaths, EndOfStreamFromAHalfClosesBWhileBToAKeepsFlowing) {
  auto client = tcp_link(io);
  auto server = tcp_link(io);
  BackgroundRelay relay(io, client.relay_side, server.relay_side, options());
  const std::string request = pattern(100'000, 1), response = pattern(3'000'000, 2);

  auto server_side = std::async(std::launch::async, [&] {
    // Ends only if the relay passed the client's half-close on to b...
    std::string got = receive_all(server.peer.get());
    // ... and the other direction still carries bytes afterwards.
    send_all(server.peer.get(), response);
    server.peer.reset();
    return got;
  });
  send_all(client.peer.get(), request);
  shutdown_write(client.peer.get());
  EXPECT_TRUE(same_bytes(receive_all(client.peer.get()), response));
  EXPECT_TRUE(same_bytes(server_side.get(), request));

  expect_clean_end(relay.wait(), request.size(), response.size(), splicing());
}

TEST_P(RelayPaths, EndOfStreamFromBHalfClosesAWhileAToBKeepsFlowing) {
  auto client = tcp_link(io);
  auto server = tcp_link(io);
  BackgroundRelay relay(io, client.relay_side, server.relay_side, options());
  const std::string greeting = pattern(200'000, 3), upload = pattern(3'000'000, 4);

  auto server_side = std::async(std::launch::async, [&] {
    send_all(server.peer.get(), greeting);
    shutdown_write(server.peer.get());
    return receive_all(server.peer.get());
  });
  EXPECT_TRUE(same_bytes(receive_all(client.peer.get()), greeting));
  send_all(client.peer.get(), upload);
  client.peer.reset();
  EXPECT_TRUE(same_bytes(server_side.get(), upload));

  auto stats = relay.wait();
  ASSERT_TRUE(stats);
  EXPECT_FALSE(stats->reset) << stats->error;
  EXPECT_EQ(stats->a_to_b, upload.size());
  EXPECT_EQ(stats->b_to_a, greeting.size());
}

TEST_P(RelayPaths, CountsEveryByteInBothDirectionsAtOnce) {
  auto client = tcp_link(io);
  auto server = tcp_link(io);
  BackgroundRelay relay(io, client.relay_side, server.relay_side, options());
  const std::string up = pattern(1'234'567, 5), down = pattern(7'654'321, 6);

  auto client_writes = std::async(std::launch::async, [&] {
    send_all(client.peer.get(), up);
    shutdown_write(client.peer.get());
  });
  auto server_writes = std::async(std::launch::async, [&] {
    send_all(server.peer.get(), down);
    shutdown_write(server.peer.get());
  });
  auto server_reads = std::async(std::launch::async, [&] { return receive_all(server.peer.get()); });
  EXPECT_TRUE(same_bytes(receive_all(client.peer.get()), down));
  EXPECT_TRUE(same_bytes(server_reads.get(), up));
  client_writes.get();
  server_writes.get();

  auto stats = relay.wait();
  ASSERT_TRUE(stats);
  EXPECT_EQ(to_string(*stats), std::string("a->b 1234567 B, b->a 7654321 B, ") +
                                   (splicing() ? "spliced" : "copied") + ", closed cleanly");
}

TEST_P(RelayPaths, ResetByAReachesBAsConnectionReset) {
  auto client = tcp_link(io);
  auto server = tcp_link(io);
  BackgroundRelay relay(io, client.relay_side, server.relay_side, options());
  send_all(client.peer.get(), "hello");
  EXPECT_EQ(receive_exactly(server.peer.get(), 5), "hello");

  close_with_reset(client.peer);
  EXPECT_EQ(receive_until_end(server.peer.get()), ECONNRESET);

  auto stats = relay.wait();
  ASSERT_TRUE(stats);
  EXPECT_TRUE(stats->reset);
  EXPECT_FALSE(stats->timed_out);
  EXPECT_EQ(stats->error, "reading a: Connection reset by peer");
  EXPECT_EQ(stats->a_to_b, 5u);
}

TEST_P(RelayPaths, ResetByBReachesAAsConnectionReset) {
  auto client = tcp_link(io);
  auto server = tcp_link(io);
  BackgroundRelay relay(io, client.relay_side, server.relay_side, options());
  send_all(server.peer.get(), "hi");
  EXPECT_EQ(receive_exactly(client.peer.get(), 2), "hi");

  close_with_reset(server.peer);
  EXPECT_EQ(receive_until_end(client.peer.get()), ECONNRESET);

  auto stats = relay.wait();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->error, "reading b: Connection reset by peer");
}

// What relay.hpp promises a Unix (simulated vsock) peer after a reset: the
// bytes already queued to it, then end of stream; its writes fail (EPIPE).
TEST_P(RelayPaths, ResetReachesAUnixPeerAsEndOfStream) {
  auto client = tcp_link(io);
  auto enclave = unix_link(io);
  BackgroundRelay relay(io, client.relay_side, enclave.relay_side, options());
  send_all(client.peer.get(), "queued");
  EXPECT_EQ(receive_exactly(enclave.peer.get(), 3), "que");

  close_with_reset(client.peer);
  auto stats = relay.wait();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->error, "reading a: Connection reset by peer");
  EXPECT_EQ(receive_all(enclave.peer.get()), "ued");
  EXPECT_EQ(::send(enclave.peer.get(), "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EPIPE);
}

// splice(2) into a socket whose peer is gone raises SIGPIPE, which would
// kill this process (its disposition is the default here).
TEST_P(RelayPaths, WritingToAVanishedPeerFailsWithoutSigpipe) {
  struct sigaction current {};
  ASSERT_EQ(::sigaction(SIGPIPE, nullptr, &current), 0);
  ASSERT_EQ(current.sa_handler, SIG_DFL);

  auto client = tcp_link(io);
  auto enclave = unix_link(io);
  BackgroundRelay relay(io, client.relay_side, enclave.relay_side, options());
  enclave.peer.reset();
  // The relay passes the peer's end of stream on; then our bytes have nowhere to go.
  EXPECT_EQ(receive_until_end(client.peer.get()), 0);
  try {
    send_all(client.peer.get(), pattern(4 << 20, 7));
  } catch (const std::system_error&) {
    // The relay's RST may arrive while we still send: as intended.
  }
  auto stats = relay.wait();
  ASSERT_TRUE(stats);
  EXPECT_TRUE(stats->reset);
  EXPECT_EQ(stats->error, "writing b: Broken pipe");
}

TEST_P(RelayPaths, IdleTimeoutAbortsBothEnds) {
  auto client = tcp_link(io);
  auto server = tcp_link(io);
  RelayOptions o = options();
  o.idle_timeout = 200ms;
  const auto start = steady_clock::now();
  BackgroundRelay relay(io, client.relay_side, server.relay_side, o);

  auto stats = relay.wait(5s);
  const auto took = steady_clock::now() - start;
  ASSERT_TRUE(stats);
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 3s);
  EXPECT_TRUE(stats->timed_out);
  EXPECT_TRUE(stats->reset);
  EXPECT_EQ(to_string(*stats), std::string("a->b 0 B, b->a 0 B, ") + (splicing() ? "spliced" : "copied") +
                                   ", timed out: idle for 200 ms");
  EXPECT_EQ(receive_until_end(client.peer.get()), ECONNRESET);
  EXPECT_EQ(receive_until_end(server.peer.get()), ECONNRESET);
}

TEST_P(RelayPaths, TrafficKeepsTheIdleTimeoutAway) {
  auto client = tcp_link(io);
  auto server = tcp_link(io);
  RelayOptions o = options();
  o.idle_timeout = 300ms;
  BackgroundRelay relay(io, client.relay_side, server.relay_side, o);

  // 8 bytes 100 ms apart: 800 ms in all, never 300 ms without one.
  for (int i = 0; i < 8; ++i) {
    send_all(client.peer.get(), "x");
    EXPECT_EQ(receive_exactly(server.peer.get(), 1), "x");
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_FALSE(relay.done_within(0ms));
  auto stats = relay.wait(3s);
  ASSERT_TRUE(stats);
  EXPECT_TRUE(stats->timed_out);
  EXPECT_EQ(stats->a_to_b, 8u);
}

// The host side of an ingress proxy: TCP in, simulated vsock (a Unix
// socket at <dir>/16/5000.sock) out.
TEST_P(RelayPaths, RelaysBetweenTcpAndSimulatedVsock) {
  TempDir dir;
  const Vsock vsock = Vsock::simulated(dir.path(), kFirstEnclaveCid);
  auto client = tcp_link(io);
  auto enclave = vsock_link(io, vsock, 5000);
  BackgroundRelay relay(io, client.relay_side, enclave.relay_side, options());
  const std::string request = pattern(500'000, 8), response = pattern(2'000'000, 9);

  auto enclave_side = std::async(std::launch::async, [&] {
    std::string got = receive_all(enclave.peer.get());
    send_all(enclave.peer.get(), response);
    shutdown_write(enclave.peer.get());
    return got;
  });
  send_all(client.peer.get(), request);
  shutdown_write(client.peer.get());
  EXPECT_TRUE(same_bytes(receive_all(client.peer.get()), response));
  EXPECT_TRUE(same_bytes(enclave_side.get(), request));

  expect_clean_end(relay.wait(), request.size(), response.size(), splicing());
}

// A stream that is not a socket, as a TLS stream is not: it reads and
// writes through a TCP socket it does not hand out.
class HiddenSocketStream {
 public:
  using executor_type = tcp::socket::executor_type;
  explicit HiddenSocketStream(tcp::socket& socket) : socket(socket) {}
  executor_type get_executor() { return socket.get_executor(); }
  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return socket.async_read_some(buffers, std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return socket.async_write_some(buffers, std::forward<Token>(token));
  }

  tcp::socket& socket;
  int half_closes = 0;
};

}  // namespace

template <>
struct RelayStreamTraits<HiddenSocketStream> {
  static asio::awaitable<boost::system::error_code> half_close(HiddenSocketStream& stream) {
    ++stream.half_closes;
    return RelayStreamTraits<tcp::socket>::half_close(stream.socket);
  }
  static void abort(HiddenSocketStream& stream) noexcept { RelayStreamTraits<tcp::socket>::abort(stream.socket); }
};

namespace {

TEST(Relay, RelaysAnyStreamWithTraitsByCopying) {
  asio::io_context io;
  auto client = tcp_link(io);
  auto server = tcp_link(io);
  HiddenSocketStream hidden(client.relay_side);
  BackgroundRelay relay(io, hidden, server.relay_side);
  const std::string request = pattern(300'000, 16), response = pattern(700'000, 17);

  auto server_side = std::async(std::launch::async, [&] {
    send_all(server.peer.get(), response);
    shutdown_write(server.peer.get());
    return receive_all(server.peer.get());
  });
  EXPECT_TRUE(same_bytes(receive_all(client.peer.get()), response));
  send_all(client.peer.get(), request);
  shutdown_write(client.peer.get());
  EXPECT_TRUE(same_bytes(server_side.get(), request));

  auto stats = relay.wait();
  ASSERT_TRUE(stats);
  EXPECT_FALSE(stats->reset) << stats->error;
  EXPECT_FALSE(stats->spliced);
  EXPECT_EQ(stats->a_to_b, request.size());
  EXPECT_EQ(hidden.half_closes, 1);
}

TEST(Relay, CancellingTheRelayAbortsBothEnds) {
  asio::io_context io;
  auto client = tcp_link(io);
  auto server = tcp_link(io);
  asio::cancellation_signal cancel;
  auto result = asio::co_spawn(io, relay(client.relay_side, server.relay_side),
                               asio::bind_cancellation_slot(cancel.slot(), asio::use_future));
  std::thread runner([&io] { io.run(); });
  send_all(client.peer.get(), "ping");
  EXPECT_EQ(receive_exactly(server.peer.get(), 4), "ping");

  asio::post(io, [&cancel] { cancel.emit(asio::cancellation_type::terminal); });
  const bool done = result.wait_for(5s) == std::future_status::ready;
  if (!done) io.stop();
  runner.join();
  ASSERT_TRUE(done);
  RelayStats stats = result.get();
  EXPECT_TRUE(stats.reset);
  EXPECT_EQ(stats.error, "cancelled");
  EXPECT_EQ(receive_until_end(client.peer.get()), ECONNRESET);
  EXPECT_EQ(receive_until_end(server.peer.get()), ECONNRESET);
}

TEST(Relay, StatsReadAsOneLogLine) {
  RelayStats stats;
  stats.a_to_b = 123;
  stats.b_to_a = 456;
  stats.spliced = true;
  EXPECT_EQ(to_string(stats), "a->b 123 B, b->a 456 B, spliced, closed cleanly");
  stats.spliced = false;
  stats.reset = true;
  stats.error = "writing b: Broken pipe";
  EXPECT_EQ(to_string(stats), "a->b 123 B, b->a 456 B, copied, reset: writing b: Broken pipe");
}

}  // namespace
}  // namespace enclaver::transport

namespace enclaver::transport::testing {
namespace {

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// A splicing relay opens its pipes when bytes first arrive: an idle
// connection holds its two sockets and nothing more, so a proxy can hold
// many. Then the pipes come, and the bytes flow as usual.
TEST(RelayIdle, AnIdleConnectionHoldsNoPipeUntilBytesArrive) {
  asio::io_context io;
  auto client = tcp_link(io);
  auto server = tcp_link(io);
  const std::size_t before = open_descriptors();
  BackgroundRelay relay(io, client.relay_side, server.relay_side, RelayOptions{});
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(open_descriptors(), before) << "pipes opened for an idle connection";
  send_all(client.peer.get(), "hello");
  EXPECT_EQ(receive_exactly(server.peer.get(), 5), "hello");
  EXPECT_EQ(open_descriptors(), before + 2) << "one pipe for the direction that carried bytes";
  shutdown_write(client.peer.get());
  shutdown_write(server.peer.get());
  expect_clean_end(relay.wait(), 5, 0, true);
}

}  // namespace
}  // namespace enclaver::transport::testing
