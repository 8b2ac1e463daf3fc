#include "sleeve/run_enclave.hpp"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "common/hex.hpp"
#include "eif/eif_reader.hpp"
#include "eif/eif_sign.hpp"
#include "manifest/load.hpp"
#include "egress/host_side.hpp"
#include "egress/resolver.hpp"
#include "init/init_lib.hpp"
#include "sleeve/clock_server.hpp"
#include "sleeve/follow.hpp"
#include "transport/forward.hpp"

namespace enclaver::sleeve {
namespace {

using TcpAcceptor = boost::asio::ip::tcp::acceptor;

void print_status(const odyn::Status& status, std::optional<int>& app_code, std::ostream& err) {
  std::visit(
      [&](const auto& s) {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, odyn::status::Running>) {
          err << "enclaver-run: the app is running (pid " << s.pid << " in the enclave)\n";
        } else if constexpr (std::is_same_v<T, odyn::status::Exited>) {
          app_code = s.code;
          err << "enclaver-run: the app exited with code " << s.code << "\n";
        } else if constexpr (std::is_same_v<T, odyn::status::Signaled>) {
          app_code = 128 + s.signal;
          err << "enclaver-run: the app was killed by signal " << s.signal << " (SIG" << ::sigabbrev_np(s.signal) << ")\n";
        } else if constexpr (std::is_same_v<T, odyn::status::Fatal>) {
          app_code = 1;
          err << "enclaver-run: odyn could not go on: " << s.error << "\n";
        }
      },
      status);
  err.flush();
}

// One run: everything lives on the io_context of run_enclave.
class Session {
 public:
  Session(boost::asio::io_context& io, const RunRequest& request, const manifest::Manifest& manifest, const eif::EifInfo& info,
          std::vector<std::pair<std::uint16_t, std::shared_ptr<TcpAcceptor>>> ingress, std::ostream& err)
      : io_(io), request_(request), manifest_(manifest), info_(info), ingress_(std::move(ingress)), err_(err),
        // Taken over before the enclave exists: a Ctrl-C during the launch
        // waits in the set (asio queues it) instead of killing the sleeve.
        signals_(io, SIGINT, SIGTERM, SIGHUP) {}

