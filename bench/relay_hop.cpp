// relay_hop: the relay as the proxies use it, for bench/relay_bench.py.
//
//   relay_hop tcp-to-vsock --listen PORT --vsock-dir D --cid C --port P
//       Host side: a TCP listener on 127.0.0.1:PORT; each client is relayed
//       to simulated vsock (C, P), i.e. the Unix socket D/C/P.sock.
//   relay_hop vsock-to-tcp --vsock-dir D --cid C --port P --connect PORT
//       Enclave side: listens on simulated vsock (C, P); each connection is
//       relayed to 127.0.0.1:PORT.
//     Both run transport/forward.hpp, as the sleeve and odyn do, and take
//     --no-splice (the buffered path), --pipe-size, and --tcp-buffer /
//     --vsock-buffer: SO_SNDBUF and SO_RCVBUF of the sockets each hop
//     makes (and of the host's listener, which its accepted sockets
//     inherit). By default 256 KiB on the legs that stay on the machine
//     (the vsock connection, the enclave side's TCP to its application)
//     and the kernel's autotuning on the host's client-facing TCP; the
//     real proxies leave all of them to the kernel so far (relay.hpp,
//     "Socket buffers").
//   relay_hop echo-server --listen PORT [--size N]
//       Reads N bytes, writes them back and closes, per connection.
//   relay_hop echo-client --connect PORT [--seconds S] [--concurrency K] [--size N]
//       K connections at a time, each: connect, send N bytes, read the N
//       back, wait for the server's close, close. Prints one JSON line:
//       connections per second and the latency (connect to echo) p50/p99.
//
// One thread and one io_context per process, as in the real proxies.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "transport/forward.hpp"
#include "transport/relay.hpp"
#include "transport/vsock.hpp"

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using enclaver::transport::ForwardEvents;
using enclaver::transport::RelayOptions;
using enclaver::transport::Socket;
using enclaver::transport::Vsock;
using enclaver::transport::VsockAddress;
using Clock = std::chrono::steady_clock;

struct Settings {
  std::uint16_t listen_port = 0;
  std::uint16_t connect_port = 0;
  std::string vsock_dir;
  std::uint32_t cid = enclaver::transport::kFirstEnclaveCid;
  std::uint32_t vsock_port = 5000;
  bool no_splice = false;
  std::size_t pipe_size = RelayOptions{}.pipe_size;
  // SO_SNDBUF and SO_RCVBUF of each end; 0 leaves the kernel's (autotuned
  // TCP); -1 is the default of the mode (see the top of this file).
  int tcp_buffer = -1;
  int vsock_buffer = -1;
  std::size_t size = 64;
  double seconds = 3;
  int concurrency = 8;
};

// Socket buffers for the connections that never leave the machine: the
// vsock leg, and the enclave's loopback to its application. Kept small, the
// bytes in flight stay in the CPU cache between the kernel's copy in (the
// sender's write) and its copy out (the receiver's read); with autotuned
// buffers (up to tcp_rmem's 32 MiB here) they do not, and the two-hop path
// loses a quarter to a third of its throughput. The host's TCP end faces
// clients across real networks and keeps autotuning.
constexpr int kLocalBuffer = 256 * 1024;

tcp::endpoint loopback(std::uint16_t port) { return {asio::ip::address_v4::loopback(), port}; }

tcp::acceptor tcp_listener(asio::io_context& io, std::uint16_t port) {
  tcp::acceptor acceptor(io);
  acceptor.open(tcp::v4());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(loopback(port));
  acceptor.listen(asio::socket_base::max_listen_connections);
  return acceptor;
}

RelayOptions relay_options(const Settings& s) {
  RelayOptions options;
  options.allow_splice = !s.no_splice;
  options.pipe_size = s.pipe_size;
  return options;
}

template <class AnySocket>
void size_buffers(AnySocket& socket, int bytes) {
  if (bytes <= 0) return;
  boost::system::error_code ignored;
  socket.set_option(asio::socket_base::send_buffer_size(bytes), ignored);
  socket.set_option(asio::socket_base::receive_buffer_size(bytes), ignored);
}

