#include "http/json.hpp"

namespace enclaver::http {
namespace {

// True when brackets outside strings nest deeper than kMaxJsonDepth. Only a
// guard in front of the real parser, which judges everything else.
bool too_deep(std::string_view text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// nlohmann's what() starts with "[json.exception.parse_error.101] ": an
// implementation detail the client has no use for.
std::string without_exception_tag(std::string_view what) {
  if (!what.empty() && what.front() == '[') {
    auto close = what.find("] ");
    if (close != std::string_view::npos) what.remove_prefix(close + 2);
  }
  return std::string(what);
}

}  // namespace

Response json_response(beast_http::status status, const nlohmann::json& body, unsigned version) {
  Response response{status, version};
  response.set(beast_http::field::content_type, "application/json");
  response.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  response.prepare_payload();
  return response;
}

Response error_response(beast_http::status status, std::string_view message, unsigned version) {
  return json_response(status, nlohmann::json{{"error", std::string(message)}}, version);
}

Result<nlohmann::json> parse_json_object(std::string_view body, bool empty_is_object) {
  if (body.empty()) {
    if (empty_is_object) return nlohmann::json::object();
    return make_error("the body is empty: a JSON object is expected");
  }
  if (too_deep(body)) return make_error("the body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    return make_error("the body is not JSON: " + without_exception_tag(e.what()));
  }
  if (!value.is_object()) return make_error("the body must be a JSON object");
  return value;
}

}  // namespace enclaver::http
