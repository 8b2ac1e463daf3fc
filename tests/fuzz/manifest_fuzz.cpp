// libFuzzer target over the manifest loader: any bytes give either a
// Manifest or diagnostics, never a crash, a hang or an unbounded allocation;
// a Manifest that loaded serialises to YAML that loads to the same Manifest.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "manifest/load.hpp"
#include "manifest/serialize.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace enclaver::manifest;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const LoadResult first = load_manifest_text(text, "fuzz.yaml", "/fuzz");
  if (first.ok() != first.diagnostics.empty()) std::abort();  // a Manifest, or diagnostics
  for (const auto& d : first.diagnostics)
    if (d.message.empty() || d.file != "fuzz.yaml") std::abort();
  if (!first.ok()) return 0;

  const std::string yaml = to_yaml(*first.manifest);
  const LoadResult again = load_manifest_text(yaml, "again.yaml", "/fuzz");
  if (!again.ok()) std::abort();
  if (to_json(*again.manifest) != to_json(*first.manifest)) std::abort();
  return 0;
}
