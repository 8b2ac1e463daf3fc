// A blocking raw TCP client for the tests of our servers: it writes exactly
// the bytes a test gives (malformed requests included) and reads what comes
// back until the server closes.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/fd.hpp"

namespace enclaver::testing {

// A connection to 127.0.0.1:port whose reads time out after 10 s; throws
// when nothing listens there.
inline Fd connect_to(std::uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
  timeval timeout{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

// False when the server stopped taking bytes (closed or reset): it may have
// answered before reading everything (a 413).
inline bool send_text(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

struct Received {
  std::string bytes;
  int end_errno = 0;  // 0: the server closed cleanly (FIN); else recv's errno (ECONNRESET, EAGAIN: timed out)
};

// Everything until the server closes (or 10 s pass without a byte).
inline Received read_to_end(int fd) {
  Received out;
  char buffer[16 * 1024];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n == 0) return out;
    if (n < 0) {
      out.end_errno = errno;
      return out;
    }
    out.bytes.append(buffer, static_cast<std::size_t>(n));
  }
}

// Sends `request` and returns all the server answers before closing.
inline Received raw_exchange(std::uint16_t port, std::string_view request) {
  Fd fd = connect_to(port);
  send_text(fd.get(), request);
  return read_to_end(fd.get());
}

}  // namespace enclaver::testing
