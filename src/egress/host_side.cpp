#include "egress/host_side.hpp"

#include <array>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "transport/accept.hpp"
#include "transport/forward.hpp"
#include "transport/relay.hpp"

namespace enclaver::egress {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using asio::ip::tcp;
using asio::redirect_error;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kParent = "host";
// How long, and how much, a refused tunnel's input is read and dropped
// before closing (see refuse()).
constexpr auto kDrainTime = std::chrono::seconds(2);
constexpr std::size_t kDrainLimit = 1 << 20;

struct State {
  policy::Policy policy;
  std::shared_ptr<Resolver> resolver;
  HostSideOptions options;
  std::size_t active = 0;

  void log(const std::string& line) const {
    if (options.log) options.log(line);
  }
};

// Holds one of max_tunnels for as long as the tunnel lives.
class Slot {
 public:
  explicit Slot(State& state) : state_(state) { ++state_.active; }
  ~Slot() { --state_.active; }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

 private:
  State& state_;
};

long long millis(Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

std::string target(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

asio::ip::address to_asio(const policy::IpAddress& ip) {
  if (!ip.v6) return asio::ip::address_v4({ip.bytes[0], ip.bytes[1], ip.bytes[2], ip.bytes[3]});
  return asio::ip::address_v6(ip.bytes);
}

// What reading the request came to.
struct BadRequest {
  std::string why;
  bool answer = false;  // a protocol error worth an Err frame; else (timeout, hang-up) just close
};
using RequestOutcome = std::variant<TunnelRequest, BadRequest>;

// Reads exactly one frame: bytes after it (odyn's client sends none before
// our answer; a compromised one might) stay in the socket as payload.
asio::awaitable<RequestOutcome> read_request(transport::Socket& socket) {
  FrameReader reader;
  std::array<char, 512> chunk;
  boost::system::error_code ec;
  while (reader.wanted() > 0) {
    const std::size_t n = co_await socket.async_read_some(
        asio::buffer(chunk.data(), std::min(chunk.size(), reader.wanted())), redirect_error(use_awaitable, ec));
    if (ec == asio::error::eof) co_return BadRequest{"closed before sending a whole request", false};
    if (ec) co_return BadRequest{"reading the request: " + ec.message(), false};
    reader.feed(std::string_view(chunk.data(), n));
  }
  if (reader.failed()) co_return BadRequest{"bad tunnel request: " + reader.error(), true};
  auto request = parse_request(reader.payload());
  if (!request) co_return BadRequest{request.error().message, true};
  co_return std::move(*request);
}

// A struct, not the variant itself: awaitable_operators' || flattens an
// awaitable<variant<...>> into its own result variant.
struct ReadRequest {
  RequestOutcome outcome;
};

asio::awaitable<ReadRequest> read_request_wrapped(transport::Socket& socket) {
  // Not ReadRequest{co_await ...}: g++ 12 copies the awaited value's bytes
  // into the braces, leaving a short string pointing into a freed frame.
  RequestOutcome outcome = co_await read_request(socket);
  co_return ReadRequest{std::move(outcome)};
}

asio::awaitable<RequestOutcome> read_request(transport::Socket& socket, Clock::duration timeout) {
  asio::steady_timer timer(socket.get_executor(), timeout);
  auto outcome = co_await (read_request_wrapped(socket) || timer.async_wait(use_awaitable));
  if (outcome.index() == 1) co_return BadRequest{"no request within " + std::to_string(millis(timeout)) + " ms", false};
  co_return std::move(std::get<0>(outcome).outcome);
}

using DialOutcome = std::variant<tcp::socket, DialError>;

// Tries the checked addresses in order, sharing connect_timeout between them.
asio::awaitable<DialOutcome> dial(const Addresses& addresses, std::uint16_t port, Clock::duration connect_timeout) {
  auto executor = co_await asio::this_coro::executor;
  const auto deadline = Clock::now() + connect_timeout;
  DialError last{kEtimedout, "no address to connect to", true};
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) break;
    const auto share = left / static_cast<Clock::duration::rep>(addresses.size() - i);
    const tcp::endpoint endpoint(to_asio(addresses[i]), port);
    const std::string where = " (connecting to " + target(addresses[i].to_string(), port) + ")";

    tcp::socket socket(executor);
    boost::system::error_code ec;
    asio::steady_timer timer(executor, share);
    auto outcome = co_await (socket.async_connect(endpoint, redirect_error(use_awaitable, ec)) ||
                             timer.async_wait(use_awaitable));
    if (outcome.index() == 1) {
      last = DialError{kEtimedout, "Connection timed out" + where + ": no answer within " +
                                       std::to_string(millis(share)) + " ms", true};
      continue;
    }
    if (ec) {
      last = DialError{ec.value(), ec.message() + where, ec.value() == kEtimedout};
      continue;
    }
    co_return std::move(socket);
  }
  co_return last;
}

// g++ 12 mishandles temporaries with destructors inside a co_await
// expression (destroyed twice, or copied by their bytes): every argument of
// a co_await below is a named local.

// Answers an Err and hangs up. A socket closed with bytes it has not read
// makes the peer's next read fail (ECONNRESET, on Unix sockets as on vsock)
// before it sees the Err: so after the answer, read and drop whatever odyn
// still sends until it hangs up, for a bounded time and amount.
asio::awaitable<void> refuse(transport::Socket& socket, const DialError& error) {
  const std::string frame = encode_response(TunnelResponse{error});
  boost::system::error_code ec;
  co_await asio::async_write(socket, asio::buffer(frame), redirect_error(use_awaitable, ec));
  socket.shutdown(asio::socket_base::shutdown_send, ec);
  auto drain = [&socket]() -> asio::awaitable<void> {
    std::array<char, 4096> sink;
    boost::system::error_code ec;
    for (std::size_t total = 0; total < kDrainLimit;) {
      total += co_await socket.async_read_some(asio::buffer(sink), redirect_error(use_awaitable, ec));
      if (ec) co_return;
    }
  };
  asio::steady_timer timer(socket.get_executor(), kDrainTime);
  co_await (drain() || timer.async_wait(use_awaitable));
  socket.close(ec);
}

// One tunnel. Nothing on one tunnel may reach the others: an exception
// (std::bad_alloc, say) ends this tunnel only, logged.
asio::awaitable<void> tunnel_steps(transport::Socket& socket, State& state);

asio::awaitable<void> tunnel(transport::Socket socket, std::shared_ptr<State> state) {
  try {
    co_await tunnel_steps(socket, *state);
  } catch (const std::exception& e) {
    state->log(std::string("egress: tunnel failed: ") + e.what());
  }
}

asio::awaitable<void> tunnel_steps(transport::Socket& socket, State& state) {
  transport::use_local_buffers(socket);
  RequestOutcome outcome = co_await read_request(socket, state.options.request_timeout);
  if (auto* bad = std::get_if<BadRequest>(&outcome)) {
    state.log("egress: " + bad->why + (bad->answer ? "; refused" : "; closed"));
    if (bad->answer) {
      const DialError error{kEproto, bad->why, false};
      co_await refuse(socket, error);
    }
    co_return;
  }
  const TunnelRequest request = std::move(std::get<TunnelRequest>(outcome));
  const std::string what = target(request.host, request.port);

  if (!state.policy.enabled()) {
    state.log("egress: refused " + what + ": egress is off");
    const DialError error{kEacces, "egress is off (egress.allow is empty)", false};
    co_await refuse(socket, error);
    co_return;
  }
  if (state.active >= state.options.max_tunnels) {
    const DialError error{kEagain, "too many egress tunnels at once (limit " +
                                       std::to_string(state.options.max_tunnels) + ")", false};
    state.log("egress: refused " + what + ": " + error.message);
    co_await refuse(socket, error);
    co_return;
  }
  Slot slot(state);

  Resolution checked = co_await checked_addresses(state.policy, *state.resolver, request, state.options.resolve_timeout);
  if (const auto* error = std::get_if<DialError>(&checked)) {
    state.log("egress: refused " + what + ": " + error->message);
    co_await refuse(socket, *error);
    co_return;
  }
  const Addresses& addresses = std::get<Addresses>(checked);
  DialOutcome dialled = co_await dial(addresses, request.port, state.options.connect_timeout);
  if (const auto* error = std::get_if<DialError>(&dialled)) {
    state.log("egress: cannot connect to " + what + ": " + error->message);
    co_await refuse(socket, *error);
    co_return;
  }
  tcp::socket& upstream = std::get<tcp::socket>(dialled);
  boost::system::error_code ec;
  upstream.set_option(tcp::no_delay(true), ec);

  const std::string ok = encode_response(TunnelResponse{});
  co_await asio::async_write(socket, asio::buffer(ok), redirect_error(use_awaitable, ec));
  if (ec) co_return;  // odyn gave up; closing both ends is all there is to do
  transport::RelayOptions relay_options;
  relay_options.idle_timeout = state.options.idle_timeout;
  co_await transport::relay(socket, upstream, relay_options);
}

}  // namespace

