// enclaver-run: the sleeve (host side). `enclaver-run` runs an EIF on Nitro
// through nitro-cli, `enclaver-run --simulate` in the local simulator;
// `enclaver-run nsm-sim` serves only a simulated NSM, for tests and for
// trying attestation without Nitro hardware.
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <CLI/CLI.hpp>

#include "common/fd_limit.hpp"
#include "nsm/sim_ca.hpp"
#include "sleeve/nsm_server.hpp"
#include "sleeve/nitro/nitro_backend.hpp"
#include "sleeve/run_enclave.hpp"
#include "sleeve/sim_backend.hpp"
#include "sleeve/sim_nsm.hpp"

namespace {

// The simulator root CA: --root/--sim-root, else under $HOME (the only
// environment variable read, here at the edge).
std::filesystem::path root_or_default(const std::string& given) {
  if (!given.empty()) return given;
  const char* home = std::getenv("HOME");
  if (!home || !*home) throw std::runtime_error("HOME is not set; pass the simulator root CA's path (--sim-root PATH)");
  return enclaver::nsm::sim::default_root_path(home);
}

int serve_nsm_only(enclaver::sleeve::SimNsmOptions options, const std::string& socket) {
  using namespace enclaver;
  auto nsm = sleeve::make_sim_nsm(options);
  boost::asio::io_context io;
  sleeve::NsmServer server(io.get_executor(), socket,
                           [&](std::span<const std::uint8_t> request) { return nsm.module->handle_bytes(request); });
  std::cerr << "enclaver-run: simulated NSM " << nsm.module_id << " for " << options.eif.string() << " on " << socket
            << (options.debug_mode ? " (debug mode: PCR0/1/2/8 read as zeros)" : "") << "\n"
            << "enclaver-run: simulator root " << (nsm.root_created ? "created at " : "") << nsm.root_path.string()
            << "; verify documents with: enclaver verify-attestation --root " << nsm.root_path.string() << " DOC\n"
            << "enclaver-run: this is a simulation, not a security boundary\n";
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { server.stop(); io.stop(); });
  io.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace enclaver;
  CLI::App app{"enclaver-run: launch and serve an enclave from the host side"};
  app.set_version_flag("--version", std::string("enclaver-run ") + ENCLAVER_VERSION);
  app.require_subcommand(0, 1);

  sleeve::RunRequest run;
  run.manifest = "/enclave/enclaver.yaml";
  run.eif = "/enclave/application.eif";
  bool simulate = false;
  std::string sim_root;
  double grace_seconds = 10;
  app.add_flag("--simulate", simulate, "run the enclave in the local simulator (Linux namespaces; needs root)");
  app.add_option("--eif", run.eif, "the enclave image")->capture_default_str();
  app.add_option("--manifest", run.manifest, "enclaver.yaml (cpu_count, memory_mb, ports)")->capture_default_str();
  app.add_option("--cpu-count", run.cpu_count, "CPUs of the enclave (default: the manifest's defaults.cpu_count)")->check(CLI::Range(1u, 1024u));
  app.add_option("--memory", run.memory_mb, "memory of the enclave in MiB (default: the manifest's defaults.memory_mb)")->check(CLI::Range(std::uint64_t{16}, std::uint64_t{1} << 30));
  app.add_flag("--debug-mode", run.debug_mode, "debug enclave: console on stderr, PCR0/1/2/8 read as zeros in attestation");
  app.add_option("--cid", run.cid, "the enclave's CID (default: the first free from 16)")->check(CLI::Range(4u, 0xFFFFFFFEu));
  app.add_option("--grace-period", grace_seconds, "seconds between SIGTERM and SIGKILL when stopping the enclave")->capture_default_str()->check(CLI::Range(0.0, 3600.0));
  std::string egress_hosts;
  app.add_option("--egress-hosts", egress_hosts, "resolve egress destinations with this hosts-format file instead of DNS (tests)");
  std::vector<std::string> publish;
  app.add_option("--publish", publish, "[ADDRESS:]HOST_PORT:ENCLAVE_PORT: publish an ingress port elsewhere on the host (repeatable)");
  app.add_option("--ingress-address", run.ingress_address, "address the host listens on for each ingress port")->capture_default_str();
  app.add_option("--sim-root", sim_root, "simulator root CA (PEM cert + key; created if absent); default ~/.local/share/enclaver/sim-root.pem");

  sleeve::SimNsmOptions nsm_options;
  std::string socket;
  std::string root;
  auto* nsm_sim = app.add_subcommand("nsm-sim", "Serve a simulated NSM for an EIF on a Unix SOCK_SEQPACKET socket");
  nsm_sim->add_option("--socket", socket, "socket path to serve on")->required();
  nsm_sim->add_option("--eif", nsm_options.eif, "EIF whose PCRs the module reports")->required();
  nsm_sim->add_flag("--debug-mode", nsm_options.debug_mode, "report PCR0, 1, 2 and 8 as zeros, as Nitro does for debug enclaves");
  nsm_sim->add_option("--root", root, "simulator root CA (PEM cert + key; created if absent); default ~/.local/share/enclaver/sim-root.pem");
  nsm_sim->add_option("--module-id", nsm_options.module_id, "module id (must start with sim-); default: random");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    if (nsm_sim->parsed()) {
      nsm_options.root = root_or_default(root);
      return serve_nsm_only(std::move(nsm_options), socket);
    }
    run.grace = std::chrono::milliseconds(static_cast<long long>(grace_seconds * 1000));
    for (const auto& spec : publish) {
      auto parsed = sleeve::parse_publish(spec);
      if (!parsed) {
        std::cerr << "enclaver-run: " << parsed.error().message << "\n";
        return 2;
      }
      run.publish.push_back(*parsed);
    }
    if (!egress_hosts.empty()) run.egress_hosts = egress_hosts;
    raise_open_file_limit();
    if (simulate) {
      sleeve::SimulatorBackend backend({root_or_default(sim_root), ""});
      return sleeve::run_enclave(run, backend, std::cerr);
    }
    // Nitro. ENCLAVER_VSOCK_DIR/CID (read here, at the edge) put the host's
    // vsock on the simulated transport: for tests with a stand-in nitro-cli.
    auto vsock = transport::Vsock::from_environment(std::getenv("ENCLAVER_VSOCK_DIR"), std::getenv("ENCLAVER_VSOCK_CID"));
    if (!vsock) throw std::runtime_error(vsock.error().message);
    if (::access("/dev/nitro_enclaves", F_OK) != 0)
      std::cerr << "enclaver-run: notice: no Nitro Enclaves device here (/dev/nitro_enclaves); nitro-cli will likely fail. "
                   "Use --simulate to run the enclave in the simulator\n";
    sleeve::NitroOptions nitro;
    nitro.host_vsock = *vsock;
    sleeve::NitroBackend backend(nitro);
    return sleeve::run_enclave(run, backend, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "enclaver-run: " << e.what() << "\n";
    return 1;
  }
}
