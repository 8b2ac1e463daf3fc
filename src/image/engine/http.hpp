// HTTP/1.1 over the engine's Unix socket (internal to the engine client):
// one connection per call, plain string bodies for the small JSON calls,
// streamed bodies (Beast buffer_body, no body limit) for the big ones, and
// chunked uploads. Every failure to reach or talk to the engine becomes an
// EngineError of kind connection naming the call; cancellation
// (operation_aborted) passes through untouched, and closes the socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "image/engine/address.hpp"
#include "image/engine/upload_source.hpp"

namespace enclaver::image::engine::detail {

namespace http = boost::beast::http;
using Socket = boost::asio::local::stream_protocol::socket;

// The Host header the engine requires (any value does; the docker CLI's).
inline constexpr const char* kHost = "api.moby.localhost";
// The most of an error or JSON answer we hold (inspect answers are a few KiB).
inline constexpr std::size_t kMaxSmallBody = 16 << 20;

// Connects to the engine. EngineError (connection) says where and hints
// at DOCKER_HOST.
boost::asio::awaitable<Socket> connect(const EngineAddress& address, const std::string& call);

// A request with a string body (empty, or JSON when `json_body` is set).
http::request<http::string_body> make_request(http::verb method, std::string target, std::string json_body = {});

// Sends `request` and reads the whole answer, whatever its status.
boost::asio::awaitable<http::response<http::string_body>> round_trip(Socket& socket, http::request<http::string_body>& request,
                                                                     const std::string& call);

// Throws EngineError (response, with the engine's message) unless the
// status is 2xx or `also_ok`.
void check_status(unsigned status, std::string_view body, const std::string& call, unsigned also_ok = 0);

// An answer read as it comes: header first, then the body in pieces. A
// "101 Switching Protocols" answer (attach) turns the connection into a raw
// stream: the pieces are then whatever the engine sends until it closes.
class ResponseStream {
 public:
  ResponseStream(Socket socket, std::string call);
  ~ResponseStream();
  ResponseStream(ResponseStream&&) noexcept;
  ResponseStream& operator=(ResponseStream&&) = delete;

  // Reads the answer's header (the request was sent on the socket).
  boost::asio::awaitable<void> read_header();
  unsigned status() const;
  std::string header(http::field field) const;

  // The next piece of the body; an empty span at its end. The span is valid
  // until the next call.
  boost::asio::awaitable<std::span<const std::uint8_t>> read_some();

  // Unless the status is 2xx (or `also_ok`): reads the rest of the body
  // (bounded) and throws EngineError (response) with the engine's message.
  boost::asio::awaitable<void> throw_unless_ok(unsigned also_ok = 0);

  // Closes the connection now (cancellation; errors are ignored).
  void close();
  const std::string& call() const { return call_; }

 private:
  Socket socket_;
  std::string call_;
  boost::beast::flat_buffer buffer_;
  std::unique_ptr<http::response_parser<http::buffer_body>> parser_;
  std::vector<std::uint8_t> chunk_;
  bool raw_ = false;  // after 101: bytes straight from the socket
};

// POSTs `target` with the source's bytes as a chunked body, then reads the
// answer's header and checks its status (throw_unless_ok). If the engine
// stops reading and answers early (an error), its answer is what is
// thrown, not the broken pipe.
boost::asio::awaitable<ResponseStream> upload(const EngineAddress& address, std::string target, std::string content_type,
                                              UploadSource& source, const std::string& call);

}  // namespace enclaver::image::engine::detail
