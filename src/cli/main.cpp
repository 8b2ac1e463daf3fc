// enclaver: the command-line front end. A thin main over src/cli/commands.hpp.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  using namespace enclaver::cli;
  CLI::App app{"enclaver: build and run AWS Nitro Enclave applications from Docker images"};
  app.set_version_flag("--version", std::string("enclaver ") + ENCLAVER_VERSION);
  app.require_subcommand(1);

  auto* manifest = app.add_subcommand("manifest", "Work with enclaver.yaml manifests")->require_subcommand(1);
  ManifestCheckOptions check;
  auto* check_cmd = manifest->add_subcommand(
      "check", "Check a manifest: print it normalised (defaults filled in) and exit 0, or print every error and exit 1");
  check_cmd->add_option("FILE", check.file, "manifest to check (- reads standard input)")->required();
  check_cmd->add_flag("--json", check.json, "print the result as JSON");

  auto* policy = app.add_subcommand("policy", "Debug the egress policy")->require_subcommand(1);
  PolicyCheckOptions pcheck;
  auto* pcheck_cmd = policy->add_subcommand(
      "check", "Print the egress verdict and its reason for each destination (exit 0: all allowed, 3: some denied)");
  pcheck_cmd->add_option("--manifest,-f", pcheck.manifest, "manifest whose egress policy applies")->required();
  pcheck_cmd->add_option("DESTINATION", pcheck.destinations, "HOST[:PORT] or [IPv6][:PORT]; the port defaults to 443")
      ->required();
  pcheck_cmd->add_flag("--json", pcheck.json, "print the verdicts as JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (*check_cmd) return manifest_check(check, std::cout, std::cerr);
  if (*pcheck_cmd) return policy_check(pcheck, std::cout, std::cerr);
  return kExitUsage;
}