  boost::asio::awaitable<void> run(Backend& backend) {
    LaunchRequest launch;
    launch.eif = request_.eif;
    launch.info = &info_;
    launch.cpu_count = request_.cpu_count.value_or(manifest_.defaults.cpu_count);
    launch.memory_mb = request_.memory_mb.value_or(manifest_.defaults.memory_mb);
    launch.debug_mode = request_.debug_mode;
    launch.cid = request_.cid;
    launch.status_port = manifest_.vsock_ports.status_port;
    // What odyn connects to at its start must listen before it runs.
    auto before_run = [this](const transport::Vsock& host) {
      serve_egress_host_side(host);
      if (!manifest_.clock_sync.enabled) return;
      clock_ = std::make_shared<transport::Acceptor>(host.listen(io_.get_executor(), manifest_.vsock_ports.clock_sync_port));
      boost::asio::co_spawn(io_, [clock = clock_]() { return serve_clock(*clock); }, boost::asio::detached);
    };
    try {
      enclave_ = co_await backend.launch(launch, before_run, err_);
    } catch (const std::exception& e) {
      err_ << "enclaver-run: " << e.what() << "\n";
      shut_down();
      co_return;
    }
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) { on_signal(ec, signal); });
    serve_ingress();
    follow_odyn();
    auto end = co_await enclave_->wait();
    enclave_ended_ = true;
    err_ << "enclaver-run: the enclave " << end.description << "\n";
    exit_code_ = app_code_.value_or(end.exit_code);
    co_await enclave_->release();
    shut_down();
  }

  int exit_code() const { return exit_code_; }

 private:
  void on_signal(const boost::system::error_code& ec, int signal) {
    if (ec || stopping_) return;
    stopping_ = true;
    err_ << "enclaver-run: " << ::sigabbrev_np(signal) << " received: stopping the enclave (the app gets SIGTERM, SIGKILL after "
         << request_.grace.count() << " ms)\n";
    boost::asio::co_spawn(io_, enclave_->stop(request_.grace), boost::asio::detached);
  }

  // The egress host side (egress.md): it applies the manifest's policy
  // itself, resolves once and dials only checked addresses. With egress
  // off it still answers, refusing every tunnel (D10).
  void serve_egress_host_side(const transport::Vsock& host) {
    const auto* egress = manifest_.egress ? &*manifest_.egress : nullptr;
    auto policy = egress ? policy::Policy::create(egress->allow, egress->deny) : policy::Policy::create({}, {});
    if (!policy) throw std::runtime_error("egress policy: " + policy.error().message);
    std::shared_ptr<egress::Resolver> resolver = std::make_shared<egress::SystemResolver>();
    if (request_.egress_hosts) {
      auto text = init::read_file(*request_.egress_hosts);
      if (!text) throw std::runtime_error("--egress-hosts: " + text.error().message);
      auto parsed = egress::StaticResolver::parse(*text);
      if (!parsed) throw std::runtime_error("--egress-hosts " + request_.egress_hosts->string() + ": " + parsed.error().message);
      resolver = std::make_shared<egress::StaticResolver>(std::move(*parsed));
    }
    egress::HostSideOptions options;
    options.log = [this](const std::string& line) { err_ << "enclaver-run: " << line << "\n" << std::flush; };
    egress_ = std::make_shared<transport::Acceptor>(host.listen(io_.get_executor(), manifest_.vsock_ports.http_egress_port));
    boost::asio::co_spawn(
        io_,
        [acceptor = egress_, policy = std::move(*policy), resolver, options]() mutable {
          return egress::serve_egress(*acceptor, std::move(policy), resolver, options);
        },
        boost::asio::detached);
  }

  void serve_ingress() {
    for (auto& [port, acceptor] : ingress_) {
      const auto* host = &enclave_->host_vsock();
      transport::VsockAddress target{enclave_->cid(), port};
      auto connect = [host, target]() { return host->connect(target); };
      transport::ForwardEvents events;
      events.unreachable = [this, target](const std::string& error) {
        err_ << "enclaver-run: ingress: cannot reach " << transport::to_string(target) << " (" << error << ")\n";
      };
      boost::asio::co_spawn(
          io_, [acceptor, connect, events]() { return transport::forward_connections(*acceptor, connect, events); },
          boost::asio::detached);
      const auto local = acceptor->local_endpoint();
      err_ << "enclaver-run: ingress " << local.address().to_string() << ":" << local.port() << " -> " << transport::to_string(target)
           << "\n";
    }
  }

  // odyn's status and log streams; an EIF whose PID 1 is not odyn has none,
  // and then the enclave's own end is the answer.
  void follow_odyn() {
    const auto& ports = manifest_.vsock_ports;
    auto keep_going = [this] { return !enclave_ended_; };
    auto on_status = [this](const odyn::Status& status) { print_status(status, app_code_, err_); };
    auto on_bad_status = [this](const std::string& message) { err_ << "enclaver-run: bad status line from odyn: " << message << "\n"; };
    const auto& host = enclave_->host_vsock();
    boost::asio::co_spawn(io_, follow_status(host, {enclave_->cid(), ports.status_port}, on_status, on_bad_status, keep_going),
                          boost::asio::detached);
    boost::asio::co_spawn(io_, follow_log(host, {enclave_->cid(), ports.app_log_port}, 1, keep_going), boost::asio::detached);
  }

  void shut_down() {
    enclave_ended_ = true;
    signals_.cancel();
    boost::system::error_code ignored;
    for (auto& entry : ingress_) entry.second->close(ignored);
    if (clock_) clock_->close(ignored);
    if (egress_) egress_->close(ignored);
  }

  boost::asio::io_context& io_;
  const RunRequest& request_;
  const manifest::Manifest& manifest_;
  const eif::EifInfo& info_;
  std::vector<std::pair<std::uint16_t, std::shared_ptr<TcpAcceptor>>> ingress_;
  std::ostream& err_;
  boost::asio::signal_set signals_;
  std::unique_ptr<Enclave> enclave_;
  std::shared_ptr<transport::Acceptor> clock_, egress_;
  bool stopping_ = false, enclave_ended_ = false;
  std::optional<int> app_code_;  // from odyn's final status
  int exit_code_ = 1;
};

}  // namespace

void print_measurements(std::ostream& err, const eif::Measurements& m) {
  err << "enclaver-run: PCR0 " << to_hex(m.pcr0) << "\n"
      << "enclaver-run: PCR1 " << to_hex(m.pcr1) << "\n"
      << "enclaver-run: PCR2 " << to_hex(m.pcr2) << "\n";
  if (m.pcr8) err << "enclaver-run: PCR8 " << to_hex(*m.pcr8) << "\n";
}

