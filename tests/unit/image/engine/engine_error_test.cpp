// EngineError and the engine's error bodies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image/engine/engine_error.hpp"

namespace enclaver::image::engine {
namespace {

TEST(EngineError, CarriesTheCallStatusAndEngineMessage) {
  EngineError e(EngineErrorKind::response, "inspecting image foo:1", 404, "No such image: foo:1");
  EXPECT_STREQ(e.what(), "inspecting image foo:1: No such image: foo:1 (HTTP 404)");
  EXPECT_EQ(e.status(), 404u);
  EXPECT_EQ(e.engine_message(), "No such image: foo:1");
  EXPECT_EQ(e.call(), "inspecting image foo:1");
  EXPECT_TRUE(e.not_found());
  EXPECT_FALSE(e.conflict());
  EngineError conflict(EngineErrorKind::response, "x", 409, "m");
  EXPECT_TRUE(conflict.conflict());
  EngineError stream(EngineErrorKind::stream, "pulling image a", 0, "manifest unknown");
  EXPECT_STREQ(stream.what(), "pulling image a: manifest unknown");
  EXPECT_FALSE(stream.not_found()) << "only an HTTP 404 means not found";
}

TEST(EngineErrorBody, TheJsonMessageIsTheEngines) {
  EXPECT_EQ(error_body_message(404, R"({"message":"No such image: foo:latest"})"), "No such image: foo:latest");
  EXPECT_EQ(error_body_message(500, "{\"message\":\"  spaced out\\n\"}\n"), "spaced out");
}

TEST(EngineErrorBody, PlainTextIsShownEmptyOrOddBodiesGiveTheStatus) {
  EXPECT_EQ(error_body_message(502, "Bad Gateway\n"), "Bad Gateway");
  EXPECT_EQ(error_body_message(500, ""), "HTTP 500");
  EXPECT_EQ(error_body_message(500, "{}"), "HTTP 500");
  EXPECT_EQ(error_body_message(500, R"({"message":""})"), "HTTP 500");
  EXPECT_EQ(error_body_message(500, R"({"message":42})"), "HTTP 500");
  EXPECT_EQ(error_body_message(500, "[1,2]"), "HTTP 500");
}

TEST(EngineErrorBody, ControlCharactersAreEscapedAndLengthBounded) {
  EXPECT_EQ(error_body_message(400, "{\"message\":\"evil \\u001b[31mred\"}"), "evil \\x1b[31mred");
  EXPECT_EQ(printable_message("bad \xff byte"), "bad \\xff byte");
  EXPECT_EQ(printable_message("caf\xc3\xa9\tline\nnext"), "caf\xc3\xa9\tline\nnext");
  EXPECT_EQ(printable_message(std::string(10000, 'a'), 100), std::string(100, 'a') + "...");
}

}  // namespace
}  // namespace enclaver::image::engine
