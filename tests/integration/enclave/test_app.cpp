// enclave-test-app: the app the runtime tests put in their EIFs (static,
// ours). A small HTTP/1.1 server on 127.0.0.1:PORT (Boost.Beast) that
// writes one line per request to stdout and answers:
//   GET  /hello            "hello from the enclave"
//   POST /echo             the request body
//   GET  /whoami           uid gid cwd, IN_ENCLAVE and ENCLAVER_API, one per line
//   GET  /exists/PATH      "yes" or "no": is there anything at /PATH
//   GET  /pcr/N            PCR N as the enclave's NSM reports it (hex)
//   POST /exec             runs the body's lines as argv (a program in the
//                          image, e.g. curl), answers "exit N\n" then its
//                          stdout and stderr
//   POST /connects         body "PORT\nCOUNT\n[TARGET]": COUNT connections one
//                          after the other to 127.0.0.1:PORT, each (with
//                          TARGET) a CONNECT to TARGET first, each reading
//                          one byte; answers "ok COUNT MS" (a client that does
//                          not fork per connection, for the benchmarks)
//   POST /raw/PORT         sends the body as is to 127.0.0.1:PORT (a proxy,
//                          say), answers what came back until the peer closed
//                          or 3 s of silence (at most 1 MiB)
//   POST /rawshut/PORT     the same, half-closing after sending (and waiting
//                          up to 15 s of silence)
//   GET  /burst/N          writes N bytes to stderr (lines of 'x'), then answers
//   GET  /orphan           forks a child that forks a grandchild and exits:
//                          the grandchild, orphaned, exits too (PID 1 reaps)
//   GET  /zombies          how many zombie processes the enclave holds
//   GET  /exit/N           answers, then exits with code N
//   GET  /signal/N         answers, then kills itself with signal N
//   app [--ignore-sigterm] [--exit-on-sigterm N] PORT
// Before listening it writes "app starting" to stdout.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <chrono>
#include <string>
#include <vector>

#include "common/hex.hpp"
#include "nsm/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace {

namespace http = boost::beast::http;
using boost::asio::ip::tcp;
using boost::asio::use_awaitable;

int sigterm_exit_code = 0;
void exit_on_sigterm(int) { ::_exit(sigterm_exit_code); }

std::string after(const std::string& target, const std::string& prefix) { return target.substr(prefix.size()); }

// A client that speaks whatever bytes a test gives it, as a compromised or
// buggy app would (blocking: the test app serves one request at a time).
std::string raw_exchange(int port, const std::string& bytes, bool half_close = false) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return "connect failed\n";
  }
  for (std::size_t sent = 0; sent < bytes.size();) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  if (half_close) ::shutdown(fd, SHUT_WR);
  std::string answer;
  char buffer[65536];
  while (answer.size() < (1u << 20)) {
    pollfd p{fd, POLLIN, 0};
    // Half-closed, the peer's own close ends the exchange: wait longer for it
    // (a proxy's 504 comes after the host side's connect timeout).
    if (::poll(&p, 1, half_close ? 15000 : 3000) <= 0) break;
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    answer.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return answer;
}

// One connection of /connects: true when it got its byte.
bool connect_once(int port, const std::string& target) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  if (ok && !target.empty()) {
    const std::string request = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n";
    ok = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size());
    std::string head;
    char c;
    while (ok && head.find("\r\n\r\n") == std::string::npos && ::recv(fd, &c, 1, 0) == 1) head += c;
    ok = ok && head.rfind("HTTP/1.1 200", 0) == 0;
  }
  char byte;
  ok = ok && ::recv(fd, &byte, 1, 0) == 1;
  ::close(fd);
  return ok;
}

std::string connect_loop(const std::string& body) {
  std::istringstream in(body);
  int port = 0, count = 0;
  std::string target;
  in >> port >> count;
  in >> target;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < count; ++i)
    if (!connect_once(port, target)) return "failed at connection " + std::to_string(i) + "\n";
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  return "ok " + std::to_string(count) + " " + std::to_string(ms) + "\n";
}

