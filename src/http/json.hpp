// JSON in and out, and the one error shape of every odyn service:
// {"error": "<what is wrong>"} (api.md "Errors").
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "http/message.hpp"

namespace enclaver::http {

// Bodies nesting deeper than this are refused before parsing: serialising
// or copying a nlohmann value recurses once per level.
inline constexpr int kMaxJsonDepth = 128;

// `body` serialised compactly (invalid UTF-8 in strings replaced by U+FFFD,
// never an exception), Content-Type application/json, Content-Length set.
Response json_response(beast_http::status status, const nlohmann::json& body, unsigned version = 11);

// json_response(status, {"error": message}).
Response error_response(beast_http::status status, std::string_view message, unsigned version = 11);

// The body as a JSON object. The Error's message is what a 400 should say:
// "the body is not JSON: ...", "the body must be a JSON object", "the body
// is empty: a JSON object is expected", "the body nests deeper than 128
// levels". An empty body (zero bytes) is {} only when `empty_is_object`.
Result<nlohmann::json> parse_json_object(std::string_view body, bool empty_is_object = false);

}  // namespace enclaver::http
