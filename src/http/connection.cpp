// One connection of the server: read a request (head, then body within the
// route's limit), answer it, and go on while the client keeps the
// connection alive. Refusals answer and close gently (server.hpp).
#include "http/connection.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "http/json.hpp"

namespace enclaver::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using status = beast_http::status;

namespace {

constexpr std::size_t kReadSize = 16 * 1024;
constexpr std::size_t kDrainBytes = 64 * 1024 * 1024;
constexpr std::chrono::seconds kDrainTime{2};
constexpr std::chrono::seconds kBusyTime{1};  // a 503 refusal's write and drain, each

auto redirect(boost::system::error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

// A request the parser refused (as opposed to a connection that ended).
bool is_malformed(const boost::system::error_code& ec) {
  if (ec.category() != beast_http::make_error_code(beast_http::error::bad_target).category()) return false;
  return ec != beast_http::error::end_of_stream && ec != beast_http::error::partial_message &&
         ec != beast_http::error::need_more && ec != beast_http::error::need_buffer;
}

}  // namespace

class Connection {
 public:
  Connection(std::shared_ptr<Server::State> state, tcp::socket socket, bool busy)
      : state_(std::move(state)), stream_(std::move(socket)), accepted_(Clock::now()), busy_(busy) {
    state_->connections.insert(this);
    if (!busy_) ++state_->serving;
  }
  ~Connection() {
    state_->connections.erase(this);
    if (!busy_) --state_->serving;
    if (state_->serving < state_->options.limits.max_connections) state_->saturated = false;
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  asio::awaitable<void> run() {
    boost::system::error_code ignored;
    stream_.socket().set_option(tcp::no_delay(true), ignored);  // pipelined answers go out at once
    try {
      if (state_->stopped) {
        // accepted just as the server stopped
      } else if (busy_) {
        co_await refuse_busy();
      } else {
        while (co_await serve_one()) {
        }
      }
    } catch (const std::exception& e) {  // a bug or an allocation failure: this connection only
      state_->log(std::string("connection ended by an error: ") + e.what());
    }
    close();
  }

  void close() noexcept { stream_.close(); }

 private:
  const ServerLimits& limits() const { return state_->options.limits; }

  // RFC 9112 section 2.2: empty lines before a request line are ignored.
  void skip_empty_lines() {
    while (buffer_.size() >= 2 && std::string_view(static_cast<const char*>(buffer_.data().data()), 2) == "\r\n")
      buffer_.consume(2);
  }

  // One request and its answer; false when the connection ends.
  asio::awaitable<bool> serve_one() {
    boost::system::error_code ec;

    // The first byte. The first request's head is timed from the accept,
    // later ones from their first byte, which the idle timeout waits for.
    // A large head's buffer is not kept while idle; the usual one is, so
    // that a kept-alive connection does not allocate per request.
    if (buffer_.size() == 0 && buffer_.capacity() > 2 * kReadSize) buffer_.shrink_to_fit();
    const Clock::time_point wait_until = first_ ? accepted_ + limits().head_timeout : Clock::now() + limits().idle_timeout;
    for (;;) {
      skip_empty_lines();
      if (buffer_.size() > 0) break;
      stream_.expires_at(wait_until);
      std::size_t n = co_await stream_.async_read_some(buffer_.prepare(kReadSize), redirect(ec));
      if (ec) co_return false;  // closed, timed out, or stopped: nothing to answer
      buffer_.commit(n);
    }
    const Clock::time_point head_started = first_ ? accepted_ : Clock::now();
    first_ = false;

    // The head. The parser, and the request with its body, live until this
    // request is answered: an idle connection holds none of it.
    beast_http::request_parser<beast_http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(limits().max_head, UINT32_MAX)));
    parser.body_limit(boost::none);  // judged below, once the route is known
    stream_.expires_at(head_started + limits().head_timeout);
    co_await beast_http::async_read_header(stream_, buffer_, parser, redirect(ec));
    if (ec == beast_http::error::header_limit) {
      std::string why = "the request head is over " + std::to_string(limits().max_head) + " bytes";
      co_await answer_and_close(status::request_header_fields_too_large, why, 11, false);
      co_return false;
    }
    if (is_malformed(ec)) {
      std::string why = "malformed request: " + ec.message();
      co_await answer_and_close(status::bad_request, why, 11, false);
      co_return false;
    }
    if (ec) co_return false;

    auto& request = parser.get();
    const bool head = request.method() == beast_http::verb::head;
    const unsigned version = request.version();  // 10 or 11: Beast refuses others as "bad version"
    // Beast takes a request whose Transfer-Encoding does not end in chunked
    // as one without a body; RFC 9112 section 6.3 says 400 and close.
    if (request.count(beast_http::field::transfer_encoding) > 0 && !parser.chunked()) {
      co_await answer_and_close(status::bad_request, "malformed request: Transfer-Encoding must end in chunked", version, head);
      co_return false;
    }
    auto target = normalise_target(request.target());
    if (!target) {
      co_await answer_and_close(status::bad_request, target.error().message, version, head);
      co_return false;
    }

