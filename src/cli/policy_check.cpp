#include <ostream>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/destination.hpp"
#include "manifest/load.hpp"
#include "policy/policy.hpp"

namespace enclaver::cli {

int policy_check(const PolicyCheckOptions& options, std::ostream& out, std::ostream& err) {
  const auto loaded = manifest::load_manifest_file(options.manifest);
  if (!loaded.ok()) {
    for (const auto& d : loaded.diagnostics) err << d.to_string() << "\n";
    return kExitInvalid;
  }
  const auto& egress = loaded.manifest->egress;
  auto policy = policy::Policy::create(egress ? egress->allow : std::vector<std::string>{},
                                       egress ? egress->deny : std::vector<std::string>{});
  if (!policy) {  // load_manifest_file checked every pattern; this is a bug if reached
    err << "policy: " << policy.error().message << "\n";
    return kExitInvalid;
  }
  if (!policy->enabled() && !options.json)
    out << "note: egress is off (no egress.allow rules): the enclave has no proxy and every destination is denied\n";

  bool any_denied = false;
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  for (const auto& text : options.destinations) {
    auto dest = parse_destination(text);
    if (!dest) {
      err << "enclaver policy check: " << dest.error().message << "\n";
      return kExitUsage;
    }
    policy::Verdict v = policy->enabled() ? policy->check(dest->host, dest->port)
                                          : policy::Verdict{false, "egress is off (no egress.allow rules)"};
    any_denied = any_denied || !v.allowed;
    // Show what the host normalises to (case, trailing dot, IDN), since
    // that is what the patterns are matched against.
    const auto normalized = policy::normalize_host(dest->host);
    const std::string as = normalized ? normalized->to_string() : "";
    if (options.json) {
      nlohmann::ordered_json r = {{"destination", text}, {"host", dest->host}, {"port", dest->port}};
      if (normalized) r["normalized_host"] = as;
      r["allowed"] = v.allowed;
      r["reason"] = v.reason;
      results.push_back(r);
    } else {
      out << dest->host << ":" << dest->port;
      const std::string bare = dest->host.starts_with("[") ? dest->host.substr(1, dest->host.size() - 2) : dest->host;
      if (normalized && as != bare) out << " (as " << as << ")";
      out << "  " << (v.allowed ? "allowed" : "denied") << "  (" << v.reason << ")\n";
    }
  }
  if (options.json) out << results.dump(2) << "\n";
  return any_denied ? kExitDenied : kExitOk;
}

}  // namespace enclaver::cli
