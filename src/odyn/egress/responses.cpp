#include "odyn/egress/responses.hpp"

namespace enclaver::odyn::egress {
namespace {

const char* phrase(int status) {
  switch (status) {
    case 200: return "Connection established";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 431: return "Request Header Fields Too Large";
    case 502: return "Bad Gateway";
    case 504: return "Gateway Timeout";
    default: return "Error";
  }
}

}  // namespace

std::string simple_response(int status, std::string_view body, bool denied) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + phrase(status) + "\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  if (denied) out += "X-Enclaver-Egress: denied\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "Connection: close\r\n\r\n";
  out += body;
  return out;
}

std::string denied_body(std::string_view host_port, std::string_view reason) {
  return "blocked by egress policy: " + std::string(host_port) + " (" + std::string(reason) + ")";
}

std::string refusal_response(const Refusal& refusal) {
  if (refusal.status == 403) return simple_response(403, denied_body(host_port(refusal), refusal.reason), true);
  return simple_response(refusal.status, "bad request: " + refusal.reason);
}

std::vector<std::string> proxy_environment(std::uint16_t proxy_port) {
  const std::string proxy = "http://127.0.0.1:" + std::to_string(proxy_port);
  std::vector<std::string> env;
  for (const char* name : {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"}) env.push_back(std::string(name) + "=" + proxy);
  for (const char* name : {"no_proxy", "NO_PROXY"}) env.push_back(std::string(name) + "=localhost,127.0.0.1");
  return env;
}

}  // namespace enclaver::odyn::egress