asio::awaitable<Resolution> checked_addresses(const policy::Policy& policy, Resolver& resolver,
                                              const TunnelRequest& request, Clock::duration resolve_timeout) {
  if (!policy.enabled()) co_return DialError{kEacces, "egress is off (egress.allow is empty)", false};
  auto host = policy::normalize_host(request.host);
  if (!host) co_return DialError{kEacces, "invalid host: " + host.error().message, false};
  // The name alone first: a name the policy refuses is never sent to DNS.
  const auto verdict = policy.check(*host, request.port);
  if (!verdict.allowed) co_return DialError{kEacces, verdict.reason, false};

  Addresses addresses;
  if (const auto* literal = std::get_if<policy::IpAddress>(&host->value)) {
    addresses.push_back(*literal);
  } else if (std::get<std::string>(host->value) == kParent) {
    addresses.push_back(policy::IpAddress::v4(127, 0, 0, 1));
  } else {
    std::string name = std::get<std::string>(host->value);
    Resolution resolved = co_await resolver.resolve(std::move(name), resolve_timeout);
    if (auto* error = std::get_if<DialError>(&resolved)) co_return std::move(*error);
    addresses = std::move(std::get<Addresses>(resolved));
  }
  const auto all = policy.check_resolved_all(*host, addresses, request.port);
  if (!all.allowed) co_return DialError{kEacces, all.reason, false};
  co_return addresses;
}

asio::awaitable<void> serve_egress(transport::Acceptor& acceptor, policy::Policy policy,
                                   std::shared_ptr<Resolver> resolver, HostSideOptions options) {
  auto state = std::make_shared<State>(State{std::move(policy), std::move(resolver), std::move(options)});
  co_await transport::accept_each(acceptor, [&acceptor, &state](transport::Socket socket) {
    asio::co_spawn(acceptor.get_executor(), tunnel(std::move(socket), state), asio::detached);
  });
}

}  // namespace enclaver::egress