ForwardEvents report_unreachable() {
  ForwardEvents events;
  events.unreachable = [](const std::string& error) { std::cerr << "relay_hop: " << error << "\n"; };
  return events;
}

// ---- the two hops: transport/forward.hpp, as the sleeve and odyn run it ----

asio::awaitable<void> tcp_to_vsock(const Settings& s) {
  auto& io = static_cast<asio::io_context&>((co_await asio::this_coro::executor).context());
  const Vsock vsock = Vsock::simulated(s.vsock_dir, enclaver::transport::kCidParent);
  auto listener = tcp_listener(io, s.listen_port);
  size_buffers(listener, s.tcp_buffer);  // accepted TCP sockets inherit the listener's
  auto connect = [&vsock, &s]() -> asio::awaitable<Socket> {
    Socket enclave = co_await vsock.connect(VsockAddress{s.cid, s.vsock_port});
    size_buffers(enclave, s.vsock_buffer);
    co_return enclave;
  };
  co_await forward_connections(listener, connect, report_unreachable(), relay_options(s));
}

asio::awaitable<void> vsock_to_tcp(const Settings& s) {
  auto executor = co_await asio::this_coro::executor;
  const Vsock vsock = Vsock::simulated(s.vsock_dir, s.cid);
  auto listener = vsock.listen(executor, s.vsock_port);
  auto connect = [executor, &s]() -> asio::awaitable<tcp::socket> {
    tcp::socket app(executor);
    app.open(tcp::v4());
    size_buffers(app, s.tcp_buffer);  // before connecting: the window scale is agreed on in the handshake
    boost::system::error_code ec;
    co_await app.async_connect(loopback(s.connect_port), asio::redirect_error(asio::use_awaitable, ec));
    if (ec)
      throw std::system_error(ec.value(), std::generic_category(),
                              "cannot connect to 127.0.0.1:" + std::to_string(s.connect_port));
    co_return app;
  };
  co_await forward_connections(listener, connect, report_unreachable(), relay_options(s));
}

// ---- the echo load -------------------------------------------------------

asio::awaitable<void> echo_one(tcp::socket socket, std::size_t size) {
  std::vector<char> buffer(size);
  boost::system::error_code ec;
  co_await asio::async_read(socket, asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) co_await asio::async_write(socket, asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
  // The server closes first, so TIME_WAIT stays on its side and the
  // client's ephemeral ports do not run out.
}

asio::awaitable<void> echo_server(const Settings& s) {
  auto& io = static_cast<asio::io_context&>((co_await asio::this_coro::executor).context());
  auto listener = tcp_listener(io, s.listen_port);
  for (;;) {
    tcp::socket socket = co_await listener.async_accept(asio::use_awaitable);
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(io, echo_one(std::move(socket), s.size), asio::detached);
  }
}

struct Load {
  Clock::time_point deadline;
  std::vector<double> latencies_us;
  std::uint64_t errors = 0;
};

asio::awaitable<void> echo_worker(const Settings& s, Load& load) {
  auto executor = co_await asio::this_coro::executor;
  std::vector<char> request(s.size), reply(s.size);
  for (std::size_t i = 0; i < request.size(); ++i) request[i] = static_cast<char>('a' + i % 26);
  while (Clock::now() < load.deadline) {
    const auto start = Clock::now();
    tcp::socket socket(executor);
    boost::system::error_code ec;
    co_await socket.async_connect(loopback(s.connect_port), asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) socket.set_option(tcp::no_delay(true), ec);
    if (!ec) co_await asio::async_write(socket, asio::buffer(request), asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) co_await asio::async_read(socket, asio::buffer(reply), asio::redirect_error(asio::use_awaitable, ec));
    const auto echoed = Clock::now();
    char end = 0;
    if (!ec) co_await socket.async_read_some(asio::buffer(&end, 1), asio::redirect_error(asio::use_awaitable, ec));
    if (ec != asio::error::eof || reply != request) {
      ++load.errors;
      continue;
    }
    load.latencies_us.push_back(std::chrono::duration<double, std::micro>(echoed - start).count());
  }
}

int echo_client(const Settings& s) {
  asio::io_context io;
  Load load;
  const auto start = Clock::now();
  load.deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s.seconds));
  for (int i = 0; i < s.concurrency; ++i) asio::co_spawn(io, echo_worker(s, load), asio::detached);
  io.run();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  auto& l = load.latencies_us;
  std::sort(l.begin(), l.end());
  auto percentile = [&l](double p) { return l.empty() ? 0.0 : l[std::min(l.size() - 1, static_cast<std::size_t>(p * l.size()))]; };
  std::printf("{\"connections\": %zu, \"errors\": %llu, \"seconds\": %.3f, \"conn_per_s\": %.1f, \"p50_us\": %.1f, \"p99_us\": %.1f}\n",
              l.size(), static_cast<unsigned long long>(load.errors), elapsed, l.size() / elapsed, percentile(0.50),
              percentile(0.99));
  return load.errors == 0 && !l.empty() ? 0 : 1;
}

