// Internal to the proxy: the connection to a destination. Dialling through
// the Dialer under the connect timeout, TLS originated by odyn for https://
// targets (verifying the certificate chain against the configured anchors
// and the name or address), and the failures the app sees when either
// goes wrong (403 from the host's policy, 502, 504).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "common/result.hpp"
#include "odyn/egress/proxy.hpp"
#include "odyn/egress/target.hpp"

namespace enclaver::odyn::egress::detail {

using TlsStream = boost::asio::ssl::stream<transport::Socket>;

// A client context: TLS 1.2+, peer verification on, trusting `bundle`
// (skipped when the file does not exist) and `extra` (when not empty; it
// must load). Errors name the file and OpenSSL's reason.
Result<std::shared_ptr<boost::asio::ssl::context>> make_client_tls(const std::filesystem::path& bundle,
                                                                    const std::filesystem::path& extra);

// What the app is told when a destination cannot be reached: the complete
// response, and the reason for the log line.
struct OpenFailure {
  int status = 502;
  std::string response;
  std::string reason;
};

// Dials target.dial_host:target.port, bounded by `timeout` (504 when it
// expires or the dialer says timed_out; 403 for os_code 13; 502 otherwise,
// with the OS error text).
boost::asio::awaitable<std::variant<transport::Socket, OpenFailure>> dial(const Dialer& dialer, const Target& target,
                                                                          std::chrono::steady_clock::duration timeout);

// TLS client handshake on `socket` for target (SNI and name check for a
// name, address check for an IP literal), bounded by `timeout`. A
// verification failure is 502 with OpenSSL's reason.
boost::asio::awaitable<std::variant<std::unique_ptr<TlsStream>, OpenFailure>> tls_connect(
    transport::Socket socket, boost::asio::ssl::context& context, const Target& target,
    std::chrono::steady_clock::duration timeout);

// One open upstream connection: plain, or TLS over the socket.
struct Upstream {
  std::string key;  // scheme, normalised host and port: reused only for the same
  std::optional<transport::Socket> plain;
  std::unique_ptr<TlsStream> tls;
  boost::beast::flat_buffer buffer;  // response bytes read ahead

  transport::Socket& socket() { return tls ? tls->next_layer() : *plain; }
  // Cancels what is pending on it and closes it.
  void abort() noexcept;
};

}  // namespace enclaver::odyn::egress::detail
