// enclave-probe: a small static program that the simulator tests build into
// EIFs and run as the enclave's PID 1. It looks around and reports what it
// sees over simulated vsock, or behaves as a test needs (exit, crash,
// allocate, wait for a signal). It uses the project's transport and NSM
// client exactly as odyn does: the transport from ENCLAVER_VSOCK_DIR /
// ENCLAVER_VSOCK_CID, the NSM from ENCLAVER_NSM_SOCKET.
//
//   probe report PORT [PATH]   connect to vsock (3, PORT), send a JSON report
//                              (PATH: a host file that must not be visible)
//   probe serve PORT           listen on vsock PORT; per connection, send
//                              "cid N\n", then echo until EOF
//   probe exit N               exit with code N (after half a second)
//   probe crash                segfault (after half a second)
//   probe alloc                allocate and touch memory until killed
//   probe sleep [CHILDREN]     fork CHILDREN sleepers, then sleep
// Any mode: --term-exit N before the mode makes SIGTERM exit with code N.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "common/hex.hpp"
#include "nsm/client.hpp"
#include "transport/vsock.hpp"

namespace {

using enclaver::transport::Vsock;
using nlohmann::json;

const char* env_or_null(const char* name) { return std::getenv(name); }

Vsock vsock_from_env() {
  auto vsock = Vsock::from_environment(env_or_null("ENCLAVER_VSOCK_DIR"), env_or_null("ENCLAVER_VSOCK_CID"));
  if (!vsock) {
    std::cerr << "probe: " << vsock.error().message << "\n";
    std::exit(2);
  }
  return *vsock;
}

json interfaces() {
  json out = json::array();
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (auto* names = ::if_nameindex()) {
    for (auto* n = names; n->if_index != 0; ++n) {
      ifreq req{};
      std::strncpy(req.ifr_name, n->if_name, IFNAMSIZ - 1);
      bool up = ::ioctl(fd, SIOCGIFFLAGS, &req) == 0 && (req.ifr_flags & IFF_UP);
      out.push_back({{"name", n->if_name}, {"up", up}});
    }
    ::if_freenameindex(names);
  }
  ::close(fd);
  return out;
}

// Brings lo up (as odyn's bootstrap will) and checks a TCP round trip on it.
bool bring_lo_up_and_connect() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq req{};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &req) == 0;
  req.ifr_flags |= IFF_UP;
  ok = ok && ::ioctl(fd, SIOCSIFFLAGS, &req) == 0;
  ::close(fd);
  if (!ok) return false;
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  ok = ::bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && ::listen(listener, 1) == 0 &&
       ::getsockname(listener, reinterpret_cast<sockaddr*>(&sa), &len) == 0;
  int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ok = ok && ::connect(client, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(client);
  ::close(listener);
  return ok;
}

std::vector<std::string> directory(const std::string& path) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string status_field(const std::string& key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(key + ":", 0) == 0) return line.substr(key.size() + 1 + line.substr(key.size() + 1).find_first_not_of(" \t"));
  return "";
}

json pcrs() {
  const char* socket = env_or_null("ENCLAVER_NSM_SOCKET");
  auto transport = enclaver::nsm::open_transport(socket ? std::optional<std::string>(socket) : std::nullopt);
  if (!transport) return {{"error", transport.error().message}};
  enclaver::nsm::Client client(std::move(*transport));
  json out = json::object();
  for (std::uint16_t i : {0, 1, 2}) {
    auto pcr = client.describe_pcr(i);
    if (!pcr) return {{"error", pcr.error().message}};
    out[std::to_string(i)] = enclaver::to_hex(pcr->data);
  }
  return out;
}

