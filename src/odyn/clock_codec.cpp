#include "odyn/clock_codec.hpp"

#include <time.h>

#include <optional>

#include <nlohmann/json.hpp>

namespace enclaver::odyn {
namespace {
constexpr Nanos kSecond = 1'000'000'000;
}  // namespace

std::string encode_time_reply(const TimeReply& reply) {
  nlohmann::ordered_json j;
  j["server_receive_secs"] = reply.server_receive / kSecond;
  j["server_receive_nanos"] = reply.server_receive % kSecond;
  j["server_transmit_secs"] = reply.server_transmit / kSecond;
  j["server_transmit_nanos"] = reply.server_transmit % kSecond;
  return j.dump() + "\n";
}

Result<TimeReply> decode_time_reply(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("the host's time answer is not a JSON object");
  auto field = [&](const char* key) -> std::optional<std::int64_t> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<std::int64_t>();
  };
  auto rs = field("server_receive_secs"), rn = field("server_receive_nanos");
  auto ts = field("server_transmit_secs"), tn = field("server_transmit_nanos");
  if (!rs || !rn || !ts || !tn) return make_error("the host's time answer lacks a server_*_secs/_nanos integer");
  if (*rn < 0 || *rn >= kSecond || *tn < 0 || *tn >= kSecond || *rs < 0 || *ts < 0)
    return make_error("the host's time answer has a value out of range");
  return TimeReply{*rs * kSecond + *rn, *ts * kSecond + *tn};
}

ClockEstimate estimate_offset(Nanos t1, const TimeReply& reply, Nanos t4) {
  ClockEstimate e;
  e.offset = ((reply.server_receive - t1) + (reply.server_transmit - t4)) / 2;
  e.round_trip = (t4 - t1) - (reply.server_transmit - reply.server_receive);
  return e;
}

Nanos realtime_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<Nanos>(ts.tv_sec) * kSecond + ts.tv_nsec;
}

}  // namespace enclaver::odyn
