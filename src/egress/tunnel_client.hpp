// Odyn's side of the egress tunnel (wire.md, "Egress tunnel"): one vsock
// stream to the host per outbound connection, one request frame, one
// response frame, then the stream is the connection to the destination.
//
// Two entry points:
//  - open_tunnel(): the raw exchange, for a caller that has checked the
//    policy itself (the HTTP proxy, which must answer 403 with the reason).
//  - TunnelConnector: the "internal connector" for odyn's own outbound calls
//    (KMS, S3): checks the policy first, then opens the tunnel.
//
// Errors are values (DialError), never exceptions:
//  - the host side refused or could not dial: its Err frame as sent
//    (os_code 13 for policy refusals, the errno of a failed connect);
//  - the host side cannot be reached: the errno of the vsock connect, the
//    message naming the vsock address;
//  - the host side answered something that is not a response frame, or hung
//    up without answering: os_code 71 (EPROTO);
//  - the whole exchange (connect, request, response) took longer than
//    `timeout`: os_code 110, timed_out.
// The proxy maps them: 13 -> 403, timed_out -> 504, anything else -> 502.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>

#include <boost/asio/awaitable.hpp>

#include "egress/tunnel_codec.hpp"
#include "policy/policy.hpp"
#include "transport/vsock.hpp"

namespace enclaver::egress {

using TunnelResult = std::variant<transport::Socket, DialError>;

// Opens a tunnel to host:port through the host side listening at
// `host_side` (the parent, CID 3, vsock_ports.http_egress_port). `host` is a
// DNS name or an IP literal WITHOUT brackets (the tunnel's form). On success
// the socket is positioned just after the response frame: every byte read
// from it is the destination's.
boost::asio::awaitable<TunnelResult> open_tunnel(const transport::Vsock& vsock, transport::VsockAddress host_side,
                                                 std::string host, std::uint16_t port,
                                                 std::chrono::steady_clock::duration timeout);

// Odyn's own outbound connections: the same policy as the proxy's, then the
// tunnel. Copyable; holds its policy by value.
class TunnelConnector {
 public:
  TunnelConnector(transport::Vsock vsock, transport::VsockAddress host_side, policy::Policy policy,
                  std::chrono::steady_clock::duration timeout)
      : vsock_(std::move(vsock)), host_side_(host_side), policy_(std::move(policy)), timeout_(timeout) {}

  // `host` as a URL carries it (IPv6 in brackets, or bare). A host that
  // does not normalise, or that the policy refuses, is os_code 13 with the
  // reason ("blocked by egress policy: kms.example.com:443 (no allow rule
  // matches)") and no tunnel is opened. The tunnel receives the normalised
  // host (lower case, A-labels, IPv6 without brackets).
  boost::asio::awaitable<TunnelResult> connect(std::string host, std::uint16_t port) const;

  const policy::Policy& policy() const { return policy_; }

 private:
  transport::Vsock vsock_;
  transport::VsockAddress host_side_;
  policy::Policy policy_;
  std::chrono::steady_clock::duration timeout_;
};

}  // namespace enclaver::egress
