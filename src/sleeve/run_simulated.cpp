#include "sleeve/run_simulated.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/hex.hpp"
#include "eif/eif_reader.hpp"
#include "eif/eif_sign.hpp"
#include "manifest/load.hpp"
#include "sleeve/clock_server.hpp"
#include "sleeve/follow.hpp"
#include "transport/forward.hpp"

namespace enclaver::sleeve {
namespace {

void print_banner(const sim::SimulatedEnclave& enclave, const sim::EnclaveOptions& options, const eif::EifInfo& info,
                  std::ostream& err) {
  const auto& m = info.measurements;
  err << "enclaver-run: SIMULATED enclave: Linux namespaces on this machine, not a Nitro enclave and not a security boundary\n"
      << "enclaver-run: enclave CID " << enclave.cid() << " (PID " << enclave.pid() << " on the host), " << options.cpu_count
      << " CPUs, " << options.memory_mb << " MiB" << (options.debug_mode ? ", debug mode" : "") << "\n"
      << "enclaver-run: PCR0 " << to_hex(m.pcr0) << "\n"
      << "enclaver-run: PCR1 " << to_hex(m.pcr1) << "\n"
      << "enclaver-run: PCR2 " << to_hex(m.pcr2) << "\n";
  if (m.pcr8) err << "enclaver-run: PCR8 " << to_hex(*m.pcr8) << "\n";
  if (options.debug_mode) err << "enclaver-run: debug mode: attestation documents carry zeros for PCR0/1/2/8, as on Nitro\n";
  const auto& nsm = enclave.nsm();
  err << "enclaver-run: NSM " << nsm.module_id << "; simulator root " << (nsm.root_created ? "created at " : "")
      << nsm.root_path.string() << " (verify its documents with: enclaver verify-attestation --root " << nsm.root_path.string()
      << " DOC)\n"
      << "enclaver-run: vsock directory " << enclave.host_vsock().directory().string() << " (host side is CID 3)\n";
  for (const auto& notice : enclave.notices()) err << "enclaver-run: notice: " << notice << "\n";
  err.flush();
}

}  // namespace

int run_simulated(SimulateRequest request, std::ostream& err) {
  auto loaded = manifest::load_manifest_file(request.manifest.string());
  if (!loaded.ok()) {
    for (const auto& d : loaded.diagnostics) err << d.to_string() << "\n";
    err << "enclaver-run: the manifest " << request.manifest.string() << " is not valid; fix it (enclaver manifest check)\n";
    return 1;
  }
  auto& options = request.enclave;
  options.cpu_count = request.cpu_count.value_or(loaded.manifest->defaults.cpu_count);
  options.memory_mb = request.memory_mb.value_or(loaded.manifest->defaults.memory_mb);

  eif::ReadOptions read;
  read.certificate_der = eif::certificate_der_from_section;
  auto info = eif::read_eif_file(options.eif, read);
  if (!info) {
    err << "enclaver-run: " << info.error().message << "\n";
    return 1;
  }

  boost::asio::io_context io;
  // Host ingress listeners first: a port in use fails before the enclave starts.
  std::vector<std::pair<std::uint16_t, std::shared_ptr<boost::asio::ip::tcp::acceptor>>> ingress;
  for (const auto& entry : loaded.manifest->ingress) {
    try {
      boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address(request.ingress_address), entry.listen_port);
      auto acceptor = std::make_shared<boost::asio::ip::tcp::acceptor>(io, endpoint, true);
      ingress.emplace_back(entry.listen_port, acceptor);
    } catch (const std::exception& e) {
      err << "enclaver-run: cannot listen on " << request.ingress_address << ":" << entry.listen_port << " for ingress: " << e.what()
          << "\n";
      return 1;
    }
  }
  // Taken over before the enclave exists: a Ctrl-C during the launch waits
  // in the set (asio queues it) instead of killing the sleeve outright.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  std::unique_ptr<sim::SimulatedEnclave> enclave;
  // What odyn connects to at its start must listen before it runs.
  std::shared_ptr<transport::Acceptor> clock;
  auto before_run = [&](const transport::Vsock& host) {
    if (!loaded.manifest->clock_sync.enabled) return;
    clock = std::make_shared<transport::Acceptor>(host.listen(io.get_executor(), loaded.manifest->vsock_ports.clock_sync_port));
    boost::asio::co_spawn(io, [clock]() { return serve_clock(*clock); }, boost::asio::detached);
  };
  try {
    enclave = sim::SimulatedEnclave::launch(io.get_executor(), options, *info, before_run);
  } catch (const std::exception& e) {
    err << "enclaver-run: " << e.what() << "\n";
    return 1;
  }
  print_banner(*enclave, options, *info, err);

  int exit_code = 1;
  bool stopping = false;
  bool enclave_ended = false;
  std::optional<int> app_code;  // from odyn's final status
  auto on_signal = [&](const boost::system::error_code& ec, int signal) {
    if (ec || stopping) return;
    stopping = true;
    err << "enclaver-run: " << ::sigabbrev_np(signal) << " received: stopping the enclave (SIGTERM, SIGKILL after "
        << request.grace.count() << " ms)\n";
    boost::asio::co_spawn(io, enclave->terminate(request.grace), boost::asio::detached);
  };
  signals.async_wait(on_signal);

  for (auto& [port, acceptor] : ingress) {
    auto* host = &enclave->host_vsock();
    transport::VsockAddress target{enclave->cid(), port};
    auto connect = [host, target]() { return host->connect(target); };
    transport::ForwardEvents events;
    events.unreachable = [&err, target](const std::string& error) {
      err << "enclaver-run: ingress: cannot reach " << transport::to_string(target) << " (" << error << ")\n";
    };
    boost::asio::co_spawn(
        io, [acceptor, connect, events]() { return transport::forward_connections(*acceptor, connect, events); },
        boost::asio::detached);
    err << "enclaver-run: ingress " << request.ingress_address << ":" << port << " -> " << transport::to_string(target) << "\n";
  }

  // odyn's status and log streams; an EIF whose PID 1 is not odyn has none,
  // and then PID 1's own end is the answer.
  const auto& ports = loaded.manifest->vsock_ports;
  auto keep_going = [&] { return !enclave_ended; };
  auto on_status = [&](const odyn::Status& status) {
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
  };
  auto on_bad_status = [&](const std::string& message) { err << "enclaver-run: bad status line from odyn: " << message << "\n"; };
  boost::asio::co_spawn(io,
                        follow_status(enclave->host_vsock(), {enclave->cid(), ports.status_port}, on_status, on_bad_status, keep_going),
                        boost::asio::detached);
  boost::asio::co_spawn(io, follow_log(enclave->host_vsock(), {enclave->cid(), ports.app_log_port}, 1, keep_going),
                        boost::asio::detached);
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        auto exit = co_await enclave->wait();
        enclave_ended = true;
        err << "enclaver-run: the enclave " << exit.describe(options.memory_mb) << "\n";
        exit_code = app_code.value_or(exit.exit_code());
        signals.cancel();
        boost::system::error_code ignored;
        for (auto& entry : ingress) entry.second->close(ignored);
        if (clock) clock->close(ignored);
      },
      boost::asio::detached);
  io.run();
  return exit_code;
}

}  // namespace enclaver::sleeve
