// The release image archive: loadable layout, config, determinism, base layers.
#include <gtest/gtest.h>

#include "image/layers/flatten.hpp"
#include "image/layers/image_config.hpp"
#include "image/layers/release_archive.hpp"
#include "image/layers/tar_read.hpp"
#include "image/layers/tar_write.hpp"
#include "tests/unit/image/layers/layer_test_support.hpp"

namespace enclaver::image {
namespace {

using namespace testing;
using nlohmann::json;

std::string bytes_of(const VectorSink& s) { return std::string(s.data().begin(), s.data().end()); }

ReleaseImage request(const TempDir& tmp) {
  write_text(tmp / "app.eif", std::string(300000, 'E'));
  write_text(tmp / "enclaver-run", "RUN");
  ReleaseImage r;
  r.tag = "registry.example:5000/app";
  r.files = {{"/enclave/application.eif", tmp / "app.eif"},
             {"/enclave/enclaver.yaml", {}, std::string("version: v1\n")},
             {"/usr/local/bin/enclaver-run", tmp / "enclaver-run", std::nullopt, 0755}};
  r.entrypoint = {"/usr/local/bin/enclaver-run"};
  r.labels = {{"enclaver.pcr0", "abc"}};
  r.created = 1700000000;
  return r;
}

TEST(ReleaseArchive, LoadableLayoutFromScratch) {
  TempDir tmp;
  const ReleaseImage r = request(tmp);
  VectorSink out;
  const ReleaseSummary s = write_release_archive(r, out);
  EXPECT_EQ(s.repo_tag, "registry.example:5000/app:latest");
  EXPECT_EQ(s.bytes, out.data().size());
  EXPECT_EQ(s.bytes % 512, 0u);
  write_text(tmp / "release.tar", bytes_of(out));

  const SavedImage img = open_saved_image(tmp / "release.tar");
  EXPECT_EQ(img.layout, "docker");
  EXPECT_EQ(img.repo_tags, std::vector<std::string>{"registry.example:5000/app:latest"});
  EXPECT_EQ(img.config_digest, s.image_id);
  ASSERT_EQ(img.layers.size(), 1u);
  EXPECT_EQ(img.layers[0].path, s.diff_ids[0].substr(7) + "/layer.tar");
  // The diff_id is the layer's own digest, as docker load checks.
  EXPECT_EQ("sha256:" + sha256_hex(read_range(img.layers[0].bytes, 1 << 20)), s.diff_ids[0]);

  const json c = json::parse(img.config_json);
  EXPECT_EQ(c["architecture"], "amd64");
  EXPECT_EQ(c["os"], "linux");
  EXPECT_EQ(c["config"]["Entrypoint"], json({"/usr/local/bin/enclaver-run"}));
  EXPECT_TRUE(c["config"]["Cmd"].is_null());
  EXPECT_EQ(c["config"]["Labels"]["enclaver.pcr0"], "abc");
  EXPECT_EQ(c["created"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(c["history"].size(), 1u);
  EXPECT_EQ(c["rootfs"]["diff_ids"], json(s.diff_ids));

  // Layer members: parents first, modes and owners as asked.
  std::vector<std::string> names;
  walk_tar(img.layers[0].bytes, [&](const TarMember& m, MemberData&) {
    names.push_back(m.name + " " + std::to_string(m.mode & 07777) + " " + std::to_string(m.uid));
  });
  EXPECT_EQ(names, (std::vector<std::string>{"enclave/ 493 0", "enclave/application.eif 420 0", "enclave/enclaver.yaml 420 0",
                                             "usr/ 493 0", "usr/local/ 493 0", "usr/local/bin/ 493 0",
                                             "usr/local/bin/enclaver-run 493 0"}));
  RootfsBuilder b(FlattenOptions{tmp.path()});
  b.apply_layer(img.layers[0].bytes);
  ASSERT_NE(b.find("enclave/application.eif"), nullptr);
  EXPECT_EQ(b.find("enclave/application.eif")->content.size, 300000u);
}

TEST(ReleaseArchive, Deterministic) {
  TempDir tmp;
  VectorSink one, two;
  write_release_archive(request(tmp), one);
  write_release_archive(request(tmp), two);
  EXPECT_TRUE(one.data() == two.data());
  ReleaseImage other = request(tmp);
  other.labels["enclaver.pcr0"] = "def";
  VectorSink three;
  const auto s = write_release_archive(other, three);
  EXPECT_FALSE(one.data() == three.data());
}

TEST(ReleaseArchive, OnABaseImage) {
  TempDir tmp;
  const std::string base_layer = make_tar({dir("usr"), dir("usr/local"), dir("usr/local/bin"),
                                           file("usr/local/bin/enclaver-run", "BASE", 0755)}, "gzip");
  json extra = {{"Env", {"PATH=/usr/bin"}}, {"Labels", {{"base", "yes"}}}, {"Cmd", {"old"}}};
  json cfg = json::parse(config_json(1, extra));
  cfg["history"] = json::array({{{"created_by", "base layer"}}});
  cfg["custom_field"] = 7;
  write_text(tmp / "sleeve.tar", make_docker_save({{{"sleeve:1"}, cfg.dump(), {base_layer}}}, true));
  const SavedImage base = open_saved_image(tmp / "sleeve.tar");

  ReleaseImage r = request(tmp);
  r.files.pop_back();
  r.base = &base;
  r.cmd = std::vector<std::string>{"--verbose"};
  VectorSink out;
  const ReleaseSummary s = write_release_archive(r, out);
  write_text(tmp / "release.tar", bytes_of(out));
  const SavedImage img = open_saved_image(tmp / "release.tar", "registry.example:5000/app");
  ASSERT_EQ(img.layers.size(), 2u);
  EXPECT_EQ(read_range(img.layers[0].bytes, 1 << 20), base_layer);  // copied as stored
  EXPECT_EQ(s.diff_ids[0], base.layers[0].diff_id);
  const json c = json::parse(img.config_json);
  EXPECT_EQ(c["custom_field"], 7);
  EXPECT_EQ(c["config"]["Env"], json({"PATH=/usr/bin"}));  // the base's, not overridden
  EXPECT_EQ(c["config"]["Cmd"], json({"--verbose"}));
  EXPECT_EQ(c["config"]["Labels"]["base"], "yes");
  EXPECT_EQ(c["config"]["Labels"]["enclaver.pcr0"], "abc");
  EXPECT_EQ(c["history"].size(), 2u);
  EXPECT_EQ(c["rootfs"]["diff_ids"].size(), 2u);
  const ImageConfig parsed = parse_image_config(img.config_json);
  EXPECT_EQ(parsed.diff_ids, s.diff_ids);
}

TEST(ReleaseArchive, RefusesBadInput) {
  TempDir tmp;
  VectorSink out;
  ReleaseImage r = request(tmp);
  r.files.push_back({"relative/path", {}, std::string("x")});
  EXPECT_THROW(write_release_archive(r, out), std::invalid_argument);
  r = request(tmp);
  r.files.push_back({"/enclave/enclaver.yaml", {}, std::string("again")});
  EXPECT_THROW(write_release_archive(r, out), std::invalid_argument);
  r = request(tmp);
  r.files.push_back({"/enclave/enclaver.yaml/x", {}, std::string("under a file")});
  EXPECT_THROW(write_release_archive(r, out), std::invalid_argument);
  r = request(tmp);
  r.tag = "app@sha256:0123";
  EXPECT_THROW(write_release_archive(r, out), std::invalid_argument);
  r = request(tmp);
  r.files[0].source = tmp / "missing.eif";
  EXPECT_THROW(write_release_archive(r, out), std::system_error);
}

TEST(ReleaseArchive, Tags) {
  EXPECT_EQ(release_tag("app"), "app:latest");
  EXPECT_EQ(release_tag("app:1"), "app:1");
  EXPECT_EQ(release_tag("localhost:5000/x/app"), "localhost:5000/x/app:latest");
  EXPECT_THROW(release_tag(""), std::invalid_argument);
  EXPECT_THROW(release_tag("a b"), std::invalid_argument);
}

TEST(TarWriter, LongNamesUseTheUstarPrefix) {
  TempDir tmp;
  VectorSink out;
  TarWriter t(out);
  const std::string long_name = std::string(120, 'p') + "/" + std::string(90, 'n');
  t.file(long_name, 0600, 5, "data");
  EXPECT_THROW(t.file(std::string(300, 'x'), 0600, 5, ""), std::invalid_argument);
  EXPECT_THROW(t.file("a/../b", 0600, 5, ""), std::invalid_argument);
  EXPECT_THROW(t.file("sized", 0600, 5, 10, [](ByteSink& s) { s.write(std::span<const std::uint8_t>()); }), std::runtime_error);
  VectorSink clean;
  TarWriter t2(clean);
  t2.file(long_name, 0600, 5, "data");
  t2.finish();
  write_text(tmp / "t.tar", bytes_of(clean));
  auto fd = open_shared(tmp / "t.tar");
  std::vector<std::string> names;
  walk_tar(FileRange{fd, 0, fs::file_size(tmp / "t.tar"), "t"}, [&](const TarMember& m, MemberData&) {
    names.push_back(m.name);
    EXPECT_EQ(read_range(FileRange{fd, m.data_offset, m.size, "d"}, 10), "data");
  });
  EXPECT_EQ(names, std::vector<std::string>{long_name});
}

}  // namespace
}  // namespace enclaver::image
