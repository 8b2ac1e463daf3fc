#include "odyn/api/start.hpp"

#include "odyn/api/routes.hpp"

namespace enclaver::odyn::api {

Result<ApiServers> start_api(boost::asio::any_io_executor executor, NsmHandle nsm, const ApiOptions& options) {
  auto services = Services::create(std::move(nsm));
  if (!services) return make_error("internal API: " + services.error().message);
  auto start = [&](std::uint16_t port, std::shared_ptr<const http::Router> router, bool cors, const char* name) -> Result<std::shared_ptr<http::Server>> {
    auto acceptor = http::listen_loopback(executor, port);
    if (!acceptor) return make_error(std::string(name) + ": " + acceptor.error().message);
    http::ServerOptions server;
    server.limits = options.limits;
    server.cors = cors;
    server.name = name;
    server.log = options.log;
    return http::Server::start(executor, std::move(*acceptor), std::move(router), std::move(server));
  };
  ApiServers servers;
  servers.services = *services;
  auto internal = start(options.port, internal_router(*services), false, "internal API");
  if (!internal) return internal.error();
  servers.internal = *internal;
  auto aux = start(options.aux_port, aux_router(*services), true, "aux API");
  if (!aux) {
    servers.internal->stop();
    return aux.error();
  }
  servers.aux = *aux;
  return servers;
}

}  // namespace enclaver::odyn::api
