// enclaver verify-attestation. See verify_attestation.hpp.
#include "cli/verify_attestation.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <iterator>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "nsm/verify.hpp"

namespace enclaver::cli {

namespace {

using nsm::Bytes;

constexpr int kOk = 0;
constexpr int kInvalid = 1;
constexpr int kUsage = 2;

Result<Bytes> read_all(const std::string& path) {
  if (path == "-") {
    std::string data((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return Bytes(data.begin(), data.end());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot open " + path);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return make_error("cannot read " + path);
  return Bytes(data.begin(), data.end());
}

std::string timestamp_text(std::uint64_t ms) {
  std::string s = nsm::format_utc(static_cast<std::int64_t>(ms / 1000));
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03u", static_cast<unsigned>(ms % 1000));
  s.insert(s.size() - 1, frac);
  return s;
}

bool all_zero(const Bytes& b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; });
}

const char* status_text(nsm::CheckStatus s) {
  switch (s) {
    case nsm::CheckStatus::Pass: return "pass";
    case nsm::CheckStatus::Fail: return "fail";
    case nsm::CheckStatus::Skipped: return "skipped";
  }
  return "?";
}

nlohmann::json optional_json(const std::optional<Bytes>& b) {
  return b ? nlohmann::json(nsm::to_hex(*b)) : nlohmann::json(nullptr);
}

std::string optional_text(const std::optional<Bytes>& b) {
  if (!b) return "absent (null)";
  if (b->empty()) return "empty";
  return nsm::to_hex(*b) + " (" + std::to_string(b->size()) + " bytes)";
}

}  // namespace

int verify_attestation(const VerifyAttestationOptions& options, std::ostream& out, std::ostream& err) {
  const std::string me = "enclaver verify-attestation: ";
  nsm::VerifyOptions vo;

  // Command line.
  if (options.at == "now") {
    vo.time = nsm::VerifyTime::Now;
  } else if (options.at == "document") {
    vo.time = nsm::VerifyTime::Document;
  } else {
    auto t = nsm::parse_rfc3339(options.at);
    if (!t) {
      err << me << "--at: " << t.error().message << "; use now, document or an RFC 3339 date-time\n";
      return kUsage;
    }
    vo.time = nsm::VerifyTime::Given;
    vo.at = *t;
  }
  if (options.max_age) {
    if (*options.max_age < 0) {
      err << me << "--max-age must be a number of seconds >= 0\n";
      return kUsage;
    }
    vo.max_age_seconds = options.max_age;
  }
  for (const std::string& spec : options.pcrs) {
    const auto eq = spec.find('=');
    std::uint32_t index = 0;
    bool good = eq != std::string::npos && eq > 0 && eq <= 2;
    for (std::size_t i = 0; good && i < eq; ++i) {
      good = spec[i] >= '0' && spec[i] <= '9';
      index = index * 10 + static_cast<std::uint32_t>(spec[i] - '0');
    }
    if (!good || index > 31) {
      err << me << "--pcr " << spec << ": expected N=HEX with N from 0 to 31\n";
      return kUsage;
    }
    auto value = nsm::from_hex(std::string_view(spec).substr(eq + 1));
    if (!value || (value->size() != 32 && value->size() != 48 && value->size() != 64)) {
      err << me << "--pcr " << spec << ": "
          << (value ? "the value has " + std::to_string(value->size()) + " bytes; PCRs have 48 (96 hex digits)"
                    : value.error().message)
          << "\n";
      return kUsage;
    }
    if (vo.expected_pcrs.count(index)) {
      err << me << "--pcr " << index << " is given twice\n";
      return kUsage;
    }
    vo.expected_pcrs[index] = std::move(value.value());
  }
  if (options.nonce_hex) {
    auto nonce = nsm::from_hex(*options.nonce_hex);
    if (!nonce) {
      err << me << "--nonce: " << nonce.error().message << "\n";
      return kUsage;
    }
    vo.expected_nonce = std::move(nonce.value());
  }
  if (options.user_data_json && options.user_data_hex) {
    err << me << "give --user-data-json or --user-data-hex, not both\n";
    return kUsage;
  }
  std::optional<nlohmann::json> expected_json;
  if (options.user_data_hex) {
    auto data = nsm::from_hex(*options.user_data_hex);
    if (!data) {
      err << me << "--user-data-hex: " << data.error().message << "\n";
      return kUsage;
    }
    vo.expected_user_data = std::move(data.value());
  }
  if (options.user_data_json) {
    try {
      expected_json = nlohmann::json::parse(*options.user_data_json);
    } catch (const nlohmann::json::exception& e) {
      err << me << "--user-data-json is not JSON: " << e.what() << "\n";
      return kUsage;
    }
  }
  if (!options.root.empty()) {
    auto root = read_all(options.root);
    if (!root) {
      err << me << "--root: " << root.error().message << "\n";
      return kUsage;
    }
    auto der = nsm::load_root_certificate(*root);
    if (!der) {
      err << me << "--root " << options.root << ": " << der.error().message << "\n";
      return kUsage;
    }
    vo.root = std::move(der.value());
  }
  auto data = read_all(options.document);
  if (!data) {
    err << me << data.error().message << "\n";
    return kInvalid;
  }

  nsm::VerifyResult result = nsm::verify_attestation(*data, vo);

  // --user-data-json: the document's user_data must be JSON equal to it.
  if (expected_json) {
    nsm::VerifyCheck check{"user_data", nsm::CheckStatus::Fail, {}};
    if (!result.parsed) {
      check.status = nsm::CheckStatus::Skipped;
      check.detail = "the document could not be parsed";
    } else if (const auto& ud = result.parsed->document.user_data; !ud) {
      check.detail = "user_data is absent (null), expected the JSON " + expected_json->dump();
    } else {
      nlohmann::json actual = nlohmann::json::parse(ud->begin(), ud->end(), nullptr, false);
      if (actual.is_discarded()) {
        check.detail = "user_data is not JSON (" + nsm::to_hex(*ud) + "), expected the JSON " + expected_json->dump();
      } else if (actual != *expected_json) {
        check.detail = "user_data is the JSON " + actual.dump() + ", expected " + expected_json->dump();
      } else {
        check.status = nsm::CheckStatus::Pass;
        check.detail = "user_data is the expected JSON";
      }
    }
    result.checks.push_back(check);
    if (check.status != nsm::CheckStatus::Pass) result.ok = false;
  }

  if (options.json) {
    nlohmann::json j;
    j["ok"] = result.ok;
    j["verified_at"] = result.parsed || vo.time != nsm::VerifyTime::Document ? nlohmann::json(nsm::format_utc(result.verified_at))
                                                                             : nlohmann::json(nullptr);
    if (result.parsed) {
      const nsm::AttestationDocument& d = result.parsed->document;
      nlohmann::json doc;
      doc["module_id"] = d.module_id;
      doc["digest"] = d.digest;
      doc["timestamp"] = d.timestamp_ms;
      doc["timestamp_utc"] = timestamp_text(d.timestamp_ms);
      nlohmann::json pcrs = nlohmann::json::object();
      for (const auto& [i, v] : d.pcrs) {
        if (options.all_pcrs || !all_zero(v)) pcrs[std::to_string(i)] = nsm::to_hex(v);
      }
      doc["pcrs"] = pcrs;
      doc["public_key"] = optional_json(d.public_key);
      doc["user_data"] = optional_json(d.user_data);
      doc["nonce"] = optional_json(d.nonce);
      doc["cabundle_size"] = d.cabundle.size();
      j["document"] = doc;
    } else {
      j["document"] = nullptr;
    }
    nlohmann::json checks = nlohmann::json::array();
    for (const nsm::VerifyCheck& c : result.checks) {
      checks.push_back({{"name", c.name}, {"status", status_text(c.status)}, {"detail", c.detail}});
    }
    j["checks"] = checks;
    if (const nsm::VerifyCheck* f = result.first_failure()) j["failed"] = f->name;
    out << j.dump(2) << "\n";
  } else {
    out << "Attestation document " << options.document << " (" << data->size() << " bytes)\n";
    if (result.parsed) {
      const nsm::AttestationDocument& d = result.parsed->document;
      out << "  module_id:   " << d.module_id << "\n"
          << "  timestamp:   " << timestamp_text(d.timestamp_ms) << " (" << d.timestamp_ms << " ms)\n"
          << "  digest:      " << d.digest << "\n";
      std::size_t zero = 0;
      for (const auto& [i, v] : d.pcrs) zero += all_zero(v) ? 1 : 0;
      out << "  PCRs:        " << d.pcrs.size() << " (" << zero << " all-zero"
          << (options.all_pcrs || zero == 0 ? "" : ", not shown; --all-pcrs shows them") << ")\n";
      for (const auto& [i, v] : d.pcrs) {
        if (options.all_pcrs || !all_zero(v)) out << "    PCR" << i << (i < 10 ? ":  " : ": ") << nsm::to_hex(v) << "\n";
      }
      out << "  public_key:  " << optional_text(d.public_key) << "\n"
          << "  user_data:   " << optional_text(d.user_data) << "\n"
          << "  nonce:       " << optional_text(d.nonce) << "\n"
          << "  cabundle:    " << d.cabundle.size() << " certificates\n";
      out << "Checks at " << nsm::format_utc(result.verified_at) << ":\n";
    } else {
      out << "Checks:\n";
    }
    for (const nsm::VerifyCheck& c : result.checks) {
      out << "  " << (c.status == nsm::CheckStatus::Pass ? "[pass] " : c.status == nsm::CheckStatus::Fail ? "[FAIL] " : "[skip] ")
          << c.name << ": " << c.detail << "\n";
    }
    if (result.ok) {
      out << "Verdict: VALID (all " << result.checks.size() << " checks passed)\n";
    } else {
      std::string failed;
      for (const nsm::VerifyCheck& c : result.checks) {
        if (c.status == nsm::CheckStatus::Fail) failed += (failed.empty() ? "" : ", ") + c.name;
      }
      out << "Verdict: INVALID (failed: " << failed << ")\n";
    }
  }
  if (!result.ok) {
    if (const nsm::VerifyCheck* f = result.first_failure()) {
      err << me << "check \"" << f->name << "\" failed: " << f->detail << "\n";
    }
    return kInvalid;
  }
  return kOk;
}

}  // namespace enclaver::cli
