#include <chrono>
#include <cstdio>
#include <vector>

#include "eif/metadata.hpp"

namespace enclaver::eif {

namespace {
#ifdef ENCLAVER_VERSION
constexpr std::string_view kOwnVersion = ENCLAVER_VERSION;
#else
constexpr std::string_view kOwnVersion = "unknown";
#endif
}  // namespace

std::string rfc3339_utc(std::int64_t seconds) {
  using namespace std::chrono;
  const sys_seconds t{std::chrono::seconds{seconds}};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char out[64];
  std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02ld:%02ld:%02lldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()));
  return out;
}

KernelIdentity parse_kernel_config(std::string_view text) {
  KernelIdentity id;
  // The third line, as Rust's BufRead::lines() cuts it.
  std::size_t pos = 0;
  for (int i = 0; i < 2; ++i) {
    const std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) return id;
    pos = nl + 1;
  }
  if (pos >= text.size()) return id;
  std::string_view line = text.substr(pos);
  line = line.substr(0, line.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<std::string_view> words;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == ' ' || line[i] == '/' || line[i] == '-') {
      words.push_back(line.substr(start, i - start));
      start = i + 1;
    }
  }
  if (words.size() > 1) id.operating_system = std::string(words[1]);
  if (words.size() > 3) id.kernel_version = std::string(words[3]);
  return id;
}

nlohmann::json docker_info(std::string_view image_id, std::string_view config_digest) {
  nlohmann::json j = nlohmann::json::object();
  j["ConfigDigest"] = std::string(config_digest);
  j["Id"] = std::string(image_id);
  return j;
}

Result<std::string> encode_metadata(const MetadataInput& in) {
  // nlohmann::json keeps object keys sorted (as serde_json's Value does for
  // nitro-cli); the top level and BuildMetadata keep the struct order.
  auto dump = [](const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict); };
  try {
    std::string out = "{\"ImageName\":" + dump(in.image_name);
    out += ",\"ImageVersion\":" + dump(in.image_version);
    out += ",\"BuildMetadata\":{\"BuildTime\":" +
           dump(in.build_time ? rfc3339_utc(*in.build_time) : std::string(kEpochBuildTime));
    out += ",\"BuildTool\":" + dump(in.build_tool);
    out += ",\"BuildToolVersion\":" + dump(in.build_tool_version.empty() ? std::string(kOwnVersion)
                                                                         : in.build_tool_version);
    out += ",\"OperatingSystem\":" + dump(in.kernel.operating_system);
    out += ",\"KernelVersion\":" + dump(in.kernel.kernel_version);
    out += "},\"DockerInfo\":" + dump(in.docker_info);
    out += ",\"CustomMetadata\":" + dump(in.custom_metadata);
    out += "}";
    return out;
  } catch (const nlohmann::json::exception& e) {
    return make_error(std::string("cannot encode the EIF metadata: ") + e.what() +
                      " (image name, version and metadata must be valid UTF-8)");
  }
}

namespace {

Result<std::string> string_field(const nlohmann::ordered_json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) return make_error("metadata: " + where + key + " is missing");
  if (!it->is_string()) return make_error("metadata: " + where + key + " is not a string");
  return it->get<std::string>();
}

}  // namespace

Result<Metadata> parse_metadata(std::string_view text) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error("metadata: not valid JSON");
  if (!j.is_object()) return make_error("metadata: not a JSON object");
  Metadata m;
  auto take = [](Result<std::string> r, std::string& into) -> std::optional<Error> {
    if (!r) return r.error();
    into = std::move(*r);
    return std::nullopt;
  };
  if (auto e = take(string_field(j, "ImageName", ""), m.image_name)) return *e;
  if (auto e = take(string_field(j, "ImageVersion", ""), m.image_version)) return *e;
  auto bm = j.find("BuildMetadata");
  if (bm == j.end()) return make_error("metadata: BuildMetadata is missing");
  if (!bm->is_object()) return make_error("metadata: BuildMetadata is not an object");
  const std::string w = "BuildMetadata.";
  if (auto e = take(string_field(*bm, "BuildTime", w), m.build_time)) return *e;
  if (auto e = take(string_field(*bm, "BuildTool", w), m.build_tool)) return *e;
  if (auto e = take(string_field(*bm, "BuildToolVersion", w), m.build_tool_version)) return *e;
  if (auto e = take(string_field(*bm, "OperatingSystem", w), m.operating_system)) return *e;
  if (auto e = take(string_field(*bm, "KernelVersion", w), m.kernel_version)) return *e;
  auto docker = j.find("DockerInfo");
  if (docker == j.end()) return make_error("metadata: DockerInfo is missing");
  m.docker_info = *docker;
  auto custom = j.find("CustomMetadata");
  if (custom == j.end()) return make_error("metadata: CustomMetadata is missing");
  m.custom_metadata = *custom;
  return m;
}

}  // namespace enclaver::eif
