// TLS termination for the ingress: a server-side TLS session over a
// transport::Socket (vsock), usable as one end of the relay (relay.hpp).
//
// Why not asio::ssl::stream: the relay reads and writes one stream from two
// coroutines at once and half-closes one direction while the other keeps
// going. ssl::stream's async_shutdown sends close_notify and then waits for
// the peer's, which reads, racing the relay's own read; and its engine
// offers no way to flush a close_notify alone. Here OpenSSL works on memory
// BIOs and this class moves the bytes: SSL_shutdown queues close_notify, the
// queue is flushed, then the socket is shut down for writing, while reading
// goes on until the peer's own close_notify (or end of stream).
//
// Concurrency: at most one read_some and one write (or half_close) at a time,
// from coroutines on one thread (the relay's two directions). Every byte
// OpenSSL produces, from either, goes out through one queue flushed by one
// writer at a time, so records never interleave.
//
// Errors: TLS failures come back as error codes of asio's ssl category
// (message: OpenSSL's reason); socket errors as they are. A peer that closes
// the socket without close_notify ends the stream like a clean end (the
// relay half-closes the app's side); proxies cannot tell truncation from
// an end anyway, the app's own framing (Content-Length, chunking) does.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include "common/result.hpp"
#include "transport/relay_stream.hpp"
#include "transport/vsock.hpp"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace enclaver::transport {

// A server certificate (chain, PEM, leaf first) and its private key (PEM),
// TLS 1.2 and 1.3 only, no renegotiation, no compression. Immutable once
// loaded; shared by every session of one listener.
class TlsServerContext {
 public:
  // Errors name the file and OpenSSL's reason ("key does not match the
  // certificate", "no start line", ...).
  static Result<std::shared_ptr<const TlsServerContext>> load(const std::filesystem::path& cert_chain,
                                                              const std::filesystem::path& private_key);
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  SSL_CTX* native() const { return ctx_; }

 private:
  explicit TlsServerContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

class TlsServerStream final : public detail::RelayEnd {
 public:
  TlsServerStream(Socket socket, std::shared_ptr<const TlsServerContext> context);
  ~TlsServerStream();
  TlsServerStream(const TlsServerStream&) = delete;
  TlsServerStream& operator=(const TlsServerStream&) = delete;

  // Runs the server handshake; gives up (aborting the socket) after
  // `timeout`, so that a client that never speaks cannot hold a session.
  boost::asio::awaitable<boost::system::error_code> handshake(std::chrono::steady_clock::duration timeout);

  // Plaintext from the client; end of stream as boost::asio::error::eof.
  boost::asio::awaitable<std::size_t> read_some(boost::asio::mutable_buffer buffer,
                                                boost::system::error_code& ec) override;
  // Encrypts and sends all of `buffer`.
  boost::asio::awaitable<std::size_t> write(boost::asio::const_buffer buffer, boost::system::error_code& ec) override;
  // close_notify, flushed, then shutdown(SHUT_WR); reading stays open.
  boost::asio::awaitable<boost::system::error_code> half_close() override;
  void abort() noexcept override;
  // Always copied: the bytes on the socket are not the bytes relayed.
  int socket_fd() override { return -1; }
  boost::asio::awaitable<boost::system::error_code> wait(boost::asio::socket_base::wait_type) override;

  Socket& socket() { return socket_; }

 private:
  boost::system::error_code tls_error(int result);
  boost::asio::awaitable<boost::system::error_code> fill();   // socket -> OpenSSL
  boost::asio::awaitable<boost::system::error_code> flush();  // OpenSSL -> socket

  Socket socket_;
  std::shared_ptr<const TlsServerContext> context_;
  SSL* ssl_ = nullptr;
  BIO* network_in_ = nullptr;   // owned by ssl_
  BIO* network_out_ = nullptr;  // owned by ssl_
  std::vector<unsigned char> in_buffer_, out_buffer_;
  bool flushing_ = false;
  boost::asio::steady_timer flushed_;  // wakes coroutines waiting for their turn to flush
};

}  // namespace enclaver::transport
