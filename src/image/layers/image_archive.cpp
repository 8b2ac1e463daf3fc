#include "image/layers/image_archive.hpp"

#include <sys/stat.h>

#include <map>
#include <optional>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "common/text.hpp"
#include "image/layers/tar_read.hpp"

namespace enclaver::image {
namespace {

using nlohmann::json;
using text::quote;

constexpr std::uint64_t kMaxDocument = 64ull << 20;  // manifest, index, config: JSON, never that big
constexpr int kMaxLinkHops = 16;
constexpr int kMaxIndexDepth = 4;

constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr std::string_view kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";

struct Member {
  std::uint32_t type = 0;
  std::string link;  // symlink target or hard link name
  bool hard = false;
  FileRange range;
};

class Archive {
 public:
  Archive(SharedFd file, std::string what) : what_(std::move(what)) {
    FileRange all{file, 0, 0, what_};
    struct stat st {};
    if (::fstat(file->get(), &st) != 0) throw std::runtime_error("cannot stat " + what_);
    all.size = static_cast<std::uint64_t>(st.st_size);
    if (looks_compressed(all))
      throw std::runtime_error(what_ + " is compressed; give the uncompressed tar that `docker save` or the Engine API writes");
    walk_tar(all, [&](const TarMember& m, MemberData&) {
      std::string name;
      try {
        name = archive_path("", m.name, what_);
      } catch (const std::runtime_error&) {
        if (m.name == "./" || m.name == ".") return;  // the archive's own root
        throw;
      }
      Member entry;
      entry.type = m.mode & S_IFMT;
      entry.hard = !m.hardlink.empty();
      entry.link = entry.hard ? m.hardlink : m.symlink;
      if (m.contiguous) entry.range = FileRange{file, m.data_offset, m.size, what_ + ": " + name};
      else if (entry.type == S_IFREG && !entry.hard)
        throw std::runtime_error(what_ + ": " + quote(name) + " is not stored as plain bytes (sparse?); re-save the image");
      members_[name] = std::move(entry);  // a later member of the same name wins, as on extraction
    });
  }

  bool has(const std::string& name) const { return members_.count(name) != 0; }

  // The regular file at `name`, links followed inside the archive.
  FileRange file(std::string name, const std::string& role) const {
    for (int hop = 0; hop <= kMaxLinkHops; ++hop) {
      auto it = members_.find(name);
      if (it == members_.end())
        throw std::runtime_error(what_ + ": " + role + " " + quote(name) +
                                 " is missing from the archive (incomplete or damaged save?)");
      const Member& m = it->second;
      if (m.hard) {
        name = archive_path("", m.link, what_);
      } else if (m.type == S_IFLNK) {
        const auto slash = name.rfind('/');
        name = archive_path(slash == std::string::npos ? "" : std::string_view(name).substr(0, slash), m.link, what_);
      } else if (m.type == S_IFREG) {
        return m.range;
      } else {
        throw std::runtime_error(what_ + ": " + role + " " + quote(name) + " is not a regular file");
      }
    }
    throw std::runtime_error(what_ + ": " + role + " " + quote(name) + ": too many links");
  }

  json document(const std::string& name, const std::string& role) const {
    const std::string text = read_range(file(name, role), kMaxDocument);
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) throw std::runtime_error(what_ + ": " + role + " " + quote(name) + " is not valid JSON");
    return j;
  }

  const std::string& what() const { return what_; }

 private:
  std::string what_;
  std::map<std::string, Member> members_;
};

std::string string_at(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) throw std::runtime_error(where + ": \"" + key + "\" must be a string");
  return it->get<std::string>();
}

