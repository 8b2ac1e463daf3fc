// The release image as a `docker load` archive (Docker's legacy layout, which
// every engine loads): manifest.json = [{"Config": "<hex>.json", "RepoTags":
// [tag], "Layers": ["<hex>/layer.tar", ...]}], the config at <hex>.json
// (hex = SHA-256 of the config bytes, the image id), each layer at
// <diff_id hex>/layer.tar.
//
// Layers: the base image's (sources.sleeve, read with open_saved_image; copied
// byte for byte as stored, compressed or not: docker load decompresses
// legacy layers) or none (FROM scratch), plus one new layer holding the
// caller's files with their parent directories (0755). Config: the base's
// (unknown fields kept) or a fresh linux/amd64 one, with Entrypoint, Cmd,
// Env and Labels set by the caller, rootfs.diff_ids and history extended by
// the new layer, "created" = `created`.
//
// Deterministic: entries sorted by name, uid/gid 0, no user names, every
// mtime = `created`; the same inputs give the same bytes. Streaming: the new
// layer's digest names it, so it must be known before its archive entry:
// the layer is produced twice, hashed first, then written (its files are
// read twice; none is copied to a temporary file); everything else goes
// straight from files to the sink; nothing large is held in memory.
//
// Errors: std::runtime_error / std::invalid_argument (a bad tag or path,
// duplicate paths), std::system_error for I/O; ByteSink errors propagate.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/byte_sink.hpp"
#include "image/layers/image_archive.hpp"

namespace enclaver::image {

struct ReleaseFile {
  std::string path;                  // absolute in the image: "/enclave/application.eif"
  std::filesystem::path source;      // streamed from this file, unless `bytes` is set
  std::optional<std::string> bytes;  // small contents given directly
  std::uint32_t perms = 0644;
};

struct ReleaseImage {
  std::string tag;                               // `target`; ":latest" added when it has no tag
  const SavedImage* base = nullptr;              // sources.sleeve; nullptr: FROM scratch
  std::vector<ReleaseFile> files;                // the new layer
  std::vector<std::string> entrypoint;           // config.Entrypoint
  std::optional<std::vector<std::string>> cmd;   // config.Cmd; nullopt: null (as after ENTRYPOINT)
  std::optional<std::vector<std::string>> env;   // config.Env; nullopt: the base's
  std::map<std::string, std::string> labels;     // over the base's labels
  std::int64_t created = 0;                      // seconds since the epoch (SOURCE_DATE_EPOCH or 0)
  std::string created_by = "enclaver build";     // the new layer's history entry
};

struct ReleaseSummary {
  std::string image_id;               // "sha256:<hex of the config>": what `docker load` reports
  std::string repo_tag;               // as written in manifest.json
  std::vector<std::string> diff_ids;  // bottom first, the new layer last
  std::uint64_t bytes = 0;            // of the archive
};

ReleaseSummary write_release_archive(const ReleaseImage& image, ByteSink& sink);

// "app" -> "app:latest"; "registry:5000/app" -> "registry:5000/app:latest";
// a digest reference or an empty one is std::invalid_argument (docker load
// needs a tag).
std::string release_tag(std::string_view target);

// RFC 3339 UTC ("2024-01-02T03:04:05Z") of seconds since the epoch.
std::string rfc3339(std::int64_t seconds);

}  // namespace enclaver::image
