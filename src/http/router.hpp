// Routes of one odyn HTTP service: exact matches of a normalised path
// (path.hpp) and a method to a handler. A service is its own Router, built
// at start and then only read (the aux API is a second Router over the same
// services, not a filter in front of the first).
//
// dispatch() answers, for any request:
//  - 404 {"error":"no such endpoint: <path>"} for a path with no routes;
//  - 405 {"error":"method M not allowed on P; allowed: GET, POST"} with
//    Allow for a known path and another method (HEAD is not implied by GET);
//  - otherwise the handler's response. A handler that throws becomes
//    500 {"error":"<what()>"}: never a dropped connection.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "http/message.hpp"
#include "http/path.hpp"

namespace enclaver::http {

inline constexpr std::size_t kDefaultMaxBody = std::size_t{1} << 20;  // 1 MiB (api.md "Errors")

// What a handler gets. The references live until its response is written.
struct RouteContext {
  const Request& request;  // the body read whole, within the route's max_body
  const Target& target;    // target.path is the route's path
  boost::asio::any_io_executor executor;
};
using Handler = std::function<boost::asio::awaitable<Response>(RouteContext)>;

class Router {
 public:
  // Adds a route. `path` must be in normal form (normalise_target(path)
  // gives it back, without a query); a second handler for the same path and
  // method, or an empty handler, is a programming error: std::invalid_argument.
  // max_body bounds the request body this route accepts (413 over it).
  Router& add(beast_http::verb method, std::string path, Handler handler, std::size_t max_body = kDefaultMaxBody);

  // The body limit to read a request with: the route's own max_body when the
  // path has a route for `method`; for a known path and another method (a
  // 405 is coming), the largest max_body among the path's routes; nullopt
  // for an unknown path (the server then reads with kDefaultMaxBody).
  std::optional<std::size_t> body_limit(std::string_view path, beast_http::verb method) const;

  // The methods routed for `path`, sorted by name and joined with ", "
  // ("GET, POST"); empty for an unknown path.
  std::string allowed(std::string_view path) const;

  // The answer to `request` (see the top of this file). `target` is the
  // normalised target of `request`; both must outlive the returned awaitable.
  boost::asio::awaitable<Response> dispatch(const Request& request, const Target& target,
                                            boost::asio::any_io_executor executor) const;

 private:
  struct Route {
    beast_http::verb method;
    Handler handler;
    std::size_t max_body;
  };
  const Route* find(std::string_view path, beast_http::verb method) const;

  std::map<std::string, std::vector<Route>, std::less<>> routes_;  // by path
};

}  // namespace enclaver::http
