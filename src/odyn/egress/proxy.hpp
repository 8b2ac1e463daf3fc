// odyn's egress proxy (egress.md "Proxy behaviour"): the app's only way out
// of the enclave. It listens on 127.0.0.1:<egress.proxy_port>, checks each
// request's destination against the policy, and reaches allowed ones
// through a Dialer (the vsock egress tunnel to the host, wire.md; tests
// give a TCP one).
//
//  - CONNECT host:port: dial; "200 Connection established" only once the
//    dial succeeded; then raw bytes both ways (transport::relay), nothing
//    after the 200 parsed again (D14).
//  - GET http://host[:port]/path (absolute-form): forwarded as origin-form
//    with Host from the URI; Proxy-* and hop-by-hop headers dropped; bodies
//    streamed both ways (chunked or sized, never held whole in memory);
//    keep-alive and pipelining; one upstream connection per client
//    connection and destination (a new destination replaces it).
//  - https://host[:port]/path (absolute-form): the same, over TLS that odyn
//    originates and verifies (CA bundle + extra CA file, name or IP); a
//    verification failure is 502 with the reason.
//  - Refusals close the connection: 400 malformed (D4, D7, D11, D13), 403
//    policy (ours, or the host's: DialError::os_code 13), 502 dial failure,
//    504 timeout; each logged once through `log`, with host, port, reason.
//
// Everything runs as coroutines on the caller's executor (odyn's single
// io_context); nothing here blocks or starts threads. Errors of start()
// are values (Result); per-connection failures are answers and log lines,
// never exceptions out of the proxy.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/result.hpp"
#include "policy/policy.hpp"
#include "egress/tunnel_codec.hpp"
#include "transport/vsock.hpp"

namespace enclaver::odyn::egress {

inline constexpr const char* kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";

// Why a dial failed: the tunnel's own error (egress/tunnel_codec.hpp).
// os_code is an errno value; 13 (EACCES) means the host refused the
// destination by its own policy (egress.md "Host side"), which the app sees
// as 403 with `message`. timed_out: the app sees 504.
using DialError = ::enclaver::egress::DialError;

using DialResult = std::variant<transport::Socket, DialError>;
// Opens a connection to host:port (host: a normalised name or an IP literal
// without brackets, as the tunnel request carries it) and returns the
// connected stream once the far side is connected. The proxy bounds it with
// connect_timeout by cancelling it; it may also throw, which counts as a
// DialError with the exception's text.
using Dialer = std::function<boost::asio::awaitable<DialResult>(std::string host, std::uint16_t port)>;

struct ProxyLimits {
  std::size_t header_bytes = 64 * 1024;           // a request's head, request line included
  std::size_t header_fields = 100;                // fields per request
  std::size_t response_header_bytes = 256 * 1024;  // an upstream response's head
};

struct ProxyOptions {
  std::uint16_t port = 10000;          // 0: any free port (tests); see EgressProxy::port()
  std::string address = "127.0.0.1";  // the enclave's loopback
  Dialer dialer;
  std::chrono::steady_clock::duration connect_timeout = std::chrono::seconds(30);  // dial + TLS handshake
  // No byte in either direction for this long closes a client connection
  // (waiting for a request, or in the middle of one, or tunnelling).
  std::chrono::steady_clock::duration idle_timeout = std::chrono::minutes(10);
  ProxyLimits limits;
  // Trust anchors for https:// absolute-form requests. A missing ca_bundle
  // is tolerated (then only extra_ca_file is trusted); a given extra_ca_file
  // that does not load is an error of start().
  std::filesystem::path ca_bundle = kSystemCaBundle;
  std::filesystem::path extra_ca_file;  // ENCLAVER_EXTRA_CA_FILE; empty: none
  std::function<void(const std::string&)> log;  // odyn's [odyn] lines
};

class EgressProxy {
 public:
  // Loads the CA files, binds and listens, then accepts in the background on
  // `executor`. The policy is copied. Errors name what failed (the CA file,
  // the address that cannot be bound).
  static Result<std::shared_ptr<EgressProxy>> start(boost::asio::any_io_executor executor,
                                                    const policy::Policy& policy, ProxyOptions options);

  // The port listened on (options.port, or the one the kernel chose for 0).
  std::uint16_t port() const { return port_; }
  // Stops accepting; connections already open run to their end.
  void stop();

  struct State;  // shared with the connections; proxy.cpp

 private:
  explicit EgressProxy(std::shared_ptr<State> state, std::uint16_t port) : state_(std::move(state)), port_(port) {}
  std::shared_ptr<State> state_;
  std::uint16_t port_;
};

}  // namespace enclaver::odyn::egress
