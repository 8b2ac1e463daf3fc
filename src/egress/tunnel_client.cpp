#include "egress/tunnel_client.hpp"

#include "transport/forward.hpp"

#include <array>
#include <system_error>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace enclaver::egress {
namespace {

namespace asio = boost::asio;
using asio::redirect_error;
using asio::use_awaitable;

std::string target(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// Connect, ask, read exactly the response frame. Never throws.
asio::awaitable<TunnelResult> exchange(const transport::Vsock& vsock, transport::VsockAddress host_side,
                                       std::string request, std::string what) {
  std::optional<transport::Socket> connected;
  try {
    transport::Socket socket = co_await vsock.connect(host_side);
    transport::use_local_buffers(socket);  // vsock: a leg that stays on the machine
    connected.emplace(std::move(socket));
  } catch (const std::system_error& e) {
    co_return DialError{e.code().value(), what + ": cannot reach the host side: " + e.what(), false};
  } catch (const std::exception& e) {
    co_return DialError{kEproto, what + ": cannot reach the host side: " + e.what(), false};
  }
  transport::Socket& socket = *connected;
  boost::system::error_code ec;
  co_await asio::async_write(socket, asio::buffer(request), redirect_error(use_awaitable, ec));
  if (ec) co_return DialError{ec.value(), what + ": sending the request to the host side: " + ec.message(), false};

  // Never read past the frame: what follows an "Ok" is the destination's.
  FrameReader reader;
  std::array<char, 512> chunk;
  while (reader.wanted() > 0) {
    const std::size_t n = co_await socket.async_read_some(
        asio::buffer(chunk.data(), std::min(chunk.size(), reader.wanted())), redirect_error(use_awaitable, ec));
    if (ec == asio::error::eof)
      co_return DialError{kEproto, what + ": the host side closed the tunnel without answering", false};
    if (ec) co_return DialError{ec.value(), what + ": reading the host side's answer: " + ec.message(), false};
    reader.feed(std::string_view(chunk.data(), n));
  }
  if (reader.failed()) co_return DialError{kEproto, what + ": bad answer from the host side: " + reader.error(), false};
  auto response = parse_response(reader.payload());
  if (!response) co_return DialError{kEproto, what + ": " + response.error().message, false};
  if (!response->ok()) co_return std::move(*response->error);
  co_return std::move(socket);
}

// A struct, not the variant itself: awaitable_operators' || flattens an
// awaitable<variant<...>> into its own result variant.
struct Exchanged {
  TunnelResult result;
};

asio::awaitable<Exchanged> exchange_wrapped(const transport::Vsock& vsock, transport::VsockAddress host_side,
                                            std::string request, std::string what) {
  // Not Exchanged{co_await ...}: g++ 12 copies the awaited value's bytes
  // into the braces (a short string would point into a freed frame).
  TunnelResult result = co_await exchange(vsock, host_side, std::move(request), std::move(what));
  co_return Exchanged{std::move(result)};
}

}  // namespace

asio::awaitable<TunnelResult> open_tunnel(const transport::Vsock& vsock, transport::VsockAddress host_side,
                                          std::string host, std::uint16_t port,
                                          std::chrono::steady_clock::duration timeout) {
  using namespace asio::experimental::awaitable_operators;
  const std::string what = "egress tunnel to " + target(host, port);
  auto request = encode_request({host, port});
  if (!request) co_return DialError{kEacces, what + ": " + request.error().message, false};

  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  std::string frame = std::move(*request);
  auto outcome = co_await (exchange_wrapped(vsock, host_side, std::move(frame), what) || timer.async_wait(use_awaitable));
  if (outcome.index() == 1) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
    co_return DialError{kEtimedout, what + ": no answer from the host side within " + std::to_string(ms) + " ms", true};
  }
  co_return std::move(std::get<0>(outcome).result);
}

asio::awaitable<TunnelResult> TunnelConnector::connect(std::string host, std::uint16_t port) const {
  auto normalised = policy::normalize_host(host);
  if (!normalised)
    co_return DialError{kEacces, "blocked by egress policy: " + host + ":" + std::to_string(port) +
                                     " (invalid host: " + normalised.error().message + ")", false};
  const auto verdict = policy_.check(*normalised, port);
  if (!verdict.allowed)
    co_return DialError{kEacces, "blocked by egress policy: " + target(normalised->to_string(), port) + " (" +
                                     verdict.reason + ")", false};
  std::string canonical = normalised->to_string();
  TunnelResult result = co_await open_tunnel(vsock_, host_side_, std::move(canonical), port, timeout_);
  co_return result;
}

}  // namespace enclaver::egress
