// The egress proxy under test, with everything around it real: the proxy
// on its own io_context thread listening on 127.0.0.1, a dialer that maps
// every name to 127.0.0.1 (recording what it was asked), upstream HTTP(S)
// servers written here with Beast (blocking, a thread per connection), and
// clients that are curl or raw sockets.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/fd.hpp"
#include "odyn/egress/proxy.hpp"
#include "tests/support/raw_client.hpp"

namespace enclaver::odyn::egress::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;

// ---- checksums and deterministic data --------------------------------------

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
  void update(const void* data, std::size_t size) { EVP_DigestUpdate(ctx_.get(), data, size); }
  std::string hex() {
    unsigned char md[32];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_.get(), md, &n);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < n; ++i) {
      out += digits[md[i] >> 4];
      out += digits[md[i] & 15];
    }
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

// Byte i of every test stream: not periodic on any buffer size the proxy uses.
inline char pattern_byte(std::uint64_t i) { return static_cast<char>((i * 2654435761u) >> 13); }
inline void fill_pattern(char* out, std::size_t size, std::uint64_t offset) {
  for (std::size_t i = 0; i < size; ++i) out[i] = pattern_byte(offset + i);
}
inline std::string pattern_sha256(std::uint64_t size) {
  Sha256 sha;
  std::vector<char> chunk(1 << 20);
  for (std::uint64_t done = 0; done < size;) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), size - done));
    fill_pattern(chunk.data(), n, done);
    sha.update(chunk.data(), n);
    done += n;
  }
  return sha.hex();
}

// ---- the upstream: a Beast HTTP/1.1 server, one thread per connection -----
//
// Routes:
//   /echo...         200, body: "method <m>\ntarget <t>\n" then "<name>: <value>\n"
//                    per request field, then "body <sha256> <length>\n"
//   /download?n=N[&chunked] 200 with N pattern bytes (Content-Length, or chunked)
//   /stall           reads the head, then nothing: the client's body backs up
// Counts connections and remembers the last request's fields.
class Upstream {
 public:
  explicit Upstream(asio::ssl::context* tls = nullptr) : tls_(tls), acceptor_(io_, {asio::ip::address_v4::loopback(), 0}) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { accept_loop(); });
  }
  ~Upstream() {
    stopping_ = true;
    boost::system::error_code ignored;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    acceptor_.close(ignored);
    thread_.join();  // no new connections from here on
    {
      std::lock_guard lock(mutex_);  // not held while joining: the threads take it to leave
      for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : connections_) t.join();
  }
  std::uint16_t port() const { return port_; }
  int connections() const { return accepted_; }
  std::uint64_t downloaded() const { return downloaded_; }  // bytes written by /download so far

 private:
  void accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec || stopping_) return;
      ++accepted_;
      std::lock_guard lock(mutex_);
      open_.insert(socket.native_handle());
      connections_.emplace_back([this, s = std::move(socket)]() mutable {
        int fd = s.native_handle();
        try {
          if (tls_) {
            asio::ssl::stream<tcp::socket&> stream(s, *tls_);
            stream.handshake(asio::ssl::stream_base::server);
            serve(stream);
          } else {
            serve(s);
          }
        } catch (const std::exception&) {
        }
        std::lock_guard lock(mutex_);
        open_.erase(fd);
      });
    }
  }

  template <class Stream>
  void serve(Stream& stream) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::buffer_body> parser;
      parser.body_limit(boost::none);
      http::read_header(stream, buffer, parser);
      auto& req = parser.get();
      std::string target(req.target());
      if (target == "/stall") {
        while (!stopping_) std::this_thread::sleep_for(20ms);
        return;
      }
      std::string info = "method " + std::string(req.method_string()) + "\ntarget " + target + "\n";
      for (const auto& f : req) info += std::string(f.name_string()) + ": " + std::string(f.value()) + "\n";
      Sha256 sha;
      std::uint64_t length = 0;
      std::vector<char> chunk(64 * 1024);
      while (!parser.is_done()) {
        req.body().data = chunk.data();
        req.body().size = chunk.size();
        boost::system::error_code ec;
        http::read(stream, buffer, parser, ec);
        if (ec && ec != http::error::need_buffer) throw boost::system::system_error(ec);
        std::size_t n = chunk.size() - req.body().size;
        sha.update(chunk.data(), n);
        length += n;
      }
      info += "body " + sha.hex() + " " + std::to_string(length) + "\n";
      if (target.rfind("/download?n=", 0) == 0) {
        download(stream, std::stoull(target.substr(12)), target.find("chunked") != std::string::npos);
      } else {
        std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
                           "Content-Length: " + std::to_string(info.size()) + "\r\n\r\n";
        asio::write(stream, asio::buffer(req.method() == http::verb::head ? head : head + info));
      }
      if (!parser.keep_alive()) return;
    }
  }

  template <class Stream>
  void download(Stream& stream, std::uint64_t size, bool chunked) {
    std::string head = "HTTP/1.1 200 OK\r\n";
    head += chunked ? "Transfer-Encoding: chunked\r\n\r\n" : "Content-Length: " + std::to_string(size) + "\r\n\r\n";
    asio::write(stream, asio::buffer(head));
    std::vector<char> chunk(61 * 1024);  // odd size: chunk boundaries fall anywhere
    for (std::uint64_t done = 0; done < size;) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), size - done));
      fill_pattern(chunk.data(), n, done);
      if (chunked) {
        char size_line[32];
        std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
        asio::write(stream, asio::buffer(std::string(size_line)));
      }
      asio::write(stream, asio::buffer(chunk.data(), n));
      if (chunked) asio::write(stream, asio::buffer(std::string("\r\n")));
      done += n;
      downloaded_ += n;
    }
    if (chunked) asio::write(stream, asio::buffer(std::string("0\r\n\r\n")));
  }

  asio::ssl::context* tls_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<std::uint64_t> downloaded_{0};
  std::mutex mutex_;
  std::set<int> open_;
  std::vector<std::thread> connections_;
};