int serve(asio::awaitable<void> (*server)(const Settings&), const Settings& s) {
  asio::io_context io;
  asio::co_spawn(io, server(s), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // As every proxy program should: a vanished peer is an error code, not a signal.
  ::signal(SIGPIPE, SIG_IGN);
  Settings s;
  CLI::App app{"relay_hop: the relay as the proxies use it (bench/relay_bench.py)"};
  app.require_subcommand(1);
  auto relay_flags = [&s](CLI::App* command) {
    command->add_flag("--no-splice", s.no_splice, "copy through a buffer instead of splice(2)");
    command->add_option("--pipe-size", s.pipe_size, "RelayOptions::pipe_size");
    command->add_option("--tcp-buffer", s.tcp_buffer, "SO_SNDBUF and SO_RCVBUF of the TCP end (0: the kernel's)");
    command->add_option("--vsock-buffer", s.vsock_buffer, "... of the vsock end (0: the kernel's; default 256 KiB)");
  };
  auto vsock_flags = [&s](CLI::App* command) {
    command->add_option("--vsock-dir", s.vsock_dir, "simulated vsock directory")->required();
    command->add_option("--cid", s.cid, "enclave CID");
    command->add_option("--port", s.vsock_port, "vsock port");
  };
  auto* host = app.add_subcommand("tcp-to-vsock", "host side: TCP listener relayed to simulated vsock");
  host->add_option("--listen", s.listen_port, "TCP port on 127.0.0.1")->required();
  vsock_flags(host);
  relay_flags(host);
  auto* enclave = app.add_subcommand("vsock-to-tcp", "enclave side: simulated vsock listener relayed to TCP");
  enclave->add_option("--connect", s.connect_port, "TCP port on 127.0.0.1")->required();
  vsock_flags(enclave);
  relay_flags(enclave);
  auto* server = app.add_subcommand("echo-server", "N bytes in, the same N out, close");
  server->add_option("--listen", s.listen_port, "TCP port on 127.0.0.1")->required();
  server->add_option("--size", s.size, "bytes per request");
  auto* client = app.add_subcommand("echo-client", "connections per second and latency, as JSON");
  client->add_option("--connect", s.connect_port, "TCP port on 127.0.0.1")->required();
  client->add_option("--seconds", s.seconds, "how long");
  client->add_option("--concurrency", s.concurrency, "connections at a time");
  client->add_option("--size", s.size, "bytes per request");
  CLI11_PARSE(app, argc, argv);

  if (s.vsock_buffer < 0) s.vsock_buffer = kLocalBuffer;
  if (s.tcp_buffer < 0) s.tcp_buffer = enclave->parsed() ? kLocalBuffer : 0;
  try {
    if (host->parsed()) return serve(tcp_to_vsock, s);
    if (enclave->parsed()) return serve(vsock_to_tcp, s);
    if (server->parsed()) return serve(echo_server, s);
    return echo_client(s);
  } catch (const std::exception& e) {
    std::cerr << "relay_hop: " << e.what() << "\n";
    return 1;
  }
}
