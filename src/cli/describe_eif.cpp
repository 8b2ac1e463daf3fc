#include <ostream>

#include "cli/commands.hpp"
#include "eif/eif_reader.hpp"
#include "eif/eif_sign.hpp"

namespace enclaver::cli {

int describe_eif(const DescribeEifOptions& o, std::ostream& out, std::ostream& err) {
  eif::ReadOptions read_options;
  read_options.require_valid_crc = false;  // reported as CheckCRC, as nitro-cli does
  read_options.certificate_der = eif::certificate_der_from_section;  // PCR8
  auto info = eif::read_eif_file(o.file, read_options);
  if (!info) {
    err << "enclaver describe-eif: " << info.error().message << "\n";
    return kExitInvalid;
  }
  auto signature = eif::describe_signature(*info);
  if (!signature) {
    err << "enclaver describe-eif: " << o.file << ": " << signature.error().message << "\n";
    return kExitInvalid;
  }
  auto description = eif::describe_eif(*info, *signature);
  if (!description) {
    err << "enclaver describe-eif: " << o.file << ": " << description.error().message << "\n";
    return kExitInvalid;
  }
  const auto& d = *description;
  if (o.json) {
    out << d.dump(2) << "\n";
  } else {
    out << "EIF version " << d["EifVersion"] << ", " << eif::arch_name(info->arch) << ", " << info->file_size
        << " bytes, " << info->sections.size() << " sections, CRC " << (info->crc_ok ? "ok" : "MISMATCH") << "\n";
    for (const char* pcr : {"PCR0", "PCR1", "PCR2", "PCR8"})
      if (d["Measurements"].contains(pcr)) out << pcr << "  " << d["Measurements"][pcr].get<std::string>() << "\n";
    if (!info->is_signed()) out << "Signed: no\n";
    else {
      const bool check = d.value("SignatureCheck", false);
      const auto& cert = d["SigningCertificate"];
      out << "Signed: yes, signature check " << (check ? "ok" : "FAILED") << "; certificate "
          << cert.value("Algorithm", "?") << ", valid " << cert.value("NotBefore", "?") << " to "
          << cert.value("NotAfter", "?") << "\n";
    }
    if (d.contains("ImageName")) out << "Image: " << d["ImageName"].get<std::string>() << " " << d.value("ImageVersion", "") << "\n";
    if (d.contains("Metadata")) {
      const auto& m = d["Metadata"];
      out << "Built by " << m.value("BuildTool", "?") << " " << m.value("BuildToolVersion", "?") << " at "
          << m.value("BuildTime", "?") << " for " << m.value("OperatingSystem", "?") << " "
          << m.value("KernelVersion", "?") << "\n";
    }
  }
  const bool signature_ok = !info->is_signed() || d.value("SignatureCheck", false);
  return info->crc_ok && signature_ok ? kExitOk : kExitInvalid;
}

}  // namespace enclaver::cli
