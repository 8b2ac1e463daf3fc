// How the relay (relay.hpp) drives one kind of stream: the customization
// point for streams that are not plain sockets, and the adapter that lets a
// single compiled relay (relay.cpp) serve every pair of stream types.
#pragma once

#include <concepts>
#include <cstddef>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>

namespace enclaver::transport {

// RelayStreamTraits<Stream> tells the relay how to end a stream. Every
// relayed stream needs:
//   static awaitable<error_code> half_close(Stream&)
//       Stop sending, after the other end reached end of stream (a socket:
//       shutdown(SHUT_WR); a TLS stream: close_notify). Reading must stay
//       open: the other direction keeps going.
//   static void abort(Stream&) noexcept
//       Close at once, as abruptly as the transport can (TCP: RST), after
//       an error or an idle timeout; pending operations complete with
//       operation_aborted.
// A stream that is a kernel socket also gives the relay its descriptor, so
// that bytes move with splice(2) instead of through a user-space buffer:
//   static int socket_fd(Stream&)      in non-blocking mode; -1 if closed
//   static awaitable<error_code> wait(Stream&, socket_base::wait_type)
// Bytes otherwise go through the stream's async_read_some and
// boost::asio::async_write, so any AsyncReadStream + AsyncWriteStream with a
// specialisation can be relayed (such as ssl::stream<Socket>, for an
// ingress that terminates TLS).
template <class Stream>
struct RelayStreamTraits;

template <class Protocol, class Executor>
struct RelayStreamTraits<boost::asio::basic_stream_socket<Protocol, Executor>> {
  using Stream = boost::asio::basic_stream_socket<Protocol, Executor>;

  static boost::asio::awaitable<boost::system::error_code> half_close(Stream& stream) {
    boost::system::error_code ec;
    stream.shutdown(boost::asio::socket_base::shutdown_send, ec);
    co_return ec;
  }

  // SO_LINGER {1, 0} makes close() send an RST on TCP. Unix sockets ignore
  // it and AF_VSOCK only stops waiting for the peer: there is no reset to
  // send, their peers see the end of stream (relay.hpp says what exactly).
  static void abort(Stream& stream) noexcept {
    boost::system::error_code ignored;
    stream.set_option(boost::asio::socket_base::linger(true, 0), ignored);
    stream.close(ignored);
  }

  // splice(2) waits for the socket unless the socket itself is non-blocking
  // (SPLICE_F_NONBLOCK covers only the pipe), so the descriptor is handed
  // out in non-blocking mode. Through asio, so that it knows: the stream's
  // own operations keep working afterwards.
  static int socket_fd(Stream& stream) {
    if (!stream.is_open()) return -1;
    if (!stream.native_non_blocking()) {
      boost::system::error_code ec;
      stream.native_non_blocking(true, ec);
      if (ec) return -1;
    }
    return stream.native_handle();
  }

  static boost::asio::awaitable<boost::system::error_code> wait(Stream& stream,
                                                                boost::asio::socket_base::wait_type what) {
    boost::system::error_code ec;
    co_await stream.async_wait(what, boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    co_return ec;
  }
};

template <class Stream>
concept RelayStream = requires(Stream& stream, boost::asio::mutable_buffer buffer) {
  { RelayStreamTraits<Stream>::half_close(stream) } -> std::same_as<boost::asio::awaitable<boost::system::error_code>>;
  { RelayStreamTraits<Stream>::abort(stream) } noexcept;
  stream.async_read_some(buffer, boost::asio::use_awaitable);
};

template <class Stream>
concept SpliceableStream =
    RelayStream<Stream> && requires(Stream& stream, boost::asio::socket_base::wait_type what) {
      { RelayStreamTraits<Stream>::socket_fd(stream) } -> std::same_as<int>;
      { RelayStreamTraits<Stream>::wait(stream, what) } -> std::same_as<boost::asio::awaitable<boost::system::error_code>>;
    };

namespace detail {

// One end of a relay, whatever stream carries it. The relay's loops are
// written once against this interface instead of being instantiated for
// every pair of stream types; a virtual call per system call costs nothing
// next to the system call.
class RelayEnd {
 public:
  // The connected socket for splice(2), non-blocking; -1 when bytes must be copied.
  virtual int socket_fd() = 0;
  // Readiness of socket_fd(); only called when it is >= 0.
  virtual boost::asio::awaitable<boost::system::error_code> wait(boost::asio::socket_base::wait_type what) = 0;
  virtual boost::asio::awaitable<std::size_t> read_some(boost::asio::mutable_buffer buffer,
                                                        boost::system::error_code& ec) = 0;
  // Writes all of `buffer` or fails; returns how much was written.
  virtual boost::asio::awaitable<std::size_t> write(boost::asio::const_buffer buffer, boost::system::error_code& ec) = 0;
  virtual boost::asio::awaitable<boost::system::error_code> half_close() = 0;
  virtual void abort() noexcept = 0;

 protected:
  ~RelayEnd() = default;
};

template <RelayStream Stream>
class StreamEnd final : public RelayEnd {
 public:
  using Traits = RelayStreamTraits<Stream>;
  explicit StreamEnd(Stream& stream) : stream_(stream) {}

  int socket_fd() override {
    if constexpr (SpliceableStream<Stream>) return Traits::socket_fd(stream_);
    return -1;
  }

  boost::asio::awaitable<boost::system::error_code> wait(boost::asio::socket_base::wait_type what) override {
    if constexpr (SpliceableStream<Stream>) return Traits::wait(stream_, what);
    return unsupported();
  }

  boost::asio::awaitable<std::size_t> read_some(boost::asio::mutable_buffer buffer,
                                                boost::system::error_code& ec) override {
    return stream_.async_read_some(buffer, boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }

  boost::asio::awaitable<std::size_t> write(boost::asio::const_buffer buffer, boost::system::error_code& ec) override {
    return boost::asio::async_write(stream_, buffer, boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }

  boost::asio::awaitable<boost::system::error_code> half_close() override { return Traits::half_close(stream_); }

  void abort() noexcept override { Traits::abort(stream_); }

 private:
  static boost::asio::awaitable<boost::system::error_code> unsupported() {
    co_return boost::asio::error::operation_not_supported;
  }

  Stream& stream_;
};

}  // namespace detail
}  // namespace enclaver::transport
