#include "sleeve/nsm_server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <list>
#include <system_error>

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/generic/seq_packet_protocol.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "nsm/messages.hpp"

namespace enclaver::sleeve {
namespace asio = boost::asio;
using Protocol = asio::generic::seq_packet_protocol;

struct NsmServer::State : std::enable_shared_from_this<State> {
  std::filesystem::path path;
  NsmHandler handler;
  asio::basic_socket_acceptor<Protocol> acceptor;
  std::list<std::shared_ptr<Protocol::socket>> connections;
  bool stopped = false;

  State(asio::any_io_executor ex, std::filesystem::path p, NsmHandler h)
      : path(std::move(p)), handler(std::move(h)), acceptor(ex) {}

  asio::awaitable<void> serve(std::shared_ptr<Protocol::socket> socket) {
    auto self = shared_from_this();
    // One byte more than the largest request: a longer packet arrives
    // truncated (MSG_TRUNC) and is answered as the device answers it.
    std::vector<std::uint8_t> buffer(nsm::kMaxRequestSize + 1);
    try {
      for (;;) {
        asio::socket_base::message_flags in_flags = 0;
        const std::size_t n = co_await socket->async_receive(asio::buffer(buffer), in_flags, asio::use_awaitable);
        if (n == 0) break;  // the peer closed
        std::vector<std::uint8_t> response =
            n > nsm::kMaxRequestSize ? nsm::encode(nsm::Response{nsm::response::Error{nsm::ErrorCode::InputTooLarge}})
                                     : handler(std::span(buffer.data(), n));
        co_await socket->async_send(asio::buffer(response), 0, asio::use_awaitable);
      }
    } catch (const std::system_error&) {
      // A connection that resets or is closed by stop() just ends.
    }
    connections.remove(socket);
  }

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopped) {
      auto socket = std::make_shared<Protocol::socket>(acceptor.get_executor());
      try {
        co_await acceptor.async_accept(*socket, asio::use_awaitable);
      } catch (const std::system_error&) {
        if (stopped) co_return;
        continue;
      }
      connections.push_back(socket);
      asio::co_spawn(acceptor.get_executor(), serve(socket), asio::detached);
    }
  }
};

namespace {

Protocol::endpoint unix_endpoint(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string s = path.string();
  if (s.size() >= sizeof addr.sun_path)
    throw std::system_error(ENAMETOOLONG, std::generic_category(), "NSM socket path " + s + " is too long");
  std::copy(s.begin(), s.end(), addr.sun_path);
  return Protocol::endpoint(&addr, sizeof addr, 0);  // protocol 0: the default for AF_UNIX
}

// A socket file left by an earlier run is removed; anything else at the path
// is not ours to delete.
void remove_stale_socket(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;
  if (!S_ISSOCK(st.st_mode))
    throw std::system_error(EEXIST, std::generic_category(),
                            "cannot serve the NSM at " + path.string() + ": a file that is not a socket is there");
  ::unlink(path.c_str());
}

}  // namespace

NsmServer::NsmServer(asio::any_io_executor executor, std::filesystem::path path, NsmHandler handler)
    : state_(std::make_shared<State>(executor, std::move(path), std::move(handler))) {
  remove_stale_socket(state_->path);
  const auto endpoint = unix_endpoint(state_->path);
  state_->acceptor.open(endpoint.protocol());
  state_->acceptor.bind(endpoint);
  state_->acceptor.listen();
  asio::co_spawn(executor, state_->accept_loop(), asio::detached);
}

NsmServer::~NsmServer() { stop(); }

void NsmServer::stop() {
  if (!state_ || state_->stopped) return;
  state_->stopped = true;
  boost::system::error_code ec;
  state_->acceptor.close(ec);
  for (auto& c : state_->connections) c->close(ec);
  ::unlink(state_->path.c_str());
}

const std::filesystem::path& NsmServer::path() const { return state_->path; }

}  // namespace enclaver::sleeve
