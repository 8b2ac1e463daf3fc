// The enclaver CLI's subcommands, as functions of typed options returning
// the process exit code. main.cpp wires them to CLI11; nothing here reads the
// environment.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace enclaver::cli {

// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalid = 1;  // the input (manifest, file) is invalid
inline constexpr int kExitUsage = 2;    // the command line is wrong
inline constexpr int kExitDenied = 3;   // policy check: at least one destination denied

struct ManifestCheckOptions {
  std::string file;  // "-" = stdin
  bool json = false;
};
int manifest_check(const ManifestCheckOptions& options, std::ostream& out, std::ostream& err);

struct PolicyCheckOptions {
  std::string manifest;
  std::vector<std::string> destinations;  // HOST[:PORT], [IPv6][:PORT]
  bool json = false;
};
int policy_check(const PolicyCheckOptions& options, std::ostream& out, std::ostream& err);

struct EifBuildOptions {
  std::string blobs;                   // empty: nitro-cli's blobs directory if present
  std::string rootfs;                  // directory or tar archive
  std::vector<std::string> cmd;        // argv of the enclave's program
  std::vector<std::string> env;        // KEY=VALUE
  std::string sign_cert, sign_key;     // both or neither
  std::string name = "app", version = "latest";
  std::string output;
  std::optional<std::int64_t> source_date_epoch;  // from SOURCE_DATE_EPOCH, read by main
  bool json = false;
};
int eif_build(const EifBuildOptions& options, std::ostream& out, std::ostream& err);

struct DescribeEifOptions {
  std::string file;
  bool json = false;  // nitro-cli describe-eif's JSON
};
int describe_eif(const DescribeEifOptions& options, std::ostream& out, std::ostream& err);

}  // namespace enclaver::cli