json report(const std::string& hidden_path) {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  cpu_set_t cpus;
  ::sched_getaffinity(0, sizeof cpus, &cpus);
  json r;
  r["pid"] = ::getpid();
  r["interfaces_at_start"] = interfaces();
  r["lo_works_after_up"] = bring_lo_up_and_connect();
  r["interfaces_after_up"] = interfaces();
  r["proc"] = directory("/proc");
  r["root"] = directory("/");
  r["dev"] = directory("/dev");
  r["vsock_dir"] = directory("/run/enclaver/vsock");
  r["hidden_path_visible"] = !hidden_path.empty() && ::access(hidden_path.c_str(), F_OK) == 0;
  r["hostname"] = host;
  r["cap_eff"] = status_field("CapEff");
  r["cpus"] = CPU_COUNT(&cpus);
  r["env"] = {{"ENCLAVER_VSOCK_DIR", env_or_null("ENCLAVER_VSOCK_DIR") ? env_or_null("ENCLAVER_VSOCK_DIR") : ""},
              {"ENCLAVER_VSOCK_CID", env_or_null("ENCLAVER_VSOCK_CID") ? env_or_null("ENCLAVER_VSOCK_CID") : ""},
              {"ENCLAVER_NSM_SOCKET", env_or_null("ENCLAVER_NSM_SOCKET") ? env_or_null("ENCLAVER_NSM_SOCKET") : ""},
              {"PROBE_FROM_EIF", env_or_null("PROBE_FROM_EIF") ? env_or_null("PROBE_FROM_EIF") : ""}};
  r["pcrs"] = pcrs();
  return r;
}

int send_report(std::uint32_t port, const std::string& hidden_path) {
  std::string text = report(hidden_path).dump() + "\n";
  auto vsock = vsock_from_env();
  boost::asio::io_context io;
  int code = 1;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        // The host may bind its side a moment after we start: retry briefly.
        for (int attempt = 0; attempt < 200; ++attempt) {
          try {
            auto socket = co_await vsock.connect({enclaver::transport::kCidParent, port});
            co_await boost::asio::async_write(socket, boost::asio::buffer(text), boost::asio::use_awaitable);
            code = 0;
            co_return;
          } catch (const std::exception&) {
          }
          ::usleep(50000);
        }
      },
      boost::asio::detached);
  io.run();
  return code;
}

boost::asio::awaitable<void> echo(enclaver::transport::Socket socket, std::string greeting) {
  try {
    co_await boost::asio::async_write(socket, boost::asio::buffer(greeting), boost::asio::use_awaitable);
    char buffer[4096];
    for (;;) {
      std::size_t n = co_await socket.async_read_some(boost::asio::buffer(buffer), boost::asio::use_awaitable);
      co_await boost::asio::async_write(socket, boost::asio::buffer(buffer, n), boost::asio::use_awaitable);
    }
  } catch (const std::exception&) {
  }
}

int serve(std::uint32_t port) {
  auto vsock = vsock_from_env();
  boost::asio::io_context io;
  auto acceptor = vsock.listen(io.get_executor(), port);
  const char* cid = env_or_null("ENCLAVER_VSOCK_CID");
  std::string greeting = std::string("cid ") + (cid ? cid : "?") + "\n";
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        for (;;) {
          auto socket = co_await acceptor.async_accept(boost::asio::use_awaitable);
          boost::asio::co_spawn(io, echo(std::move(socket), greeting), boost::asio::detached);
        }
      },
      boost::asio::detached);
  io.run();
  return 0;
}

[[noreturn]] void sleep_forever() {
  for (;;) ::pause();
}

int term_exit_code = -1;
void on_term(int) { ::_exit(term_exit_code); }

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 2 && args[0] == "--term-exit") {
    term_exit_code = std::stoi(args[1]);
    ::signal(SIGTERM, on_term);
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.empty()) {
    std::cerr << "usage: probe [--term-exit N] report PORT [PATH] | serve PORT | exit N | crash | alloc | sleep [N]\n";
    return 2;
  }
  const std::string& mode = args[0];
  if (mode == "report" && args.size() >= 2) return send_report(std::stoul(args[1]), args.size() > 2 ? args[2] : "");
  if (mode == "serve" && args.size() == 2) return serve(std::stoul(args[1]));
  // exit and crash linger a moment, so that the host can look at the enclave first.
  if (mode == "exit" && args.size() == 2) {
    ::usleep(500000);
    return std::stoi(args[1]);
  }
  if (mode == "crash") {
    ::usleep(500000);
    volatile int* nowhere = nullptr;
    return *nowhere;
  }
  if (mode == "alloc") {
    std::vector<char*> blocks;
    for (;;) {
      char* block = static_cast<char*>(std::malloc(1 << 20));
      if (!block) continue;
      std::memset(block, 0x5a, 1 << 20);
      blocks.push_back(block);
    }
  }
  if (mode == "sleep") {
    int children = args.size() > 1 ? std::stoi(args[1]) : 0;
    for (int i = 0; i < children; ++i)
      if (::fork() == 0) sleep_forever();
    sleep_forever();
  }
  std::cerr << "probe: unknown mode or arguments\n";
  return 2;
}
