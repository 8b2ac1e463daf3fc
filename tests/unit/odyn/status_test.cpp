// Status lines: wire.md's shapes, the 1024-byte limit, decoding (ours and upstream's).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "odyn/status.hpp"

namespace enclaver::odyn {
namespace {

TEST(StatusLine, EncodesWireMdShapes) {
  EXPECT_EQ(encode_status_line(status::Starting{}), "{\"status\":\"starting\"}\n");
  EXPECT_EQ(encode_status_line(status::Running{42}), "{\"pid\":42,\"status\":\"running\"}\n");
  EXPECT_EQ(encode_status_line(status::Exited{3}), "{\"code\":3,\"status\":\"exited\"}\n");
  EXPECT_EQ(encode_status_line(status::Signaled{9}), "{\"name\":\"SIGKILL\",\"signal\":9,\"status\":\"signaled\"}\n");
  EXPECT_EQ(encode_status_line(status::Fatal{"bad manifest"}), "{\"error\":\"bad manifest\",\"status\":\"fatal\"}\n");
}

TEST(StatusLine, RoundTrips) {
  for (Status s : {Status{status::Starting{}}, Status{status::Running{7}}, Status{status::Exited{255}},
                   Status{status::Signaled{15}}, Status{status::Fatal{"x \"quoted\" \xC3\xA9"}}}) {
    auto back = decode_status_line(encode_status_line(s));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->index(), s.index());
    EXPECT_EQ(encode_status_line(*back), encode_status_line(s));
  }
}

TEST(StatusLine, ALongFatalErrorIsCutToTheLineLimitOnAUtf8Boundary) {
  std::string error;
  for (int i = 0; i < 600; ++i) error += "\xC3\xA9";  // 1200 bytes of 'é'
  auto line = encode_status_line(status::Fatal{error});
  EXPECT_LE(line.size(), kMaxStatusLine);
  EXPECT_EQ(line.back(), '\n');
  auto back = decode_status_line(line);
  ASSERT_TRUE(back) << back.error().message;
  const auto& cut = std::get<status::Fatal>(*back).error;
  EXPECT_THAT(cut, ::testing::EndsWith("..."));
  EXPECT_EQ(cut.substr(0, cut.size() - 3), error.substr(0, cut.size() - 3));
}

TEST(StatusLine, ControlCharactersAreEscapedSoALineStaysOneLine) {
  auto line = encode_status_line(status::Fatal{"a\nb"});
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(StatusLine, DecodesUpstreamsSignalName) {
  auto s = decode_status_line("{\"status\":\"signaled\",\"signal\":\"SIGTERM\"}");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(std::get<status::Signaled>(*s).signal, 15);
}

TEST(StatusLine, RefusesMalformedLines) {
  for (const char* bad : {"", "[]", "{}", "{\"status\":1}", "{\"status\":\"running\"}", "{\"status\":\"exited\",\"code\":\"3\"}",
                          "{\"status\":\"rebooting\"}", "not json"})
    EXPECT_FALSE(decode_status_line(bad)) << bad;
}

TEST(StatusLine, FinalStates) {
  EXPECT_FALSE(is_final(status::Starting{}));
  EXPECT_FALSE(is_final(status::Running{1}));
  EXPECT_TRUE(is_final(status::Exited{0}));
  EXPECT_TRUE(is_final(status::Signaled{9}));
  EXPECT_TRUE(is_final(status::Fatal{"x"}));
}

}  // namespace
}  // namespace enclaver::odyn
