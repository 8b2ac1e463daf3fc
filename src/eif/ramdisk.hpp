// The two ramdisks of an EIF (../shared/spec/eif.md §7, §8), as canonical cpio
// newc archives written to a ByteSink (streamed: file contents are copied in
// chunks). Both are pure functions of their inputs: the same inputs give the
// same bytes, hence the same PCR1 and PCR2.
//
// Errors are thrown (std::runtime_error / std::system_error for I/O, naming
// the path; std::invalid_argument for a cmd or env element that the enclave
// init could not read back); ByteSink errors propagate.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/byte_sink.hpp"
#include "eif/cpio.hpp"

namespace enclaver::eif {

// linuxkit's fixed time (2017-04-18T16:30:00Z), the mtime of every entry of
// the bootstrap ramdisk.
inline constexpr std::uint32_t kLinuxkitMtime = 1492533000;

struct RamdiskSummary {
  std::size_t entries = 0;                 // trailer excluded
  std::uint64_t bytes = 0;                 // archive size (a multiple of 512)
  std::vector<cpio::Skipped> skipped;      // customer: objects of the rootfs not archived
  std::vector<std::string> notes;          // customer: fix-ups that replaced something
};

// Ramdisk 0: `dev` (directory 0755), `init` (file 0755) and `nsm.ko` (file
// 0755), in that order, uid/gid 0, mtime kLinuxkitMtime, inodes 721.. : the
// layout nitro-cli's linuxkit produces, so the same blobs give the same bytes.
// The contents are copied from `init` and `nsm_ko` (modes on disk ignored).
// An empty `nsm_ko` path means the blob set has no module (a kernel with the
// NSM driver built in): the `nsm.ko` entry is then omitted, which the init
// accepts (it loads /nsm.ko only if the file exists).
//
// `modules` (from a blobs directory's modules/, for kernels such as Debian's
// that build vsock as modules) follow as `modules` (directory 0755) and
// `modules/<file name>` (0644), in the given order, which our init loads
// before nsm.ko. Without modules the archive is exactly linuxkit's.
RamdiskSummary write_bootstrap_ramdisk(const std::filesystem::path& init, const std::filesystem::path& nsm_ko,
                                       ByteSink& sink, const std::vector<std::filesystem::path>& modules = {});

struct CustomerRamdiskOptions {
  std::uint32_t mtime = 0;  // of every entry: 0, or SOURCE_DATE_EPOCH (the caller reads it)
};

// The directories the enclave init mounts on or needs (§8), present in every
// customer ramdisk as rootfs/<name>.
inline constexpr const char* kRootfsMountPoints[] = {"dev", "proc", "run", "sys", "tmp", "var"};

// Ramdisk 1: in this order
//   - `rootfs` (directory 0755, uid/gid 0);
//   - the tree of `rootfs_dir` under `rootfs/`, from cpio::scan_tree in its
//     canonical order (bytewise by path), with modes, uid/gid, device numbers
//     and hard links from the source and the fixed mtime; each of
//     kRootfsMountPoints that the tree lacks is inserted at its sorted place
//     as a directory 0755 uid/gid 0; one that the tree has as a directory is
//     kept as it is (not repeated, so its mode and owner survive); one that
//     the tree has as something else (a symlink, a file) is replaced by that
//     directory, as nitro-cli's trailing entries replace it at boot (noted);
//   - `cmd` and `env` (files 0644, uid/gid 0): one element per line, each
//     line ending in "\n" (so an empty vector gives an empty file).
// Every entry has mtime options.mtime. Unlike nitro-cli, `rootfs` and the
// mount points are never emitted twice: a repeated directory entry would
// reset the mode and owner of the image's own directory at unpack time.
// The docker-export fix-ups of §7 (dropping .dockerenv, etc/hosts, ...) are
// the business of whoever prepares `rootfs_dir`.
// A cmd or env element containing "\n" or NUL, or an env element that is not
// KEY=VALUE with a non-empty KEY, is std::invalid_argument.
RamdiskSummary write_customer_ramdisk(const std::filesystem::path& rootfs_dir, const std::vector<std::string>& cmd,
                                      const std::vector<std::string>& env, const CustomerRamdiskOptions& options,
                                      ByteSink& sink);

// A root filesystem that is not a directory on disk (an image's layers
// flattened in memory, contents streamed from a saved image archive): the
// entries as scan_tree would have listed them (paths relative and canonical,
// parents present; any order, they are sorted here), where regular files get
// their contents from `contents`, and what was left out for the summary.
struct RootfsTree {
  std::vector<cpio::TreeEntry> entries;
  std::vector<cpio::Skipped> skipped;
  std::vector<std::string> notes;                   // copied into the summary's notes
  std::shared_ptr<const cpio::ContentSource> contents;
};

// The same archive from a RootfsTree: for entries equal to what scan_tree
// returns for a directory, the bytes equal write_customer_ramdisk(directory).
// Entries are sorted bytewise by path and the mount points handled as above.
// Throws std::invalid_argument when `contents` is missing and a regular file
// needs it.
RamdiskSummary write_customer_ramdisk(RootfsTree tree, const std::vector<std::string>& cmd,
                                      const std::vector<std::string>& env, const CustomerRamdiskOptions& options,
                                      ByteSink& sink);

}  // namespace enclaver::eif
