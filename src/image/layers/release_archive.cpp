#include "image/layers/release_archive.hpp"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <stdexcept>
#include <system_error>

#include <nlohmann/json.hpp>

#include "common/text.hpp"
#include "image/layers/io.hpp"
#include "image/layers/tar_write.hpp"

namespace enclaver::image {
namespace {

using nlohmann::json;
using text::quote;

std::string relative_path(const std::string& path) {
  if (!path.starts_with("/")) throw std::invalid_argument("release image file " + quote(path) + " must be an absolute path");
  std::string out;
  for (auto part : text::split(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") throw std::invalid_argument("release image file " + quote(path) + " has a \"..\" component");
    if (!out.empty()) out += '/';
    out += part;
  }
  if (out.empty()) throw std::invalid_argument("release image file " + quote(path) + " names the root");
  return out;
}

struct NewLayer {
  std::uint64_t size = 0;
  std::string digest;  // hex
};

// The caller's files and their parents as one tar, into `out`.
void write_new_layer(const ReleaseImage& img, ByteSink& out) {
  struct Item {
    const ReleaseFile* file = nullptr;  // nullptr: a parent directory
  };
  std::map<std::string, Item> items;  // sorted by path: parents before children
  for (const auto& f : img.files) {
    const std::string rel = relative_path(f.path);
    if (items.count(rel) && items[rel].file) throw std::invalid_argument("release image file " + quote(f.path) + " given twice");
    if (items.count(rel)) throw std::invalid_argument("release image file " + quote(f.path) + " is also a parent directory");
    for (std::size_t s = rel.find('/'); s != std::string::npos; s = rel.find('/', s + 1)) {
      auto it = items.find(rel.substr(0, s));
      if (it != items.end() && it->second.file)
        throw std::invalid_argument("release image file " + quote(it->first) + " is also a parent directory");
      items[rel.substr(0, s)];
    }
    items[rel].file = &f;
  }

  TarWriter tar(out);
  for (const auto& [path, item] : items) {
    if (!item.file) {
      tar.directory(path, 0755, img.created);
      continue;
    }
    const ReleaseFile& f = *item.file;
    if (f.bytes) {
      tar.file(path, f.perms, img.created, *f.bytes);
      continue;
    }
    SharedFd src = open_shared(f.source);
    struct stat st {};
    if (::fstat(src->get(), &st) != 0) throw std::system_error(errno, std::generic_category(), "cannot stat " + f.source.string());
    if (!S_ISREG(st.st_mode)) throw std::runtime_error(f.source.string() + " is not a regular file");
    const FileRange range{src, 0, static_cast<std::uint64_t>(st.st_size), f.source.string()};
    tar.file(path, f.perms, img.created, range.size, [&](ByteSink& s) { copy_range(range, s); });
  }
  tar.finish();
}

// The new layer's size and digest, which name it and come before it in the
// archive. It is produced twice, once here and once into the archive: the
// EIF is read twice from the page cache instead of being written to a
// temporary file and read back (hundreds of MB either way).
NewLayer measure_new_layer(const ReleaseImage& img) {
  struct Discard final : ByteSink {
    void write(std::span<const std::uint8_t>) override {}
  } discard;
  HashingSink hashing(discard);
  write_new_layer(img, hashing);
  return NewLayer{hashing.bytes_written(), hashing.digest()};
}

json base_config(const ReleaseImage& img) {
  if (!img.base) {
    json c = json::object();
    c["architecture"] = "amd64";
    c["os"] = "linux";
    c["config"] = json::object();
    c["rootfs"] = {{"type", "layers"}, {"diff_ids", json::array()}};
    c["history"] = json::array();
    return c;
  }
  json c = json::parse(img.base->config_json, nullptr, false);
  if (!c.is_object()) throw std::runtime_error("the base image's config is not a JSON object");
  if (!c.contains("config") || !c["config"].is_object()) c["config"] = json::object();
  if (!c.contains("history") || !c["history"].is_array()) c["history"] = json::array();
  json diff_ids = json::array();
  for (const auto& l : img.base->layers) diff_ids.push_back(l.diff_id);
  c["rootfs"] = {{"type", "layers"}, {"diff_ids", diff_ids}};
  return c;
}

std::string hex_of(const std::string& digest) {
  return digest.starts_with("sha256:") ? digest.substr(7) : digest;
}

}  // namespace

std::string rfc3339(std::int64_t seconds) {
  const time_t t = static_cast<time_t>(seconds);
  struct tm tm {};
  if (::gmtime_r(&t, &tm) == nullptr) throw std::invalid_argument("time out of range: " + std::to_string(seconds));
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string release_tag(std::string_view target) {
  if (target.empty()) throw std::invalid_argument("the release image needs a tag (manifest `target`)");
  if (target.find('@') != std::string_view::npos)
    throw std::invalid_argument("target " + quote(target) + " is a digest reference; docker load needs a tag such as app:1");
  for (char c : target)
    if (c <= ' ' || c == 0x7f) throw std::invalid_argument("target " + quote(target) + " contains whitespace or control characters");
  const auto slash = target.rfind('/');
  const std::string_view last = target.substr(slash == std::string_view::npos ? 0 : slash + 1);
  std::string out(target);
  if (last.find(':') == std::string_view::npos) out += ":latest";
  return out;
}

ReleaseSummary write_release_archive(const ReleaseImage& img, ByteSink& sink) {
  ReleaseSummary summary;
  summary.repo_tag = release_tag(img.tag);
  const NewLayer layer = measure_new_layer(img);
  const std::string new_diff = "sha256:" + layer.digest;

  json config = base_config(img);
  json& cfg = config["config"];
  cfg["Entrypoint"] = img.entrypoint;
  cfg["Cmd"] = img.cmd ? json(*img.cmd) : json(nullptr);
  if (img.env) cfg["Env"] = *img.env;
  json labels = cfg.contains("Labels") && cfg["Labels"].is_object() ? cfg["Labels"] : json::object();
  for (const auto& [k, v] : img.labels) labels[k] = v;
  cfg["Labels"] = labels;
  config["rootfs"]["diff_ids"].push_back(new_diff);
  config["history"].push_back({{"created", rfc3339(img.created)}, {"created_by", img.created_by}});
  config["created"] = rfc3339(img.created);
  const std::string config_text = config.dump();
  const std::string config_hex = sha256_hex(config_text);
  summary.image_id = "sha256:" + config_hex;

  // Layer paths, bottom first; a layer repeated in the base is stored once.
  struct Blob {
    std::uint64_t size = 0;
    std::function<void(ByteSink&)> write;
  };
  std::map<std::string, Blob> blobs;  // archive name -> bytes
  json layer_paths = json::array();
  if (img.base)
    for (const auto& l : img.base->layers) {
      const std::string name = hex_of(l.diff_id) + "/layer.tar";
      layer_paths.push_back(name);
      blobs.emplace(name, Blob{l.bytes.size, [range = l.bytes](ByteSink& s) { copy_range(range, s); }});
      summary.diff_ids.push_back(l.diff_id);
    }
  const std::string new_name = layer.digest + "/layer.tar";
  layer_paths.push_back(new_name);
  blobs[new_name] = Blob{layer.size, [&img](ByteSink& s) { write_new_layer(img, s); }};
  summary.diff_ids.push_back(new_diff);

  json manifest = json::array();
  manifest.push_back({{"Config", config_hex + ".json"}, {"RepoTags", {summary.repo_tag}}, {"Layers", layer_paths}});
  const std::string manifest_text = manifest.dump();

  // Every member, sorted by name ('/' < '.' is not assumed: std::map orders).
  std::map<std::string, std::function<void(TarWriter&, const std::string&)>> members;
  members[config_hex + ".json"] = [&](TarWriter& t, const std::string& n) { t.file(n, 0644, img.created, config_text); };
  members["manifest.json"] = [&](TarWriter& t, const std::string& n) { t.file(n, 0644, img.created, manifest_text); };
  for (const auto& [name, blob] : blobs) {
    members[name.substr(0, name.find('/'))] = [&](TarWriter& t, const std::string& n) { t.directory(n, 0755, img.created); };
    members[name] = [&, &blob = blob](TarWriter& t, const std::string& n) { t.file(n, 0644, img.created, blob.size, blob.write); };
  }
  TarWriter tar(sink);
  for (const auto& [name, write] : members) write(tar, name);
  tar.finish();
  summary.bytes = tar.bytes_written();
  return summary;
}

}  // namespace enclaver::image
