// odyn: the supervisor that runs as PID 1 inside the enclave. For now it
// loads its manifest and prints it normalised, which proves the fully static
// build end to end (it runs in an empty FROM scratch image).
#include <iostream>

#include <CLI/CLI.hpp>

#include "manifest/load.hpp"
#include "manifest/serialize.hpp"

int main(int argc, char** argv) {
  CLI::App app{"odyn: the Enclaver supervisor (PID 1 inside the enclave)"};
  app.set_version_flag("--version", std::string("odyn ") + ENCLAVER_VERSION);
  std::string config = "/etc/enclaver/enclaver.yaml";
  app.add_option("--config", config, "manifest to load")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const auto result = enclaver::manifest::load_manifest_file(config);
  if (!result.ok()) {
    for (const auto& d : result.diagnostics) std::cerr << "[odyn] " << d.to_string() << "\n";
    std::cerr << "[odyn] fatal: the manifest is invalid\n";
    return 1;
  }
  std::cout << "[odyn] loaded " << config << "\n" << enclaver::manifest::to_yaml(*result.manifest);
  return 0;
}
