// The relay under load: a gibibyte with checksums, a thousand connections
// at once, a slow reader (memory must stay flat), no descriptors left for
// pipes.
#include <atomic>

#include <gtest/gtest.h>

#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "common/temp_dir.hpp"
#include "relay_test_support.hpp"
#include "transport/relay.hpp"

namespace enclaver::transport {
namespace {

using namespace testing;

class RelayLoad : public BothPaths {};

INSTANTIATE_TEST_SUITE_P(Splice, RelayLoad, ::testing::Values(true));
INSTANTIATE_TEST_SUITE_P(Copy, RelayLoad, ::testing::Values(false));

// 1 GiB from a to b while 64 MiB go the other way; SHA-256 at both ends.
TEST_P(RelayLoad, AGibibyteArrivesIntact) {
  constexpr std::uint64_t kUp = 1ull << 30, kDown = 64ull << 20;
  auto client = tcp_link(io);
  auto server = tcp_link(io);
  BackgroundRelay relay(io, client.relay_side, server.relay_side, options());

  auto up_sent = std::async(std::launch::async, [&] { return send_stream(client.peer.get(), kUp, 11); });
  auto down_sent = std::async(std::launch::async, [&] { return send_stream(server.peer.get(), kDown, 12); });
  auto down_received = std::async(std::launch::async, [&] { return receive_stream(client.peer.get()); });
  const Transfer up_received = receive_stream(server.peer.get());

  EXPECT_EQ(up_received.bytes, kUp);
  EXPECT_EQ(up_received.sha256, up_sent.get().sha256);
  const Transfer down = down_received.get();
  EXPECT_EQ(down.bytes, kDown);
  EXPECT_EQ(down.sha256, down_sent.get().sha256);

  auto stats = relay.wait();
  ASSERT_TRUE(stats);
  EXPECT_FALSE(stats->reset) << stats->error;
  EXPECT_EQ(stats->a_to_b, kUp);
  EXPECT_EQ(stats->b_to_a, kDown);
  EXPECT_EQ(stats->spliced, splicing());
}

// The writer is far faster than the reader: the bytes in flight and this
// process's memory must stay at what the socket buffers and the relay's one
// pipe (or buffer) per direction hold.
TEST_P(RelayLoad, ASlowReaderHoldsTheWriterBackWithoutMemoryGrowth) {
  constexpr std::uint64_t kTotal = 256ull << 20;
  constexpr int kSocketBuffer = 256 * 1024;  // fixed, so that autotuning (up to 32 MiB) does not hide a leak
  auto client = tcp_link(io);
  auto server = tcp_link(io);
  for (int fd : {client.peer.get(), server.peer.get(), client.relay_side.native_handle(), server.relay_side.native_handle()})
    set_buffer_sizes(fd, kSocketBuffer);
  const std::string chunk = pattern(1 << 20, 13);
  std::vector<char> buffer(64 * 1024);
  BackgroundRelay relay(io, client.relay_side, server.relay_side, options());

  std::atomic<std::uint64_t> sent{0};
  auto writer = std::async(std::launch::async, [&] {
    while (sent < kTotal) {
      send_all(client.peer.get(), chunk);
      sent += chunk.size();
    }
    shutdown_write(client.peer.get());
  });
  const std::size_t resident_before = resident_bytes();
  std::size_t resident_peak = resident_before;
  std::uint64_t received = 0, largest_gap = 0;
  for (std::uint64_t next_pause = 0;;) {
    ssize_t n = ::recv(server.peer.get(), buffer.data(), buffer.size(), 0);
    ASSERT_GE(n, 0) << std::strerror(errno);
    if (n == 0) break;
    received += static_cast<std::uint64_t>(n);
    if (received >= next_pause) {  // at most 512 KiB per millisecond
      next_pause = received + 512 * 1024;
      resident_peak = std::max(resident_peak, resident_bytes());
      largest_gap = std::max(largest_gap, sent - std::min<std::uint64_t>(sent, received));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  writer.get();
  shutdown_write(server.peer.get());
  EXPECT_EQ(received, kTotal);
  EXPECT_LT(resident_peak - resident_before, 16u << 20) << "resident set grew from " << resident_before;
  EXPECT_LT(largest_gap, 16u << 20) << "bytes written but not yet read";
  RecordProperty("resident_growth_kib", static_cast<int>((resident_peak - resident_before) >> 10));
  RecordProperty("largest_gap_kib", static_cast<int>(largest_gap >> 10));

  auto stats = relay.wait();
  ASSERT_TRUE(stats);
  EXPECT_FALSE(stats->reset) << stats->error;
  EXPECT_EQ(stats->a_to_b, kTotal);
}

// A host-side proxy as the project's will be: a TCP listener, each client
// relayed to a simulated vsock echo service, all on one io_context thread.
struct EchoProxy {
  asio::io_context& io;
  const Vsock& vsock;
  std::vector<RelayStats> finished;  // read by the test once the io_context thread is joined
  std::atomic<int> count{0};         // ... which waits for this to reach the number of clients

  static asio::awaitable<void> echo(Socket socket) {
    std::vector<char> buffer(4096);
    boost::system::error_code ec;
    for (;;) {
      std::size_t n = co_await socket.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      co_await asio::async_write(socket, asio::buffer(buffer.data(), n), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    socket.shutdown(Socket::shutdown_send, ec);
  }

  asio::awaitable<void> serve_echo(Acceptor& listener) {
    for (;;) co_spawn(io, echo(co_await listener.async_accept(asio::use_awaitable)), asio::detached);
  }

  asio::awaitable<void> proxy(tcp::socket client) {
    RelayStats stats;
    try {
      Socket enclave = co_await vsock.connect({kFirstEnclaveCid, 7});
      stats = co_await relay(client, enclave);
    } catch (const std::exception& e) {
      stats.reset = true;
      stats.error = e.what();
    }
    finished.push_back(stats);
    ++count;
  }

  asio::awaitable<void> serve_proxy(tcp::acceptor& listener) {
    for (;;) co_spawn(io, proxy(co_await listener.async_accept(asio::use_awaitable)), asio::detached);
  }
};

TEST(RelayLoad, AThousandConcurrentConnectionsAreAllEchoed) {
  constexpr int kConnections = 1000;
  NoFileLimit limit;  // clients, both sides of the proxy, the echo service, 2 pipes each
  ASSERT_GE(limit.soft(), 8 * kConnections + 100u) << "RLIMIT_NOFILE hard limit too low for this test";
  TempDir dir;
  const Vsock vsock = Vsock::simulated(dir.path(), kFirstEnclaveCid);
  asio::io_context io;
  Acceptor echo_listener = vsock.listen(io.get_executor(), 7);
  tcp::acceptor proxy_listener(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  EchoProxy proxy{io, vsock};
  co_spawn(io, proxy.serve_echo(echo_listener), asio::detached);
  co_spawn(io, proxy.serve_proxy(proxy_listener), asio::detached);
  std::thread runner([&io] { io.run(); });

  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(proxy_listener.local_endpoint().port());
  std::vector<Fd> clients;
  for (int i = 0; i < kConnections; ++i) {
    Fd fd = with_timeouts(Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)));
    ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), 0) << i << ": " << std::strerror(errno);
    clients.push_back(std::move(fd));
  }
  // All open at once; then every one speaks, then every one listens.
  for (int i = 0; i < kConnections; ++i) {
    send_all(clients[i].get(), pattern(1000, i));
    shutdown_write(clients[i].get());
  }
  int echoed = 0;
  for (int i = 0; i < kConnections; ++i) echoed += receive_all(clients[i].get()) == pattern(1000, i);
  EXPECT_EQ(echoed, kConnections);
  clients.clear();

  for (int waited = 0; proxy.count < kConnections && waited < 10'000; waited += 10)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  io.stop();
  runner.join();
  ASSERT_EQ(proxy.finished.size(), static_cast<std::size_t>(kConnections));
  int clean = 0, spliced = 0;
  for (const RelayStats& stats : proxy.finished) {
    clean += !stats.reset && stats.a_to_b == 1000 && stats.b_to_a == 1000;
    spliced += stats.spliced;
  }
  EXPECT_EQ(clean, kConnections) << to_string(proxy.finished.front());
  EXPECT_EQ(spliced, kConnections);
}

// Out of descriptors, a splicing direction gets no pipe: it copies instead
// of failing the connection.
TEST(RelayLoad, WithoutDescriptorsForPipesTheRelayCopies) {
#if defined(__SANITIZE_ADDRESS__)
  // UBSan checks a pointer with a pipe of its own (IsAccessibleMemoryRange):
  // without descriptors every such check reports an error.
  GTEST_SKIP() << "the sanitizers' runtime needs descriptors as well";
#endif
  asio::io_context io;
  auto client = tcp_link(io);
  auto server = tcp_link(io);
  const std::string up = pattern(1'000'000, 14), down = pattern(2'000'000, 15);
  NoFileLimit limit(static_cast<rlim_t>(highest_open_fd()) + 16);
  std::vector<Fd> every_descriptor_left;
  for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) every_descriptor_left.emplace_back(fd);
  ASSERT_EQ(errno, EMFILE);

  BackgroundRelay relay(io, client.relay_side, server.relay_side);
  auto server_side = std::async(std::launch::async, [&] {
    send_all(server.peer.get(), down);
    shutdown_write(server.peer.get());
    return receive_all(server.peer.get());
  });
  send_all(client.peer.get(), up);
  shutdown_write(client.peer.get());
  EXPECT_TRUE(receive_all(client.peer.get()) == down);
  EXPECT_TRUE(server_side.get() == up);
  auto stats = relay.wait();
  ASSERT_TRUE(stats);
  EXPECT_FALSE(stats->reset) << stats->error;
  EXPECT_FALSE(stats->spliced);
  EXPECT_EQ(stats->a_to_b, up.size());
}

}  // namespace
}  // namespace enclaver::transport
