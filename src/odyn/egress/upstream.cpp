#include "odyn/egress/upstream.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "odyn/egress/responses.hpp"

namespace enclaver::odyn::egress::detail {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

OpenFailure failure(const Target& target, int status, const std::string& reason) {
  OpenFailure out;
  out.status = status;
  out.reason = reason;
  if (status == 403) out.response = simple_response(403, denied_body(host_port(target), reason), true);
  else out.response = simple_response(status, host_port(target) + ": " + reason);
  return out;
}

}  // namespace

Result<std::shared_ptr<asio::ssl::context>> make_client_tls(const std::filesystem::path& bundle,
                                                            const std::filesystem::path& extra) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_verify_mode(asio::ssl::verify_peer);
  boost::system::error_code ec;
  std::error_code exists_ec;
  if (!bundle.empty() && std::filesystem::exists(bundle, exists_ec)) {
    context->load_verify_file(bundle.string(), ec);
    if (ec) return make_error("CA bundle " + bundle.string() + ": " + ec.message());
  }
  if (!extra.empty()) {
    context->load_verify_file(extra.string(), ec);
    if (ec) return make_error("extra CA file " + extra.string() + ": " + ec.message());
  }
  return context;
}

asio::awaitable<std::variant<transport::Socket, OpenFailure>> dial(const Dialer& dialer, const Target& target,
                                                                   std::chrono::steady_clock::duration timeout) {
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  // Wrapped: awaitable_operators would flatten a variant result into theirs.
  struct Attempt {
    DialResult result;
  };
  auto attempt = [&]() -> asio::awaitable<Attempt> {
    try {
      // Not co_await inside a braced initialiser: g++ 12 miscompiles that.
      DialResult result = co_await dialer(target.dial_host, target.port);
      co_return Attempt{std::move(result)};
    } catch (const std::exception& e) {
      co_return Attempt{DialError{EIO, e.what()}};
    }
  };
  auto raced = co_await (attempt() || timer.async_wait(asio::use_awaitable));
  if (raced.index() == 1)
    co_return failure(target, 504, "timed out connecting after " +
                                       std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()) +
                                       " ms");
  auto& result = std::get<0>(raced).result;
  if (auto* socket = std::get_if<transport::Socket>(&result)) co_return std::move(*socket);
  auto& error = std::get<DialError>(result);
  if (error.timed_out) co_return failure(target, 504, "timed out connecting: " + error.message);
  if (error.os_code == EACCES) co_return failure(target, 403, error.message);
  std::string text = error.message;
  if (text.empty()) text = std::strerror(error.os_code);
  co_return failure(target, 502, "cannot connect: " + text);
}

asio::awaitable<std::variant<std::unique_ptr<TlsStream>, OpenFailure>> tls_connect(
    transport::Socket socket, asio::ssl::context& context, const Target& target,
    std::chrono::steady_clock::duration timeout) {
  auto stream = std::make_unique<TlsStream>(std::move(socket), context);
  SSL* ssl = stream->native_handle();
  if (target.dial_host_is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), target.dial_host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, target.dial_host.c_str());
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    SSL_set1_host(ssl, target.dial_host.c_str());
  }
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  boost::system::error_code ec;
  auto raced = co_await (stream->async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec)) ||
                         timer.async_wait(asio::use_awaitable));
  if (raced.index() == 1) {
    boost::system::error_code ignored;
    stream->next_layer().close(ignored);
    co_return failure(target, 504, "timed out in the TLS handshake");
  }
  if (ec) {
    long verify = SSL_get_verify_result(ssl);
    std::string reason = "TLS handshake failed: " + ec.message();
    if (verify != X509_V_OK) reason = std::string("TLS certificate verification failed: ") + X509_verify_cert_error_string(verify);
    boost::system::error_code ignored;
    stream->next_layer().close(ignored);
    co_return failure(target, 502, reason);
  }
  co_return std::move(stream);
}

void Upstream::abort() noexcept {
  boost::system::error_code ignored;
  auto& s = socket();
  s.cancel(ignored);
  s.close(ignored);
}

}  // namespace enclaver::odyn::egress::detail
