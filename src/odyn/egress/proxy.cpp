#include "odyn/egress/proxy.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "odyn/egress/connection.hpp"
#include "odyn/egress/upstream.hpp"
#include "transport/accept.hpp"

namespace enclaver::odyn::egress {
namespace asio = boost::asio;
using asio::ip::tcp;

Result<std::shared_ptr<EgressProxy>> EgressProxy::start(asio::any_io_executor executor, const policy::Policy& policy,
                                                        ProxyOptions options) {
  if (!options.dialer) return make_error("egress proxy: no dialer");
  auto tls = detail::make_client_tls(options.ca_bundle, options.extra_ca_file);
  if (!tls) return make_error("egress proxy: " + tls.error().message);
  auto state = std::make_shared<State>(State{policy, std::move(options), std::move(*tls), nullptr});
  const auto& o = state->options;
  std::uint16_t port = 0;
  try {
    tcp::endpoint endpoint(asio::ip::make_address(o.address), o.port);
    state->acceptor = std::make_shared<tcp::acceptor>(executor);
    state->acceptor->open(endpoint.protocol());
    state->acceptor->set_option(asio::socket_base::reuse_address(true));
    state->acceptor->bind(endpoint);
    state->acceptor->listen(asio::socket_base::max_listen_connections);
    port = state->acceptor->local_endpoint().port();
  } catch (const std::exception& e) {
    return make_error("egress proxy: cannot listen on " + o.address + ":" + std::to_string(o.port) + ": " + e.what());
  }
  std::shared_ptr<const State> shared = state;
  auto acceptor = state->acceptor;
  asio::co_spawn(
      executor,
      [acceptor, shared, executor]() {
        return transport::accept_each(*acceptor, [shared, executor](tcp::socket client) {
          asio::co_spawn(executor, detail::serve_client(shared, std::move(client)), asio::detached);
        });
      },
      asio::detached);
  return std::shared_ptr<EgressProxy>(new EgressProxy(std::move(state), port));
}

void EgressProxy::stop() {
  boost::system::error_code ignored;
  if (state_ && state_->acceptor) state_->acceptor->close(ignored);
}

}  // namespace enclaver::odyn::egress
