// The proxy's own answers (egress.md "Proxy behaviour"), as complete HTTP/1.1
// messages that close the connection: sans-IO.
//   403: body "blocked by egress policy: <host>:<port> (<reason>)",
//        header "X-Enclaver-Egress: denied";
//   400 (malformed), 431 (head over the limits): body "bad request: <reason>";
//   502 (the destination cannot be reached, or its TLS does not verify) and
//   504 (timed out): the body says what failed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "odyn/egress/target.hpp"

namespace enclaver::odyn::egress {

// "HTTP/1.1 <status> <phrase>", Content-Type text/plain, Content-Length,
// Connection: close, then `body`; with `denied`, X-Enclaver-Egress: denied.
std::string simple_response(int status, std::string_view body, bool denied = false);

// A refusal by parse_target() or decide(): 400 or the 403 above.
std::string refusal_response(const Refusal& refusal);
// The 403 body for a destination refused by the policy (ours or the host's).
std::string denied_body(std::string_view host_port, std::string_view reason);

// The app's proxy variables (manifest.md, "Environment given to the app by
// odyn"), as "NAME=value": http_proxy, https_proxy, HTTP_PROXY,
// HTTPS_PROXY = http://127.0.0.1:<port>; no_proxy, NO_PROXY =
// localhost,127.0.0.1. Only when egress is on: with egress off there is no
// proxy and none of these.
std::vector<std::string> proxy_environment(std::uint16_t proxy_port);

}  // namespace enclaver::odyn::egress