// ---- the dialer: every name is 127.0.0.1 -----------------------------------
//
// Special names: "refused.test" -> os_code 13 (the host's policy said no),
// "slow.test" -> never answers (the proxy's timeout must cut it),
// "down.test" -> a port where nobody listens (ECONNREFUSED).
struct TestDialer {
  std::shared_ptr<std::mutex> mutex = std::make_shared<std::mutex>();
  std::shared_ptr<std::vector<std::string>> dialled = std::make_shared<std::vector<std::string>>();
  std::uint16_t closed_port = 1;  // set to a port known to be closed

  std::vector<std::string> calls() const {
    std::lock_guard lock(*mutex);
    return *dialled;
  }

  Dialer dialer() const {
    auto self = *this;
    return [self](std::string host, std::uint16_t port) -> asio::awaitable<DialResult> {
      {
        std::lock_guard lock(*self.mutex);
        self.dialled->push_back(host + ":" + std::to_string(port));
      }
      auto executor = co_await asio::this_coro::executor;
      if (host == "refused.test") co_return DialError{13, "host side: " + host + " matches deny rule 'refused.test'"};
      if (host == "slow.test") {
        asio::steady_timer forever(executor, std::chrono::hours(1));
        co_await forever.async_wait(asio::use_awaitable);  // cancelled by the proxy's timeout
        co_return DialError{110, "unreachable"};
      }
      if (host == "down.test") port = self.closed_port;
      tcp::socket socket(executor);
      boost::system::error_code ec;
      co_await socket.async_connect({asio::ip::address_v4::loopback(), port},
                                    asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return DialError{ec.value(), ec.message()};
      int fd = socket.release();
      transport::Socket generic(executor);
      generic.assign(transport::Protocol(AF_INET, IPPROTO_TCP), fd);
      co_return std::move(generic);
    };
  }
};

// A port nobody listens on: bound then closed.
inline std::uint16_t closed_port() {
  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  return acceptor.local_endpoint().port();
}

// ---- the proxy on its own thread -------------------------------------------

inline policy::Policy test_policy() {
  auto policy = policy::Policy::create(
      {"allowed.com", "*.allowed.com", "localhost", "127.0.0.1", "refused.test", "slow.test", "down.test"},
      {"blocked.allowed.com"});
  if (!policy) throw std::runtime_error(policy.error().message);
  return std::move(*policy);
}

class ProxyUnderTest {
 public:
  explicit ProxyUnderTest(std::function<void(ProxyOptions&)> adjust = {}) {
    dialer_.closed_port = closed_port();
    ProxyOptions options;
    options.port = 0;
    options.dialer = dialer_.dialer();
    options.connect_timeout = 2s;
    options.ca_bundle = "";
    options.log = [this](const std::string& line) {
      std::lock_guard lock(mutex_);
      log_.push_back(line);
    };
    if (adjust) adjust(options);
    auto proxy = EgressProxy::start(io_.get_executor(), test_policy(), std::move(options));
    if (!proxy) throw std::runtime_error(proxy.error().message);
    proxy_ = std::move(*proxy);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ProxyUnderTest() {
    asio::post(io_, [this] { proxy_->stop(); });
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return proxy_->port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }
  std::vector<std::string> log() const {
    std::lock_guard lock(mutex_);
    return log_;
  }
  std::vector<std::string> dialled() const { return dialer_.calls(); }

 private:
  TestDialer dialer_;
  asio::io_context io_;
  std::shared_ptr<EgressProxy> proxy_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<std::string> log_;
};

// ---- clients ----------------------------------------------------------------

using enclaver::testing::connect_to;
using enclaver::testing::send_text;

// Everything until the proxy closes (or 10 s pass).
inline std::string read_to_end(int fd) { return enclaver::testing::read_to_end(fd).bytes; }

// Sends `request` raw to the proxy and returns all it answers before closing.
inline std::string raw_exchange(std::uint16_t proxy_port, std::string_view request) {
  return enclaver::testing::raw_exchange(proxy_port, request).bytes;
}

// Runs a shell command; returns its stdout and exit status.
struct Command {
  int status = -1;
  std::string out;
};
inline Command run(const std::string& command) {
  Command result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return result;
  char buffer[16 * 1024];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, n);
  int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// curl through the proxy; -sS: errors on stderr only, -f not used so that
// refusals' bodies show.
inline std::string curl(const ProxyUnderTest& proxy, const std::string& args) {
  return "/usr/bin/curl -sS --max-time 60 -x " + proxy.url() + " " + args;
}

}  // namespace enclaver::odyn::egress::testing
