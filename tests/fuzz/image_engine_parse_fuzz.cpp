// libFuzzer target for the engine client's one-shot parsers: DOCKER_HOST,
// API versions and GET /version answers, error bodies, image references,
// and the inspect / create / wait answers. Beyond "does not crash"
// (ASan/UBSan), it checks properties each parser promises:
//  - an accepted DOCKER_HOST names an absolute path that fits sun_path;
//  - an API version prints back as it was read (when written canonically);
//  - negotiation never picks a version outside our range or the engine's;
//  - an error body's message is never empty and holds no raw control
//    characters but newline and tab;
//  - a split reference prints back as it was given (plus ":latest").
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "image/engine/address.hpp"
#include "image/engine/api_version.hpp"
#include "image/engine/engine_error.hpp"
#include "image/engine/requests.hpp"
#include "image/engine/responses.hpp"

namespace {

using namespace enclaver::image::engine;

void require(bool ok) {
  if (!ok) std::abort();
}

bool printable(std::string_view s) {
  for (unsigned char c : s)
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto a = parse_docker_host(text)) {
    require(!a->socket_path.empty() && a->socket_path.front() == '/' && a->socket_path.size() < 108);
    require(text.empty() || a->describe() == text);
  }

  if (auto v = parse_api_version(text)) {
    const std::string back = v->to_string();
    if (text.find("0") != 0 && text.find(".0") == std::string_view::npos) require(back == text);
  }

  if (auto engine = parse_version_response(text)) {
    if (auto chosen = negotiate(*engine)) {
      require(*chosen >= kMinApiVersion && *chosen <= kMaxApiVersion && *chosen <= engine->api);
      require(!engine->min_api || *chosen >= *engine->min_api);
    }
  }

  for (unsigned status : {400u, 404u, 500u}) {
    const std::string message = error_body_message(status, text);
    require(!message.empty());
    require(printable(message));
  }
  require(printable(printable_message(text, 64)));

  if (auto ref = split_reference(text)) {
    require(!ref->repository.empty());
    const std::string back = ref->to_string();
    require(back == text || back == std::string(text) + ":latest");
    require(!encode_path(text).empty());
  }

  (void)parse_image_inspect(text);
  (void)parse_create_response(text);
  if (auto w = parse_wait_response(text)) require(w->status_code >= -1000 && w->status_code <= 1000);
  return 0;
}
