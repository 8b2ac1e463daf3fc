// `enclaver build`: app image -> EIF -> release image, streaming all the way:
//   1. the manifest is loaded and checked (file:line:col diagnostics);
//   2. the app image is found in the engine (pulled when absent) and saved
//      (GET /images/{name}/get) to one file in a private work directory;
//   3. its layers are flattened in memory (image/layers): the customer
//      ramdisk streams file contents straight from that saved archive, plus
//      /sbin/odyn, /etc/enclaver/enclaver.yaml, /etc/enclaver/image.json and
//      the ingress TLS material;
//   4. the EIF is written (signed when the manifest says so);
//   5. the release image archive (enclaver-run + /enclave/application.eif +
//      /enclave/enclaver.yaml, or sources.sleeve as the base) is streamed
//      into POST /images/load, which tags it `target`.
// Nothing is left behind: the work directory goes, whatever happens.
#include "cli/build.hpp"

#include <chrono>
#include <fstream>
#include <iomanip>
#include <sstream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <nlohmann/json.hpp>

#include "cli/blobs_option.hpp"
#include "cli/commands.hpp"
#include "cli/engine_session.hpp"
#include "common/temp_dir.hpp"
#include "eif/eif_build.hpp"
#include "eif/eif_sign.hpp"
#include "image/layers/flatten.hpp"
#include "image/layers/image_archive.hpp"
#include "image/layers/image_config.hpp"
#include "image/layers/release_archive.hpp"
#include "manifest/load.hpp"

namespace enclaver::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string megabytes(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return text;
}

// Where our own programs are: next to `enclaver` (a build directory, or an
// install's bin/), else in an install's lib/enclaver/.
fs::path our_program(const fs::path& programs_dir, const std::string& name) {
  for (const auto& candidate : {programs_dir / name, programs_dir / ".." / "lib" / "enclaver" / name}) {
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return fs::weakly_canonical(candidate);
  }
  throw std::runtime_error("cannot find our " + name + " next to enclaver (" + programs_dir.string() +
                           ") nor in ../lib/enclaver: build it (make build), or set sources." +
                           (name == "odyn" ? "odyn" : "sleeve") + " in the manifest");
}

class Build {
 public:
  Build(const BuildOptions& options, std::ostream& err) : o_(options), err_(err), engine_(io_, options.docker_host, err, options.progress) {}

