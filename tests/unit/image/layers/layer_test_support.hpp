// Test inputs for the image/layers tests, built with libarchive: layer tars
// (any member type, owners, xattrs, optional compression) and saved-image
// archives in both layouts (Docker's manifest.json, OCI index.json).
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/temp_dir.hpp"
#include "image/layers/io.hpp"

namespace enclaver::image::testing {

namespace fs = std::filesystem;

struct Item {
  std::string name;
  char type = 'f';           // f file, d dir, l symlink, h hard link, c/b device, p fifo, s socket
  std::string data;          // file contents, or symlink / hard link target
  std::uint32_t perms = 0644;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint32_t rmajor = 0, rminor = 0;
  std::map<std::string, std::string> xattrs;
};

inline Item file(std::string name, std::string data, std::uint32_t perms = 0644, std::uint32_t uid = 0, std::uint32_t gid = 0) {
  return Item{std::move(name), 'f', std::move(data), perms, uid, gid};
}
inline Item dir(std::string name, std::uint32_t perms = 0755, std::uint32_t uid = 0, std::uint32_t gid = 0) {
  return Item{std::move(name), 'd', "", perms, uid, gid};
}
inline Item symlink(std::string name, std::string target) { return Item{std::move(name), 'l', std::move(target), 0777}; }
inline Item hardlink(std::string name, std::string target) { return Item{std::move(name), 'h', std::move(target), 0644}; }

// A tar (pax) of `items` in order; `filter` "" (none), "gzip" or "zstd".
inline std::string make_tar(const std::vector<Item>& items, const std::string& filter = "") {
  std::string out;
  std::unique_ptr<archive, int (*)(archive*)> a(archive_write_new(), archive_write_free);
  archive_write_set_format_pax_restricted(a.get());
  if (filter == "gzip") archive_write_add_filter_gzip(a.get());
  if (filter == "zstd") archive_write_add_filter_zstd(a.get());
  archive_write_set_bytes_per_block(a.get(), 512);
  archive_write_set_bytes_in_last_block(a.get(), 1);  // no zero padding after a compressed stream
  archive_write_open(
      a.get(), &out, nullptr,
      [](archive*, void* client, const void* buf, size_t n) -> la_ssize_t {
        static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  for (const auto& it : items) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), it.name.c_str());
    archive_entry_set_uid(e.get(), it.uid);
    archive_entry_set_gid(e.get(), it.gid);
    archive_entry_set_mtime(e.get(), 1700000000, 0);
    std::uint32_t type = AE_IFREG;
    switch (it.type) {
      case 'd': type = AE_IFDIR; break;
      case 'l': type = AE_IFLNK; archive_entry_set_symlink(e.get(), it.data.c_str()); break;
      case 'h': archive_entry_set_hardlink(e.get(), it.data.c_str()); break;
      case 'c': type = AE_IFCHR; break;
      case 'b': type = AE_IFBLK; break;
      case 'p': type = AE_IFIFO; break;
      case 's': type = AE_IFSOCK; break;
      default: break;
    }
    archive_entry_set_mode(e.get(), type | it.perms);
    if (it.type == 'c' || it.type == 'b') {
      archive_entry_set_rdevmajor(e.get(), it.rmajor);
      archive_entry_set_rdevminor(e.get(), it.rminor);
    }
    for (const auto& [k, v] : it.xattrs) archive_entry_xattr_add_entry(e.get(), k.c_str(), v.data(), v.size());
    if (it.type == 'f') archive_entry_set_size(e.get(), static_cast<la_int64_t>(it.data.size()));
    else archive_entry_set_size(e.get(), 0);
    EXPECT_EQ(archive_write_header(a.get(), e.get()), ARCHIVE_OK) << archive_error_string(a.get());
    if (it.type == 'f' && !it.data.empty()) archive_write_data(a.get(), it.data.data(), it.data.size());
  }
  archive_write_close(a.get());
  return out;
}

inline void write_text(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << s;
}
inline std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string config_json(std::size_t layers, nlohmann::json extra = nlohmann::json::object(),
                               const std::string& arch = "amd64") {
  nlohmann::json c = {{"architecture", arch}, {"os", "linux"}, {"config", extra}};
  c["rootfs"] = {{"type", "layers"}, {"diff_ids", nlohmann::json::array()}};
  for (std::size_t i = 0; i < layers; ++i) c["rootfs"]["diff_ids"].push_back("sha256:" + std::string(64, char('a' + i % 6)));
  return c.dump();
}

struct TestImage {
  std::vector<std::string> tags;
  std::string config;
  std::vector<std::string> layers;  // layer blobs (tar or compressed)
};

inline std::string digest(const std::string& bytes) { return "sha256:" + sha256_hex(bytes); }

