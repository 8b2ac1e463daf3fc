#include "eif/eif_build.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "eif/metadata.hpp"
#include "eif/ramdisk.hpp"

namespace enclaver::eif {
namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

BuildResult build_eif(const BuildRequest& r) {
  BuildResult result;
  MetadataInput meta;
  meta.image_name = r.image_name;
  meta.image_version = r.image_version;
  meta.build_time = r.build_time;
  meta.docker_info = r.docker_info;
  if (!r.blobs.kernel_config.empty()) meta.kernel = parse_kernel_config(read_text(r.blobs.kernel_config));
  auto metadata = encode_metadata(meta);
  if (!metadata) throw std::runtime_error("metadata: " + metadata.error().message);

  // The ramdisks carry the build time too, so that one SOURCE_DATE_EPOCH
  // pins every byte; without it, mtime 0.
  const auto mtime = static_cast<std::uint32_t>(r.build_time.value_or(0));
  const Blobs& blobs = r.blobs;
  EifContents contents;
  contents.kernel = SectionSource::from_file(blobs.kernel, "kernel");
  contents.cmdline = blobs.cmdline;
  contents.metadata = *metadata;
  contents.ramdisks.push_back(SectionSource::from_producer(
      [&](ByteSink& sink) { write_bootstrap_ramdisk(blobs.init, blobs.nsm_ko.value_or(""), sink, blobs.modules); },
      "ramdisk 0 (bootstrap)"));
  contents.ramdisks.push_back(SectionSource::from_producer(
      [&](ByteSink& sink) {
        auto summary = r.rootfs_tree
                           ? write_customer_ramdisk(*r.rootfs_tree, r.cmd, r.env, CustomerRamdiskOptions{mtime}, sink)
                           : write_customer_ramdisk(r.rootfs, r.cmd, r.env, CustomerRamdiskOptions{mtime}, sink);
        for (const auto& s : summary.skipped) result.notes.push_back("skipped " + s.path + ": " + s.reason);
        for (const auto& n : summary.notes) result.notes.push_back(n);
      },
      "ramdisk 1 (application)"));
  contents.signature = r.signature;
  result.summary = write_eif_file(r.output, contents);
  return result;
}

}  // namespace enclaver::eif
