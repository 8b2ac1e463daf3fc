// A host side on a simulated vsock (the sleeve's CID 3), odyn's client on
// CID 16, and local TCP servers for the tunnels to reach. The host side and
// the client run on one io_context in a background thread; the test plays
// the app and the destination with blocking system calls on raw descriptors,
// so what they observe is what real peers would.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <variant>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

#include "common/fd.hpp"
#include "common/temp_dir.hpp"
#include "egress/host_side.hpp"
#include "egress/tunnel_client.hpp"

namespace enclaver::egress::testing {

namespace asio = boost::asio;
using namespace std::chrono_literals;

inline constexpr std::uint32_t kEgressPort = 17002;

inline std::system_error errno_error(const std::string& what) {
  return std::system_error(errno, std::generic_category(), what);
}

inline void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw errno_error("send");
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Everything up to end of stream (an error ends it too; `error` says which).
inline std::string receive_all(int fd, int* error = nullptr) {
  std::string out;
  char buffer[16 * 1024];
  for (;;) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (error) *error = n < 0 ? errno : 0;
      return out;
    }
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

inline std::string receive_exactly(int fd, std::size_t size) {
  std::string out(size, '\0');
  std::size_t got = 0;
  while (got < size) {
    ssize_t n = ::recv(fd, out.data() + got, size - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw std::runtime_error((n < 0 ? std::string("recv: ") + std::strerror(errno) : std::string("stream ended")) +
                               " after " + std::to_string(got) + " of " + std::to_string(size) + " bytes");
    got += static_cast<std::size_t>(n);
  }
  return out;
}

inline void set_receive_timeout(int fd, std::chrono::milliseconds timeout) {
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// A TCP listener on `address`:0 (an ephemeral port).
inline Fd tcp_listener(const char* address, int backlog, std::uint16_t& port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) throw errno_error("socket");
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  ::inet_pton(AF_INET, address, &sa.sin_addr);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) throw errno_error("bind");
  if (::listen(fd.get(), backlog) != 0) throw errno_error("listen");
  socklen_t len = sizeof sa;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len);
  port = ntohs(sa.sin_port);
  return fd;
}

// The destination: on every connection, reads to end of stream, then
// answers "echo:" + what it read and closes (so half-close must cross the
// tunnel for the answer to come). Records what each connection sent.
class EchoServer {
 public:
  explicit EchoServer(const char* address = "0.0.0.0") : listener_(tcp_listener(address, 64, port_)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~EchoServer() {
    ::shutdown(listener_.get(), SHUT_RDWR);
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  std::vector<std::string> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  void serve() {
    std::vector<std::thread> connections;
    for (;;) {
      int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) break;
      connections.emplace_back([this, fd] {
        Fd connection(fd);
        set_receive_timeout(fd, 10s);
        std::string got = receive_all(fd);
        {
          std::lock_guard lock(mutex_);
          received_.push_back(got);
        }
        try {
          send_all(fd, "echo:" + got);
        } catch (const std::exception&) {
        }
      });
    }
    for (auto& t : connections) t.join();
  }

  std::uint16_t port_ = 0;
  Fd listener_;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> received_;
};

// A listener on 127.0.0.2 whose accept queue is full: a further connect gets
// no SYN-ACK, so it waits until its timeout.
class Blackhole {
 public:
  Blackhole() : listener_(tcp_listener("127.0.0.2", 0, port_)) {
    for (int i = 0; i < 3; ++i) {
      Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      sa.sin_port = htons(port_);
      ::inet_pton(AF_INET, "127.0.0.2", &sa.sin_addr);
      ::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa);
      fillers_.push_back(std::move(fd));
    }
    std::this_thread::sleep_for(20ms);  // let the handshakes land in the queue
  }
  std::uint16_t port() const { return port_; }

 private:
  std::uint16_t port_ = 0;
  Fd listener_;
  std::vector<Fd> fillers_;
};

// A port on 127.0.0.2 where nothing listens.
inline std::uint16_t closed_port() {
  std::uint16_t port = 0;
  tcp_listener("127.0.0.2", 1, port);  // closed again at once
  return port;
}

using Opened = std::variant<Fd, DialError>;

class Harness {
 public:
  Harness(std::vector<std::string> allow, std::vector<std::string> deny, std::shared_ptr<Resolver> resolver,
          HostSideOptions options = {})
      : work_(asio::make_work_guard(io_)) {
    auto policy = policy::Policy::create(allow, deny);
    if (!policy) throw std::runtime_error(policy.error().message);
    options.log = [this](const std::string& line) {
      std::lock_guard lock(mutex_);
      log_.push_back(line);
    };
    acceptor_.emplace(host_.listen(io_.get_executor(), kEgressPort));
    asio::co_spawn(io_, serve_egress(*acceptor_, std::move(*policy), std::move(resolver), std::move(options)),
                   asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  // Tunnels still in progress are destroyed with the io_context, as when the
  // sleeve exits.
  ~Harness() {
    asio::post(io_, [this] { acceptor_->close(); });
    work_.reset();
    io_.stop();
    thread_.join();
  }

  // odyn's client: open_tunnel() to (3, 17002); on success the socket's
  // descriptor, switched to blocking mode for the test's plain calls.
  Opened open(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout = 5s) {
    return on_io(open_tunnel(enclave_, {transport::kCidParent, kEgressPort}, host, port, timeout));
  }

  // Runs a coroutine giving a TunnelResult on the io thread (TunnelResult is
  // not default-constructible, which co_spawn's future needs) and returns it
  // as an Opened.
  Opened on_io(asio::awaitable<TunnelResult> work) {
    auto wrapped = [](asio::awaitable<TunnelResult> work) -> asio::awaitable<Opened> {
      auto result = co_await std::move(work);
      if (auto* error = std::get_if<DialError>(&result)) co_return *error;
      co_return release(std::get<transport::Socket>(result));
    };
    return asio::co_spawn(io_, wrapped(std::move(work)), asio::use_future).get();
  }

  // A raw connection to the host side, for a client that is not ours.
  Fd raw() {
    auto connect = [](const transport::Vsock& vsock) -> asio::awaitable<Fd> {
      auto socket = co_await vsock.connect({transport::kCidParent, kEgressPort});
      co_return release(socket);
    };
    return asio::co_spawn(io_, connect(enclave_), asio::use_future).get();
  }

  std::vector<std::string> log() {
    std::lock_guard lock(mutex_);
    return log_;
  }

  const transport::Vsock& enclave() const { return enclave_; }
  asio::io_context& io() { return io_; }

  static Fd release(transport::Socket& socket) {
    int fd = socket.release();
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    set_receive_timeout(fd, 10s);
    return Fd(fd);
  }

 private:
  TempDir dir_;
  transport::Vsock host_ = transport::Vsock::simulated(dir_.path(), transport::kCidParent);
  transport::Vsock enclave_ = transport::Vsock::simulated(dir_.path(), 16);
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::optional<transport::Acceptor> acceptor_;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> log_;
};

}  // namespace enclaver::egress::testing
