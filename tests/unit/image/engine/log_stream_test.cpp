// The multiplexed output stream decoder: frames cut at every boundary,
// malformed headers, huge declared sizes, streams ending inside a frame.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "image/engine/log_stream.hpp"

namespace enclaver::image::engine {
namespace {

using ::testing::HasSubstr;
using Bytes = std::vector<std::uint8_t>;

Bytes frame(std::uint8_t stream, const std::string& payload) {
  Bytes out{stream, 0, 0, 0};
  const auto n = static_cast<std::uint32_t>(payload.size());
  out.push_back(static_cast<std::uint8_t>(n >> 24));
  out.push_back(static_cast<std::uint8_t>(n >> 16));
  out.push_back(static_cast<std::uint8_t>(n >> 8));
  out.push_back(static_cast<std::uint8_t>(n));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// What the demuxer made of the input, stream by stream, with adjacent
// pieces of the same stream merged (chunking must not show).
struct Collected {
  std::vector<std::pair<OutputStream, std::string>> pieces;
  void add(OutputStream s, std::span<const std::uint8_t> b) {
    EXPECT_FALSE(b.empty()) << "empty pieces are never passed on";
    if (!pieces.empty() && pieces.back().first == s) pieces.back().second.append(b.begin(), b.end());
    else pieces.emplace_back(s, std::string(b.begin(), b.end()));
  }
};

const Bytes kSample = concat({frame(1, "hello\n"), frame(2, "oops\n"), frame(1, ""), frame(1, "again"), frame(2, "x")});

TEST(LogDemuxer, WholeInput) {
  LogDemuxer d;
  Collected c;
  EXPECT_FALSE(d.feed(kSample, [&](auto s, auto b) { c.add(s, b); }));
  EXPECT_FALSE(d.finish());
  ASSERT_EQ(c.pieces.size(), 4u);
  EXPECT_EQ(c.pieces[0], std::make_pair(OutputStream::stdout_, std::string("hello\n")));
  EXPECT_EQ(c.pieces[1], std::make_pair(OutputStream::stderr_, std::string("oops\n")));
  EXPECT_EQ(c.pieces[2], std::make_pair(OutputStream::stdout_, std::string("again")));
  EXPECT_EQ(c.pieces[3], std::make_pair(OutputStream::stderr_, std::string("x")));
  EXPECT_EQ(d.offset(), kSample.size());
}

TEST(LogDemuxer, EverySplitIntoTwoChunksGivesTheSameOutput) {
  LogDemuxer whole;
  Collected expected;
  ASSERT_FALSE(whole.feed(kSample, [&](auto s, auto b) { expected.add(s, b); }));
  for (std::size_t cut = 0; cut <= kSample.size(); ++cut) {
    LogDemuxer d;
    Collected c;
    std::span<const std::uint8_t> all(kSample);
    EXPECT_FALSE(d.feed(all.first(cut), [&](auto s, auto b) { c.add(s, b); }));
    EXPECT_FALSE(d.feed(all.subspan(cut), [&](auto s, auto b) { c.add(s, b); }));
    EXPECT_FALSE(d.finish()) << cut;
    EXPECT_EQ(c.pieces, expected.pieces) << "cut at " << cut;
  }
}

TEST(LogDemuxer, ByteByByte) {
  LogDemuxer d;
  Collected c;
  for (std::uint8_t b : kSample) ASSERT_FALSE(d.feed(std::span<const std::uint8_t>(&b, 1), [&](auto s, auto x) { c.add(s, x); }));
  EXPECT_FALSE(d.finish());
  EXPECT_EQ(c.pieces.size(), 4u);
}

TEST(LogDemuxer, StreamTypesZeroToThreeAreKnown) {
  for (std::uint8_t t = 0; t <= 3; ++t) {
    LogDemuxer d;
    OutputStream seen{};
    EXPECT_FALSE(d.feed(frame(t, "a"), [&](auto s, auto) { seen = s; }));
    EXPECT_EQ(static_cast<int>(seen), t);
  }
  EXPECT_STREQ(to_string(OutputStream::system_error), "system error");
}

TEST(LogDemuxer, MalformedHeadersAreStickyErrors) {
  // A TTY's raw output read as multiplexed: "hello wo".
  LogDemuxer tty;
  const std::string raw = "hello world\n";
  auto e = tty.feed({reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()}, [](auto, auto) { FAIL(); });
  ASSERT_TRUE(e);
  EXPECT_THAT(e->message, HasSubstr("offset 0: not a multiplexed stream frame header (68 65 6c 6c ...)"));
  EXPECT_THAT(e->message, HasSubstr("TTY"));
  EXPECT_TRUE(tty.feed(frame(1, "ok"), [](auto, auto) { FAIL(); })) << "no resynchronisation";
  EXPECT_TRUE(tty.finish());

  LogDemuxer padding;
  Bytes bad = concat({frame(1, "fine"), Bytes{1, 0, 1, 0, 0, 0, 0, 1, 'x'}});
  std::string got;
  auto pe = padding.feed(bad, [&](auto, auto b) { got.append(b.begin(), b.end()); });
  ASSERT_TRUE(pe);
  EXPECT_EQ(got, "fine") << "frames before the bad header are delivered";
  EXPECT_THAT(pe->message, HasSubstr("offset 12:"));

  LogDemuxer type;
  EXPECT_TRUE(type.feed(Bytes{4, 0, 0, 0, 0, 0, 0, 0}, [](auto, auto) {}));
}

TEST(LogDemuxer, HugeDeclaredSizesCostNoMemoryAndPassThrough) {
  LogDemuxer d;
  Bytes header{2, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF};  // 4 GiB - 1 declared
  std::size_t got = 0;
  ASSERT_FALSE(d.feed(header, [&](auto, auto) {}));
  Bytes chunk(1 << 16, 'z');
  for (int i = 0; i < 16; ++i)
    ASSERT_FALSE(d.feed(chunk, [&](OutputStream s, auto b) {
      EXPECT_EQ(s, OutputStream::stderr_);
      got += b.size();
    }));
  EXPECT_EQ(got, 16u << 16);
  auto e = d.finish();
  ASSERT_TRUE(e);
  EXPECT_THAT(e->message, HasSubstr("ended inside a frame"));
}

TEST(LogDemuxer, EndingInsideAHeaderOrPayloadIsAnError) {
  Bytes f = frame(1, "abc");
  for (std::size_t cut = 1; cut < f.size(); ++cut) {
    LogDemuxer d;
    ASSERT_FALSE(d.feed(std::span<const std::uint8_t>(f).first(cut), [](auto, auto) {}));
    auto e = d.finish();
    ASSERT_TRUE(e) << cut;
    EXPECT_THAT(e->message, HasSubstr("offset " + std::to_string(cut) + ": the stream ended inside a frame"));
  }
  LogDemuxer empty;
  EXPECT_FALSE(empty.finish());
}

}  // namespace
}  // namespace enclaver::image::engine
