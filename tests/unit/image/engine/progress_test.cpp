// The JSON-lines progress decoder: pull, load and build answers, cut at
// every boundary; error lines; malformed and overlong lines.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "image/engine/progress.hpp"
#include "image/engine/responses.hpp"

namespace enclaver::image::engine {
namespace {

using ::testing::HasSubstr;

// A real pull's answer (abridged), with a \r\n line and a blank line.
const std::string kPull =
    R"({"status":"Pulling from library/alpine","id":"3.20"})"
    "\n"
    R"({"status":"Pulling fs layer","progressDetail":{},"id":"a258b2a6b59a"})"
    "\r\n"
    R"({"status":"Downloading","progressDetail":{"current":32768,"total":3623807},"progress":"[>   ]  32.77kB/3.624MB","id":"a258b2a6b59a"})"
    "\n\n"
    R"({"status":"Extracting","progressDetail":{"current":65536,"total":-1},"id":"a258b2a6b59a"})"
    "\n"
    R"({"status":"Digest: sha256:abc"})"
    "\n"
    R"({"status":"Status: Downloaded newer image for alpine:3.20"})"
    "\n";

std::vector<ProgressEvent> decode_all(const std::string& input, std::optional<ProgressError>* error = nullptr) {
  std::vector<ProgressEvent> events;
  ProgressDecoder d;
  auto e = d.feed(input, [&](const ProgressEvent& ev) { events.push_back(ev); });
  if (!e) e = d.finish([&](const ProgressEvent& ev) { events.push_back(ev); });
  if (error) *error = e;
  else EXPECT_FALSE(e) << e->message;
  return events;
}

std::string summary(const std::vector<ProgressEvent>& events) {
  std::string out;
  for (const auto& e : events)
    out += std::to_string(static_cast<int>(e.kind)) + "|" + e.id + "|" + e.status + "|" + e.progress + "|" +
           (e.current ? std::to_string(*e.current) : "-") + "|" + (e.total ? std::to_string(*e.total) : "-") + "|" + e.stream +
           "|" + e.aux.dump() + "\n";
  return out;
}

TEST(ProgressDecoder, PullProgressBecomesStatusEvents) {
  auto events = decode_all(kPull);
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[0].kind, ProgressEvent::Kind::status);
  EXPECT_EQ(events[0].status, "Pulling from library/alpine");
  EXPECT_EQ(events[0].id, "3.20");
  EXPECT_FALSE(events[1].current);
  EXPECT_EQ(events[2].status, "Downloading");
  EXPECT_EQ(events[2].current, 32768u);
  EXPECT_EQ(events[2].total, 3623807u);
  EXPECT_EQ(events[2].progress, "[>   ]  32.77kB/3.624MB");
  EXPECT_EQ(events[3].current, 65536u);
  EXPECT_FALSE(events[3].total) << "-1 means unknown";
  EXPECT_EQ(events[5].status, "Status: Downloaded newer image for alpine:3.20");
}

TEST(ProgressDecoder, EverySplitGivesTheSameEvents) {
  const std::string expected = summary(decode_all(kPull));
  for (std::size_t cut = 0; cut <= kPull.size(); ++cut) {
    std::vector<ProgressEvent> events;
    ProgressDecoder d;
    auto on = [&](const ProgressEvent& ev) { events.push_back(ev); };
    ASSERT_FALSE(d.feed(std::string_view(kPull).substr(0, cut), on));
    ASSERT_FALSE(d.feed(std::string_view(kPull).substr(cut), on));
    ASSERT_FALSE(d.finish(on));
    EXPECT_EQ(summary(events), expected) << "cut at " << cut;
  }
  // Byte by byte, too.
  std::vector<ProgressEvent> events;
  ProgressDecoder d;
  for (char c : kPull) ASSERT_FALSE(d.feed(std::string_view(&c, 1), [&](const ProgressEvent& ev) { events.push_back(ev); }));
  EXPECT_EQ(summary(events), expected);
}

TEST(ProgressDecoder, BuildAndLoadOutput) {
  const std::string build =
      R"({"stream":"Step 1/2 : FROM scratch\n"})"
      "\n"
      R"({"stream":" ---\u003e \n"})"
      "\n"
      R"({"aux":{"ID":"sha256:0123"}})"
      "\n"
      R"({"stream":"Successfully built 0123abcd\n"})"
      "\n";
  auto events = decode_all(build);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].kind, ProgressEvent::Kind::stream);
  EXPECT_EQ(events[0].stream, "Step 1/2 : FROM scratch\n");
  EXPECT_EQ(events[1].stream, " ---> \n");
  EXPECT_EQ(events[2].kind, ProgressEvent::Kind::aux);
  EXPECT_EQ(built_image_id(events[2]), "sha256:0123");
  EXPECT_EQ(built_image_id(events[3]), "0123abcd");
  EXPECT_FALSE(built_image_id(events[0]));

  auto loaded = decode_all(R"({"stream":"Loaded image: app:1\n"})" "\n" R"({"stream":"Loaded image ID: sha256:ff\n"})");
  ASSERT_EQ(loaded.size(), 2u) << "a last line without its newline is decoded at the end";
  EXPECT_EQ(loaded_image(loaded[0]), "app:1");
  EXPECT_EQ(loaded_image(loaded[1]), "sha256:ff");
  EXPECT_FALSE(loaded_image(events[0]));
}

