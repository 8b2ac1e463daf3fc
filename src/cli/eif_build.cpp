#include <cstdlib>
#include <filesystem>
#include <ostream>

#include <nlohmann/json.hpp>

#include "cli/blobs_option.hpp"
#include "cli/commands.hpp"
#include "common/temp_dir.hpp"
#include "eif/eif_build.hpp"
#include "eif/eif_reader.hpp"
#include "eif/eif_sign.hpp"

namespace enclaver::cli {
namespace fs = std::filesystem;
int eif_build(const EifBuildOptions& o, std::ostream& out, std::ostream& err) {
  auto blobs = find_blobs(o.blobs, "enclaver eif build", err);
  if (auto* code = std::get_if<int>(&blobs)) return *code;
  if (o.sign_cert.empty() != o.sign_key.empty()) {
    err << "enclaver eif build: --sign-cert and --sign-key go together: give both or neither\n";
    return kExitUsage;
  }
  eif::SignatureProducer signer;
  if (!o.sign_cert.empty()) {
    auto made = eif::make_signer(o.sign_cert, o.sign_key);
    if (!made) {
      err << "enclaver eif build: " << made.error().message << "\n";
      return kExitInvalid;
    }
    signer = *made;
  }
  try {
    eif::BuildRequest request;
    request.blobs = std::get<eif::Blobs>(blobs);
    request.cmd = o.cmd;
    request.env = o.env;
    request.image_name = o.name;
    request.image_version = o.version;
    request.build_time = o.source_date_epoch;
    request.output = o.output;
    request.signature = signer;
    std::optional<TempDir> extracted;
    std::error_code ec;
    if (fs::is_directory(o.rootfs, ec)) {
      request.rootfs = o.rootfs;
    } else if (fs::is_regular_file(o.rootfs, ec)) {
      extracted.emplace(fs::absolute(o.output).parent_path(), ".enclaver-rootfs-");
      eif::extract_rootfs_tar(o.rootfs, extracted->path());
      request.rootfs = extracted->path();
    } else {
      err << "enclaver eif build: --rootfs " << o.rootfs << " is neither a directory nor a tar archive\n";
      return kExitUsage;
    }
    const auto result = eif::build_eif(request);
    for (const auto& note : result.notes) err << "note: " << note << "\n";
    const auto& m = result.summary.measurements;
    if (o.json) {
      nlohmann::ordered_json j;
      j["Measurements"] = eif::measurements_json(m);
      j["File"] = o.output;
      j["Size"] = result.summary.file_size;
      out << j.dump(2) << "\n";
    } else {
      out << "wrote " << o.output << " (" << result.summary.file_size << " bytes)\n"
          << "PCR0 " << eif::to_hex(m.pcr0) << "\nPCR1 " << eif::to_hex(m.pcr1) << "\nPCR2 " << eif::to_hex(m.pcr2) << "\n";
      if (m.pcr8) out << "PCR8 " << eif::to_hex(*m.pcr8) << "\n";
    }
    return kExitOk;
  } catch (const std::exception& e) {
    err << "enclaver eif build: " << e.what() << "\n";
    return kExitInvalid;
  }
}

}  // namespace enclaver::cli
