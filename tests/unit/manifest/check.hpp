// Helpers for manifest tests: load YAML text and look at the outcome.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "manifest/load.hpp"

namespace enclaver::manifest::testing {

// The smallest valid manifest; tests append sections to it.
inline const std::string kMinimal =
    "version: v1\n"
    "name: app\n"
    "target: app:enclave\n"
    "sources:\n"
    "  app: app:latest\n";

inline LoadResult load(const std::string& yaml) { return load_manifest_text(yaml, "enclaver.yaml", "/work/app"); }

// Every diagnostic, formatted as the CLI prints it.
inline std::vector<std::string> errors(const std::string& yaml) {
  std::vector<std::string> out;
  for (const auto& d : load(yaml).diagnostics) out.push_back(d.to_string());
  return out;
}

// Loads YAML that must be valid.
inline Manifest valid(const std::string& yaml) {
  auto r = load(yaml);
  std::string all;
  for (const auto& d : r.diagnostics) all += d.to_string() + "\n";
  EXPECT_TRUE(r.ok()) << all;
  return r.ok() ? *r.manifest : Manifest{};
}

}  // namespace enclaver::manifest::testing
