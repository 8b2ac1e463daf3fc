#include "manifest/yaml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "common/text.hpp"

namespace enclaver::manifest {
namespace {

bool is_plain(const YAML::Node& node) { return node.Tag() == "?"; }

bool is_null_scalar(const YAML::Node& node) {
  if (node.IsNull()) return true;
  if (!node.IsScalar() || !is_plain(node)) return false;
  const std::string& s = node.Scalar();
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::optional<bool> core_bool(const std::string& s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

bool looks_numeric(const std::string& s) {
  if (s.empty()) return false;
  std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  return i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.');
}

// A scalar shown in a message: as it is when short and printable, else quoted.
std::string shown(const std::string& s) {
  const bool printable = s.size() <= 40 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return c > 0x20 && c < 0x7F; });
  return printable ? s : text::quote(s, 40);
}

}  // namespace

std::string child_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string index_path(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

std::string describe(const YAML::Node& node) {
  if (is_null_scalar(node)) return "nothing (null)";
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  const std::string& s = node.Scalar();
  if (!is_plain(node)) return "the string " + text::quote(s);
  if (core_bool(s)) return "the boolean " + s;
  if (looks_numeric(s)) return "the number " + shown(s);
  return "the string " + text::quote(s);
}

void YamlReader::error(const YAML::Node& at, const std::string& path, std::string message) {
  error(at.Mark(), path, std::move(message));
}

void YamlReader::error(const YAML::Mark& at, const std::string& path, std::string message) {
  const bool known = !at.is_null();
  out_.push_back(Diagnostic{file_, known ? static_cast<std::size_t>(at.line) + 1 : 1,
                            known ? static_cast<std::size_t>(at.column) + 1 : 1, path,
                            std::move(message)});
}

bool YamlReader::expect_map(const YAML::Node& node, const std::string& path,
                            std::span<const std::string_view> known) {
  if (!node.IsMap()) {
    error(node, path, "expected a mapping, got " + describe(node));
    return false;
  }
  for (const auto& k : known) known_fields_.insert(child_path(path, std::string(k)));
  std::set<std::string> seen;
  for (const auto& kv : node) {
    const YAML::Node& key = kv.first;
    if (!key.IsScalar()) {
      error(key, path, "expected a field name, got " + describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    const std::string here = child_path(path, name);
    if (!seen.insert(name).second) {
      error(key, here, "duplicate key " + text::quote(name) + "; each field may appear only once");
      continue;
    }
    bool ok = known.empty();
    for (auto k : known) ok = ok || k == name;
    if (ok) continue;
    std::string message = "unknown field " + text::quote(name);
    if (auto near = text::nearest(name, known)) message += "; did you mean `" + *near + "`?";
    else {
      message += "; expected one of:";
      for (auto k : known) message += " " + std::string(k);
    }
    error(key, here, message);
  }
  return true;
}

bool YamlReader::is_null(const YAML::Node& node) { return is_null_scalar(node); }

std::optional<YAML::Node> YamlReader::find(const YAML::Node& map, std::string_view key) {
  if (!map.IsMap()) return std::nullopt;
  for (const auto& kv : map)
    if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.second;
  return std::nullopt;
}

std::optional<std::string> YamlReader::string(const YAML::Node& node, const std::string& path, bool allow_empty) {
  if (!node.IsScalar() || is_null_scalar(node)) {
    error(node, path, "expected a string, got " + describe(node));
    return std::nullopt;
  }
  if (node.Scalar().empty() && !allow_empty) {
    error(node, path, "expected a non-empty string");
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<std::uint64_t> YamlReader::integer(const YAML::Node& node, const std::string& path,
                                                 std::uint64_t min, std::uint64_t max) {
  const std::string range = std::to_string(min) + ".." + std::to_string(max);
  if (!node.IsScalar() || !is_plain(node) || is_null_scalar(node)) {
    error(node, path, "expected an integer " + range + ", got " + describe(node));
    return std::nullopt;
  }
  const std::string& s = node.Scalar();
  std::uint64_t value = 0;
  const char* begin = s.data() + (s.size() > 1 && s[0] == '+' ? 1 : 0);
  auto [end, ec] = std::from_chars(begin, s.data() + s.size(), value);
  const bool digits_only = !s.empty() && end == s.data() + s.size() && ec != std::errc::invalid_argument;
  if (!digits_only) {
    error(node, path, "expected an integer " + range + ", got " + describe(node));
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range || value < min || value > max) {
    error(node, path, "expected an integer " + range + ", got " + shown(s) + " (out of range)");
    return std::nullopt;
  }
  return value;
}

std::optional<std::uint16_t> YamlReader::port(const YAML::Node& node, const std::string& path) {
  auto v = integer(node, path, 1, 65535);
  if (!v) return std::nullopt;
  return static_cast<std::uint16_t>(*v);
}

std::optional<bool> YamlReader::boolean(const YAML::Node& node, const std::string& path) {
  if (node.IsScalar() && is_plain(node))
    if (auto b = core_bool(node.Scalar())) return b;
  error(node, path, "expected true or false, got " + describe(node));
  return std::nullopt;
}

std::optional<std::vector<YAML::Node>> YamlReader::sequence(const YAML::Node& node, const std::string& path) {
  if (is_null_scalar(node)) return std::vector<YAML::Node>{};  // `allow:` with nothing = empty list
  if (!node.IsSequence()) {
    error(node, path, "expected a list, got " + describe(node));
    return std::nullopt;
  }
  std::vector<YAML::Node> items;
  for (const auto& item : node) items.push_back(item);
  return items;
}

void YamlReader::required_missing(const YAML::Node& map, const std::string& path, std::string_view key,
                                  std::string_view what) {
  error(map, child_path(path, key), "missing required field `" + std::string(key) + "` (" + std::string(what) + ")");
}

}  // namespace enclaver::manifest
