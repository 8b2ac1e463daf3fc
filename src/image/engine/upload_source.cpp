#include "image/engine/upload_source.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <string>
#include <system_error>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/fd.hpp"

namespace enclaver::image::engine {

namespace asio = boost::asio;

namespace {

// The producer's end: blocking sends. MSG_NOSIGNAL: a closed reader must
// fail the write with EPIPE, not kill the process with SIGPIPE.
class SocketSink final : public ByteSink {
 public:
  explicit SocketSink(int fd) : fd_(fd) {}
  void write(std::span<const std::uint8_t> bytes) override {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw std::system_error(errno, std::generic_category(), "sending the upload to the Docker engine");
      bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
};

// A socket pair rather than a pipe: send() can be told MSG_NOSIGNAL, and
// asio reads a socket as it reads any other.
class ProducerSource final : public UploadSource {
 public:
  ProducerSource(const asio::any_io_executor& executor, Producer producer) : reader_(executor) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
      throw std::system_error(errno, std::generic_category(), "creating the upload's socket pair");
    Fd writer(fds[1]);
    try {
      reader_.assign(asio::local::stream_protocol(), fds[0]);
    } catch (...) {
      ::close(fds[0]);
      throw;
    }
    thread_ = std::thread([this, producer = std::move(producer), writer = std::move(writer)]() mutable {
      try {
        SocketSink sink(writer.get());
        producer(sink);
      } catch (...) {
        // Read by the upload only after join(): the join orders it.
        error_ = std::current_exception();
      }
      // Closing is the end of the body (or its cutting short, after error_).
      writer.reset();
    });
  }

  ~ProducerSource() override {
    boost::system::error_code ignored;
    reader_.close(ignored);
    join();
  }

  asio::awaitable<std::size_t> read_some(std::span<std::uint8_t> buffer) override {
    if (done_) co_return 0;
    auto [ec, n] = co_await reader_.async_read_some(asio::buffer(buffer.data(), buffer.size()), asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted) throw boost::system::system_error(ec);
    if (!ec) co_return n;
    if (ec != asio::error::eof) throw boost::system::system_error(ec, "reading the producer's upload");
    // The producer closed its end: it returned or threw. Its thread ends
    // right after, so this join does not hold the io_context up.
    join();
    done_ = true;
    if (error_) std::rethrow_exception(error_);
    co_return 0;
  }

 private:
  void join() {
    if (thread_.joinable()) thread_.join();
  }

  asio::local::stream_protocol::socket reader_;
  std::thread thread_;
  std::exception_ptr error_;
  bool done_ = false;
};

class FileSource final : public UploadSource {
 public:
  explicit FileSource(const std::filesystem::path& path) : path_(path), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (!fd_.valid()) throw std::system_error(errno, std::generic_category(), "cannot open " + path.string());
  }

  asio::awaitable<std::size_t> read_some(std::span<std::uint8_t> buffer) override {
    for (;;) {
      const ssize_t n = ::read(fd_.get(), buffer.data(), buffer.size());
      if (n >= 0) co_return static_cast<std::size_t>(n);
      if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "cannot read " + path_.string());
    }
  }

 private:
  std::filesystem::path path_;
  Fd fd_;
};

}  // namespace

std::unique_ptr<UploadSource> producer_source(const asio::any_io_executor& executor, Producer producer) {
  return std::make_unique<ProducerSource>(executor, std::move(producer));
}

std::unique_ptr<UploadSource> file_source(const std::filesystem::path& path) { return std::make_unique<FileSource>(path); }

}  // namespace enclaver::image::engine
