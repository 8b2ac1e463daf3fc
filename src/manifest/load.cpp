#include "manifest/load.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

#include <yaml-cpp/yaml.h>

#include "common/text.hpp"
#include "manifest/schema.hpp"

namespace enclaver::manifest {
namespace {

// Past this many, further diagnostics only repeat the same mistake.
constexpr std::size_t kMaxDiagnostics = 100;

LoadResult failed(Diagnostic d) {
  LoadResult r;
  r.diagnostics.push_back(std::move(d));
  return r;
}

// Reads at most kMaxManifestBytes + 1 bytes, so an over-long input is
// detected without reading it all.
std::optional<std::string> read_bounded(std::istream& in) {
  std::string data;
  char buf[64 * 1024];
  while (data.size() <= kMaxManifestBytes) {
    in.read(buf, sizeof buf);
    if (in.gcount() <= 0) break;
    data.append(buf, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return std::nullopt;
  return data;
}

// Bytes that YAML forbids and that would confuse a terminal: C0 controls
// other than tab, LF and CR, and DEL.
std::optional<std::size_t> first_control_byte(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) return i;
  }
  return std::nullopt;
}

}  // namespace

LoadResult load_manifest_file(const std::string& path) {
  const std::string shown = path == "-" ? "<stdin>" : path;
  std::optional<std::string> data;
  std::filesystem::path base_dir;
  if (path == "-") {
    data = read_bounded(std::cin);
    base_dir = std::filesystem::current_path();
  } else {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
      return failed({shown, 0, 0, "", "is a directory; give the path of the enclaver.yaml file"});
    std::ifstream in(path, std::ios::binary);
    if (!in) return failed({shown, 0, 0, "", std::string("cannot open: ") + std::strerror(errno)});
    data = read_bounded(in);
    base_dir = std::filesystem::absolute(path, ec).parent_path();
  }
  if (!data) return failed({shown, 0, 0, "", std::string("cannot read: ") + std::strerror(errno)});
  return load_manifest_text(*data, shown, base_dir);
}

LoadResult load_manifest_text(std::string_view text, const std::string& file, const std::filesystem::path& base_dir) {
  if (text.size() > kMaxManifestBytes)
    return failed({file, 0, 0, "", "too large (more than " + std::to_string(kMaxManifestBytes) +
                                       " bytes); a manifest is a small YAML file: is this the right file?"});
  if (auto bad = text::first_invalid_utf8(text)) {
    const auto lc = text::line_column(text, *bad);
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned char>(text[*bad]));
    return failed({file, lc.line, lc.column, "", std::string("invalid UTF-8 (byte ") + byte + "); the manifest must be UTF-8 text"});
  }
  if (auto bad = first_control_byte(text)) {
    const auto lc = text::line_column(text, *bad);
    return failed({file, lc.line, lc.column, "", "control character " + text::quote(text.substr(*bad, 1)) +
                                                     " is not allowed in YAML; remove it"});
  }

  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    const bool known = !e.mark.is_null();
    return failed({file, known ? static_cast<std::size_t>(e.mark.line) + 1 : 0,
                   known ? static_cast<std::size_t>(e.mark.column) + 1 : 0, "", "YAML syntax error: " + e.msg});
  }
  if (documents.empty() || (documents.size() == 1 && documents[0].IsNull()))
    return failed({file, 1, 1, "", "the manifest is empty; expected a mapping with at least `version: v1`, `name`, `target` and `sources.app`"});
  if (documents.size() > 1)
    return failed({file, static_cast<std::size_t>(documents[1].Mark().line) + 1, 1, "",
                   "expected one YAML document, found " + std::to_string(documents.size()) + " (separated by ---)"});

  LoadResult result;
  Manifest manifest;
  manifest.base_dir = base_dir;
  YamlReader reader(file, result.diagnostics);
  detail::PortPlan ports;
  detail::read_manifest(reader, documents[0], manifest, ports);
  detail::check_port_collisions(reader, ports);

  auto& d = result.diagnostics;
  if (d.empty()) {
    result.manifest = std::move(manifest);
    return result;
  }
  std::stable_sort(d.begin(), d.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  if (d.size() > kMaxDiagnostics) {
    const std::size_t more = d.size() - kMaxDiagnostics;
    d.resize(kMaxDiagnostics);
    d.push_back({file, 0, 0, "", "... and " + std::to_string(more) + " more errors"});
  }
  return result;
}

}  // namespace enclaver::manifest