// Runs argv (one element per line), its output captured; blocking.
std::string run_program(const std::string& lines) {
  std::vector<std::string> args;
  std::size_t start = 0;
  while (start < lines.size()) {
    auto end = lines.find('\n', start);
    if (end == std::string::npos) end = lines.size();
    args.push_back(lines.substr(start, end - start));
    start = end + 1;
  }
  if (args.empty()) return "exit 127\nno program\n";
  int out[2];
  if (::pipe(out) != 0) return "exit 127\npipe failed\n";
  pid_t child = ::fork();
  if (child == 0) {
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    ::close(out[0]);
    ::close(out[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::perror("exec");
    ::_exit(127);
  }
  ::close(out[1]);
  std::string output;
  char buffer[65536];
  for (ssize_t n; (n = ::read(out[0], buffer, sizeof buffer)) > 0;) output.append(buffer, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return "exit " + std::to_string(code) + "\n" + output;
}

// The simulator serves the NSM at /run/nsm.sock (on Nitro: /dev/nsm).
std::string read_pcr(std::uint16_t index) {
  auto transport = enclaver::nsm::open_transport(std::string("/run/nsm.sock"));
  if (!transport) return "no NSM: " + transport.error().message + "\n";
  enclaver::nsm::Client client(std::move(*transport));
  auto pcr = client.describe_pcr(index);
  if (!pcr) return "no PCR: " + pcr.error().message + "\n";
  return enclaver::to_hex(pcr->data) + "\n";
}

// What to do once the answer is on its way.
struct Then {
  int exit_code = -1;
  int signal = 0;
};

http::response<http::string_body> answer(const http::request<http::string_body>& request, Then& then) {
  static unsigned counter = 0;
  const std::string target(request.target());
  std::cout << "request " << ++counter << ": " << request.method_string() << " " << target << std::endl;
  http::response<http::string_body> response(http::status::ok, request.version());
  response.set(http::field::content_type, "text/plain");
  if (target == "/hello") {
    response.body() = "hello from the enclave\n";
  } else if (target == "/echo") {
    response.body() = request.body();
  } else if (target == "/whoami") {
    const char* in_enclave = std::getenv("IN_ENCLAVE");
    const char* api = std::getenv("ENCLAVER_API");
    response.body() = "uid " + std::to_string(::getuid()) + "\ngid " + std::to_string(::getgid()) + "\ncwd " +
                      std::filesystem::current_path().string() + "\nIN_ENCLAVE " + (in_enclave ? in_enclave : "") + "\nENCLAVER_API " +
                      (api ? api : "") + "\n";
  } else if (target.rfind("/exists/", 0) == 0) {
    std::error_code ec;
    response.body() = std::filesystem::symlink_status("/" + after(target, "/exists/"), ec).type() ==
                              std::filesystem::file_type::not_found
                          ? "no\n"
                          : "yes\n";
  } else if (target.rfind("/pcr/", 0) == 0) {
    response.body() = read_pcr(static_cast<std::uint16_t>(std::stoi(after(target, "/pcr/"))));
  } else if (target == "/connects") {
    response.body() = connect_loop(request.body());
  } else if (target == "/exec") {
    response.body() = run_program(request.body());
  } else if (target.rfind("/rawshut/", 0) == 0) {  // the same, then half-closes
    response.body() = raw_exchange(std::stoi(after(target, "/rawshut/")), request.body(), true);
  } else if (target.rfind("/raw/", 0) == 0) {
    response.body() = raw_exchange(std::stoi(after(target, "/raw/")), request.body());
  } else if (target.rfind("/burst/", 0) == 0) {
    std::size_t n = std::stoul(after(target, "/burst/"));
    std::string line(99, 'x');
    line += '\n';
    for (std::size_t written = 0; written < n; written += line.size())
      std::cerr.write(line.data(), static_cast<std::streamsize>(std::min(line.size(), n - written)));
    std::cerr.flush();
    response.body() = "burst " + std::to_string(n) + "\n";
  } else if (target == "/orphan") {
    pid_t child = ::fork();
    if (child == 0) {
      if (::fork() == 0) {
        ::usleep(200000);  // outlive the parent, then exit as an orphan
        ::_exit(0);
      }
      ::_exit(0);
    }
    ::waitpid(child, nullptr, 0);
    response.body() = "orphaned\n";
  } else if (target == "/zombies") {
    int zombies = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      std::ifstream stat(entry.path() / "stat");
      std::string line;
      if (!std::getline(stat, line)) continue;
      auto close = line.rfind(')');
      if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z') ++zombies;
    }
    response.body() = std::to_string(zombies) + "\n";
  } else if (target.rfind("/exit/", 0) == 0) {
    then.exit_code = std::stoi(after(target, "/exit/"));
    response.body() = "exiting\n";
  } else if (target.rfind("/signal/", 0) == 0) {
    then.signal = std::stoi(after(target, "/signal/"));
    response.body() = "signalling\n";
  } else {
    response.result(http::status::not_found);
    response.body() = "no such thing\n";
  }
  response.prepare_payload();
  return response;
}

boost::asio::awaitable<void> serve(tcp::socket socket) {
  boost::beast::flat_buffer buffer;
  try {
    for (;;) {
      http::request<http::string_body> request;
      co_await http::async_read(socket, buffer, request, use_awaitable);
      Then then;
      auto response = answer(request, then);
      bool keep_alive = request.keep_alive();
      co_await http::async_write(socket, response, use_awaitable);
      if (then.exit_code >= 0 || then.signal) {
        socket.shutdown(tcp::socket::shutdown_send);
        std::cout.flush();
        if (then.signal) ::kill(::getpid(), then.signal);
        ::_exit(then.exit_code);
      }
      if (!keep_alive) break;
    }
  } catch (const std::exception&) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; ++i) {
    std::string flag = argv[i];
    if (flag == "--ignore-sigterm") {
      ::signal(SIGTERM, SIG_IGN);
    } else if (flag == "--exit-on-sigterm" && i + 1 < argc) {
      sigterm_exit_code = std::atoi(argv[++i]);
      ::signal(SIGTERM, exit_on_sigterm);
    }
  }
  if (i != argc - 1) {
    std::cerr << "usage: app [--ignore-sigterm] [--exit-on-sigterm N] PORT\n";
    return 2;
  }
  auto port = static_cast<unsigned short>(std::stoi(argv[i]));
  std::cout << "app starting" << std::endl;
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, {boost::asio::ip::address_v4::loopback(), port});
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        for (;;) {
          auto socket = co_await acceptor.async_accept(use_awaitable);
          boost::asio::co_spawn(io, serve(std::move(socket)), boost::asio::detached);
        }
      },
      boost::asio::detached);
  io.run();
}
