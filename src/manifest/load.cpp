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

struct DocumentScan {
  std::size_t documents = 0;
  std::size_t second_document_line = 0;
  std::size_t first_content_line = 0;  // 0: nothing but blanks, comments and markers
};

// Counts documents by their markers: a line starting with "---" followed by
// a blank or the end of the line always starts a document (YAML 1.2 §9.1),
// and content before the first marker is a bare document.
DocumentScan scan_documents(std::string_view text) {
  DocumentScan scan;
  bool content_in_current = false;
  bool marker_seen = false;
  std::size_t line_no = 0;
  for (std::size_t pos = 0; pos <= text.size();) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, end - pos);
    if (line.ends_with("\r")) line.remove_suffix(1);
    ++line_no;
    pos = end + 1;
    const bool marker = line.starts_with("---") && (line.size() == 3 || line[3] == ' ' || line[3] == '\t');
    if (marker) {
      if (marker_seen || content_in_current) {
        ++scan.documents;
        if (scan.documents == 1) scan.second_document_line = line_no;
      }
      marker_seen = true;
      const std::size_t rest = line.find_first_not_of(" \t", 3);
      content_in_current = rest != std::string_view::npos && line[rest] != '#';
      if (content_in_current && scan.first_content_line == 0) scan.first_content_line = line_no;
      continue;
    }
    const std::size_t first = line.find_first_not_of(" \t");
    const bool blank = first == std::string_view::npos || line[first] == '#';
    const bool directive_or_end = line.starts_with("%") || line.starts_with("...");
    if (blank || directive_or_end) continue;
    content_in_current = true;
    if (scan.first_content_line == 0) scan.first_content_line = line_no;
  }
  if (marker_seen || content_in_current) ++scan.documents;
  return scan;
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

  // One document only. yaml-cpp's LoadAll loops forever on some malformed
  // input (",(" is read as endless empty documents), so documents are
  // counted from their markers and only the first is parsed.
  const DocumentScan scan = scan_documents(text);
  if (scan.documents > 1)
    return failed({file, scan.second_document_line, 1, "",
                   "expected one YAML document, found " + std::to_string(scan.documents) + " (separated by ---)"});
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    const bool known = !e.mark.is_null();
    return failed({file, known ? static_cast<std::size_t>(e.mark.line) + 1 : 0,
                   known ? static_cast<std::size_t>(e.mark.column) + 1 : 0, "", "YAML syntax error: " + e.msg});
  }
  if (root.IsNull() && scan.first_content_line == 0)
    return failed({file, 1, 1, "", "the manifest is empty; expected a mapping with at least `version: v1`, `name`, `target` and `sources.app`"});
  if (root.IsNull())  // text that yaml-cpp silently read as nothing
    return failed({file, scan.first_content_line, 1, "", "YAML syntax error: this is not a YAML value; expected a mapping"});

  LoadResult result;
  Manifest manifest;
  manifest.base_dir = base_dir;
  YamlReader reader(file, result.diagnostics);
  detail::PortPlan ports;
  detail::read_manifest(reader, root, manifest, ports);
  detail::check_port_collisions(reader, ports);
  result.known_fields = reader.known_fields();

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
