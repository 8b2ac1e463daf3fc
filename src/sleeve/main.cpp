// enclaver-run: the sleeve (host side). So far it serves the simulated NSM
// on its own (`enclaver-run nsm-sim`), for tests and for trying attestation
// without Nitro hardware; the launcher arrives with the simulator issue.
#include <cstdlib>
#include <iostream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <CLI/CLI.hpp>

#include "nsm/sim_ca.hpp"
#include "sleeve/nsm_server.hpp"
#include "sleeve/sim_nsm.hpp"

int main(int argc, char** argv) {
  using namespace enclaver;
  CLI::App app{"enclaver-run: launch and serve an enclave from the host side"};
  app.set_version_flag("--version", std::string("enclaver-run ") + ENCLAVER_VERSION);
  app.require_subcommand(1);

  sleeve::SimNsmOptions options;
  std::string socket;
  std::string root;
  auto* sim = app.add_subcommand("nsm-sim", "Serve a simulated NSM for an EIF on a Unix SOCK_SEQPACKET socket");
  sim->add_option("--socket", socket, "socket path to serve on")->required();
  sim->add_option("--eif", options.eif, "EIF whose PCRs the module reports")->required();
  sim->add_flag("--debug-mode", options.debug_mode, "report PCR0, 1, 2 and 8 as zeros, as Nitro does for debug enclaves");
  sim->add_option("--root", root, "simulator root CA (PEM cert + key; created if absent); default ~/.local/share/enclaver/sim-root.pem");
  sim->add_option("--module-id", options.module_id, "module id (must start with sim-); default: random");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (root.empty()) {
    const char* home = std::getenv("HOME");
    if (!home || !*home) {
      std::cerr << "enclaver-run: HOME is not set; pass --root PATH for the simulator root CA\n";
      return 2;
    }
    options.root = nsm::sim::default_root_path(home);
  } else {
    options.root = root;
  }

  try {
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
  } catch (const std::exception& e) {
    std::cerr << "enclaver-run: " << e.what() << "\n";
    return 1;
  }
}
