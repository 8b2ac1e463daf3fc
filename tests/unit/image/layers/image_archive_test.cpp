// Saved image archives: both layouts, image selection, and the refusals.
#include <gtest/gtest.h>

#include "image/layers/image_archive.hpp"
#include "image/layers/tar_read.hpp"
#include "tests/unit/image/layers/layer_test_support.hpp"

namespace enclaver::image {
namespace {

using namespace testing;

std::string layer_a() { return make_tar({dir("etc"), file("etc/a", "alpha")}); }
std::string layer_b() { return make_tar({file("b", "beta")}); }

fs::path save(const TempDir& tmp, const std::string& bytes, const std::string& name = "image.tar") {
  write_text(tmp / name, bytes);
  return tmp / name;
}

TEST(TarRead, ContiguousMembersPointIntoTheFile) {
  TempDir tmp;
  const std::string long_name = "d/" + std::string(150, 'n');  // needs a pax header
  Item x = file(long_name, std::string(3000, 'x'));
  x.xattrs["security.capability"] = std::string("\x01\x02", 2);
  const auto path = save(tmp, make_tar({dir("d"), file("d/small", "hello"), x, hardlink("d/link", "d/small")}));
  auto fd = open_shared(path);
  std::vector<TarMember> seen;
  walk_tar(FileRange{fd, 0, fs::file_size(path), "t"}, [&](const TarMember& m, MemberData&) { seen.push_back(m); });
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_TRUE(seen[1].contiguous);
  EXPECT_EQ(read_range(FileRange{fd, seen[1].data_offset, seen[1].size, "r"}, 100), "hello");
  EXPECT_EQ(seen[2].name, long_name);
  EXPECT_EQ(read_range(FileRange{fd, seen[2].data_offset, seen[2].size, "r"}, 5000), std::string(3000, 'x'));
  EXPECT_EQ(seen[2].xattrs, std::vector<std::string>{"security.capability"});
  EXPECT_EQ(seen[3].hardlink, "d/small");
  EXPECT_FALSE(seen[3].contiguous);
}

TEST(TarRead, CompressedMembersAreReadThroughTheDecoder) {
  TempDir tmp;
  for (const char* filter : {"gzip", "zstd"}) {
    const auto path = save(tmp, make_tar({file("f", "compressed contents")}, filter));
    auto fd = open_shared(path);
    const FileRange range{fd, 0, fs::file_size(path), "t"};
    EXPECT_TRUE(looks_compressed(range)) << filter;
    std::string got;
    walk_tar(range, [&](const TarMember& m, MemberData& data) {
      EXPECT_FALSE(m.contiguous);
      std::uint8_t buf[7];
      for (std::size_t n; (n = data.read(buf)) > 0;) got.append(reinterpret_cast<char*>(buf), n);
    });
    EXPECT_EQ(got, "compressed contents") << filter;
  }
}

TEST(SavedImage, LegacyDockerLayout) {
  TempDir tmp;
  const std::string cfg = config_json(2, {{"Cmd", {"sh"}}});
  const auto path = save(tmp, make_docker_save({{{"app:1"}, cfg, {layer_a(), layer_b()}}}));
  const SavedImage img = open_saved_image(path);
  EXPECT_EQ(img.layout, "docker");
  EXPECT_EQ(img.config_json, cfg);
  EXPECT_EQ(img.config_digest, digest(cfg));
  EXPECT_EQ(img.repo_tags, std::vector<std::string>{"app:1"});
  ASSERT_EQ(img.layers.size(), 2u);
  EXPECT_EQ(read_range(img.layers[0].bytes, 1 << 20), layer_a());
  EXPECT_EQ(read_range(img.layers[1].bytes, 1 << 20), layer_b());
  EXPECT_EQ(img.layers[1].diff_id, "sha256:" + std::string(64, 'b'));
}

TEST(SavedImage, Docker25LayoutFollowsSymlinksIntoBlobs) {
  TempDir tmp;
  const auto path = save(tmp, make_docker_save({{{"app:1"}, config_json(2), {layer_a(), layer_b()}}}, true));
  const SavedImage img = open_saved_image(path);
  EXPECT_EQ(img.layout, "docker");  // manifest.json preferred
  ASSERT_EQ(img.layers.size(), 2u);
  EXPECT_EQ(img.layers[0].path, sha256_hex(layer_a()) + "/layer.tar");
  EXPECT_EQ(read_range(img.layers[1].bytes, 1 << 20), layer_b());
}

TEST(SavedImage, OciLayoutPicksLinuxAmd64FromANestedIndex) {
  TempDir tmp;
  const std::string cfg = config_json(1, {{"Env", {"A=1"}}});
  const auto path = save(tmp, make_oci_save({{{"docker.io/library/app:2"}, cfg, {layer_a()}}}));
  const SavedImage img = open_saved_image(path, "app:2");
  EXPECT_EQ(img.layout, "oci");
  EXPECT_EQ(img.config_json, cfg);
  ASSERT_EQ(img.layers.size(), 1u);
  EXPECT_EQ(img.layers[0].media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_EQ(read_range(img.layers[0].bytes, 1 << 20), layer_a());
}

TEST(SavedImage, SeveralImagesNeedAReference) {
  TempDir tmp;
  const std::string c1 = config_json(1, {{"Cmd", {"one"}}});
  const std::string c2 = config_json(1, {{"Cmd", {"two"}}});
  const auto path = save(tmp, make_docker_save({{{"one:latest"}, c1, {layer_a()}}, {{"two:latest"}, c2, {layer_b()}}}));
  try {
    open_saved_image(path);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("2 images (one:latest, two:latest)"), std::string::npos) << e.what();
  }
  EXPECT_EQ(open_saved_image(path, "two").config_json, c2);
  EXPECT_EQ(open_saved_image(path, "docker.io/library/one:latest").config_json, c1);
  EXPECT_EQ(open_saved_image(path, sha256_hex(c2).substr(0, 12)).config_json, c2);
  EXPECT_EQ(open_saved_image(path, digest(c1)).config_json, c1);
  EXPECT_THROW(open_saved_image(path, "three"), std::runtime_error);
}

TEST(SavedImage, ASingleImageIsTakenWhateverTheReference) {
  TempDir tmp;
  const auto path = save(tmp, make_docker_save({{{"app:1"}, config_json(1), {layer_a()}}}));
  EXPECT_EQ(open_saved_image(path, "app@sha256:" + std::string(64, '0')).repo_tags, std::vector<std::string>{"app:1"});
}

TEST(SavedImage, NormalisesReferences) {
  EXPECT_EQ(normalise_reference("alpine"), "alpine:latest");
  EXPECT_EQ(normalise_reference("docker.io/library/alpine:3"), "alpine:3");
  EXPECT_EQ(normalise_reference("localhost:5000/app"), "localhost:5000/app:latest");
  EXPECT_EQ(normalise_reference("ghcr.io/x/app@sha256:00"), "ghcr.io/x/app@sha256:00");
}

void expect_refused(const std::string& archive, const std::string& fragment) {
  TempDir tmp;
  const auto path = save(tmp, archive);
  try {
    open_saved_image(path);
    ADD_FAILURE() << "accepted; expected: " << fragment;
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(SavedImage, Refusals) {
  const std::string cfg = config_json(1);
  const std::string cfg_name = sha256_hex(cfg) + ".json";
  auto manifest = [&](const std::string& layer_path) {
    return nlohmann::json::array({{{"Config", cfg_name}, {"RepoTags", {"a:1"}}, {"Layers", {layer_path}}}}).dump();
  };
  expect_refused(make_tar({file(cfg_name, cfg), file("manifest.json", manifest("x/layer.tar"))}), "is missing");
  expect_refused(make_tar({file(cfg_name, cfg), file("manifest.json", manifest("../x/layer.tar"))}), "escapes the archive");
  expect_refused(make_tar({file(cfg_name, cfg), file("manifest.json", manifest("/etc/passwd"))}), "is absolute");
  expect_refused(make_tar({file(cfg_name, cfg), symlink("x", "../../etc/passwd"), file("manifest.json", manifest("x"))}),
                 "escapes the archive");
  // Two layers listed, one diff_id.
  const std::string two = nlohmann::json::array({{{"Config", cfg_name}, {"Layers", {"l", "l"}}}}).dump();
  expect_refused(make_tar({file(cfg_name, cfg), file("l", layer_a()), file("manifest.json", two)}), "rootfs.diff_ids has 1");
  expect_refused(make_tar({file("something", "else")}), "neither manifest.json nor index.json");
  expect_refused(make_tar({file("manifest.json", "[]")}), "contains no image");
  expect_refused(make_tar({file("manifest.json", "{nope")}), "not valid JSON");
  expect_refused(make_tar({file("manifest.json", manifest("l"))}, "gzip"), "is compressed");
  // An OCI digest that is not sha256 hex would become a path.
  expect_refused(make_tar({file("index.json", R"({"manifests":[{"digest":"sha256:../../x"}]})")}), "not sha256:");
}

}  // namespace
}  // namespace enclaver::image
