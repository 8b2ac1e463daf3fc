// enclaver: the command-line front end. A thin main over src/cli/commands.hpp.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "cli/verify_attestation.hpp"

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
    if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && *epoch) {
      char* end = nullptr;
      const long long value = std::strtoll(epoch, &end, 10);
      if (*end != '\0' || value < 0 || value > 0xFFFFFFFFll) {
        std::cerr << "enclaver: SOURCE_DATE_EPOCH must be seconds since 1970 (0..4294967295), got " << epoch << "\n";
        return kExitUsage;
      }
      build.source_date_epoch = value;
    }
    return eif_build(build, std::cout, std::cerr);
  }
  if (*describe_cmd) return describe_eif(describe, std::cout, std::cerr);
  if (*va_cmd) return verify_attestation(va, std::cout, std::cerr);
  return kExitUsage;
}
