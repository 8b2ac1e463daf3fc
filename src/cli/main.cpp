// enclaver: the command-line front end. A thin main over src/cli/commands.hpp.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>
#include <iostream>

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "cli/build.hpp"
#include "cli/commands.hpp"
#include "cli/verify_attestation.hpp"

namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value ? value : fallback;
}

// SOURCE_DATE_EPOCH: unset gives no time (nullopt inside); malformed gives nullopt outside.
std::optional<std::optional<std::int64_t>> source_date_epoch() {
  const char* epoch = std::getenv("SOURCE_DATE_EPOCH");
  if (!epoch || !*epoch) return std::optional<std::int64_t>{};
  char* end = nullptr;
  const long long value = std::strtoll(epoch, &end, 10);
  if (*end != '\0' || value < 0 || value > 0xFFFFFFFFll) {
    std::cerr << "enclaver: SOURCE_DATE_EPOCH must be seconds since 1970 (0..4294967295), got " << epoch << "\n";
    return std::nullopt;
  }
  return std::optional<std::int64_t>{value};
}

// This process's capability bounding set (CapBnd in /proc/self/status).
std::uint64_t capability_bounding_set() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.starts_with("CapBnd:")) return std::stoull(line.substr(7), nullptr, 16);
  return ~0ull;
}