    // The body.
    const Router& router = *state_->router;
    const std::size_t limit = router.body_limit(target->path, request.method()).value_or(kDefaultMaxBody);
    const std::string over = "the body is over " + std::to_string(limit) + " bytes";
    if (auto length = parser.content_length(); length && *length > limit) {
      co_await answer_and_close(status::payload_too_large, over, version, head);
      co_return false;
    }
    if (!parser.is_done()) {
      parser.body_limit(limit);  // counts chunked bodies as they come
      if (version == 11 && beast::iequals(request[beast_http::field::expect], "100-continue")) {
        beast_http::response<beast_http::empty_body> go_on{status::continue_, 11};
        stream_.expires_after(limits().idle_timeout);
        co_await beast_http::async_write(stream_, go_on, redirect(ec));
        if (ec) co_return false;
      }
      stream_.expires_after(limits().body_timeout);
      co_await beast_http::async_read(stream_, buffer_, parser, redirect(ec));
      if (ec == beast_http::error::body_limit) {
        co_await answer_and_close(status::payload_too_large, over, version, head);
        co_return false;
      }
      if (is_malformed(ec)) {
        std::string why = "malformed request body: " + ec.message();
        co_await answer_and_close(status::bad_request, why, version, head);
        co_return false;
      }
      if (ec) co_return false;
    }

    // The answer.
    Response response;
    std::string allow;
    if (state_->options.cors && request.method() == beast_http::verb::options) allow = router.allowed(target->path);
    if (!allow.empty()) {
      response = preflight(allow);
    } else {
      Response routed = co_await router.dispatch(request, *target, state_->executor);
      response = std::move(routed);
    }
    if (response.result_int() >= 500) {
      state_->log(std::string(request.method_string()) + " " + target->path + " -> " +
                  std::to_string(response.result_int()) + " " + response.body());
    }
    const bool keep_alive = parser.keep_alive() && !state_->stopped;
    bool sent = co_await send(std::move(response), version, keep_alive, head);
    co_return sent && keep_alive;
  }

  static Response preflight(const std::string& allow) {
    Response response{status::no_content, 11};
    response.set(beast_http::field::access_control_allow_methods, allow + ", OPTIONS");
    response.set(beast_http::field::access_control_allow_headers, "content-type");
    response.set(beast_http::field::access_control_max_age, "86400");
    return response;
  }

  // Writes `response` as server.hpp promises it; false when the connection
  // ended (it was not to be kept alive, or the write failed).
  asio::awaitable<bool> send(Response response, unsigned version, bool keep_alive, bool head, Clock::duration drain = kDrainTime) {
    const unsigned code = response.result_int();
    response.version(version);
    if (state_->options.cors) response.set(beast_http::field::access_control_allow_origin, "*");
    const bool bodiless = code / 100 == 1 || code == 204 || code == 304;
    if (bodiless) {
      response.body().clear();
      response.erase(beast_http::field::content_type);
    } else if (response.count(beast_http::field::content_type) == 0) {
      response.set(beast_http::field::content_type, "application/octet-stream");
    }
    response.keep_alive(keep_alive);
    response.prepare_payload();
    if (bodiless) response.erase(beast_http::field::content_length);  // Beast sets 0; RFC 9110 says none
    if (head) response.body().clear();  // Content-Length stays: what GET would have sent

    boost::system::error_code ec;
    stream_.expires_after(limits().idle_timeout);
    co_await beast_http::async_write(stream_, response, redirect(ec));
    if (ec) co_return false;
    if (!keep_alive) {
      co_await close_gently(drain);
      co_return false;
    }
    co_return true;
  }

  // A refusal may come while the client is still sending (a 413 mid-upload):
  // the drain after it lasts as long as a body may take, so that the client
  // reads the answer rather than a reset.
  asio::awaitable<void> answer_and_close(status code, std::string_view message, unsigned version, bool head) {
    Response response = error_response(code, message, version);
    co_await send(std::move(response), version, false, head, limits().body_timeout);
  }

  asio::awaitable<void> refuse_busy() {
    Response response = error_response(status::service_unavailable, "too many connections", 11);
    if (state_->options.cors) response.set(beast_http::field::access_control_allow_origin, "*");
    response.keep_alive(false);
    response.prepare_payload();
    boost::system::error_code ec;
    stream_.expires_after(kBusyTime);
    co_await beast_http::async_write(stream_, response, redirect(ec));
    if (!ec) co_await close_gently(kBusyTime);
  }

  // shutdown(SHUT_WR), then read and discard what the client still sends
  // for a while: closing with unread bytes would send a reset, which can
  // destroy our last answer before the client reads it.
  asio::awaitable<void> close_gently(Clock::duration how_long) {
    boost::system::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) co_return;
    stream_.expires_after(how_long);
    std::vector<char> sink(kReadSize);
    for (std::size_t total = 0; total < kDrainBytes;) {
      total += co_await stream_.async_read_some(asio::buffer(sink), redirect(ec));
      if (ec) co_return;
    }
  }

  std::shared_ptr<Server::State> state_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;  // bytes read ahead: the rest of a head, pipelined requests
  Clock::time_point accepted_;
  bool busy_;
  bool first_ = true;
};

void close_connection(Connection& connection) noexcept { connection.close(); }

asio::awaitable<void> serve_connection(std::shared_ptr<Server::State> state, tcp::socket socket, bool busy) {
  Connection connection(std::move(state), std::move(socket), busy);
  co_await connection.run();
}

}  // namespace enclaver::http::detail
