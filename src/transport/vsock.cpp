#include "transport/vsock.hpp"

#include <linux/vm_sockets.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>

#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>

namespace enclaver::transport {
namespace {

std::system_error failure(int err, const std::string& what) {
  return std::system_error(err, std::generic_category(), what);
}

// Whether something accepts connections on the Unix socket at `path`: a
// socket file left by a listener that is gone refuses them.
bool someone_listens(const std::filesystem::path& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.native().size() + 1);
  bool live = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return live;
}

// Makes room for a listener at `path`: a stale socket file goes; a live one
// or anything that is not a socket stays, and binding will say why.
void remove_stale_socket(const std::filesystem::path& path, const std::string& where) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0) return;
  if (!S_ISSOCK(st.st_mode))
    throw failure(EEXIST, "cannot listen on " + where + ": " + path.string() + " exists and is not a socket");
  if (someone_listens(path)) throw failure(EADDRINUSE, "cannot listen on " + where + ": another process listens there");
  ::unlink(path.c_str());
}

}  // namespace

std::string to_string(const VsockAddress& address) {
  std::string cid = address.cid == kCidAny ? std::string("any") : std::to_string(address.cid);
  return "vsock " + cid + ":" + std::to_string(address.port);
}

Vsock Vsock::native() { return Vsock(std::nullopt, kCidAny); }

Vsock Vsock::simulated(std::filesystem::path dir, std::uint32_t own_cid) { return Vsock(std::move(dir), own_cid); }

Result<Vsock> Vsock::from_environment(const char* dir, const char* cid) {
  bool has_dir = dir && *dir, has_cid = cid && *cid;
  if (!has_dir && !has_cid) return native();
  if (!has_dir) return make_error("ENCLAVER_VSOCK_CID is set but ENCLAVER_VSOCK_DIR is not; set both (simulator) or neither (AF_VSOCK)");
  if (!has_cid) return make_error("ENCLAVER_VSOCK_DIR is set but ENCLAVER_VSOCK_CID is not; set both (simulator) or neither (AF_VSOCK)");
  std::filesystem::path path(dir);
  if (!path.is_absolute()) return make_error("ENCLAVER_VSOCK_DIR must be an absolute path, not " + std::string(dir));
  std::string_view text(cid);
  std::uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == kCidAny)
    return make_error("ENCLAVER_VSOCK_CID must be a CID (a number below 4294967295), not " + std::string(cid));
  return simulated(std::move(path), value);
}

std::string Vsock::describe() const {
  if (!dir_) return "AF_VSOCK";
  return "simulated vsock in " + dir_->string() + " (CID " + std::to_string(own_cid_) + ")";
}

std::filesystem::path Vsock::socket_path(const VsockAddress& address) const {
  std::uint32_t cid = address.cid == kCidAny ? own_cid_ : address.cid;
  return directory() / std::to_string(cid) / (std::to_string(address.port) + ".sock");
}

Endpoint Vsock::endpoint(const VsockAddress& address) const {
  if (!dir_) {
    sockaddr_vm sa{};
    sa.svm_family = AF_VSOCK;
    sa.svm_cid = address.cid;
    sa.svm_port = address.port;
    return Endpoint(&sa, sizeof sa, 0);
  }
  auto path = socket_path(address);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.native().size() >= sizeof sa.sun_path)
    throw failure(ENAMETOOLONG, to_string(address) + ": socket path " + path.string() + " is longer than a Unix socket path may be (" +
                                    std::to_string(sizeof sa.sun_path - 1) + " bytes); use a shorter ENCLAVER_VSOCK_DIR");
  std::memcpy(sa.sun_path, path.c_str(), path.native().size() + 1);
  return Endpoint(&sa, offsetof(sockaddr_un, sun_path) + path.native().size() + 1, 0);
}

Acceptor Vsock::listen(const boost::asio::any_io_executor& executor, std::uint32_t port, int backlog) const {
  VsockAddress address{kCidAny, port};
  std::string where = to_string(address) + (dir_ ? " (" + socket_path(address).string() + ")" : "");
  Endpoint ep = endpoint(address);
  if (dir_) {
    std::error_code ec;
    std::filesystem::create_directories(socket_path(address).parent_path(), ec);
    if (ec) throw failure(ec.value(), "cannot listen on " + where + ": cannot create " + socket_path(address).parent_path().string());
    remove_stale_socket(socket_path(address), where);
  }
  Acceptor acceptor(executor);
  boost::system::error_code ec;
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(backlog, ec);
  if (ec) {
    std::string hint = ec == boost::asio::error::address_family_not_supported
                           ? " (no AF_VSOCK here: run on a Nitro instance or enclave, or in the simulator)"
                           : "";
    throw failure(ec.value(), "cannot listen on " + where + hint);
  }
  return acceptor;
}

boost::asio::awaitable<Socket> Vsock::connect(VsockAddress address) const {
  auto executor = co_await boost::asio::this_coro::executor;
  Endpoint ep = endpoint(address);
  Socket socket(executor);
  boost::system::error_code ec;
  socket.open(ep.protocol(), ec);
  if (!ec) {
    co_await socket.async_connect(ep, boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  // A missing socket file is a port nobody listens on: vsock says refused.
  if (dir_ && ec == boost::system::errc::no_such_file_or_directory) ec = boost::asio::error::connection_refused;
  if (ec) throw failure(ec.value(), "cannot connect to " + to_string(address));
  co_return socket;
}

}  // namespace enclaver::transport
