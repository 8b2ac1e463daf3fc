// TlsServerStream as one end of the relay: the test plays the TLS client
// with OpenSSL's blocking API on a raw descriptor, and the app with plain
// blocking calls, so that what they observe is what curl and an app would.
#include "transport/tls.hpp"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "common/fd.hpp"
#include "common/temp_dir.hpp"
#include "tests/unit/support/test_certs.hpp"
#include "transport/relay.hpp"

namespace enclaver::transport {
namespace {

namespace asio = boost::asio;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// ---- a CA and a server certificate for "localhost", made here -------------

using enclaver::testing::Cert;
using enclaver::testing::Key;
using enclaver::testing::new_cert;
using enclaver::testing::new_key;

template <class Write>
void write_pem(const std::filesystem::path& path, Write write) {
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  write(f);
  std::fclose(f);
}

struct Pki {
  TempDir dir;
  Key ca_key = new_key();
  Cert ca = new_cert("test CA", ca_key.get(), nullptr, ca_key.get(), true);
  Key key = new_key();
  Cert cert = new_cert("localhost", key.get(), ca.get(), ca_key.get(), false);
  std::filesystem::path cert_file = dir.path() / "cert.pem", key_file = dir.path() / "key.pem";

  Pki() {
    write_pem(cert_file, [&](FILE* f) { PEM_write_X509(f, cert.get()); });
    write_pem(key_file, [&](FILE* f) { PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr); });
  }
};

// ---- the client: blocking OpenSSL on a raw descriptor ---------------------

struct Client {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{SSL_CTX_new(TLS_client_method()), SSL_CTX_free};
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl{nullptr, SSL_free};

  Client(int fd, X509* ca) {
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), ca);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    ssl.reset(SSL_new(ctx.get()));
    SSL_set_fd(ssl.get(), fd);
    SSL_set1_host(ssl.get(), "localhost");
    SSL_set_tlsext_host_name(ssl.get(), "localhost");
  }
  bool connect() { return SSL_connect(ssl.get()) == 1 && SSL_get_verify_result(ssl.get()) == X509_V_OK; }
  void write(std::string_view data) {
    std::size_t written = 0;
    ASSERT_EQ(SSL_write_ex(ssl.get(), data.data(), data.size(), &written), 1);
    ASSERT_EQ(written, data.size());
  }
  std::string read_exactly(std::size_t n) {
    std::string out(n, '\0');
    std::size_t got = 0;
    while (got < n) {
      std::size_t r = 0;
      if (SSL_read_ex(ssl.get(), out.data() + got, n - got, &r) != 1) break;
      got += r;
    }
    out.resize(got);
    return out;
  }
  // SSL_ERROR_ZERO_RETURN: the peer's close_notify; anything else is a truncation.
  int read_end() {
    char byte;
    std::size_t r = 0;
    int rc = SSL_read_ex(ssl.get(), &byte, 1, &r);
    return rc == 1 ? -1 : SSL_get_error(ssl.get(), rc);
  }
};

// ---- the app: blocking calls ---------------------------------------------

std::string recv_exactly(int fd, std::size_t n) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::recv(fd, out.data() + got, n - got, 0);
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return out;
}

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    ASSERT_GT(n, 0);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::pair<Fd, Fd> socket_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw std::runtime_error("socketpair");
  return {Fd(fds[0]), Fd(fds[1])};
}

Socket adopt(asio::io_context& io, Fd fd) {
  return Socket(io, asio::generic::stream_protocol(AF_UNIX, 0), fd.release());
}

struct Outcome {
  boost::system::error_code handshake;
  RelayStats stats;
};

