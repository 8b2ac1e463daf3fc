// Clock sync's wire shape and the NTP-style arithmetic.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "odyn/clock_sync.hpp"

namespace enclaver::odyn {
namespace {

TEST(ClockSync, TheReplyHasUpstreamsShapeAndRoundTrips) {
  TimeReply reply{1700000000123456789, 1700000000223456789};
  auto line = encode_time_reply(reply);
  EXPECT_EQ(line,
            "{\"server_receive_secs\":1700000000,\"server_receive_nanos\":123456789,"
            "\"server_transmit_secs\":1700000000,\"server_transmit_nanos\":223456789}\n");
  auto back = decode_time_reply(line);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->server_receive, reply.server_receive);
  EXPECT_EQ(back->server_transmit, reply.server_transmit);
}

TEST(ClockSync, MalformedRepliesAreRefused) {
  for (const char* bad : {"", "[]", "{}", R"({"server_receive_secs":1,"server_receive_nanos":0,"server_transmit_secs":1})",
                          R"({"server_receive_secs":1,"server_receive_nanos":1000000000,"server_transmit_secs":1,"server_transmit_nanos":0})",
                          R"({"server_receive_secs":-1,"server_receive_nanos":0,"server_transmit_secs":1,"server_transmit_nanos":0})",
                          R"({"server_receive_secs":"1","server_receive_nanos":0,"server_transmit_secs":1,"server_transmit_nanos":0})"})
    EXPECT_FALSE(decode_time_reply(bad)) << bad;
}

TEST(ClockSync, OffsetAndRoundTripAreNtps) {
  // The enclave is 5 s behind; 10 ms each way; the host took 1 ms.
  const Nanos s = 1'000'000'000, ms = 1'000'000;
  Nanos t1 = 100 * s;
  TimeReply reply{105 * s + 10 * ms, 105 * s + 11 * ms};
  Nanos t4 = 100 * s + 21 * ms;
  auto e = estimate_offset(t1, reply, t4);
  EXPECT_EQ(e.offset, 5 * s);
  EXPECT_EQ(e.round_trip, 20 * ms);
}

}  // namespace
}  // namespace enclaver::odyn
