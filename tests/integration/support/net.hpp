// Network helpers for the integration tests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace enclaver::testing {

// A TCP port nobody uses on 127.0.0.1 now: tests run in parallel, each with its own.
inline std::string free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof sa;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &length) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("no free port");
  return std::to_string(ntohs(sa.sin_port));
}

}  // namespace enclaver::testing
