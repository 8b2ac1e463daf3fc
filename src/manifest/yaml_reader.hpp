// Strict, typed reading of a yaml-cpp node tree, collecting diagnostics
// instead of stopping at the first problem. Scalars are typed by YAML 1.2's
// core schema, strictly: `yes`/`on` are not booleans, a quoted "8080" is a
// string and not a port, and a plain `1.0` is not a string where one is
// expected... unless a string is what the field takes, where any non-null
// scalar is accepted as written.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "manifest/diagnostic.hpp"

namespace enclaver::manifest {

std::string child_path(const std::string& parent, std::string_view key);
std::string index_path(const std::string& parent, std::size_t index);

class YamlReader {
 public:
  YamlReader(std::string file, Diagnostics& out) : file_(std::move(file)), out_(out) {}

  void error(const YAML::Node& at, const std::string& path, std::string message);
  void error(const YAML::Mark& at, const std::string& path, std::string message);

  // A mapping with unique scalar keys, each one of `known` (an empty `known`
  // means free-form keys, such as region names); unknown keys are reported
  // with the nearest known key as a suggestion. False if `node` is
  // not a mapping at all (reported).
  bool expect_map(const YAML::Node& node, const std::string& path,
                  std::span<const std::string_view> known);

  // A null scalar (`~`, `null`, or nothing at all after the colon).
  static bool is_null(const YAML::Node& node);

  // The value under `key`, or nullopt if absent. In a mapping with duplicate
  // keys (already reported by expect_map) the first one.
  static std::optional<YAML::Node> find(const YAML::Node& map, std::string_view key);

  // Typed scalars. Each reports and returns nullopt when the node is not of
  // the expected type or range.
  std::optional<std::string> string(const YAML::Node& node, const std::string& path, bool allow_empty = false);
  std::optional<std::uint64_t> integer(const YAML::Node& node, const std::string& path,
                                       std::uint64_t min, std::uint64_t max);
  std::optional<std::uint16_t> port(const YAML::Node& node, const std::string& path);
  std::optional<bool> boolean(const YAML::Node& node, const std::string& path);
  // A sequence (reported otherwise); nullopt if it is not one.
  std::optional<std::vector<YAML::Node>> sequence(const YAML::Node& node, const std::string& path);

  // Reads key `key` of `map` as a required or optional field.
  void required_missing(const YAML::Node& map, const std::string& path, std::string_view key,
                        std::string_view what);

  // Every field path expect_map was told is valid ("sources.app",
  // "ingress[1].tls.cert_file"): the schema as the parser applies it, which
  // docs/manifest.md is checked against.
  const std::set<std::string>& known_fields() const { return known_fields_; }

 private:
  std::string file_;
  Diagnostics& out_;
  std::set<std::string> known_fields_;
};

// What a node is, for messages ("a mapping", "the integer 5", "the string \"x\"").
std::string describe(const YAML::Node& node);

}  // namespace enclaver::manifest
