// The internal and aux APIs under test, with everything below them real:
// a simulated NSM in process (documents signed by a simulator root made for
// the test), both servers on ephemeral 127.0.0.1 ports on their own
// io_context thread, and a raw HTTP client that writes the bytes a test
// gives it.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include "common/temp_dir.hpp"
#include "odyn/api/start.hpp"
#include "sleeve/sim_nsm.hpp"
#include "tests/support/raw_client.hpp"

namespace enclaver::odyn::api::testing {

// The device's view of the simulated module, without a socket.
class InProcessNsm final : public nsm::Transport {
 public:
  explicit InProcessNsm(nsm::sim::SimulatedNsm& module) : module_(module) {}
  Result<std::vector<std::uint8_t>> exchange(std::span<const std::uint8_t> request) override { return module_.handle_bytes(request); }

 private:
  nsm::sim::SimulatedNsm& module_;
};

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string raw;
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

inline Reply parse_reply(const std::string& raw) {
  Reply reply;
  reply.raw = raw;
  const auto head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) return reply;
  reply.status = std::stoi(raw.substr(9, 3));
  std::size_t at = raw.find("\r\n") + 2;
  while (at < head_end) {
    const auto end = raw.find("\r\n", at);
    const std::string line = raw.substr(at, end - at);
    const auto colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    at = end + 2;
  }
  reply.body = raw.substr(head_end + 4);
  return reply;
}

// One request, Connection: close.
inline Reply request(std::uint16_t port, const std::string& method, const std::string& target, const std::string& body = "",
                     const std::string& extra_headers = "") {
  std::string bytes = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra_headers;
  if (!body.empty() || method == "POST") bytes += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  bytes += "\r\n" + body;
  return parse_reply(enclaver::testing::raw_exchange(port, bytes).bytes);
}

class ApiHarness {
 public:
  // with_nsm = false: the APIs run without an NSM, as odyn does when there is none.
  explicit ApiHarness(bool with_nsm = true) {
    NsmHandle handle;
    if (with_nsm) {
      sleeve::SimNsmOptions options;
      options.root = dir_.path() / "sim-root.pem";
      options.module_id = "sim-api-test";
      eif::Measurements measurements;
      measurements.pcr0.fill(0x10);
      measurements.pcr1.fill(0x11);
      measurements.pcr2.fill(0x12);
      sim_ = sleeve::make_sim_nsm(options, measurements);
      handle.client = std::make_unique<nsm::Client>(std::make_unique<InProcessNsm>(*sim_.module));
    } else {
      handle.unavailable = "/dev/nsm: No such file or directory";
    }
    ApiOptions options;
    options.limits.head_timeout = std::chrono::milliseconds(2000);
    options.limits.body_timeout = std::chrono::milliseconds(2000);
    auto started = start_api(io_.get_executor(), std::move(handle), options);
    if (!started) throw std::runtime_error(started.error().message);
    servers_ = std::move(*started);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ApiHarness() {
    boost::asio::post(io_, [this] {
      servers_.internal->stop();
      servers_.aux->stop();
    });
    work_.reset();
    io_.stop();
    thread_.join();
  }

  std::uint16_t port() const { return servers_.internal->local_endpoint().port(); }
  std::uint16_t aux_port() const { return servers_.aux->local_endpoint().port(); }
  std::filesystem::path root() const { return dir_.path() / "sim-root.pem"; }
  Services& services() { return *servers_.services; }

 private:
  TempDir dir_{std::filesystem::temp_directory_path(), "enclaver-api-test-"};
  sleeve::SimNsm sim_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  ApiServers servers_;
  std::thread thread_;
};

}  // namespace enclaver::odyn::api::testing