Result<Publish> parse_publish(std::string_view spec) {
  const std::string text(spec);
  auto port = [&](std::string_view digits) -> std::optional<std::uint16_t> {
    if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
    const int value = std::stoi(std::string(digits));
    if (value < 1 || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
  };
  Publish publish;
  std::string_view rest = spec;
  if (rest.starts_with("[")) {  // [IPv6]:HOST:ENCLAVE
    const auto close = rest.find("]:");
    if (close == std::string_view::npos) return make_error("--publish " + text + ": an IPv6 address goes in brackets: [::1]:8080:8080");
    publish.address = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 2);
  }
  const auto last = rest.rfind(':');
  if (last == std::string_view::npos) return make_error("--publish " + text + ": expected [ADDRESS:]HOST_PORT:ENCLAVE_PORT");
  auto enclave = port(rest.substr(last + 1));
  rest = rest.substr(0, last);
  const auto colon = rest.rfind(':');
  if (colon != std::string_view::npos) {
    if (!publish.address.empty()) return make_error("--publish " + text + ": expected [ADDRESS:]HOST_PORT:ENCLAVE_PORT");
    publish.address = std::string(rest.substr(0, colon));
    rest = rest.substr(colon + 1);
  }
  auto host = port(rest);
  if (!host || !enclave) return make_error("--publish " + text + ": ports are numbers from 1 to 65535");
  if (!publish.address.empty()) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(publish.address, ec);
    if (ec) return make_error("--publish " + text + ": " + publish.address + " is not an IP address");
  }
  publish.host_port = *host;
  publish.enclave_port = *enclave;
  return publish;
}

boost::asio::awaitable<bool> request_stop(const transport::Vsock& host, transport::VsockAddress status) {
  try {
    auto socket = co_await host.connect(status);
    static constexpr std::string_view kStop = "stop\n";
    co_await boost::asio::async_write(socket, boost::asio::buffer(kStop), boost::asio::use_awaitable);
    co_return true;
  } catch (const std::exception&) {
    co_return false;
  }
}

int run_enclave(const RunRequest& request, Backend& backend, std::ostream& err) {
  auto loaded = manifest::load_manifest_file(request.manifest.string());
  if (!loaded.ok()) {
    for (const auto& d : loaded.diagnostics) err << d.to_string() << "\n";
    err << "enclaver-run: the manifest " << request.manifest.string() << " is not valid; fix it (enclaver manifest check)\n";
    return 1;
  }
  eif::ReadOptions read;
  read.certificate_der = eif::certificate_der_from_section;
  auto info = eif::read_eif_file(request.eif, read);
  if (!info) {
    err << "enclaver-run: " << info.error().message << "\n";
    return 1;
  }

  boost::asio::io_context io;
  // Host ingress listeners first: a port in use fails before the enclave starts.
  for (const auto& p : request.publish) {
    const auto& entries = loaded.manifest->ingress;
    if (std::none_of(entries.begin(), entries.end(), [&](const auto& e) { return e.listen_port == p.enclave_port; })) {
      err << "enclaver-run: --publish names port " << p.enclave_port << ", which is not an ingress port of the manifest\n";
      return 1;
    }
  }
  std::vector<std::pair<std::uint16_t, std::shared_ptr<TcpAcceptor>>> ingress;
  for (const auto& entry : loaded.manifest->ingress) {
    std::string address = request.ingress_address;
    std::uint16_t host_port = entry.listen_port;
    for (const auto& p : request.publish) {
      if (p.enclave_port != entry.listen_port) continue;
      host_port = p.host_port;
      if (!p.address.empty()) address = p.address;
    }
    try {
      boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address(address), host_port);
      ingress.emplace_back(entry.listen_port, std::make_shared<TcpAcceptor>(io, endpoint, true));
    } catch (const std::exception& e) {
      err << "enclaver-run: cannot listen on " << address << ":" << host_port << " for ingress port " << entry.listen_port << ": "
          << e.what() << "\n";
      return 1;
    }
  }
  Session session(io, request, *loaded.manifest, *info, std::move(ingress), err);
  boost::asio::co_spawn(io, session.run(backend), boost::asio::detached);
  io.run();
  return session.exit_code();
}

}  // namespace enclaver::sleeve
