// libFuzzer target for the image config parser and odyn's image.json writer:
// arbitrary bytes as a config document. Parsing either throws
// std::runtime_error or gives a config whose image.json is valid JSON of the
// documented shape.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include <nlohmann/json.hpp>

#include "image/layers/image_config.hpp"

using namespace enclaver;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const image::ImageConfig c = image::parse_image_config(text);
    const auto j = nlohmann::json::parse(image::odyn_image_json(c), nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.size() != 5 || !j["entrypoint"].is_array() || !j["user"].is_string())
      std::abort();
    try {
      image::check_platform(c);
    } catch (const std::runtime_error&) {
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
