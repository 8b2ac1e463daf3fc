// The buffered direction: read into one buffer, write it all, repeat. Used
// for streams that cannot splice (TLS), when splicing is not allowed, and
// when a splicing direction has to fall back.
#include <memory>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>

#include "transport/relay_run.hpp"

namespace enclaver::transport::detail {

boost::asio::awaitable<void> copy_direction(RelayRun& run, Direction& direction) {
  const std::size_t size = run.options.buffer_size > 0 ? run.options.buffer_size : 64 * 1024;
  // One buffer, written out completely before the next read: a slow reader
  // on `to` stops us reading `from`, and TCP's window stops its writer.
  auto buffer = std::make_unique_for_overwrite<std::byte[]>(size);
  for (;;) {
    boost::system::error_code read_error;
    const std::size_t n = co_await direction.from.read_some(boost::asio::buffer(buffer.get(), size), read_error);
    if (run.stopped) co_return;
    if (n > 0) {
      boost::system::error_code write_error;
      const std::size_t written = co_await direction.to.write(boost::asio::buffer(buffer.get(), n), write_error);
      run.moved(direction.moved, written);
      if (run.stopped) co_return;
      if (write_error) {
        fail(run, "writing", direction.to_name, write_error);
        co_return;
      }
    }
    if (read_error == boost::asio::error::eof) {
      co_await finish(run, direction);
      co_return;
    }
    if (read_error) {
      fail(run, "reading", direction.from_name, read_error);
      co_return;
    }
  }
}

}  // namespace enclaver::transport::detail