TEST(ProgressDecoder, AnErrorLineIsTheEnginesMessage) {
  std::optional<ProgressError> error;
  auto events = decode_all(
      R"({"status":"Pulling from x"})"
      "\n"
      R"({"errorDetail":{"message":"manifest for x:1 not found: manifest unknown"},"error":"manifest for x:1 not found"})"
      "\n"
      R"({"status":"never seen"})"
      "\n",
      &error);
  ASSERT_TRUE(error);
  EXPECT_TRUE(error->reported_by_engine);
  EXPECT_EQ(error->message, "manifest for x:1 not found: manifest unknown");
  EXPECT_EQ(events.size(), 1u) << "nothing after the error";

  decode_all(R"({"error":"old style"})", &error);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->message, "old style");
  decode_all(R"({"errorDetail":{}})", &error);
  ASSERT_TRUE(error);
  EXPECT_THAT(error->message, HasSubstr("without a message"));
  decode_all(R"({"status":"fine","error":""})", &error);
  EXPECT_FALSE(error) << "an empty error field is no error";
}

TEST(ProgressDecoder, ErrorsAreSticky) {
  ProgressDecoder d;
  ASSERT_TRUE(d.feed("{\"error\":\"boom\"}\n", {}));
  auto again = d.feed("{\"status\":\"x\"}\n", [](const ProgressEvent&) { FAIL(); });
  ASSERT_TRUE(again);
  EXPECT_EQ(again->message, "boom");
  EXPECT_TRUE(d.finish({}));
}

TEST(ProgressDecoder, NonJsonAndOverlongLinesAreStreamErrors) {
  std::optional<ProgressError> error;
  decode_all("{\"status\":\"a\"}\nnot json\n", &error);
  ASSERT_TRUE(error);
  EXPECT_FALSE(error->reported_by_engine);
  EXPECT_THAT(error->message, HasSubstr("line 2 of the engine's progress stream is not a JSON object"));
  decode_all("[1]\n", &error);
  ASSERT_TRUE(error);
  decode_all("{\"status\":\"cut", &error);
  ASSERT_TRUE(error) << "a truncated last line";

  ProgressDecoder small(16);
  EXPECT_FALSE(small.feed("{\"status\":\"a\"}\n", {}));
  auto e = small.feed(std::string(10, 'x'), {});
  EXPECT_FALSE(e);
  e = small.feed(std::string(10, 'x'), {});
  ASSERT_TRUE(e) << "the partial line grew past the limit";
  EXPECT_THAT(e->message, HasSubstr("longer than 16 bytes"));
}

}  // namespace
}  // namespace enclaver::image::engine
