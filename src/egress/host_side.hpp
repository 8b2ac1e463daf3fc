// The sleeve's side of the egress tunnel (wire.md, "Egress tunnel";
// egress.md, "Host side (defence in depth)"): it listens on the host's
// vsock port http_egress_port, and for each tunnel odyn opens
//   1. reads the request frame (within request_timeout; a frame that is not
//      a well-formed request is answered Err 71 EPROTO and closed);
//   2. refuses everything when egress is off (D10: Err 13 "egress is off");
//   3. refuses beyond max_tunnels concurrent tunnels (Err 11 EAGAIN);
//   4. applies the whole policy itself, not trusting odyn (D3): normalises
//      the host (policy::normalize_host), checks name or literal
//      (Policy::check), resolves a name ONCE through the Resolver (the name
//      `host` is not resolved: it is the parent's loopback, 127.0.0.1),
//      checks every address (Policy::check_resolved_all: special ranges
//      need an explicit IP/CIDR allow (D1), one refused address refuses the
//      name (D2)). A refusal is Err 13 whose message is the policy's reason
//      (which rule, or which range and address);
//   5. dials only the checked addresses, in the resolver's order, within
//      connect_timeout for all of them (an attempt gets an equal share of
//      what is left), never resolving again; a failure is Err with the errno
//      and strerror of the last attempt and the address tried, a timeout
//      Err 110;
//   6. answers "Ok" and relays (transport::relay: half-close propagated,
//      idle_timeout) until both directions end.
// Each refusal or failure is logged as one line through options.log.
//
// Coroutines on the acceptor's executor, none per connection thread; the
// executor must be single-threaded (an io_context run by one thread, or a
// strand). Errors on one tunnel never reach the caller; serve_egress()
// returns when the acceptor is closed, tunnels in progress carry on.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include <boost/asio/awaitable.hpp>

#include "egress/resolver.hpp"
#include "egress/tunnel_codec.hpp"
#include "policy/policy.hpp"
#include "transport/vsock.hpp"

namespace enclaver::egress {

struct HostSideOptions {
  // Tunnels being set up or relaying at once, for this enclave.
  std::size_t max_tunnels = 1024;
  std::chrono::steady_clock::duration request_timeout = std::chrono::seconds(10);
  std::chrono::steady_clock::duration resolve_timeout = std::chrono::seconds(10);
  std::chrono::steady_clock::duration connect_timeout = std::chrono::seconds(10);
  // No byte either way for this long ends a relaying tunnel; 0: never.
  std::chrono::steady_clock::duration idle_timeout{0};
  // One line per refusal or failure ("egress: refused 10.0.0.1:443: ...").
  std::function<void(const std::string&)> log;
};

// Serves every tunnel on `acceptor` until it is closed.
boost::asio::awaitable<void> serve_egress(transport::Acceptor& acceptor, policy::Policy policy,
                                          std::shared_ptr<Resolver> resolver, HostSideOptions options = {});

// Steps 2 and 4 above for one request, without the limit and without dialing:
// the checked addresses to dial, or the Err to answer. For tests and tools
// that want the host side's verdict on a catalogue. Holds its arguments by
// reference: they must outlive the awaitable (not temporaries in co_spawn).
boost::asio::awaitable<Resolution> checked_addresses(const policy::Policy& policy, Resolver& resolver,
                                                     const TunnelRequest& request,
                                                     std::chrono::steady_clock::duration resolve_timeout);

}  // namespace enclaver::egress
