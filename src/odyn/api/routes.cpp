#include "odyn/api/routes.hpp"

#include <functional>
#include <variant>

#include "http/json.hpp"

namespace enclaver::odyn::api {
namespace {

namespace beast_http = boost::beast::http;
using beast_http::status;
using beast_http::verb;
using nlohmann::json;

http::Response json_ok(const json& body, const http::Request& request) { return http::json_response(status::ok, body, request.version()); }

http::Response failure(status code, const Error& error, const http::Request& request) {
  return http::error_response(code, error.message, request.version());
}

// A handler for a GET whose answer never changes: serialised once, not per
// request (the address's EIP-55 checksum alone is a Keccak-256).
http::Handler constant(const json& answer) {
  auto body = std::make_shared<const std::string>(answer.dump());
  return [body](http::RouteContext context) -> boost::asio::awaitable<http::Response> {
    http::Response response{status::ok, context.request.version()};
    response.set(beast_http::field::content_type, "application/json");
    response.body() = *body;
    response.prepare_payload();
    co_return response;
  };
}

// The JSON body decoded into a Request, or the 400 that says why not.
template <class Request, class Decode>
std::variant<Request, http::Response> decode_body(const http::Request& request, Decode decode, bool empty_is_object) {
  auto body = http::parse_json_object(request.body(), empty_is_object);
  if (!body) return failure(status::bad_request, body.error(), request);
  Result<Request> decoded = decode(*body);
  if (!decoded) return failure(status::bad_request, decoded.error(), request);
  return std::move(*decoded);
}

// Which status a failure of a service gets.
using FailureStatus = std::function<status(const Error&)>;
FailureStatus always(status code) {
  return [code](const Error&) { return code; };
}

// A POST whose JSON body decodes into a request for `serve`, which answers
// JSON; failures of `serve` get the status `failed` gives them.
template <class Request, class Decode, class Serve>
http::Handler decoded(Decode decode, Serve serve, FailureStatus failed) {
  return [decode, serve, failed](http::RouteContext context) -> boost::asio::awaitable<http::Response> {
    auto request = decode_body<Request>(context.request, decode, false);
    if (auto* refused = std::get_if<http::Response>(&request)) co_return std::move(*refused);
    auto result = serve(std::get<Request>(request));
    auto response = result ? json_ok(*result, context.request) : failure(failed(result.error()), result.error(), context.request);
    co_return response;
  };
}

http::Handler attestation(std::shared_ptr<Services> services, bool aux) {
  return [services, aux](http::RouteContext context) -> boost::asio::awaitable<http::Response> {
    // All fields are optional: an empty body asks for the defaults.
    auto request = decode_body<AttestationRequest>(
        context.request, [aux](const json& body) { return decode_attestation(body, aux); }, true);
    if (auto* refused = std::get_if<http::Response>(&request)) co_return std::move(*refused);
    auto document = services->attestation(std::get<AttestationRequest>(request));
    if (!document) {
      auto response = failure(status::service_unavailable, document.error(), context.request);
      co_return response;
    }
    http::Response response{status::ok, context.request.version()};
    response.set(beast_http::field::content_type, "application/cbor");
    response.body().assign(document->begin(), document->end());
    response.prepare_payload();
    co_return response;
  };
}

// The endpoints both APIs have, answered identically.
void add_public_endpoints(http::Router& router, const std::shared_ptr<Services>& services) {
  router.add(verb::get, "/v1/eth/address", constant(services->address()));
  router.add(verb::get, "/v1/encryption/public_key", constant(services->encryption_public_key()));
}

}  // namespace

std::shared_ptr<const http::Router> internal_router(std::shared_ptr<Services> services) {
  auto router = std::make_shared<http::Router>();
  add_public_endpoints(*router, services);
  router->add(verb::post, "/v1/attestation", attestation(services, false));
  router->add(verb::post, "/v1/eth/sign",
              decoded<SignRequest>(decode_sign, [services](const SignRequest& r) { return services->sign(r); }, always(status::service_unavailable)));
  router->add(verb::post, "/v1/eth/sign-tx",
              decoded<SignTxRequest>(decode_sign_tx, [services](const SignTxRequest& r) { return services->sign_transaction(r); },
                                     always(status::service_unavailable)));
  router->add(verb::get, "/v1/random", [services](http::RouteContext context) -> boost::asio::awaitable<http::Response> {
    auto random = services->random();
    auto response = random ? json_ok(*random, context.request) : failure(status::service_unavailable, random.error(), context.request);
    co_return response;
  });
  router->add(verb::post, "/v1/encryption/decrypt",
              decoded<DecryptRequest>(decode_decrypt, [services](const DecryptRequest& r) { return services->decrypt(r); }, always(status::bad_request)));
  router->add(verb::post, "/v1/encryption/encrypt",
              decoded<EncryptRequest>(decode_encrypt, [services](const EncryptRequest& r) { return services->encrypt(r); },
                                      // The client's key is the only input that can be wrong (p384.hpp
                                      // names it); anything else is ours (randomness, OpenSSL).
                                      [](const Error& e) {
                                        return e.message.rfind("client_public_key", 0) == 0 ? status::bad_request
                                                                                            : status::internal_server_error;
                                      }));
  return router;
}

std::shared_ptr<const http::Router> aux_router(std::shared_ptr<Services> services) {
  auto router = std::make_shared<http::Router>();
  add_public_endpoints(*router, services);
  router->add(verb::post, "/v1/attestation", attestation(services, true));
  return router;
}

}  // namespace enclaver::odyn::api
