// Helpers for the relay tests. The relay runs on its own thread and
// io_context (BackgroundRelay); the test plays both peers with plain
// blocking system calls on raw descriptors, so what they observe is exactly
// what a program on the far side of a proxy would.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>

#include "common/fd.hpp"
#include "transport/relay.hpp"
#include "transport/vsock.hpp"

namespace enclaver::transport::testing {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

inline std::system_error errno_error(const std::string& what) {
  return std::system_error(errno, std::generic_category(), what);
}

// ---- the peers' side: blocking calls on raw descriptors -------------------

inline void send_all(int fd, const void* data, std::size_t size) {
  auto* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::send(fd, p, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw errno_error("send");
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}
inline void send_all(int fd, std::string_view text) { send_all(fd, text.data(), text.size()); }

// Everything up to end of stream; throws std::system_error on an error.
inline std::string receive_all(int fd) {
  std::string out;
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw errno_error("recv");
    if (n == 0) return out;
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

// Reads until end of stream or an error: 0 for end of stream, else errno.
inline int receive_until_end(int fd) {
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return 0;
  }
}

// Exactly `size` bytes; throws on an error or an early end of stream.
inline std::string receive_exactly(int fd, std::size_t size) {
  std::string out(size, '\0');
  std::size_t got = 0;
  while (got < size) {
    ssize_t n = ::recv(fd, out.data() + got, size - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw errno_error("recv");
    if (n == 0) throw std::runtime_error("end of stream after " + std::to_string(got) + " of " + std::to_string(size) + " bytes");
    got += static_cast<std::size_t>(n);
  }
  return out;
}

inline void shutdown_write(int fd) {
  if (::shutdown(fd, SHUT_WR) != 0) throw errno_error("shutdown");
}

// close() that sends an RST (SO_LINGER {1, 0}).
inline void close_with_reset(Fd& fd) {
  linger hard{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  fd.reset();
}

inline void set_buffer_sizes(int fd, int bytes) {
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

// A peer that waits longer than this fails (EAGAIN) instead of hanging the test.
inline Fd with_timeouts(Fd fd) {
  timeval limit{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  return fd;
}

inline std::string pattern(std::size_t size, std::uint32_t seed) {
  std::mt19937 random(seed);
  std::string out(size, '\0');
  for (auto& c : out) c = static_cast<char>(random());
  return out;
}

// SHA-256 over a stream that arrives in pieces of any size.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) throw std::runtime_error("EVP_DigestInit_ex");
  }
  void update(const void* data, std::size_t size) { EVP_DigestUpdate(ctx_.get(), data, size); }
  std::string hex() {
    std::array<unsigned char, 32> digest{};
    unsigned int size = 0;
    EVP_DigestFinal_ex(ctx_.get(), digest.data(), &size);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char b : digest) (out += digits[b >> 4]) += digits[b & 15];
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

struct Transfer {
  std::uint64_t bytes = 0;
  std::string sha256;
};

// Writes `total` bytes of a non-repeating-looking stream (slices of a random
// block at shifting offsets, so no copy of the stream is ever in memory),
// then half-closes; returns what was sent.
inline Transfer send_stream(int fd, std::uint64_t total, std::uint32_t seed) {
  constexpr std::size_t kChunk = 1 << 20;
  const std::string block = pattern(4 * kChunk + kChunk, seed);
  Sha256 hash;
  std::uint64_t sent = 0;
  for (std::uint64_t i = 0; sent < total; ++i) {
    const std::size_t offset = static_cast<std::size_t>((i * 104729u + seed) % (4 * kChunk));
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, total - sent));
    hash.update(block.data() + offset, n);
    send_all(fd, block.data() + offset, n);
    sent += n;
  }
  shutdown_write(fd);
  return {sent, hash.hex()};
}

inline Transfer receive_stream(int fd) {
  std::vector<char> buffer(1 << 20);
  Sha256 hash;
  std::uint64_t received = 0;
  for (;;) {
    ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw errno_error("recv");
    if (n == 0) break;
    hash.update(buffer.data(), static_cast<std::size_t>(n));
    received += static_cast<std::uint64_t>(n);
  }
  return {received, hash.hex()};
}

// Resident set size of this process.
inline std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t total_pages = 0, resident_pages = 0;
  statm >> total_pages >> resident_pages;
  return resident_pages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// Lifts the soft descriptor limit to the hard one, and back when done.
class NoFileLimit {
 public:
  explicit NoFileLimit(std::optional<rlim_t> soft = std::nullopt) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit wanted = saved_;
    wanted.rlim_cur = soft.value_or(saved_.rlim_max);
    if (::setrlimit(RLIMIT_NOFILE, &wanted) != 0) throw errno_error("setrlimit");
  }
  ~NoFileLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  rlim_t soft() const {
    rlimit now{};
    ::getrlimit(RLIMIT_NOFILE, &now);
    return now.rlim_cur;
  }

 private:
  rlimit saved_{};
};

// The highest descriptor open in this process.
inline int highest_open_fd() {
  int highest = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    highest = std::max(highest, std::stoi(entry.path().filename().string()));
  return highest;
}

// ---- the relay's side -----------------------------------------------------

// A connection whose one end the relay gets (an asio socket on the relay's
// io_context) and whose other end the test plays (a blocking descriptor).
template <class Socket>
struct Link {
  Socket relay_side;
  Fd peer;
};

inline Link<tcp::socket> tcp_link(asio::io_context& io) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  Fd peer(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(acceptor.local_endpoint().port());
  if (::connect(peer.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) throw errno_error("connect");
  return {acceptor.accept(), with_timeouts(std::move(peer))};
}

// A Unix stream socket pair, the relay's end as a transport::Socket (what a
// simulated vsock connection is).
inline Link<Socket> unix_link(asio::io_context& io) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw errno_error("socketpair");
  return {Socket(io, Protocol(AF_UNIX, 0), fds[0]), with_timeouts(Fd(fds[1]))};
}

// A connection to a simulated vsock listener: the relay connects (as a
// host-side proxy does), the test's peer is the accepted end (the enclave).
inline Link<Socket> vsock_link(asio::io_context& io, const Vsock& vsock, std::uint32_t port) {
  Acceptor acceptor = vsock.listen(io.get_executor(), port);
  Socket relay_side(io);
  relay_side.connect(vsock.endpoint({kFirstEnclaveCid, port}));
  Socket accepted = acceptor.accept();
  return {std::move(relay_side), with_timeouts(Fd(accepted.release()))};
}

// relay(a, b) on its own io_context thread; wait() returns its stats, or
// nullopt when it did not complete in time (the relay is then stopped).
class BackgroundRelay {
 public:
  template <class A, class B>
  BackgroundRelay(asio::io_context& io, A& a, B& b, RelayOptions options = {}) : io_(io) {
    result_ = asio::co_spawn(io, relay(a, b, options), asio::use_future);
    thread_ = std::thread([&io] { io.run(); });
  }
  BackgroundRelay(const BackgroundRelay&) = delete;
  BackgroundRelay& operator=(const BackgroundRelay&) = delete;
  ~BackgroundRelay() { stop(); }

  bool done_within(std::chrono::milliseconds limit) {
    return result_.wait_for(limit) == std::future_status::ready;
  }
  std::optional<RelayStats> wait(std::chrono::milliseconds limit = 20s) {
    if (!done_within(limit)) {
      stop();
      return std::nullopt;
    }
    stop();
    return result_.get();
  }

 private:
  void stop() {
    if (!thread_.joinable()) return;
    io_.stop();
    thread_.join();
  }

  asio::io_context& io_;
  std::future<RelayStats> result_;
  std::thread thread_;
};

// Tests that run on both paths: splice (true) and the buffered copy (false).
class BothPaths : public ::testing::TestWithParam<bool> {
 protected:
  bool splicing() const { return GetParam(); }
  RelayOptions options() const {
    RelayOptions o;
    o.allow_splice = splicing();
    return o;
  }
  asio::io_context io;
};

// The relay ended cleanly, having moved exactly these byte counts on the expected path.
inline void expect_clean_end(const std::optional<RelayStats>& stats, std::uint64_t a_to_b, std::uint64_t b_to_a, bool spliced) {
  ASSERT_TRUE(stats) << "the relay did not complete";
  EXPECT_FALSE(stats->reset) << stats->error;
  EXPECT_EQ(stats->a_to_b, a_to_b);
  EXPECT_EQ(stats->b_to_a, b_to_a);
  EXPECT_EQ(stats->spliced, spliced);
}

}  // namespace enclaver::transport::testing
