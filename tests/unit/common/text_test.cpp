#include <gtest/gtest.h>

#include <array>

#include "common/text.hpp"

namespace enclaver::text {
namespace {

TEST(EditDistance, CountsTranspositionsAsOne) {
  EXPECT_EQ(edit_distance("ingress", "ingress"), 0u);
  EXPECT_EQ(edit_distance("ingres", "ingress"), 1u);
  EXPECT_EQ(edit_distance("ingerss", "ingress"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(Nearest, SuggestsOnlyPlausibleMisspellings) {
  constexpr std::array<std::string_view, 4> keys{"ingress", "egress", "api", "aux_api"};
  EXPECT_EQ(nearest("ingres", keys), "ingress");
  EXPECT_EQ(nearest("egres", keys), "egress");
  EXPECT_EQ(nearest("apj", keys), "api");
  EXPECT_EQ(nearest("zzzzzz", keys), std::nullopt);
  EXPECT_EQ(nearest("x", keys), std::nullopt);
}

TEST(Utf8, FindsTheFirstBadByte) {
  EXPECT_EQ(first_invalid_utf8("plain ascii"), std::nullopt);
  EXPECT_EQ(first_invalid_utf8("h\xc3\xa9llo"), std::nullopt);
  EXPECT_EQ(first_invalid_utf8("ab\xff"), 2u);
  EXPECT_EQ(first_invalid_utf8("\xc0\x80"), 0u);              // overlong NUL
  EXPECT_EQ(first_invalid_utf8("a\xed\xa0\x80"), 1u);         // surrogate
  EXPECT_EQ(first_invalid_utf8("\xf4\x90\x80\x80"), 0u);      // above U+10FFFF
  EXPECT_EQ(first_invalid_utf8("ok\xe2\x82"), 2u);            // truncated
}

TEST(LineColumn, IsOneBased) {
  EXPECT_EQ(line_column("ab\ncd", 0).line, 1u);
  EXPECT_EQ(line_column("ab\ncd", 4).line, 2u);
  EXPECT_EQ(line_column("ab\ncd", 4).column, 2u);
}

TEST(Quote, EscapesWhatATerminalWouldInterpret) {
  EXPECT_EQ(quote("abc"), "\"abc\"");
  EXPECT_EQ(quote("a\x1b[2Jb"), "\"a\\x1b[2Jb\"");
  EXPECT_EQ(quote("q\"\\"), "\"q\\\"\\\\\"");
  EXPECT_EQ(quote("é"), "\"é\"");
  EXPECT_EQ(quote("\xff"), "\"\\xff\"");
  EXPECT_EQ(quote("abcdef", 3), "\"abc...\"");
}

}  // namespace
}  // namespace enclaver::text

namespace enclaver::text {
namespace {

TEST(Split, KeepsEmptyPiecesAndViewsIntoTheText) {
  EXPECT_EQ(split("a,,b", ','), (std::vector<std::string_view>{"a", "", "b"}));
  EXPECT_EQ(split("", ','), (std::vector<std::string_view>{""}));
  EXPECT_EQ(split("x,", ','), (std::vector<std::string_view>{"x", ""}));
  std::string_view text = "k:v";
  EXPECT_EQ(split(text, ':')[1].data(), text.data() + 2);
}

}  // namespace
}  // namespace enclaver::text
