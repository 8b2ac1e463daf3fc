// Reading a saved image: the tar that `docker save` and the Engine API's
// `GET /images/get` produce, in either layout:
//   - Docker's legacy one: manifest.json = [{"Config": "<id>.json",
//     "RepoTags": [...], "Layers": ["<id>/layer.tar", ...]}, ...];
//   - the OCI image layout (Docker 25+ writes both): index.json and
//     blobs/sha256/<hex>, following nested indexes to the linux/amd64
//     manifest.
// manifest.json is preferred when present. Symbolic and hard links inside the
// archive (Docker 25 makes <id>/layer.tar a symlink into blobs/) are followed,
// without ever leaving the archive.
//
// Nothing is extracted: layers are byte ranges of the saved file (the file is
// kept open and shared by every range), documents are read into memory.
// Layers may be stored compressed (gzip, zstd...): see flatten.hpp.
//
// Errors: std::runtime_error saying what is wrong and what to do, e.g. an
// archive with several images and no reference given (the message lists
// them), a path that escapes the archive, a missing layer or config, a
// layer count that differs from the config's rootfs.diff_ids, a compressed
// outer archive.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "image/layers/io.hpp"

namespace enclaver::image {

struct LayerRef {
  std::string path;        // inside the archive, as the manifest names it
  FileRange bytes;         // the layer blob as stored (tar, or compressed tar)
  std::string diff_id;     // "sha256:..." from the config's rootfs.diff_ids
  std::string media_type;  // OCI layout only; "" for the legacy layout
};

struct SavedImage {
  std::string layout;                  // "docker" (manifest.json) or "oci" (index.json)
  std::string config_json;             // the image config, bytes as stored
  std::string config_digest;           // "sha256:<hex>" of config_json: the image id
  std::vector<std::string> repo_tags;  // names the archive gives the image (may be empty)
  std::vector<LayerRef> layers;        // bottom first
};

// Opens `archive_path` and selects one image. An archive with one image
// gives that image, whatever `reference` says (the engine exported what was
// asked for, and a digest reference never appears in RepoTags). With several,
// `reference` picks one (a tag such as "app:1" or "docker.io/library/app:1",
// or the image id "sha256:<hex>" or a prefix of 12+ hex digits of it); ""
// or a reference matching none or several is an error listing the images.
SavedImage open_saved_image(const std::filesystem::path& archive_path, const std::string& reference = "");
// The same for an already open file; `what` names it in messages.
SavedImage open_saved_image(SharedFd file, const std::string& what, const std::string& reference = "");

// Normalised form of an image reference for comparison: "docker.io/",
// "index.docker.io/" and "library/" prefixes dropped, ":latest" added when
// there is neither a tag nor a digest ("alpine" and "docker.io/library/
// alpine:latest" compare equal).
std::string normalise_reference(std::string_view reference);

// A path inside the archive, normalised ("./a//b/" -> "a/b"); relative to
// `base_dir` for symlink targets. Throws when it is absolute (unless
// `base_dir` resolution makes it so), empty, or climbs out with "..".
std::string archive_path(std::string_view base_dir, std::string_view path, const std::string& what);

}  // namespace enclaver::image
