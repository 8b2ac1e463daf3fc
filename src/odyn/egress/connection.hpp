// Internal to the proxy: what the proxy shares with its connections, and
// one client connection's life (proxy.hpp says what the app sees).
#pragma once

#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "odyn/egress/proxy.hpp"

namespace enclaver::odyn::egress {

struct EgressProxy::State {
  policy::Policy policy;
  ProxyOptions options;
  std::shared_ptr<boost::asio::ssl::context> tls;
  std::shared_ptr<boost::asio::ip::tcp::acceptor> acceptor;

  void log(const std::string& line) const {
    if (options.log) options.log(line);
  }
};

namespace detail {

// Serves one client connection until it ends; never throws.
boost::asio::awaitable<void> serve_client(std::shared_ptr<const EgressProxy::State> state,
                                          boost::asio::ip::tcp::socket client);

}  // namespace detail
}  // namespace enclaver::odyn::egress