  int run(std::ostream& out) {
    const auto started = Clock::now();
    if (o_.manifest == "-") {
      err_ << "enclaver build: -f needs a file: the manifest is copied into the images and its relative paths resolve "
              "against its directory\n";
      return kExitUsage;
    }
    auto loaded = manifest::load_manifest_file(o_.manifest);
    if (!loaded.ok()) {
      for (const auto& d : loaded.diagnostics) err_ << d.to_string() << "\n";
      err_ << "enclaver build: the manifest is not valid (details above)\n";
      return kExitInvalid;
    }
    const manifest::Manifest& m = *loaded.manifest;
    const std::string manifest_text = read_bytes(o_.manifest);
    auto blobs = find_blobs(o_.blobs, "enclaver build", err_);
    if (auto* code = std::get_if<int>(&blobs)) return *code;
    eif::SignatureProducer signer;
    if (m.signature) {
      auto made = eif::make_signer(m.resolve(m.signature->certificate), m.resolve(m.signature->key));
      if (!made) throw std::runtime_error(made.error().message);
      signer = *made;
    }
    TempDir work(o_.work_dir, "enclaver-build-");

    // The app image, saved, then opened in place.
    const fs::path app_archive = work.path() / "app.tar";
    engine_.save(m.sources.app, app_archive);
    auto app = image::open_saved_image(app_archive, m.sources.app);
    auto config = image::parse_image_config(app.config_json);
    image::check_platform(config);
    step("flattening " + std::to_string(app.layers.size()) + " layer(s) of " + m.sources.app);

    // The enclave's root filesystem: the image, odyn, the manifest, what odyn needs.
    image::RootfsBuilder rootfs({work.path()});
    rootfs.apply_image(app);
    rootfs.apply_export_fixups();
    rootfs.add_file("/sbin/odyn", odyn_binary(m, work.path()), 0755);
    rootfs.add_bytes("/etc/enclaver/enclaver.yaml", manifest_text, 0644);
    rootfs.add_bytes("/etc/enclaver/image.json", image::odyn_image_json(config), 0644);
    for (const auto& ingress : m.ingress) {
      if (!ingress.tls) continue;
      const std::string dir = "/etc/enclaver/tls/server/" + std::to_string(ingress.listen_port) + "/";
      rootfs.add_file(dir + "cert.pem", m.resolve(ingress.tls->cert_file), 0644);
      rootfs.add_file(dir + "key.pem", m.resolve(ingress.tls->key_file), 0600);
    }

    step("writing the EIF");
    eif::BuildRequest request;
    request.blobs = std::get<eif::Blobs>(blobs);
    request.rootfs_tree = rootfs.tree();
    request.cmd = {"/sbin/odyn"};  // odyn finds the manifest and image.json at their fixed paths
    request.env = config.env;
    request.image_name = m.name;
    request.image_version = image::release_tag(m.target);
    request.build_time = o_.source_date_epoch;
    request.signature = signer;
    request.output = work.path() / "application.eif";
    const auto built = eif::build_eif(request);
    for (const auto& note : built.notes) err_ << "enclaver build: note: " << note << "\n";
    const auto& pcrs = built.summary.measurements;
    if (!o_.eif_output.empty()) fs::copy_file(request.output, o_.eif_output, fs::copy_options::overwrite_existing);

    // The release image, streamed into the engine.
    std::optional<image::SavedImage> sleeve_base;
    image::ReleaseImage release;
    release.tag = image::release_tag(m.target);
    release.created = o_.source_date_epoch.value_or(0);
    if (m.sources.sleeve) {
      const fs::path sleeve_archive = work.path() / "sleeve.tar";
      engine_.save(*m.sources.sleeve, sleeve_archive);
      sleeve_base = image::open_saved_image(sleeve_archive, *m.sources.sleeve);
      release.base = &*sleeve_base;
    } else {
      release.files.push_back({"/usr/local/bin/enclaver-run", our_program(o_.programs_dir, "enclaver-run"), std::nullopt, 0755});
    }
    release.files.push_back({"/enclave/application.eif", request.output, std::nullopt, 0644});
    release.files.push_back({"/enclave/enclaver.yaml", {}, manifest_text, 0644});
    release.entrypoint = {"/usr/local/bin/enclaver-run"};
    release.labels = {{"dev.enclaver.pcr0", eif::to_hex(pcrs.pcr0)},
                      {"dev.enclaver.pcr1", eif::to_hex(pcrs.pcr1)},
                      {"dev.enclaver.pcr2", eif::to_hex(pcrs.pcr2)},
                      {"dev.enclaver.app", m.sources.app}};
    if (pcrs.pcr8) release.labels["dev.enclaver.pcr8"] = eif::to_hex(*pcrs.pcr8);
    step("loading the release image " + release.tag);
    image::ReleaseSummary summary;
    engine_.load([&](ByteSink& sink) { summary = image::write_release_archive(release, sink); });

    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    if (o_.json) {
      nlohmann::ordered_json j;
      j["Image"] = summary.repo_tag;
      j["ImageID"] = summary.image_id;
      j["Measurements"] = eif::measurements_json(pcrs);
      j["EifSize"] = built.summary.file_size;
      j["Seconds"] = seconds;
      out << j.dump(2) << "\n";
    } else {
      out << "built " << summary.repo_tag << " (" << summary.image_id << ") in " << std::fixed << std::setprecision(1) << seconds
          << " s\n"
          << "EIF " << megabytes(built.summary.file_size) << (pcrs.pcr8 ? ", signed" : "") << "\n"
          << "PCR0 " << eif::to_hex(pcrs.pcr0) << "\nPCR1 " << eif::to_hex(pcrs.pcr1) << "\nPCR2 " << eif::to_hex(pcrs.pcr2) << "\n";
      if (pcrs.pcr8) out << "PCR8 " << eif::to_hex(*pcrs.pcr8) << "\n";
    }
    return kExitOk;
  }

 private:
  void step(const std::string& text) {
    if (o_.progress) err_ << "enclaver build: " << text << "\n" << std::flush;
  }

  // sources.odyn: a local file (relative to the manifest), an image whose
  // odyn binary is taken, or by default the odyn built with this enclaver.
  fs::path odyn_binary(const manifest::Manifest& m, const fs::path& work) {
    if (!m.sources.odyn) return our_program(o_.programs_dir, "odyn");
    const std::string& source = *m.sources.odyn;
    // A local path starts with /, ./ or ../ (docs/manifest.md); anything else is an image.
    if (source.starts_with("/") || source.starts_with("./") || source.starts_with("../")) {
      const fs::path local = m.resolve(source);
      std::error_code ec;
      if (!fs::is_regular_file(local, ec)) throw std::runtime_error("sources.odyn: " + local.string() + " is not a file");
      return local;
    }
    const fs::path archive = work / "odyn.tar";
    engine_.save(*m.sources.odyn, archive);
    auto saved = image::open_saved_image(archive, *m.sources.odyn);
    image::RootfsBuilder tree({work});
    tree.apply_image(saved);
    const fs::path extracted = work / "odyn";
    for (const char* path : {"usr/local/bin/odyn", "usr/bin/odyn", "sbin/odyn", "bin/odyn", "odyn"}) {
      if (tree.copy_out(path, extracted)) return extracted;
    }
    throw std::runtime_error("sources.odyn: the image " + source + " holds no odyn "
                             "(looked for /usr/local/bin/odyn, /usr/bin/odyn, /sbin/odyn, /bin/odyn, /odyn)");
  }

  const BuildOptions& o_;
  std::ostream& err_;
  boost::asio::io_context io_;
  EngineSession engine_;
};

}  // namespace

int build(const BuildOptions& options, std::ostream& out, std::ostream& err) {
  try {
    return Build(options, err).run(out);
  } catch (const std::exception& e) {
    err << "enclaver build: " << e.what() << "\n";
    return kExitInvalid;
  }
}

}  // namespace enclaver::cli
