// One client connection of the egress proxy: read a request head, judge it
// (head_check, target, the policy), then tunnel (CONNECT) or forward
// (absolute-form), request after request while both sides keep the
// connection alive. Refusals answer and close.
#include "odyn/egress/connection.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>

#include "odyn/egress/forward.hpp"
#include "odyn/egress/head_check.hpp"
#include "odyn/egress/responses.hpp"
#include "odyn/egress/target.hpp"
#include "odyn/egress/upstream.hpp"
#include "transport/forward.hpp"
#include "transport/relay.hpp"

namespace enclaver::odyn::egress::detail {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kBodyBuffer = 64 * 1024;

auto redirect(boost::system::error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

class Connection {
 public:
  Connection(std::shared_ptr<const EgressProxy::State> state, tcp::socket client)
      : state_(std::move(state)),
        options_(state_->options),
        client_(std::move(client)),
        request_buffer_(),
        response_buffer_() {}

  asio::awaitable<void> run() {
    touch();
    boost::system::error_code ignored;
    client_.set_option(tcp::no_delay(true), ignored);
    transport::use_local_buffers(client_);  // the enclave's loopback: a leg that stays on the machine
    co_await (serve() || watchdog());
    if (upstream_) upstream_->abort();
    client_.close(ignored);
  }

 private:
  enum class Head { complete, closed, too_large, failed };

  void touch() { last_activity_ = Clock::now(); }

  // Closes everything: pending operations end with errors, so serve() ends.
  void abort_all() noexcept {
    boost::system::error_code ignored;
    client_.cancel(ignored);
    client_.close(ignored);
    if (upstream_) upstream_->abort();
  }

  // The idle timeout outside tunnels (a tunnel's relay has its own) and
  // outside dials (bounded by connect_timeout).
  asio::awaitable<void> watchdog() {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
      timer.expires_at(paused_ ? Clock::now() + options_.idle_timeout : last_activity_ + options_.idle_timeout);
      boost::system::error_code ec;
      co_await timer.async_wait(redirect(ec));
      if (ec) co_return;
      if (!paused_ && Clock::now() - last_activity_ >= options_.idle_timeout) {
        abort_all();
        co_return;
      }
    }
  }

  asio::awaitable<void> serve() {
    try {
      for (;;) {
        if (!co_await serve_one()) co_return;
      }
    } catch (const std::exception& e) {  // a bug or an allocation failure: this connection only
      state_->log(std::string("egress: connection ended by an error: ") + e.what());
    }
  }

  // Reads until the buffer holds a whole request head; `end` is its size.
  asio::awaitable<Head> read_head(std::size_t& end) {
    const std::size_t limit = options_.limits.header_bytes;
    for (;;) {
      // RFC 9112 section 2.2: empty lines before a request line are ignored.
      while (buffer_.size() >= 2 && std::string_view(static_cast<const char*>(buffer_.data().data()), 2) == "\r\n")
        buffer_.consume(2);
      std::string_view data(static_cast<const char*>(buffer_.data().data()), buffer_.size());
      if (auto found = find_head_end(data)) {
        end = *found;
        co_return end > limit ? Head::too_large : Head::complete;
      }
      if (buffer_.size() >= limit) co_return Head::too_large;
      boost::system::error_code ec;
      auto n = co_await client_.async_read_some(buffer_.prepare(std::min<std::size_t>(16 * 1024, limit + 4 - buffer_.size())),
                                                redirect(ec));
      if (ec) co_return ec == asio::error::eof && buffer_.size() == 0 ? Head::closed : Head::failed;
      buffer_.commit(n);
      touch();
    }
  }

  // Answers a refusal, logs it (once per connection), and closes gently so
  // that the answer is read before the connection goes.
  asio::awaitable<void> refuse(std::string response, std::string log_line) {
    if (!logged_) {
      logged_ = true;
      state_->log(log_line);
    }
    boost::system::error_code ec;
    co_await asio::async_write(client_, asio::buffer(response), redirect(ec));
    if (!ec) co_await close_gently();
  }

  // shutdown(SHUT_WR), then read and discard what the client still sends
  // for a moment: closing with unread bytes would send an RST, which can
  // destroy our last answer before the client reads it.
  asio::awaitable<void> close_gently() {
    boost::system::error_code ec;
    client_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) co_return;
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::seconds(2));
    auto drain = [this]() -> asio::awaitable<void> {
      std::vector<char> sink(16 * 1024);
      for (std::size_t total = 0; total < 1024 * 1024;) {
        boost::system::error_code read_ec;
        total += co_await client_.async_read_some(asio::buffer(sink), redirect(read_ec));
        if (read_ec) co_return;
      }
    };
    co_await (drain() || timer.async_wait(redirect(ec)));
  }

  std::string refusal_log(std::string_view method, const Refusal& refusal) {
    if (refusal.host.empty())
      return "egress: refused a request (" + std::to_string(refusal.status) + "): " + refusal.reason;
    return "egress: refused " + std::string(method) + " " + host_port(refusal) + " (" +
           std::to_string(refusal.status) + "): " + refusal.reason;
  }

  std::string failure_log(std::string_view method, const Target& target, const OpenFailure& failure) {
    return "egress: refused " + std::string(method) + " " + host_port(target) + " (" + std::to_string(failure.status) +
           "): " + failure.reason;
  }

  // One request; false when the connection ends.
  asio::awaitable<bool> serve_one() {
    std::size_t head_end = 0;
    switch (co_await read_head(head_end)) {
      case Head::closed:
      case Head::failed: co_return false;
      case Head::too_large:
        co_await refuse(simple_response(431, "bad request: the request head is larger than " +
                                                 std::to_string(options_.limits.header_bytes) + " bytes"),
                        "egress: refused a request (431): head larger than " +
                            std::to_string(options_.limits.header_bytes) + " bytes");
        co_return false;
      case Head::complete: break;
    }
    std::string_view head(static_cast<const char*>(buffer_.data().data()), head_end);
    auto bad = [this](const std::string& why) {
      Refusal refusal{400, why, {}, 0};
      return refuse(refusal_response(refusal), refusal_log("", refusal));
    };
    if (auto why = check_head_bytes(head)) {
      co_await bad(*why);
      co_return false;
    }
    http::request_parser<http::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(options_.limits.header_bytes + 4, UINT32_MAX)));
    parser.body_limit(boost::none);
    boost::system::error_code ec;
    auto used = parser.put(asio::buffer(buffer_.data().data(), head_end), ec);
    if (ec || !parser.is_header_done()) {
      // Built apart: g++ 12 mishandles conditional temporaries inside a co_await expression.
      std::string why = "malformed request head: ";
      why += ec ? ec.message() : "incomplete";
      co_await bad(why);
      co_return false;
    }
    buffer_.consume(used);
    auto& request = parser.get();
    std::vector<Field> fields;
    for (const auto& field : request) fields.push_back(Field{field.name_string(), field.value()});
    if (auto why = check_fields(fields, options_.limits.header_fields)) {
      co_await bad(*why);
      co_return false;
    }
    if (request.version() != 11 && request.version() != 10) {
      co_await bad("only HTTP/1.1 and HTTP/1.0 are supported");
      co_return false;
    }
    std::string method(request.method_string());
    auto decision = decide(method, request.target(), state_->policy);
    if (auto* refusal = std::get_if<Refusal>(&decision)) {
      co_await refuse(refusal_response(*refusal), refusal_log(method, *refusal));
      co_return false;
    }
    auto& target = std::get<Target>(decision);
    if (target.scheme == Scheme::connect) {
      co_await tunnel(method, target);
      co_return false;
    }
    co_return co_await forward(method, target, parser);
  }

  // CONNECT: 200 only once the destination is connected, then raw bytes
  // (D14: what the client sent after its CONNECT head is tunnel payload).
  asio::awaitable<void> tunnel(const std::string& method, const Target& target) {
    paused_ = true;  // from here on, the dial and the relay keep their own time
    auto dialed = co_await dial(options_.dialer, target, options_.connect_timeout);
    if (auto* failure = std::get_if<OpenFailure>(&dialed)) {
      co_await refuse(failure->response, failure_log(method, target, *failure));
      co_return;
    }
    auto upstream = std::move(std::get<transport::Socket>(dialed));
    boost::system::error_code ec;
    static constexpr std::string_view kEstablished = "HTTP/1.1 200 Connection established\r\n\r\n";
    co_await asio::async_write(client_, asio::buffer(kEstablished), redirect(ec));
    if (ec) co_return;
    if (buffer_.size() > 0) {
      co_await asio::async_write(upstream, buffer_.data(), redirect(ec));
      if (ec) co_return;
      buffer_.consume(buffer_.size());
    }
    buffer_.shrink_to_fit();  // the relay needs none of it while the tunnel lasts
    transport::RelayOptions relay_options;
    relay_options.idle_timeout = options_.idle_timeout;
    co_await transport::relay(client_, upstream, relay_options);
  }

  // Makes upstream_ a connection to target (reused when it already is one).
  asio::awaitable<bool> connect_upstream(const std::string& method, const Target& target) {
    std::string key = std::string(target.scheme == Scheme::https ? "https://" : "http://") + target.dial_host + ":" +
                      std::to_string(target.port);
    if (upstream_ && upstream_->key == key) co_return true;
    if (upstream_) {
      upstream_->abort();
      upstream_.reset();
    }
    paused_ = true;
    auto dialed = co_await dial(options_.dialer, target, options_.connect_timeout);
    if (auto* failure = std::get_if<OpenFailure>(&dialed)) {
      co_await refuse(failure->response, failure_log(method, target, *failure));
      co_return false;
    }
    auto upstream = std::make_unique<Upstream>();
    upstream->key = key;
    auto& socket = std::get<transport::Socket>(dialed);
    if (target.scheme == Scheme::https) {
      auto secured = co_await tls_connect(std::move(socket), *state_->tls, target, options_.connect_timeout);
      if (auto* failure = std::get_if<OpenFailure>(&secured)) {
        co_await refuse(failure->response, failure_log(method, target, *failure));
        co_return false;
      }
      upstream->tls = std::move(std::get<std::unique_ptr<TlsStream>>(secured));
    } else {
      upstream->plain.emplace(std::move(socket));
    }
    upstream_ = std::move(upstream);
    paused_ = false;
    touch();
    co_return true;
  }

  // Absolute-form: the request to the destination and its response(s) back,
  // both at once (the destination may answer before the body ends, or send
  // 100 Continue first). False when the client connection ends.
  asio::awaitable<bool> forward(const std::string& method, const Target& target,
                                http::request_parser<http::buffer_body>& parser) {
    if (!co_await connect_upstream(method, target)) co_return false;
    auto& request = parser.get();
    const bool head_request = request.method() == http::verb::head;
    const bool client_http10 = request.version() == 10;
    bool client_close = !parser.keep_alive();
    drop_hop_by_hop(request);
    request.target(target.path);
    request.set(http::field::host, target.host_header);
    request.version(11);

    if (upstream_->tls) co_return co_await exchange(*upstream_->tls, parser, target, head_request, client_http10, client_close);
    co_return co_await exchange(*upstream_->plain, parser, target, head_request, client_http10, client_close);
  }

  template <class Stream>
  asio::awaitable<bool> exchange(Stream& upstream, http::request_parser<http::buffer_body>& parser, const Target& target,
                                 bool head_request, bool client_http10, bool client_close) {
    bool request_done = false, upstream_close = false, response_started = false;
    auto moved = std::function<void()>([this] { touch(); });

    auto send_request = [&]() -> asio::awaitable<boost::system::error_code> {
      // Body buffers come with the first forwarded message: a CONNECT tunnel
      // (thousands may sit idle) never needs them.
      if (request_buffer_.empty()) request_buffer_.resize(kBodyBuffer);
      auto ec = co_await forward_message<true>(client_, buffer_, parser, upstream, request_buffer_, true, moved);
      if (!ec) request_done = true;
      else if (upstream_) upstream_->abort();  // the response side ends too
      co_return ec;
    };

    auto relay_response = [&]() -> asio::awaitable<boost::system::error_code> {
      for (;;) {
        http::response_parser<http::buffer_body> response_parser;
        response_parser.header_limit(static_cast<std::uint32_t>(options_.limits.response_header_bytes));
        response_parser.body_limit(boost::none);
        if (head_request) response_parser.skip(true);
        boost::system::error_code ec;
        co_await http::async_read_header(upstream, upstream_->buffer, response_parser, redirect(ec));
        if (ec) {
          if (!response_started && ec != asio::error::operation_aborted) {
            std::string why = "the destination did not answer: " + ec.message();
            boost::system::error_code ignored;
            co_await asio::async_write(client_, asio::buffer(simple_response(502, host_port(target) + ": " + why)),
                                       redirect(ignored));
            if (!logged_) {
              logged_ = true;
              state_->log("egress: " + host_port(target) + " (502): " + why);
            }
          }
          abort_client_reads();
          co_return ec;
        }
        auto& response = response_parser.get();
        const unsigned status = response.result_int();
        const bool interim = status >= 100 && status < 200;
        if (status == 101) {  // Upgrade is dropped on the way in: a 101 is a broken server
          abort_client_reads();
          co_return http::error::bad_status;
        }
        if (!interim) upstream_close = !response_parser.keep_alive();
        drop_hop_by_hop(response);
        response.version(11);
        const bool no_body = head_request || interim || status == 204 || status == 304;
        if (!interim && !no_body) {
          // A body that ends with the connection, or a client that cannot
          // take chunks: the client's connection ends with this response.
          if (!response.has_content_length() && !response.chunked()) client_close = true;
          if (client_http10) {
            response.chunked(false);
            client_close = true;
          }
        }
        if (!interim && client_close) response.set(http::field::connection, "close");
        response_started = true;
        if (response_buffer_.empty()) response_buffer_.resize(kBodyBuffer);
        ec = co_await forward_message<false>(upstream, upstream_->buffer, response_parser, client_, response_buffer_,
                                             !no_body, moved);
        if (ec) {
          abort_client_reads();
          co_return ec;
        }
        if (!interim) break;
      }
      if (!request_done) {
        // Answered before the request body ended: the rest of it cannot be
        // told from a next request, so this connection ends here.
        client_close = true;
        abort_client_reads();
      }
      co_return boost::system::error_code{};
    };

    auto [request_ec, response_ec] = co_await (send_request() && relay_response());
    if (response_ec || (request_ec && request_done)) co_return false;
    if (client_close || request_ec) {
      if (!response_ec) co_await close_gently();
      co_return false;
    }
    if (upstream_close && upstream_) {
      upstream_->abort();
      upstream_.reset();
    }
    co_return true;
  }

  // Wakes a request body still being read from the client (and written
  // upstream) once its exchange is over.
  void abort_client_reads() noexcept {
    boost::system::error_code ignored;
    client_.cancel(ignored);
    if (upstream_) upstream_->socket().cancel(ignored);
  }

  std::shared_ptr<const EgressProxy::State> state_;
  const ProxyOptions& options_;
  tcp::socket client_;
  boost::beast::flat_buffer buffer_;  // client bytes read ahead (pipelined requests)
  std::unique_ptr<Upstream> upstream_;
  std::vector<char> request_buffer_, response_buffer_;
  Clock::time_point last_activity_;
  bool paused_ = false;  // the watchdog waits (dialling, tunnelling)
  bool logged_ = false;  // a refusal is logged once per connection
};

}  // namespace

asio::awaitable<void> serve_client(std::shared_ptr<const EgressProxy::State> state, tcp::socket client) {
  Connection connection(std::move(state), std::move(client));
  co_await connection.run();
}

}  // namespace enclaver::odyn::egress::detail
