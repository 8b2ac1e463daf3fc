#include "http/router.hpp"

#include <algorithm>
#include <exception>
#include <stdexcept>

#include "http/json.hpp"

namespace enclaver::http {

Router& Router::add(beast_http::verb method, std::string path, Handler handler, std::size_t max_body) {
  if (!handler) throw std::invalid_argument("http route " + path + ": no handler");
  if (method == beast_http::verb::unknown) throw std::invalid_argument("http route " + path + ": unknown method");
  auto normal = normalise_target(path);
  if (!normal || normal->path != path || !normal->query.empty())
    throw std::invalid_argument("http route " + path + ": not a normalised path");
  auto& routes = routes_[path];
  for (const auto& route : routes) {
    if (route.method == method)
      throw std::invalid_argument("http route " + path + ": a second handler for " +
                                  std::string(beast_http::to_string(method)));
  }
  routes.push_back(Route{method, std::move(handler), max_body});
  return *this;
}

const Router::Route* Router::find(std::string_view path, beast_http::verb method) const {
  auto entry = routes_.find(path);
  if (entry == routes_.end()) return nullptr;
  for (const auto& route : entry->second) {
    if (route.method == method) return &route;
  }
  return nullptr;
}

std::optional<std::size_t> Router::body_limit(std::string_view path, beast_http::verb method) const {
  auto entry = routes_.find(path);
  if (entry == routes_.end()) return std::nullopt;
  if (const auto* route = find(path, method)) return route->max_body;
  std::size_t largest = 0;
  for (const auto& route : entry->second) largest = std::max(largest, route.max_body);
  return largest;
}

std::string Router::allowed(std::string_view path) const {
  auto entry = routes_.find(path);
  if (entry == routes_.end()) return {};
  std::vector<std::string_view> names;
  for (const auto& route : entry->second) names.push_back(beast_http::to_string(route.method));
  std::sort(names.begin(), names.end());
  std::string out;
  for (auto name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

boost::asio::awaitable<Response> Router::dispatch(const Request& request, const Target& target,
                                                  boost::asio::any_io_executor executor) const {
  const unsigned version = request.version();
  if (routes_.find(target.path) == routes_.end()) {
    co_return error_response(beast_http::status::not_found, "no such endpoint: " + target.path, version);
  }
  const Route* route = find(target.path, request.method());
  if (!route) {
    std::string allow = allowed(target.path);
    auto response = error_response(beast_http::status::method_not_allowed,
                                   "method " + std::string(request.method_string()) + " not allowed on " +
                                       target.path + "; allowed: " + allow,
                                   version);
    response.set(beast_http::field::allow, allow);
    co_return response;
  }
  // No co_await inside the catch clauses (not allowed), and the context
  // built apart (g++ 12 mishandles co_await in braced initialisers).
  std::string failure;
  try {
    RouteContext context{request, target, std::move(executor)};
    Response response = co_await route->handler(context);
    co_return response;
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "the handler failed with an unknown exception";
  }
  if (failure.empty()) failure = "the handler failed";
  co_return error_response(beast_http::status::internal_server_error, failure, version);
}

}  // namespace enclaver::http
