// Where the bytes of an upload (POST /images/load, POST /build) come from:
// a file, or a producer that writes them into a ByteSink as it makes them
// (the release image archive, assembled on the fly), so that a GB-sized
// archive is never whole in memory nor, from a producer, on disk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/byte_sink.hpp"

namespace enclaver::image::engine {

// Writes the whole body into the sink, then returns. It runs on a thread of
// its own while the upload sends what it wrote (the sink blocks while the
// engine is behind: memory stays bounded), so it must not wait for the
// io_context the upload runs on. An exception it throws ends the upload
// (the engine sees the body cut short) and is rethrown by the upload call.
// If the upload fails first, the sink's next write throws
// std::system_error (EPIPE) so that the producer stops.
using Producer = std::function<void(ByteSink&)>;

class UploadSource {
 public:
  virtual ~UploadSource() = default;
  // Up to buffer.size() bytes; 0 at the end. Throws the source's own error
  // (a file's std::system_error, the producer's exception).
  virtual boost::asio::awaitable<std::size_t> read_some(std::span<std::uint8_t> buffer) = 0;
};

// Starts `producer` on its own thread. Destroying the source before the end
// closes the pipe (the producer's writes fail) and joins the thread.
std::unique_ptr<UploadSource> producer_source(const boost::asio::any_io_executor& executor, Producer producer);

// Reads `path` (blocking reads: a local file). Throws std::system_error
// naming the file when it cannot be opened or read.
std::unique_ptr<UploadSource> file_source(const std::filesystem::path& path);

}  // namespace enclaver::image::engine
