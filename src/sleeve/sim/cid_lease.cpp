#include "sleeve/sim/cid_lease.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

namespace enclaver::sleeve::sim {
namespace {

// Binds the abstract name of `cid`; nullopt when another process holds it.
std::optional<Fd> try_hold(std::uint32_t cid) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) throw std::system_error(errno, std::generic_category(), "cannot create a socket to hold a simulator CID");
  std::string name = "enclaver-sim/cid/" + std::to_string(cid);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path + 1, name.data(), name.size());  // sun_path[0] = 0: abstract
  socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), length) == 0) return fd;
  if (errno == EADDRINUSE) return std::nullopt;
  throw std::system_error(errno, std::generic_category(), "cannot hold simulator CID " + std::to_string(cid));
}

}  // namespace

CidLease CidLease::acquire(std::uint32_t first, std::uint32_t count) {
  for (std::uint32_t cid = first; cid - first < count; ++cid)
    if (auto fd = try_hold(cid)) return CidLease(std::move(*fd), cid);
  throw std::runtime_error("all " + std::to_string(count) + " simulator CIDs from " + std::to_string(first) +
                           " are taken; stop some simulated enclaves");
}

CidLease CidLease::acquire_exactly(std::uint32_t cid) {
  if (auto fd = try_hold(cid)) return CidLease(std::move(*fd), cid);
  throw std::runtime_error("CID " + std::to_string(cid) + " is taken by another simulated enclave; choose another or omit it");
}

}  // namespace enclaver::sleeve::sim