// `docker save` legacy layout: <id>.json, <id>/layer.tar, manifest.json.
// With `docker25`, the Docker 25+ layout instead: blobs/sha256/<hex> with
// manifest.json pointing to <id>/layer.tar symlinks into blobs, and an OCI
// index.json next to it.
inline std::string make_docker_save(const std::vector<TestImage>& images, bool docker25 = false) {
  std::vector<Item> items;
  nlohmann::json manifest = nlohmann::json::array();
  nlohmann::json index = {{"schemaVersion", 2}, {"manifests", nlohmann::json::array()}};
  std::map<std::string, bool> seen;
  for (const auto& img : images) {
    const std::string cfg_hex = sha256_hex(img.config);
    nlohmann::json entry = {{"Config", (docker25 ? "blobs/sha256/" : "") + cfg_hex + (docker25 ? "" : ".json")},
                            {"RepoTags", img.tags}, {"Layers", nlohmann::json::array()}};
    if (!seen[cfg_hex]) items.push_back(file(docker25 ? "blobs/sha256/" + cfg_hex : cfg_hex + ".json", img.config));
    seen[cfg_hex] = true;
    nlohmann::json oci_layers = nlohmann::json::array();
    for (const auto& l : img.layers) {
      const std::string hex = sha256_hex(l);
      if (docker25) {
        if (!seen[hex]) {
          items.push_back(file("blobs/sha256/" + hex, l));
          items.push_back(dir(hex));
          items.push_back(symlink(hex + "/layer.tar", "../blobs/sha256/" + hex));
        }
      } else if (!seen[hex]) {
        items.push_back(dir(hex));
        items.push_back(file(hex + "/layer.tar", l));
      }
      seen[hex] = true;
      entry["Layers"].push_back(hex + "/layer.tar");
      oci_layers.push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar"}, {"digest", "sha256:" + hex}, {"size", l.size()}});
    }
    manifest.push_back(entry);
    if (docker25) {
      const std::string m = nlohmann::json{{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                           {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"}, {"digest", "sha256:" + cfg_hex}}},
                                           {"layers", oci_layers}}.dump();
      items.push_back(file("blobs/sha256/" + sha256_hex(m), m));
      nlohmann::json d = {{"mediaType", "application/vnd.oci.image.manifest.v1+json"}, {"digest", digest(m)}, {"size", m.size()}};
      if (!img.tags.empty()) d["annotations"] = {{"io.containerd.image.name", img.tags.front()}};
      index["manifests"].push_back(d);
    }
  }
  items.push_back(file("manifest.json", manifest.dump()));
  if (docker25) items.push_back(file("index.json", index.dump()));
  return make_tar(items);
}

// An OCI layout only (no manifest.json), with one image index per image
// holding an arm64 and an amd64 manifest (the amd64 one must be chosen).
inline std::string make_oci_save(const std::vector<TestImage>& images) {
  std::vector<Item> items{file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})")};
  nlohmann::json index = {{"schemaVersion", 2}, {"manifests", nlohmann::json::array()}};
  for (const auto& img : images) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : img.layers) {
      items.push_back(file("blobs/sha256/" + sha256_hex(l), l));
      layers.push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"}, {"digest", digest(l)}, {"size", l.size()}});
    }
    items.push_back(file("blobs/sha256/" + sha256_hex(img.config), img.config));
    auto manifest_for = [&](const std::string& config) {
      return nlohmann::json{{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                            {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"}, {"digest", digest(config)}}},
                            {"layers", layers}}.dump();
    };
    const std::string arm_config = config_json(img.layers.size(), nlohmann::json::object(), "arm64");
    items.push_back(file("blobs/sha256/" + sha256_hex(arm_config), arm_config));
    const std::string arm = manifest_for(arm_config);
    const std::string amd = manifest_for(img.config);
    items.push_back(file("blobs/sha256/" + sha256_hex(arm), arm));
    items.push_back(file("blobs/sha256/" + sha256_hex(amd), amd));
    nlohmann::json nested = {{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.index.v1+json"},
                             {"manifests", {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"}, {"digest", digest(arm)},
                                             {"platform", {{"architecture", "arm64"}, {"os", "linux"}}}},
                                            {{"mediaType", "application/vnd.oci.image.manifest.v1+json"}, {"digest", digest(amd)},
                                             {"platform", {{"architecture", "amd64"}, {"os", "linux"}}}}}}};
    const std::string nested_text = nested.dump();
    items.push_back(file("blobs/sha256/" + sha256_hex(nested_text), nested_text));
    nlohmann::json d = {{"mediaType", "application/vnd.oci.image.index.v1+json"}, {"digest", digest(nested_text)}};
    if (!img.tags.empty()) d["annotations"] = {{"io.containerd.image.name", img.tags.front()}};
    index["manifests"].push_back(d);
  }
  items.push_back(file("index.json", index.dump()));
  return make_tar(items);
}

}  // namespace enclaver::image::testing