std::vector<std::string> strings_at(const json& j, const char* key, const std::string& where) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array()) throw std::runtime_error(where + ": \"" + key + "\" must be a list of strings");
  for (const auto& v : *it) {
    if (!v.is_string()) throw std::runtime_error(where + ": \"" + key + "\" must be a list of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

// "sha256:<64 hex>" -> "blobs/sha256/<hex>"; anything else is refused (it
// would become a path).
std::string blob_path(const std::string& digest, const std::string& where) {
  const std::string_view prefix = "sha256:";
  bool ok = digest.size() == prefix.size() + 64 && digest.starts_with(prefix);
  for (std::size_t i = prefix.size(); ok && i < digest.size(); ++i)
    ok = (digest[i] >= '0' && digest[i] <= '9') || (digest[i] >= 'a' && digest[i] <= 'f');
  if (!ok) throw std::runtime_error(where + ": digest " + quote(digest) + " is not sha256:<64 lowercase hex digits>");
  return "blobs/sha256/" + digest.substr(prefix.size());
}

struct Candidate {
  std::vector<std::string> tags;
  std::string config_path;
  std::vector<std::string> layer_paths;
  std::vector<std::string> media_types;
};

std::vector<Candidate> from_docker_manifest(const Archive& ar) {
  const json m = ar.document("manifest.json", "manifest");
  const std::string where = ar.what() + ": manifest.json";
  if (!m.is_array()) throw std::runtime_error(where + " is not a list of images");
  std::vector<Candidate> out;
  for (const auto& item : m) {
    if (!item.is_object()) throw std::runtime_error(where + ": an image entry is not an object");
    Candidate c;
    c.config_path = archive_path("", string_at(item, "Config", where), where);
    c.tags = strings_at(item, "RepoTags", where);
    for (const auto& l : strings_at(item, "Layers", where)) c.layer_paths.push_back(archive_path("", l, where));
    c.media_types.resize(c.layer_paths.size());
    out.push_back(std::move(c));
  }
  return out;
}

// A string member, or `fallback` when absent or not a string (json::value
// would throw its own exception type on a non-string).
std::string str_or(const json& j, const char* key, const std::string& fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

bool is_amd64_linux(const json& descriptor) {
  auto p = descriptor.find("platform");
  if (p == descriptor.end() || !p->is_object()) return true;  // unspecified: take it
  return str_or(*p, "os", "linux") == "linux" && str_or(*p, "architecture", "amd64") == "amd64";
}

std::vector<std::string> names_of(const json& descriptor) {
  std::vector<std::string> out;
  auto a = descriptor.find("annotations");
  if (a == descriptor.end() || !a->is_object()) return out;
  for (const char* key : {"io.containerd.image.name", "org.opencontainers.image.ref.name"}) {
    auto it = a->find(key);
    // ref.name alone may be just a tag ("latest"); kept only when it names an image.
    if (it != a->end() && it->is_string() && (std::string_view(key) != "org.opencontainers.image.ref.name" ||
                                              it->get<std::string>().find_first_of(":/") != std::string::npos)) {
      out.push_back(it->get<std::string>());
      break;
    }
  }
  return out;
}

void collect_oci(const Archive& ar, const json& index, const std::vector<std::string>& names, int depth,
                 std::vector<Candidate>& out) {
  const std::string where = ar.what() + ": OCI index";
  if (depth > kMaxIndexDepth) throw std::runtime_error(where + " nests more than 4 levels");
  auto manifests = index.find("manifests");
  if (manifests == index.end() || !manifests->is_array()) throw std::runtime_error(where + " has no \"manifests\" list");
  bool taken = false;  // one platform per nested index
  for (const auto& d : *manifests) {
    if (!d.is_object()) throw std::runtime_error(where + ": a descriptor is not an object");
    const std::string media = str_or(d, "mediaType", "");
    std::vector<std::string> tags = names_of(d);
    if (tags.empty()) tags = names;
    const json blob = ar.document(blob_path(string_at(d, "digest", where), where), "OCI blob");
    const std::string blob_media = str_or(blob, "mediaType", media);
    if (media == kOciIndex || media == kDockerList || blob_media == kOciIndex || blob_media == kDockerList ||
        (blob.is_object() && blob.contains("manifests"))) {
      collect_oci(ar, blob, tags, depth + 1, out);
      continue;
    }
    if (depth > 0 && (taken || !is_amd64_linux(d))) continue;
    if (!blob.is_object() || !blob.contains("config") || !blob["config"].is_object())
      continue;  // attestation manifests and other artefacts carry no image config
    Candidate c;
    c.tags = tags;
    c.config_path = blob_path(string_at(blob["config"], "digest", where), where);
    auto layers = blob.find("layers");
    if (layers != blob.end() && !layers->is_array()) throw std::runtime_error(where + ": \"layers\" is not a list");
    if (layers != blob.end())
      for (const auto& l : *layers) {
        if (!l.is_object()) throw std::runtime_error(where + ": a layer descriptor is not an object");
        c.layer_paths.push_back(blob_path(string_at(l, "digest", where), where));
        c.media_types.push_back(str_or(l, "mediaType", ""));
      }
    out.push_back(std::move(c));
    if (depth > 0) taken = true;
  }
}

bool matches(const Candidate& c, const std::string& reference, const std::string& config_digest) {
  const std::string wanted = normalise_reference(reference);
  for (const auto& t : c.tags)
    if (normalise_reference(t) == wanted) return true;
  std::string_view ref = reference;
  if (ref.starts_with("sha256:")) ref.remove_prefix(7);
  const std::string_view hex = std::string_view(config_digest).substr(7);
  return ref.size() >= 12 && hex.starts_with(ref);
}

std::string describe(const std::vector<Candidate>& cs) {
  std::string out;
  for (const auto& c : cs) {
    if (!out.empty()) out += ", ";
    out += c.tags.empty() ? "(untagged " + c.config_path + ")" : c.tags.front();
  }
  return out;
}

}  // namespace

std::string archive_path(std::string_view base_dir, std::string_view path, const std::string& what) {
  if (path.starts_with("/"))
    throw std::runtime_error(what + ": path " + quote(path) + " is absolute; a saved image refers only to its own files");
  std::vector<std::string_view> parts;
  for (auto part : text::split(base_dir, '/'))
    if (!part.empty() && part != ".") parts.push_back(part);
  for (auto part : text::split(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) throw std::runtime_error(what + ": path " + quote(path) + " escapes the archive");
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  if (parts.empty()) throw std::runtime_error(what + ": empty path " + quote(path));
  std::string out;
  for (auto p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

std::string normalise_reference(std::string_view ref) {
  std::string r(ref);
  for (std::string_view prefix : {"docker.io/", "index.docker.io/"})
    if (r.starts_with(prefix)) r.erase(0, prefix.size());
  if (r.starts_with("library/")) r.erase(0, 8);
  const auto slash = r.rfind('/');
  const std::string_view last = std::string_view(r).substr(slash == std::string::npos ? 0 : slash + 1);
  if (last.find(':') == std::string_view::npos && r.find('@') == std::string::npos) r += ":latest";
  return r;
}

SavedImage open_saved_image(const std::filesystem::path& archive_path, const std::string& reference) {
  return open_saved_image(open_shared(archive_path), "saved image " + quote(archive_path.string(), 200), reference);
}

SavedImage open_saved_image(SharedFd file, const std::string& what, const std::string& reference) {
  const Archive ar(std::move(file), what);
  SavedImage image;
  std::vector<Candidate> candidates;
  if (ar.has("manifest.json")) {
    image.layout = "docker";
    candidates = from_docker_manifest(ar);
  } else if (ar.has("index.json")) {
    image.layout = "oci";
    collect_oci(ar, ar.document("index.json", "OCI index"), {}, 0, candidates);
  } else {
    throw std::runtime_error(what + " has neither manifest.json nor index.json: it is not an image saved by "
                             "`docker save` (or the Engine API) nor an OCI image layout");
  }
  if (candidates.empty()) throw std::runtime_error(what + " contains no image");

  // Config digests are needed to match by id; computed lazily per candidate.
  auto digest_of = [&](const Candidate& c) {
    return "sha256:" + sha256_hex(read_range(ar.file(c.config_path, "image config"), kMaxDocument));
  };
  const Candidate* chosen = nullptr;
  // One image: it is the one asked for, whatever name the engine gave it
  // (the reference may be a digest or an id that RepoTags never shows).
  if (candidates.size() == 1) {
    chosen = &candidates.front();
  } else if (reference.empty()) {
    if (candidates.size() > 1)
      throw std::runtime_error(what + " contains " + std::to_string(candidates.size()) +
                               " images (" + describe(candidates) + "); say which one to use");
    chosen = &candidates.front();
  } else {
    for (const auto& c : candidates)
      if (matches(c, reference, digest_of(c))) {
        if (chosen) throw std::runtime_error(what + ": reference " + quote(reference) + " matches several images");
        chosen = &c;
      }
    if (!chosen)
      throw std::runtime_error(what + " has no image " + quote(reference) + " (it has: " + describe(candidates) + ")");
  }

  image.repo_tags = chosen->tags;
  image.config_json = read_range(ar.file(chosen->config_path, "image config"), kMaxDocument);
  image.config_digest = "sha256:" + sha256_hex(image.config_json);
  const json config = json::parse(image.config_json, nullptr, false);
  const std::string where = what + ": image config " + quote(chosen->config_path);
  if (!config.is_object()) throw std::runtime_error(where + " is not a JSON object");
  std::vector<std::string> diff_ids;
  if (auto rootfs = config.find("rootfs"); rootfs != config.end() && rootfs->is_object())
    diff_ids = strings_at(*rootfs, "diff_ids", where + " rootfs");
  if (diff_ids.size() != chosen->layer_paths.size())
    throw std::runtime_error(what + ": the manifest lists " + std::to_string(chosen->layer_paths.size()) +
                             " layers but the image config's rootfs.diff_ids has " + std::to_string(diff_ids.size()) +
                             "; the archive is inconsistent, save the image again");
  for (std::size_t i = 0; i < diff_ids.size(); ++i) {
    LayerRef layer;
    layer.path = chosen->layer_paths[i];
    layer.bytes = ar.file(layer.path, "layer " + std::to_string(i + 1));
    layer.bytes.what = what + ": layer " + std::to_string(i + 1) + " (" + layer.path + ")";
    layer.diff_id = diff_ids[i];
    layer.media_type = chosen->media_types[i];
    image.layers.push_back(std::move(layer));
  }
  return image;
}

}  // namespace enclaver::image
