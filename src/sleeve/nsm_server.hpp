// Serves NSM requests on a Unix SOCK_SEQPACKET socket, one CBOR request per
// packet and one response per packet, as the simulator's /run/nsm.sock
// (simulation.md). What answers is a handler (the simulated NSM); this is
// only the transport, on the program's one event loop.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

namespace enclaver::sleeve {

using NsmHandler = std::function<std::vector<std::uint8_t>(std::span<const std::uint8_t> request)>;

class NsmServer {
 public:
  // Binds `path` (a stale socket file there is removed first; anything else
  // there is an error), listens, and serves every connection until stop().
  // Throws std::system_error saying what failed.
  NsmServer(boost::asio::any_io_executor executor, std::filesystem::path path, NsmHandler handler);
  ~NsmServer();
  NsmServer(const NsmServer&) = delete;
  NsmServer& operator=(const NsmServer&) = delete;

  // Closes the listener and every connection, and removes the socket file.
  void stop();
  const std::filesystem::path& path() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace enclaver::sleeve
