#include "image/engine/http.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "image/engine/engine_error.hpp"

namespace enclaver::image::engine::detail {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kChunk = 64 * 1024;

// Cancellation is not a failure of the engine: it propagates as the
// system_error it is; everything else names the call.
[[noreturn]] void fail(const error_code& ec, const std::string& call, const char* doing) {
  if (ec == asio::error::operation_aborted) throw boost::system::system_error(ec);
  throw EngineError(EngineErrorKind::connection, call, 0, std::string(doing) + ": " + ec.message());
}

bool ok_status(unsigned status, unsigned also_ok) { return (status >= 200 && status < 300) || (also_ok && status == also_ok); }

}  // namespace

asio::awaitable<Socket> connect(const EngineAddress& address, const std::string& call) {
  Socket socket(co_await asio::this_coro::executor);
  auto [ec] = co_await socket.async_connect(asio::local::stream_protocol::endpoint(address.socket_path), kTuple);
  if (ec == asio::error::operation_aborted) throw boost::system::system_error(ec);
  if (ec)
    throw EngineError(EngineErrorKind::connection, call, 0,
                      "cannot connect to the Docker engine at " + address.describe() + ": " + ec.message() +
                          " (is dockerd running? DOCKER_HOST selects another socket)");
  co_return socket;
}

http::request<http::string_body> make_request(http::verb method, std::string target, std::string json_body) {
  http::request<http::string_body> request{method, target, 11};
  request.set(http::field::host, kHost);
  request.set(http::field::user_agent, "enclaver");
  if (!json_body.empty()) request.set(http::field::content_type, "application/json");
  request.body() = std::move(json_body);
  request.prepare_payload();
  return request;
}

asio::awaitable<http::response<http::string_body>> round_trip(Socket& socket, http::request<http::string_body>& request,
                                                              const std::string& call) {
  if (auto [ec, n] = co_await http::async_write(socket, request, kTuple); ec) fail(ec, call, "sending the request");
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxSmallBody);
  if (auto [ec, n] = co_await http::async_read(socket, buffer, parser, kTuple); ec) fail(ec, call, "reading the answer");
  co_return parser.release();
}

void check_status(unsigned status, std::string_view body, const std::string& call, unsigned also_ok) {
  if (!ok_status(status, also_ok))
    throw EngineError(EngineErrorKind::response, call, status, error_body_message(status, body));
}

ResponseStream::ResponseStream(Socket socket, std::string call)
    : socket_(std::move(socket)),
      call_(std::move(call)),
      parser_(std::make_unique<http::response_parser<http::buffer_body>>()),
      chunk_(kChunk) {
  // Exports are gigabytes; the engine decides how long its answers are.
  parser_->body_limit(boost::none);
}

ResponseStream::~ResponseStream() = default;
ResponseStream::ResponseStream(ResponseStream&&) noexcept = default;

asio::awaitable<void> ResponseStream::read_header() {
  if (auto [ec, n] = co_await http::async_read_header(socket_, buffer_, *parser_, kTuple); ec) {
    close();
    fail(ec, call_, "reading the answer");
  }
  raw_ = parser_->get().result_int() == 101;
}

unsigned ResponseStream::status() const { return parser_->get().result_int(); }

std::string ResponseStream::header(http::field field) const { return std::string(parser_->get()[field]); }

asio::awaitable<std::span<const std::uint8_t>> ResponseStream::read_some() {
  if (raw_) {
    // What Beast read past the 101 header first, then the socket.
    if (buffer_.size() > 0) {
      const std::size_t n = asio::buffer_copy(asio::buffer(chunk_), buffer_.data());
      buffer_.consume(n);
      co_return std::span<const std::uint8_t>(chunk_.data(), n);
    }
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(chunk_), kTuple);
    if (ec == asio::error::eof) co_return std::span<const std::uint8_t>{};
    if (ec) {
      close();
      fail(ec, call_, "reading the stream");
    }
    co_return std::span<const std::uint8_t>(chunk_.data(), n);
  }
  while (!parser_->is_done()) {
    auto& body = parser_->get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    auto [ec, n] = co_await http::async_read_some(socket_, buffer_, *parser_, kTuple);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      close();
      fail(ec, call_, "reading the answer");
    }
    const std::size_t got = chunk_.size() - parser_->get().body().size;
    if (got > 0) co_return std::span<const std::uint8_t>(chunk_.data(), got);
  }
  co_return std::span<const std::uint8_t>{};
}

asio::awaitable<void> ResponseStream::throw_unless_ok(unsigned also_ok) {
  if (ok_status(status(), also_ok)) co_return;
  std::string body;
  for (;;) {
    auto piece = co_await read_some();
    if (piece.empty()) break;
    body.append(reinterpret_cast<const char*>(piece.data()), std::min(piece.size(), kMaxSmallBody - body.size()));
    if (body.size() >= kMaxSmallBody) break;
  }
  close();
  check_status(status(), body, call_, also_ok);
}

void ResponseStream::close() {
  error_code ignored;
  socket_.shutdown(Socket::shutdown_both, ignored);
  socket_.close(ignored);
}

namespace {

// Writes the source's bytes as a chunked body. The body is Beast's
// buffer_body: `more` with no data asks for the next piece (need_buffer).
asio::awaitable<void> send_chunked(Socket& socket, http::request<http::buffer_body>& request, UploadSource& source,
                                   const std::string& call) {
  http::request_serializer<http::buffer_body> serializer{request};
  if (auto [ec, n] = co_await http::async_write_header(socket, serializer, kTuple); ec) fail(ec, call, "sending the request");
  std::vector<std::uint8_t> buffer(kChunk);
  for (;;) {
    const std::size_t n = co_await source.read_some(buffer);
    request.body().data = n > 0 ? buffer.data() : nullptr;
    request.body().size = n;
    request.body().more = n > 0;
    auto [ec, written] = co_await http::async_write(socket, serializer, kTuple);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) fail(ec, call, "sending the request body");
    if (n == 0) break;
  }
}

}  // namespace

asio::awaitable<ResponseStream> upload(const EngineAddress& address, std::string target, std::string content_type,
                                       UploadSource& source, const std::string& call) {
  Socket socket = co_await connect(address, call);
  http::request<http::buffer_body> request{http::verb::post, target, 11};
  request.set(http::field::host, kHost);
  request.set(http::field::user_agent, "enclaver");
  request.set(http::field::content_type, content_type);
  request.chunked(true);
  std::exception_ptr send_failed;
  try {
    co_await send_chunked(socket, request, source, call);
  } catch (const EngineError&) {
    // The engine may have stopped reading because it refused the upload:
    // its answer says why better than EPIPE does.
    send_failed = std::current_exception();
  }
  ResponseStream response(std::move(socket), call);
  try {
    co_await response.read_header();
  } catch (const EngineError&) {
    if (send_failed) std::rethrow_exception(send_failed);
    throw;
  }
  co_await response.throw_unless_ok();
  if (send_failed) std::rethrow_exception(send_failed);
  co_return response;
}

}  // namespace enclaver::image::engine::detail
