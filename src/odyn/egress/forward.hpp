// Internal to the proxy: moving one HTTP message from a parser on one
// stream to another stream, its body in bounded pieces (Beast's
// buffer_body), so that a body of any size streams through a fixed buffer
// and a slow reader holds the writer back. And the header surgery a proxy
// does on the way (hop-by-hop and Proxy-* fields dropped).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

namespace enclaver::odyn::egress::detail {

namespace http = boost::beast::http;

// Drops the hop-by-hop fields of RFC 9110 section 7.6.1 (Connection and
// every field it names, Keep-Alive, TE, Trailer, Upgrade) and every Proxy-*
// field (Proxy-Authorization, Proxy-Connection, ...): they are for this
// hop. Transfer-Encoding stays: the serializer frames the body by it.
void drop_hop_by_hop(http::fields& fields);

// Sends m's header, then its body as `parser` reads it from `in`, through
// `buffer`; `moved` is called after each piece (activity for the idle
// timeout). `with_body` false: the header only (HEAD, 1xx, 204, 304).
// Returns the first error, reading or writing.
template <bool isRequest, class In, class Out>
boost::asio::awaitable<boost::system::error_code> forward_message(In& in, boost::beast::flat_buffer& in_buffer,
                                                                  http::parser<isRequest, http::buffer_body>& parser,
                                                                  Out& out, std::vector<char>& buffer, bool with_body,
                                                                  const std::function<void()>& moved) {
  namespace asio = boost::asio;
  boost::system::error_code ec;
  http::serializer<isRequest, http::buffer_body> serializer(parser.get());
  co_await http::async_write_header(out, serializer, asio::redirect_error(asio::use_awaitable, ec));
  if (ec || !with_body) co_return ec;
  moved();
  auto& body = parser.get().body();
  do {
    if (!parser.is_done()) {
      body.data = buffer.data();
      body.size = buffer.size();
      co_await http::async_read_some(in, in_buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::need_buffer) ec = {};
      if (ec) co_return ec;
      moved();
      std::size_t got = buffer.size() - body.size;
      if (got == 0) {
        if (!parser.is_done()) continue;  // only framing (a chunk header) so far
        body.data = nullptr;
        body.size = 0;
        body.more = false;
      } else {
        body.data = buffer.data();
        body.size = got;
        body.more = !parser.is_done();
      }
    } else {
      body.data = nullptr;
      body.size = 0;
      body.more = false;
    }
    co_await http::async_write(out, serializer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return ec;
    moved();
  } while (!parser.is_done() && !serializer.is_done());
  co_return ec;
}

}  // namespace enclaver::odyn::egress::detail
