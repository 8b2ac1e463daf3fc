// The log is printed once across reconnects: overlap detection.
#include <gtest/gtest.h>

#include "sleeve/follow.hpp"

namespace enclaver::sleeve {
namespace {

TEST(LogOverlap, FindsTheLongestSuffixThatIsAPrefix) {
  EXPECT_EQ(log_overlap("abcdef", "defgh"), 3u);
  EXPECT_EQ(log_overlap("abcdef", "abcdef"), 6u);
  EXPECT_EQ(log_overlap("abcdef", "xyz"), 0u);
  EXPECT_EQ(log_overlap("", "abc"), 0u);
  EXPECT_EQ(log_overlap("abc", ""), 0u);
  EXPECT_EQ(log_overlap("aaaa", "aaab"), 3u);
  EXPECT_EQ(log_overlap("xxabab", "ababab"), 4u);
  EXPECT_EQ(log_overlap("line 1\nline 2\n", "line 2\nline 3\n"), 7u);
}

TEST(LogDeduplicator, TheFirstConnectionIsPrintedAsItComes) {
  LogDeduplicator d;
  d.reconnected();
  EXPECT_EQ(d.feed("one\n", false), "one\n");
  EXPECT_EQ(d.feed("two\n", false), "two\n");
}

TEST(LogDeduplicator, AReconnectsBacklogIsHeldThenPrintedWithoutWhatWasAlreadyPrinted) {
  LogDeduplicator d;
  d.reconnected();
  EXPECT_EQ(d.feed("a\nb\nc\n", false), "a\nb\nc\n");
  d.reconnected();
  EXPECT_EQ(d.feed("b\n", false), "") << "held: the backlog may go on";
  EXPECT_TRUE(d.holding());
  EXPECT_EQ(d.feed("c\nd\n", true), "d\n");
  EXPECT_FALSE(d.holding());
  EXPECT_EQ(d.feed("e\n", false), "e\n");
}

TEST(LogDeduplicator, ABacklogAsLongAsTheMemoryIsDecidedWithoutWaiting) {
  LogDeduplicator d(4);
  d.reconnected();
  EXPECT_EQ(d.feed("0123456789", false), "0123456789");
  d.reconnected();
  EXPECT_EQ(d.feed("6789AB", false), "AB");
}

}  // namespace
}  // namespace enclaver::sleeve
