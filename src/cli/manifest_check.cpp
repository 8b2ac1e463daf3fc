#include <ostream>

#include "cli/commands.hpp"
#include "manifest/load.hpp"
#include "manifest/serialize.hpp"

namespace enclaver::cli {

int manifest_check(const ManifestCheckOptions& options, std::ostream& out, std::ostream& err) {
  const auto result = manifest::load_manifest_file(options.file);
  if (options.json) {
    nlohmann::ordered_json j;
    j["ok"] = result.ok();
    if (result.ok()) j["manifest"] = manifest::to_json(*result.manifest);
    else j["errors"] = manifest::to_json(result.diagnostics);
    out << j.dump(2) << "\n";
  } else if (result.ok()) {
    out << manifest::to_yaml(*result.manifest);
  } else {
    for (const auto& d : result.diagnostics) err << d.to_string() << "\n";
    const std::size_t n = result.diagnostics.size();
    err << n << (n == 1 ? " error" : " errors") << " in " << result.diagnostics.front().file << "\n";
  }
  return result.ok() ? kExitOk : kExitInvalid;
}

}  // namespace enclaver::cli
