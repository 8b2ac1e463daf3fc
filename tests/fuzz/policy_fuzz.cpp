// libFuzzer target for the egress policy: arbitrary bytes as a requested host
// and as a pattern. Beyond "does not crash" (run under ASan/UBSan), it checks
// the invariants the rest of the system relies on:
//  - a normalised host is canonical: normalising its text again gives it back;
//  - a normalised name is lower-case LDH, labels 1..63, at most 253 bytes,
//    and never all-numeric (D5);
//  - a parsed pattern re-parses from its canonical text to the same thing;
//  - `**` allows every name except `host`, and never an IP;
//  - the verdicts of check() on raw text and on the normalised Host agree;
//  - 0.0.0.0/0 and ::/0 never let a special-range address through (D1).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "policy/policy.hpp"

namespace {

using namespace enclaver::policy;

void require(bool ok) {
  if (!ok) std::abort();
}

const Policy& catch_all() {
  static const Policy p = Policy::create({"**", "0.0.0.0/0", "::/0"}, {}).value();
  return p;
}

const Policy& mixed() {
  static const Policy p =
      Policy::create({"**.amazonaws.com", "*.example.com", "host", "10.0.0.0/8", "169.254.169.254", "2001:db8::/32"},
                     {"evil.example.com", "10.9.0.0/16"})
          .value();
  return p;
}

void check_name_shape(const std::string& name) {
  require(!name.empty() && name.size() <= 253);
  std::size_t label = 0;
  bool all_numeric = true, numeric_label = true;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      require(label >= 1 && label <= 63);
      all_numeric = all_numeric && numeric_label;
      label = 0;
      numeric_label = true;
      continue;
    }
    const char c = name[i];
    require((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
    numeric_label = numeric_label && c >= '0' && c <= '9';
    ++label;
  }
  require(!all_numeric);
}

void fuzz_host(std::string_view input) {
  auto host = normalize_host(input);
  const Verdict raw = mixed().check(input, 443);
  if (!host) {
    require(!raw.allowed);
    require(raw.reason.rfind("invalid host: ", 0) == 0);
    return;
  }
  const std::string text = host->to_string();
  const std::string again_text = host->is_ip() && text.find(':') != std::string::npos
                                     ? std::string("[").append(text).append("]")
                                     : text;
  auto again = normalize_host(again_text);
  require(again.ok());
  require(again->to_string() == text);
  require(again->is_ip() == host->is_ip());

  const Verdict normalised = mixed().check(*host, 443);
  require(raw.allowed == normalised.allowed && raw.reason == normalised.reason);

  const Verdict open = catch_all().check(*host, 443);
  if (host->is_ip()) {
    const auto& ip = std::get<IpAddress>(host->value);
    require(open.allowed == !special_range(ip).has_value());  // D1
    require(catch_all().check_resolved(*host, ip, 443).allowed == open.allowed);
  } else {
    check_name_shape(text);
    require(open.allowed == (text != "host"));
  }
}

void fuzz_pattern(std::string_view input) {
  auto pattern = parse_pattern(input);
  if (!pattern) {
    require(!pattern.error().message.empty());
    require(!Policy::create({std::string(input)}, {}).ok());
    return;
  }
  require(pattern->text == input);
  if (const auto* d = std::get_if<DomainPattern>(&pattern->value)) {
    auto again = parse_pattern(d->to_string());
    require(again.ok());
    require(std::get<DomainPattern>(again->value).labels == d->labels);
  } else {
    const auto& c = std::get<Cidr>(pattern->value);
    auto again = parse_pattern(c.to_string());
    require(again.ok());
    require(std::get<Cidr>(again->value) == c);
    require(c.contains(c.network));
  }
  auto policy = Policy::create({std::string(input)}, {});
  require(policy.ok());
}

// The first bytes pick an address; check_resolved must hold D1 for it.
void fuzz_resolved(const std::uint8_t* data, std::size_t size) {
  if (size < 17) return;
  IpAddress ip;
  ip.v6 = data[0] & 1;
  for (std::size_t i = 0; i < 16; ++i) ip.bytes[i] = ip.v6 || i < 4 ? data[1 + i] : 0;
  const Host name{std::string("svc.example")};
  const Verdict v = catch_all().check_resolved(name, ip, 443);
  require(v.allowed == !special_range(ip).has_value());
  (void)mixed().check_resolved(name, ip, 443);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  fuzz_host(input);
  fuzz_pattern(input);
  fuzz_resolved(data, size);
  return 0;
}
