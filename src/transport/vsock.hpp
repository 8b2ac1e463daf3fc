// vsock addresses and the two transports that carry them (wire.md,
// simulation.md):
//   - native: AF_VSOCK, as on Nitro;
//   - simulated: Unix stream sockets at <dir>/<cid>/<port>.sock, as in the
//     local simulator.
// Programs choose one at their edge (Vsock::from_environment, from
// ENCLAVER_VSOCK_DIR / ENCLAVER_VSOCK_CID); everything below gets a Vsock and
// sees only generic stream sockets, never which family carries them.
//
// Behaviour common to both: connecting to a port nobody listens on fails at
// once with ECONNREFUSED (or ECONNRESET, as AF_VSOCK may report); listening
// binds our own CID (VMADDR_CID_ANY). Simulated only: a stale socket file
// (nobody accepting behind it) is removed on bind; a live one is EADDRINUSE.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/generic/stream_protocol.hpp>

#include "common/result.hpp"

namespace enclaver::transport {

using Protocol = boost::asio::generic::stream_protocol;
using Socket = boost::asio::basic_stream_socket<Protocol>;
using Acceptor = boost::asio::basic_socket_acceptor<Protocol>;
using Endpoint = Protocol::endpoint;

inline constexpr std::uint32_t kCidAny = 0xFFFFFFFFu;  // VMADDR_CID_ANY
inline constexpr std::uint32_t kCidHost = 2;           // VMADDR_CID_HOST
inline constexpr std::uint32_t kCidParent = 3;         // the parent instance, seen from an enclave
inline constexpr std::uint32_t kFirstEnclaveCid = 16;  // simulated enclaves get 16, 17, ...

struct VsockAddress {
  std::uint32_t cid = 0;
  std::uint32_t port = 0;
  friend bool operator==(const VsockAddress&, const VsockAddress&) = default;
};

// "vsock 16:5000".
std::string to_string(const VsockAddress& address);

class Vsock {
 public:
  // AF_VSOCK.
  static Vsock native();
  // Unix sockets under `dir`; `own_cid` is the directory that listen() binds.
  static Vsock simulated(std::filesystem::path dir, std::uint32_t own_cid);
  // The transport the environment asks for, given the values (or null) of
  // ENCLAVER_VSOCK_DIR and ENCLAVER_VSOCK_CID: neither set gives native();
  // both set gives simulated(); one without the other, a relative directory
  // or a CID that is not a number below 2^32-1 is an error saying which.
  static Result<Vsock> from_environment(const char* dir, const char* cid);

  bool simulated() const { return dir_.has_value(); }
  // "AF_VSOCK" or "simulated vsock in DIR (CID N)".
  std::string describe() const;
  // The simulated directory (empty for native).
  std::filesystem::path directory() const { return dir_.value_or(std::filesystem::path{}); }

  // Where `address` lives: a sockaddr_vm, or the sockaddr_un of
  // <dir>/<cid>/<port>.sock (kCidAny means our own CID). Throws
  // std::system_error (ENAMETOOLONG) when the path does not fit sun_path.
  Endpoint endpoint(const VsockAddress& address) const;
  // The socket file of `address` (simulated only).
  std::filesystem::path socket_path(const VsockAddress& address) const;

  // Binds `port` on our own CID and listens. Throws std::system_error whose
  // message names the address.
  Acceptor listen(const boost::asio::any_io_executor& executor, std::uint32_t port, int backlog = 1024) const;
  // Connects to `address`. Throws std::system_error (ECONNREFUSED when
  // nobody listens) whose message names the address.
  boost::asio::awaitable<Socket> connect(VsockAddress address) const;

 private:
  Vsock(std::optional<std::filesystem::path> dir, std::uint32_t own_cid) : dir_(std::move(dir)), own_cid_(own_cid) {}
  std::optional<std::filesystem::path> dir_;
  std::uint32_t own_cid_ = kCidAny;
};

}  // namespace enclaver::transport
