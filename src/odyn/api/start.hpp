// Starting the internal API (api.listen_port) and the aux API
// (aux_api.listen_port), both on 127.0.0.1 inside the enclave, over one set
// of services. The aux API answers CORS (api.md); the internal one does not.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "common/result.hpp"
#include "http/server.hpp"
#include "manifest/manifest.hpp"
#include "odyn/api/services.hpp"

namespace enclaver::odyn::api {

struct ApiServers {
  std::shared_ptr<Services> services;
  std::shared_ptr<http::Server> internal;
  std::shared_ptr<http::Server> aux;
};

struct ApiOptions {
  std::uint16_t port = 0;
  std::uint16_t aux_port = 0;
  http::ServerLimits limits;
  std::function<void(const std::string&)> log;
};

// Makes the keys and starts both servers; the Error says which port could
// not be bound, or why the keys could not be made.
Result<ApiServers> start_api(boost::asio::any_io_executor executor, NsmHandle nsm, const ApiOptions& options);

}  // namespace enclaver::odyn::api