// The server: a TLS session on one socket, relayed to the app's socket,
// on its own io_context thread.
class Server {
 public:
  Server(std::shared_ptr<const TlsServerContext> context, Fd client_side, Fd app_side,
         std::chrono::milliseconds handshake_timeout = 5000ms) {
    auto session = std::make_shared<TlsServerStream>(adopt(io_, std::move(client_side)), context);
    auto app = std::make_shared<Socket>(adopt(io_, std::move(app_side)));
    outcome_ = asio::co_spawn(
        io_,
        [session, app, handshake_timeout]() -> asio::awaitable<Outcome> {
          Outcome outcome;
          outcome.handshake = co_await session->handshake(handshake_timeout);
          if (outcome.handshake) co_return outcome;
          detail::StreamEnd<Socket> app_end(*app);
          outcome.stats = co_await detail::relay_ends(*session, app_end, {});
          co_return outcome;
        },
        asio::use_future);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Server() {
    io_.stop();
    thread_.join();
  }
  Outcome outcome() {
    EXPECT_EQ(outcome_.wait_for(10s), std::future_status::ready);
    return outcome_.get();
  }

 private:
  asio::io_context io_;
  std::future<Outcome> outcome_;
  std::thread thread_;
};

class TlsTest : public ::testing::Test {
 protected:
  Pki pki;
  std::shared_ptr<const TlsServerContext> context() {
    auto loaded = TlsServerContext::load(pki.cert_file, pki.key_file);
    EXPECT_TRUE(loaded) << (loaded ? "" : loaded.error().message);
    return loaded ? *loaded : nullptr;
  }
};

TEST_F(TlsTest, RelaysBothWaysAndHalfClosesWithCloseNotify) {
  auto [client_fd, server_fd] = socket_pair();
  auto [app_relay_fd, app_fd] = socket_pair();
  Server server(context(), std::move(server_fd), std::move(app_relay_fd));
  Client client(client_fd.get(), pki.ca.get());
  ASSERT_TRUE(client.connect());
  client.write("hello");
  EXPECT_EQ(recv_exactly(app_fd.get(), 5), "hello");
  send_all(app_fd.get(), "world");
  ::shutdown(app_fd.get(), SHUT_WR);  // the app is done talking
  EXPECT_EQ(client.read_exactly(5), "world");
  EXPECT_EQ(client.read_end(), SSL_ERROR_ZERO_RETURN) << "the app's end must arrive as close_notify, not a truncation";
  // Half-closed: the client may still talk, and the app still hears it.
  client.write("after");
  EXPECT_EQ(recv_exactly(app_fd.get(), 5), "after");
  SSL_shutdown(client.ssl.get());
  char byte;
  EXPECT_EQ(::recv(app_fd.get(), &byte, 1, 0), 0) << "the client's close_notify must reach the app as end of stream";
  auto outcome = server.outcome();
  EXPECT_FALSE(outcome.handshake);
  EXPECT_FALSE(outcome.stats.reset) << outcome.stats.error;
  EXPECT_EQ(outcome.stats.a_to_b, 10u);
  EXPECT_EQ(outcome.stats.b_to_a, 5u);
}

TEST_F(TlsTest, MovesMegabytesIntactInBothDirections) {
  auto [client_fd, server_fd] = socket_pair();
  auto [app_relay_fd, app_fd] = socket_pair();
  Server server(context(), std::move(server_fd), std::move(app_relay_fd));
  Client client(client_fd.get(), pki.ca.get());
  ASSERT_TRUE(client.connect());
  std::string up(3 * 1024 * 1024 + 17, '\0'), down(5 * 1024 * 1024 + 3, '\0');
  for (std::size_t i = 0; i < up.size(); ++i) up[i] = static_cast<char>(i * 7 + i / 4096);
  for (std::size_t i = 0; i < down.size(); ++i) down[i] = static_cast<char>(i * 13 + i / 999);
  // The app reads everything, then answers, while the client writes then reads.
  std::thread app([&, fd = app_fd.get()] {
    EXPECT_TRUE(recv_exactly(fd, up.size()) == up);
    send_all(fd, down);
    ::shutdown(fd, SHUT_WR);
  });
  client.write(up);
  EXPECT_TRUE(client.read_exactly(down.size()) == down);
  EXPECT_EQ(client.read_end(), SSL_ERROR_ZERO_RETURN);
  app.join();
  SSL_shutdown(client.ssl.get());
  auto outcome = server.outcome();
  EXPECT_FALSE(outcome.stats.reset) << outcome.stats.error;
  EXPECT_EQ(outcome.stats.a_to_b, up.size());
  EXPECT_EQ(outcome.stats.b_to_a, down.size());
}

TEST_F(TlsTest, PlainHttpClientFailsTheHandshake) {
  auto [client_fd, server_fd] = socket_pair();
  auto [app_relay_fd, app_fd] = socket_pair();
  Server server(context(), std::move(server_fd), std::move(app_relay_fd));
  send_all(client_fd.get(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  auto outcome = server.outcome();
  ASSERT_TRUE(outcome.handshake);
  EXPECT_NE(outcome.handshake, boost::asio::error::timed_out);
  EXPECT_THAT(outcome.handshake.message(), HasSubstr("http request"));
}

TEST_F(TlsTest, SilentClientTimesOut) {
  auto [client_fd, server_fd] = socket_pair();
  auto [app_relay_fd, app_fd] = socket_pair();
  Server server(context(), std::move(server_fd), std::move(app_relay_fd), 100ms);
  auto outcome = server.outcome();
  EXPECT_EQ(outcome.handshake, boost::asio::error::timed_out);
  char byte;
  EXPECT_LE(::recv(client_fd.get(), &byte, 1, 0), 0) << "the silent client's connection must be closed";
}

TEST_F(TlsTest, KeyThatDoesNotMatchTheCertificateIsRefused) {
  Key other = new_key();
  auto other_file = pki.dir.path() / "other.pem";
  write_pem(other_file, [&](FILE* f) { PEM_write_PrivateKey(f, other.get(), nullptr, nullptr, 0, nullptr, nullptr); });
  auto loaded = TlsServerContext::load(pki.cert_file, other_file);
  ASSERT_FALSE(loaded);
  EXPECT_THAT(loaded.error().message, HasSubstr("does not match"));
  EXPECT_THAT(loaded.error().message, HasSubstr(other_file.string()));
}

TEST_F(TlsTest, MissingCertificateNamesTheFile) {
  auto loaded = TlsServerContext::load(pki.dir.path() / "absent.pem", pki.key_file);
  ASSERT_FALSE(loaded);
  EXPECT_THAT(loaded.error().message, HasSubstr("absent.pem"));
}

}  // namespace
}  // namespace enclaver::transport
