// Loading and checking a manifest. Every problem is reported, not only the
// first: the result holds either a Manifest or a non-empty list of
// diagnostics, in file order.
#pragma once

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "manifest/diagnostic.hpp"
#include "manifest/manifest.hpp"

namespace enclaver::manifest {

// Manifests are small; anything bigger is refused before parsing (a wrong
// file, or an attempt to exhaust odyn's memory).
inline constexpr std::size_t kMaxManifestBytes = 1 << 20;

struct LoadResult {
  std::optional<Manifest> manifest;
  Diagnostics diagnostics;  // empty iff manifest is set
  // Every field the schema knows in the sections the text has (see
  // YamlReader::known_fields): for checking the reference docs.
  std::set<std::string> known_fields;
  bool ok() const { return manifest.has_value(); }
};

// Reads `path` ("-" reads standard input) and checks it.
LoadResult load_manifest_file(const std::string& path);

// Checks manifest text. `file` names it in diagnostics; relative paths in the
// manifest resolve against `base_dir`.
LoadResult load_manifest_text(std::string_view text, const std::string& file,
                              const std::filesystem::path& base_dir);

}  // namespace enclaver::manifest
