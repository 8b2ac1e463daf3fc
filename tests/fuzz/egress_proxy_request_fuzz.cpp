// The egress proxy's sans-IO request checks on arbitrary bytes: the request
// target parser (both forms) and the D7 head checks must never crash, and a
// target they accept must be one the proxy can use as it is.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "odyn/egress/head_check.hpp"
#include "odyn/egress/responses.hpp"
#include "odyn/egress/target.hpp"

using namespace enclaver::odyn::egress;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (std::string_view method : {"CONNECT", "GET"}) {
    auto decision = parse_target(method, input);
    if (auto* target = std::get_if<Target>(&decision)) {
      if (target->port == 0 || target->host.empty() || target->dial_host.empty()) std::abort();
      if (target->scheme != Scheme::connect && (target->path.empty() || target->path.front() != '/')) std::abort();
      if ((method == "CONNECT") != (target->scheme == Scheme::connect)) std::abort();
      if (method == "CONNECT" && input.find('@') != std::string_view::npos) std::abort();  // D11
    } else {
      auto& refusal = std::get<Refusal>(decision);
      if (refusal.status != 400 && refusal.status != 403) std::abort();
      (void)refusal_response(refusal);
    }
  }
  if (auto end = find_head_end(input)) {
    (void)check_head_bytes(input.substr(0, *end));
    std::vector<Field> fields;
    for (std::size_t start = 0; start < *end;) {
      auto stop = input.find("\r\n", start);
      if (stop == std::string_view::npos) break;
      auto line = input.substr(start, stop - start);
      if (auto colon = line.find(':'); colon != std::string_view::npos)
        fields.push_back(Field{line.substr(0, colon), line.substr(colon + 1)});
      start = stop + 2;
    }
    (void)check_fields(fields, 100);
  }
  return 0;
}
