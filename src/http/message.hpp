// The message types every odyn HTTP service speaks: whole requests and
// responses with string bodies (bodies are small and bounded by the
// router's per-route limits, so holding them whole is the simple choice).
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace enclaver::http {

namespace beast_http = boost::beast::http;
using Request = beast_http::request<beast_http::string_body>;
using Response = beast_http::response<beast_http::string_body>;

}  // namespace enclaver::http
