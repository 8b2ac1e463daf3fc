#include "transport/tls.hpp"

#include "common/openssl_errors.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <climits>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace enclaver::transport {
namespace {

using boost::asio::redirect_error;
using boost::asio::use_awaitable;
using boost::system::error_code;

constexpr std::size_t kChunk = 64 * 1024;  // plaintext per SSL_write, ciphertext per socket read/write


}  // namespace

Result<std::shared_ptr<const TlsServerContext>> TlsServerContext::load(const std::filesystem::path& cert_chain,
                                                                       const std::filesystem::path& private_key) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return make_error("cannot create a TLS context: " + openssl_errors());
  std::shared_ptr<const TlsServerContext> context(new TlsServerContext(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // An idle session gives its record buffers back: ingress holds thousands.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_chain.c_str()) != 1)
    return make_error("cannot load the TLS certificate " + cert_chain.string() + ": " + openssl_errors());
  // OpenSSL checks the pair as it loads the key.
  const auto mismatch = [&] {
    return make_error("the TLS key " + private_key.string() + " does not match the certificate " + cert_chain.string() +
                      ": " + openssl_errors());
  };
  if (SSL_CTX_use_PrivateKey_file(ctx, private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) return mismatch();
    return make_error("cannot load the TLS key " + private_key.string() + ": " + openssl_errors());
  }
  if (SSL_CTX_check_private_key(ctx) != 1) return mismatch();
  return context;
}

TlsServerContext::~TlsServerContext() { SSL_CTX_free(ctx_); }

TlsServerStream::TlsServerStream(Socket socket, std::shared_ptr<const TlsServerContext> context)
    : socket_(std::move(socket)),
      context_(std::move(context)),
      in_buffer_(kChunk),
      out_buffer_(kChunk),
      flushed_(socket_.get_executor(), std::chrono::steady_clock::time_point::max()) {
  ssl_ = SSL_new(context_->native());
  if (!ssl_) throw std::runtime_error("cannot create a TLS session: " + openssl_errors());
  network_in_ = BIO_new(BIO_s_mem());
  network_out_ = BIO_new(BIO_s_mem());
  if (!network_in_ || !network_out_) {
    BIO_free(network_in_);
    BIO_free(network_out_);
    SSL_free(ssl_);
    throw std::runtime_error("cannot create TLS buffers: " + openssl_errors());
  }
  // An empty input BIO means "no data yet", not end of file.
  BIO_set_mem_eof_return(network_in_, -1);
  SSL_set_bio(ssl_, network_in_, network_out_);
  SSL_set_accept_state(ssl_);
}

TlsServerStream::~TlsServerStream() { SSL_free(ssl_); }

error_code TlsServerStream::tls_error(int result) {
  const int kind = SSL_get_error(ssl_, result);
  if (kind == SSL_ERROR_ZERO_RETURN) return boost::asio::error::eof;
  if (kind == SSL_ERROR_SSL) {
    const unsigned long e = ERR_peek_last_error();
    ERR_clear_error();
    return error_code(static_cast<int>(e), boost::asio::error::get_ssl_category());
  }
  ERR_clear_error();
  return error_code(boost::asio::ssl::error::unspecified_system_error, boost::asio::ssl::error::get_stream_category());
}

boost::asio::awaitable<error_code> TlsServerStream::fill() {
  error_code ec;
  const std::size_t n = co_await socket_.async_read_some(boost::asio::buffer(in_buffer_), redirect_error(use_awaitable, ec));
  if (ec) co_return ec;
  BIO_write(network_in_, in_buffer_.data(), static_cast<int>(n));
  co_return error_code{};
}

// One writer at a time; whoever flushes sends everything queued by then,
// the other direction's records included.
boost::asio::awaitable<error_code> TlsServerStream::flush() {
  while (flushing_) {
    error_code ignored;
    co_await flushed_.async_wait(redirect_error(use_awaitable, ignored));
    if (!socket_.is_open()) co_return boost::asio::error::operation_aborted;
  }
  flushing_ = true;
  error_code ec;
  while (!ec && BIO_ctrl_pending(network_out_) > 0) {
    const int n = BIO_read(network_out_, out_buffer_.data(), static_cast<int>(out_buffer_.size()));
    if (n <= 0) break;
    co_await boost::asio::async_write(socket_, boost::asio::buffer(out_buffer_.data(), static_cast<std::size_t>(n)),
                                      redirect_error(use_awaitable, ec));
  }
  flushing_ = false;
  flushed_.cancel();
  co_return ec;
}

boost::asio::awaitable<error_code> TlsServerStream::handshake(std::chrono::steady_clock::duration timeout) {
  using namespace boost::asio::experimental::awaitable_operators;
  auto exchange = [this]() -> boost::asio::awaitable<error_code> {
    for (;;) {
      ERR_clear_error();
      const int r = SSL_do_handshake(ssl_);
      // The alert explaining a failure is worth sending too.
      if (error_code ec = co_await flush()) co_return ec;
      if (r == 1) co_return error_code{};
      if (SSL_get_error(ssl_, r) != SSL_ERROR_WANT_READ) co_return tls_error(r);
      if (error_code ec = co_await fill()) co_return ec;
    }
  };
  boost::asio::steady_timer timer(socket_.get_executor(), timeout);
  auto outcome = co_await (exchange() || timer.async_wait(use_awaitable));
  if (outcome.index() == 1) {
    abort();
    co_return boost::asio::error::timed_out;
  }
  co_return std::get<0>(outcome);
}

boost::asio::awaitable<std::size_t> TlsServerStream::read_some(boost::asio::mutable_buffer buffer, error_code& ec) {
  for (;;) {
    ERR_clear_error();
    const int n = SSL_read(ssl_, buffer.data(), static_cast<int>(std::min<std::size_t>(buffer.size(), INT_MAX)));
    // Reading may have produced records to send (a TLS 1.3 KeyUpdate answer).
    if (BIO_ctrl_pending(network_out_) > 0) {
      if ((ec = co_await flush())) co_return 0;
    }
    if (n > 0) co_return static_cast<std::size_t>(n);
    if (SSL_get_error(ssl_, n) != SSL_ERROR_WANT_READ) {
      ec = tls_error(n);
      co_return 0;
    }
    if ((ec = co_await fill())) co_return 0;
  }
}

boost::asio::awaitable<std::size_t> TlsServerStream::write(boost::asio::const_buffer buffer, error_code& ec) {
  const auto* data = static_cast<const unsigned char*>(buffer.data());
  std::size_t done = 0;
  while (done < buffer.size()) {
    ERR_clear_error();
    const int n = SSL_write(ssl_, data + done, static_cast<int>(std::min(buffer.size() - done, kChunk)));
    if (n <= 0) {
      ec = tls_error(n);
      co_return done;
    }
    // Flushed per chunk: the ciphertext queued never exceeds one chunk's worth.
    if ((ec = co_await flush())) co_return done;
    done += static_cast<std::size_t>(n);
  }
  co_return done;
}

boost::asio::awaitable<error_code> TlsServerStream::half_close() {
  ERR_clear_error();
  SSL_shutdown(ssl_);  // queues close_notify; 0 = the peer's is still to come, and reading goes on
  if (error_code ec = co_await flush()) co_return ec;
  error_code ec;
  socket_.shutdown(boost::asio::socket_base::shutdown_send, ec);
  co_return ec;
}

void TlsServerStream::abort() noexcept {
  RelayStreamTraits<Socket>::abort(socket_);
  flushed_.cancel();
}

boost::asio::awaitable<error_code> TlsServerStream::wait(boost::asio::socket_base::wait_type) {
  co_return boost::asio::error::operation_not_supported;
}

}  // namespace enclaver::transport
