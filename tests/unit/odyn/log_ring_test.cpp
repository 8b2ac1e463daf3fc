// The console ring: backlog, live follow, exact drop accounting and the marker.
#include <gtest/gtest.h>

#include <string>

#include "odyn/console/log_ring.hpp"

namespace enclaver::odyn {
namespace {

void put(LogRing& ring, const std::string& text) { ring.append(std::span<const char>(text.data(), text.size())); }

std::string drain(LogCursor& cursor, const LogRing& ring, std::size_t max = 1 << 20) {
  std::string out;
  while (!cursor.caught_up(ring)) out += cursor.next(ring, max);
  return out;
}

TEST(LogRing, ANewReaderGetsTheBacklogThenFollows) {
  LogRing ring(64);
  put(ring, "one\ntwo\n");
  LogCursor cursor(ring);
  EXPECT_EQ(drain(cursor, ring), "one\ntwo\n");
  EXPECT_TRUE(cursor.caught_up(ring));
  put(ring, "three\n");
  EXPECT_FALSE(cursor.caught_up(ring));
  EXPECT_EQ(drain(cursor, ring), "three\n");
}

TEST(LogRing, WrapsAroundAndKeepsTheLastCapacityBytes) {
  LogRing ring(10);
  put(ring, "abcdefgh");
  put(ring, "ijklmn");
  EXPECT_EQ(ring.begin(), 4u);
  EXPECT_EQ(ring.end(), 14u);
  LogCursor fresh(ring);
  EXPECT_EQ(drain(fresh, ring, 3), "efghijklmn") << "a new reader starts at the oldest byte, with no marker";
}

TEST(LogRing, AWriteLargerThanTheRingKeepsItsTail) {
  LogRing ring(4);
  put(ring, "0123456789");
  EXPECT_EQ(ring.begin(), 6u);
  LogCursor cursor(ring);
  EXPECT_EQ(drain(cursor, ring), "6789");
}

TEST(LogRing, AConnectedReaderThatFellBehindGetsOneMarkerWithTheExactCount) {
  LogRing ring(8);
  LogCursor cursor(ring);
  put(ring, "ab\n");
  EXPECT_EQ(cursor.next(ring, 100), "ab\n");
  put(ring, "0123456789ABCDEF\n");  // 17 bytes into an 8-byte ring: 9 lost
  EXPECT_EQ(drain(cursor, ring), "[odyn: 9 bytes of log dropped]\n9ABCDEF\n");
  put(ring, "x\n");
  EXPECT_EQ(drain(cursor, ring), "x\n") << "no marker without a new loss";
}

TEST(LogRing, TheMarkerIsALineOfItsOwnAfterAPartialLine) {
  LogRing ring(4);
  LogCursor cursor(ring);
  put(ring, "ab");
  EXPECT_EQ(cursor.next(ring, 100), "ab");
  put(ring, "cdefgh");
  EXPECT_EQ(drain(cursor, ring), "\n[odyn: 2 bytes of log dropped]\nefgh");
}

TEST(LogRing, ByteCountsAddUp) {
  // Every byte written is either delivered or counted as dropped, exactly.
  LogRing ring(100);
  LogCursor cursor(ring);
  std::uint64_t delivered = 0, dropped = 0, written = 0;
  // Reads up to `max`; counts the marker's number as dropped, the rest as delivered.
  auto take = [&](std::size_t max) {
    std::string out = cursor.next(ring, max);
    auto marker = out.find("[odyn: ");
    if (marker != std::string::npos) {
      auto end = out.find(" bytes", marker);
      dropped += std::stoull(out.substr(marker + 7, end - marker - 7));
      out.erase(0, out.find("]\n", marker) + 2);
    }
    delivered += out.size();
  };
  for (int round = 0; round < 200; ++round) {
    std::string chunk(static_cast<std::size_t>(round * 7 % 150 + 1), 'x');
    put(ring, chunk);
    written += chunk.size();
    if (round % 3 == 0) take(40);
  }
  while (!cursor.caught_up(ring)) take(1000);
  EXPECT_EQ(delivered + dropped, written);
}

TEST(LogRing, ZeroCapacityIsRefused) { EXPECT_THROW(LogRing(0), std::invalid_argument); }

}  // namespace
}  // namespace enclaver::odyn
