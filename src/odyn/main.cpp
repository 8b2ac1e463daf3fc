// odyn: the supervisor that runs as PID 1 inside the enclave (see
// supervisor.hpp). This edge reads the command line and the environment
// (ENCLAVER_VSOCK_DIR / ENCLAVER_VSOCK_CID / ENCLAVER_NSM_SOCKET, set only by
// the simulator) and hands typed options to the library.
//   odyn [--config PATH] [--image-config PATH] [--grace-period S] [-- CMD...]
//   odyn --check-config [--config PATH]   print the normalised manifest

#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "common/fd_limit.hpp"
#include "manifest/load.hpp"
#include "manifest/serialize.hpp"
#include "odyn/supervisor.hpp"

extern char** environ;

namespace {

int check_config(const std::string& config) {
  const auto result = enclaver::manifest::load_manifest_file(config);
  if (!result.ok()) {
    for (const auto& d : result.diagnostics) std::cerr << "[odyn] " << d.to_string() << "\n";
    std::cerr << "[odyn] fatal: the manifest is invalid\n";
    return 1;
  }
  std::cout << "[odyn] loaded " << config << "\n" << enclaver::manifest::to_yaml(*result.manifest);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace enclaver;
  const auto started = std::chrono::steady_clock::now();
  // Everything after "--" is the app's command, untouched by CLI11.
  std::vector<std::string> command;
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--") {
      command.assign(argv + i + 1, argv + argc);
      argc = i;
      break;
    }
  CLI::App app{"odyn: the Enclaver supervisor (PID 1 inside the enclave)"};
  app.set_version_flag("--version", std::string("odyn ") + ENCLAVER_VERSION);
  odyn::SupervisorOptions options;
  std::string config = options.manifest.string();
  std::string image_config = options.image_config.string();
  bool check = false;
  double grace_seconds = 10;
  app.add_option("--config", config, "manifest to load")->capture_default_str();
  app.add_option("--image-config", image_config, "the app image's entrypoint, cmd, env, user and working dir")->capture_default_str();
  app.add_option("--grace-period", grace_seconds, "seconds between SIGTERM and SIGKILL for the app")->capture_default_str()->check(CLI::Range(0.0, 3600.0));
  app.add_flag("--check-config", check, "load the manifest, print it normalised, and exit");
  CLI11_PARSE(app, argc, argv);
  if (check) return check_config(config);

  auto vsock = transport::Vsock::from_environment(std::getenv("ENCLAVER_VSOCK_DIR"), std::getenv("ENCLAVER_VSOCK_CID"));
  if (!vsock) {
    std::cerr << "[odyn] fatal: " << vsock.error().message << "\n";
    return 1;
  }
  options.vsock = *vsock;
  if (const char* nsm = std::getenv("ENCLAVER_NSM_SOCKET"); nsm && *nsm) options.nsm_socket = nsm;
  if (const char* ca = std::getenv("ENCLAVER_EXTRA_CA_FILE"); ca && *ca) options.extra_ca_file = ca;
  options.manifest = config;
  options.image_config = image_config;
  options.grace = std::chrono::milliseconds(static_cast<long long>(grace_seconds * 1000));
  options.fallback_argv = std::move(command);
  options.started = started;
  for (char** e = environ; *e; ++e) options.own_environment.emplace_back(*e);
  raise_open_file_limit();
  return odyn::run_supervisor(options, std::cerr);
}
