// Policy::check speed, against a named baseline in the same run: the naive
// approach of compiling each pattern to a std::regex and trying them in turn.
//
// Names follow bench/ratios.py's "<group>/<variant>" convention:
//   policy_check/ours                 normalise + match a requested host (what odyn does per request)
//   policy_check/baseline_std_regex   lower-case + strip dot + std::regex_match per pattern
//   policy_check_normalized/ours      match only, host already normalised (no baseline: the
//                                     regex baseline includes normalisation work)
//   normalize_host/ours               normalisation alone (no baseline)
//
// The baseline does less than the real thing (no validation, no IDNA, no
// special ranges), so the ratio understates the gap. Setup checks that both
// give the same decision on every input, so they do the same job.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>
#include <vector>

#include "policy/policy.hpp"

namespace {

using enclaver::policy::Host;
using enclaver::policy::Policy;

// ~50 patterns of a busy manifest. IPv4 CIDRs are octet-aligned so that the
// regex baseline can express them exactly.
const std::vector<std::string> kAllow = {
    "**.amazonaws.com",     "*.github.com",         "api.github.com",      "objects.githubusercontent.com",
    "registry.npmjs.org",   "pypi.org",             "files.pythonhosted.org", "**.docker.io",
    "**.cloudfront.net",    "api.stripe.com",       "*.stripe.com",        "hooks.slack.com",
    "api.openai.com",       "api.anthropic.com",    "**.googleapis.com",   "oauth2.googleapis.com",
    "login.microsoftonline.com", "graph.microsoft.com", "**.blob.core.windows.net", "api.twilio.com",
    "api.sendgrid.com",     "*.sentry.io",          "o1.ingest.sentry.io", "api.datadoghq.com",
    "**.datadoghq.eu",      "api.segment.io",       "cdn.segment.com",     "api.mixpanel.com",
    "*.auth0.com",          "*.okta.com",           "api.pagerduty.com",   "events.pagerduty.com",
    "api.cloudflare.com",   "**.r2.cloudflarestorage.com", "*.supabase.co", "api.vercel.com",
    "api.heroku.com",       "api.digitalocean.com", "**.linode.com",       "api.fastly.com",
    "*.algolia.net",        "api.mapbox.com",       "example.com",         "www.example.com",
    "1.2.3.4",              "203.0.113.0/24",       "198.51.100.0/24",     "8.8.8.8",
    "169.254.169.254",      "10.1.0.0/16",
};
const std::vector<std::string> kDeny = {
    "evil.amazonaws.com", "**.internal.amazonaws.com", "203.0.113.66", "malware.docker.io",
};

// Early hits, late hits, deny hits, misses, IP literals, one IDN.
const std::vector<std::string> kHosts = {
    "s3.eu-west-1.amazonaws.com", "api.github.com",        "registry.npmjs.org",   "api.mapbox.com",
    "www.example.com",            "EXAMPLE.COM.",          "evil.amazonaws.com",   "db.internal.amazonaws.com",
    "not-allowed.example.org",    "amazonaws.com",         "a.b.c.d.e.f.g.example.net", "foo.okta.com",
    "1.2.3.4",                    "203.0.113.7",           "203.0.113.66",         "9.9.9.9",
    "169.254.169.254",            "10.1.2.3",              "bücher.de",            "storage.r2.cloudflarestorage.com",
};

const Policy& policy() {
  static const Policy p = [] {
    auto created = Policy::create(kAllow, kDeny);
    if (!created) {
      std::fprintf(stderr, "bench policy: %s\n", created.error().message.c_str());
      std::abort();
    }
    return created.value();
  }();
  return p;
}

// --- The naive baseline -------------------------------------------------------

std::string regex_for(const std::string& pattern) {
  const auto slash = pattern.find('/');
  if (slash != std::string::npos) {  // octet-aligned IPv4 CIDR
    const int octets = std::stoi(pattern.substr(slash + 1)) / 8;
    std::string out = "^";
    std::size_t pos = 0;
    for (int i = 0; i < 4; ++i) {
      if (i > 0) out += "\\.";
      const auto dot = pattern.find_first_of("./", pos);
      if (i < octets)
        out += pattern.substr(pos, dot - pos);
      else
        out += "[0-9]{1,3}";
      pos = dot + 1;
    }
    return out + "$";
  }
  std::string out = "^";
  std::size_t pos = 0;
  if (pattern.rfind("**.", 0) == 0) {
    out += "(?:[^.]+\\.)+";
    pos = 3;
  }
  for (; pos < pattern.size(); ++pos) {
    const char c = pattern[pos];
    if (c == '.')
      out += "\\.";
    else if (c == '*')
      out += "[^.]+";
    else
      out += c;
  }
  return out + "$";
}

struct RegexPolicy {
  std::vector<std::regex> allow, deny;
  RegexPolicy() {
    // Unicode patterns are given to the regex in their A-label form.
    for (const auto& p : kAllow) allow.emplace_back(regex_for(p), std::regex::icase | std::regex::optimize);
    for (const auto& p : kDeny) deny.emplace_back(regex_for(p), std::regex::icase | std::regex::optimize);
  }
  bool check(std::string host) const {
    if (!host.empty() && host.back() == '.') host.pop_back();
    for (const auto& r : deny)
      if (std::regex_match(host, r)) return false;
    for (const auto& r : allow)
      if (std::regex_match(host, r)) return true;
    return false;
  }
};

const RegexPolicy& regex_policy() {
  static const RegexPolicy p;
  return p;
}

// The regex sees the IDN in A-label form: it has no IDNA of its own.
std::vector<std::string> regex_inputs() {
  std::vector<std::string> out = kHosts;
  for (auto& h : out)
    if (h == "bücher.de") h = "xn--bcher-kva.de";
  return out;
}

void verify_same_decisions() {
  static const bool checked = [] {
    const auto inputs = regex_inputs();
    for (std::size_t i = 0; i < kHosts.size(); ++i) {
      const bool ours = policy().check(kHosts[i], 443).allowed;
      const bool naive = regex_policy().check(inputs[i]);
      // The baseline has no special-range rule; the inputs in special ranges
      // (169.254.169.254, 10.1.2.3) are unlocked by explicit patterns, so
      // both matchers still agree.
      if (ours != naive) {
        std::fprintf(stderr, "bench: decisions differ for %s (policy %d, regex %d)\n", kHosts[i].c_str(), ours,
                     naive);
        std::abort();
      }
    }
    return true;
  }();
  (void)checked;
}

// --- Benchmarks -----------------------------------------------------------------

void BM_PolicyCheck(benchmark::State& state) {
  verify_same_decisions();
  const Policy& p = policy();
  std::size_t i = 0, allowed = 0;
  for (auto _ : state) {
    const auto v = p.check(kHosts[i], 443);
    allowed += v.allowed;
    benchmark::DoNotOptimize(v);
    if (++i == kHosts.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  benchmark::DoNotOptimize(allowed);
}
BENCHMARK(BM_PolicyCheck)->Name("policy_check/ours");

void BM_PolicyCheckNormalized(benchmark::State& state) {
  const Policy& p = policy();
  std::vector<Host> hosts;
  for (const auto& h : kHosts) hosts.push_back(enclaver::policy::normalize_host(h).value());
  std::size_t i = 0;
  for (auto _ : state) {
    const auto v = p.check(hosts[i], 443);
    benchmark::DoNotOptimize(v);
    if (++i == hosts.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_PolicyCheckNormalized)->Name("policy_check_normalized/ours");

void BM_NormalizeHost(benchmark::State& state) {
  std::size_t i = 0;
  for (auto _ : state) {
    auto h = enclaver::policy::normalize_host(kHosts[i]);
    benchmark::DoNotOptimize(h);
    if (++i == kHosts.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_NormalizeHost)->Name("normalize_host/ours");

void BM_RegexBaseline(benchmark::State& state) {
  verify_same_decisions();
  const RegexPolicy& p = regex_policy();
  const auto inputs = regex_inputs();
  std::size_t i = 0;
  for (auto _ : state) {
    const bool allowed = p.check(inputs[i]);
    benchmark::DoNotOptimize(allowed);
    if (++i == inputs.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_RegexBaseline)->Name("policy_check/baseline_std_regex");

}  // namespace

BENCHMARK_MAIN();