// Where this program is: our odyn and enclaver-run are next to it.
std::filesystem::path programs_dir() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : self.parent_path();
}

}  // namespace

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

  auto* eif = app.add_subcommand("eif", "Low-level EIF tools")->require_subcommand(1);
  EifBuildOptions build;
  auto* build_cmd = eif->add_subcommand(
      "build", "Build an EIF from a blobs directory and a root filesystem: enclaver eif build --rootfs DIR -o app.eif -- CMD ARGS...");
  build_cmd->add_option("--blobs", build.blobs, "blobs directory (bzImage, bzImage.config, cmdline, init, nsm.ko); default: nitro-cli's");
  build_cmd->add_option("--rootfs", build.rootfs, "the application's root filesystem: a directory or a tar archive")->required();
  build_cmd->add_option("--env", build.env, "KEY=VALUE for the enclave program's environment (repeatable)");
  build_cmd->add_option("--sign-cert", build.sign_cert, "PEM certificate that signs the EIF (PCR8)");
  build_cmd->add_option("--sign-key", build.sign_key, "PEM private key matching --sign-cert");
  build_cmd->add_option("--name", build.name, "image name for the metadata")->capture_default_str();
  build_cmd->add_option("--version", build.version, "image version for the metadata")->capture_default_str();
  build_cmd->add_option("-o,--output", build.output, "the EIF file to write")->required();
  build_cmd->add_flag("--json", build.json, "print the measurements as JSON");
  build_cmd->add_option("CMD", build.cmd, "the program the init runs, with its arguments (after --)");

  DescribeEifOptions describe;
  auto* describe_cmd = app.add_subcommand("describe-eif", "Print an EIF's version, PCRs, signature and metadata");
  describe_cmd->add_option("FILE", describe.file, "the EIF")->required();
  describe_cmd->add_flag("--json", describe.json, "print what nitro-cli describe-eif prints");

  VerifyAttestationOptions va;
  auto* va_cmd = app.add_subcommand("verify-attestation",
      "Verify a Nitro attestation document: COSE/ES384 signature, certificate chain to the AWS root (or --root), validity, expectations");
  va_cmd->add_option("DOC", va.document, "the attestation document (COSE_Sign1 CBOR; - reads standard input)")->required();
  va_cmd->add_option("--root", va.root, "trusted root certificate, PEM or DER (default: the AWS Nitro Enclaves root G1)");
  va_cmd->add_option("--pcr", va.pcrs, "expected PCR as N=HEX (repeatable)");
  va_cmd->add_option("--nonce", va.nonce_hex, "expected nonce, hex (\"\" = empty)");
  auto* udj = va_cmd->add_option("--user-data-json", va.user_data_json, "expected user data, compared as JSON");
  va_cmd->add_option("--user-data-hex", va.user_data_hex, "expected user data, hex")->excludes(udj);
  va_cmd->add_option("--at", va.at, "verification time: now, document, or RFC 3339")->capture_default_str();
  va_cmd->add_option("--max-age", va.max_age, "maximum document age in seconds");
  va_cmd->add_flag("--all-pcrs", va.all_pcrs, "print all PCRs, not only non-zero ones");
  va_cmd->add_flag("--json", va.json, "print the result as JSON");

  BuildOptions image_build;
  auto* image_build_cmd = app.add_subcommand("build", "Build the release image: app image -> EIF (PCRs printed) -> release image `target`");
  image_build_cmd->add_option("-f,--file", image_build.manifest, "the manifest")->capture_default_str();
  image_build_cmd->add_option("--blobs", image_build.blobs, "kernel and init blobs (default: $ENCLAVER_BLOBS, then nitro-cli's)");
  image_build_cmd->add_option("--eif", image_build.eif_output, "also write the EIF to this file");
  image_build_cmd->add_flag("--json", image_build.json, "print the result as JSON");
  bool no_progress = false;
  image_build_cmd->add_flag("--no-progress", no_progress, "print only the result");

  RunOptions run_options;
  auto* run_cmd = app.add_subcommand("run", "Run a release image: the enclave on Nitro, or in the simulator (--simulate)");
  run_cmd->add_option("IMAGE", run_options.image, "release image (default: the manifest's target)");
  run_cmd->add_option("-f,--file", run_options.manifest, "manifest naming the target, when no IMAGE is given")->capture_default_str();
  run_cmd->add_flag("--simulate", run_options.simulate, "run the enclave in the simulator (Linux namespaces; not a security boundary)");
  run_cmd->add_option("-p,--publish", run_options.publish, "[ADDRESS:]HOST_PORT:ENCLAVE_PORT: publish an ingress port elsewhere (repeatable)");
  run_cmd->add_option("--cpu-count", run_options.cpu_count, "CPUs of the enclave (default: the manifest's)");
  run_cmd->add_option("--memory", run_options.memory_mb, "memory of the enclave in MiB (default: the manifest's)");
  run_cmd->add_flag("--debug-mode", run_options.debug_mode, "debug enclave: console readable, PCRs read as zeros in attestation");

  // Everything after the first "--" is the enclave program's argv, options
  // included (CLI11 would still read "--x" there as an option of ours).
  std::vector<std::string> args(argv + 1, argv + argc), trailing;
  if (auto dash = std::find(args.begin(), args.end(), "--"); dash != args.end()) {
    trailing.assign(dash + 1, args.end());
    args.erase(dash, args.end());
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector in reverse order
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (*check_cmd) return manifest_check(check, std::cout, std::cerr);
  if (*pcheck_cmd) return policy_check(pcheck, std::cout, std::cerr);
  if (*build_cmd) {
    build.cmd.insert(build.cmd.end(), trailing.begin(), trailing.end());
    if (build.cmd.empty()) {
      std::cerr << "enclaver eif build: give the program to run after --, e.g. -- /sbin/odyn\n";
      return kExitUsage;
    }
    if (auto epoch = source_date_epoch(); !epoch) return kExitUsage;
    else build.source_date_epoch = *epoch;
    return eif_build(build, std::cout, std::cerr);
  }
  if (*image_build_cmd) {
    image_build.docker_host = env_or("DOCKER_HOST", "");
    if (image_build.blobs.empty()) image_build.blobs = env_or("ENCLAVER_BLOBS", "");
    image_build.programs_dir = programs_dir();
    image_build.progress = !no_progress;
    if (auto epoch = source_date_epoch(); !epoch) return kExitUsage;
    else image_build.source_date_epoch = *epoch;
    return enclaver::cli::build(image_build, std::cout, std::cerr);
  }
  if (*run_cmd) {
    run_options.docker_host = env_or("DOCKER_HOST", "");
    run_options.nitro_device = ::access("/dev/nitro_enclaves", F_OK) == 0;
    run_options.capabilities = capability_bounding_set();
    const std::string home = env_or("HOME", "/root");
    run_options.sim_state_dir = std::filesystem::path(home) / ".local/share/enclaver";
    return enclaver::cli::run(run_options, std::cout, std::cerr);
  }
  if (*describe_cmd) return describe_eif(describe, std::cout, std::cerr);
  if (*va_cmd) return verify_attestation(va, std::cout, std::cerr);
  return kExitUsage;
}
