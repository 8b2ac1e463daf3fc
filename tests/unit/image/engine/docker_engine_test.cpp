// DockerEngine's image calls against the fake engine: version negotiation
// and prefixing, error mapping, streamed downloads, chunked uploads.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "fake_engine.hpp"

namespace enclaver::image::engine {
namespace {

using namespace testing;
using ::testing::HasSubstr;
using ::testing::ElementsAre;

const char* kImageJson = R"({"Id":"sha256:aa","RepoTags":["app:1"],"Os":"linux","Architecture":"amd64","Config":{}})";

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7919) >> 3);
  return s;
}

TEST(DockerEngine, NegotiatesOnceAndPrefixesEveryRequest) {
  FakeEngine fake;
  fake.route("GET /v1.45/images/registry:5000/app:1/json", [](const Recorded&) { return json_reply(200, kImageJson); });
  auto ids = run(fake.address(), [](DockerEngine& e) -> asio::awaitable<std::vector<std::string>> {
    EXPECT_EQ(co_await e.api_version(), (ApiVersion{1, 45}));
    auto a = co_await e.inspect_image("registry:5000/app:1");
    auto b = co_await e.inspect_image("registry:5000/app:1");
    co_return std::vector<std::string>{a.id, b.id};
  });
  EXPECT_THAT(ids, ElementsAre("sha256:aa", "sha256:aa"));
  auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].target, "/version") << "unversioned";
  EXPECT_EQ(reqs[1].target, "/v1.45/images/registry:5000/app:1/json");
  EXPECT_FALSE(reqs[1].headers["Host"].empty()) << "the engine requires a Host header";
}

TEST(DockerEngine, NewerEnginesGetOurMaximum) {
  FakeEngine fake;
  fake.route("GET /version", [](const Recorded&) { return json_reply(200, R"({"ApiVersion":"1.50","MinAPIVersion":"1.24"})"); });
  auto v = run(fake.address(), [](DockerEngine& e) -> asio::awaitable<ApiVersion> { co_return co_await e.api_version(); });
  EXPECT_EQ(v, kMaxApiVersion);
}

TEST(DockerEngine, TooOldAnEngineIsAProtocolErrorSayingWhatToDo) {
  FakeEngine fake;
  fake.route("GET /version", [](const Recorded&) { return json_reply(200, R"({"Version":"18.09","ApiVersion":"1.39"})"); });
  try {
    run(fake.address(), [](DockerEngine& e) -> asio::awaitable<void> { co_await e.inspect_image("x"); });
    FAIL() << "accepted API 1.39";
  } catch (const EngineError& e) {
    EXPECT_EQ(e.kind(), EngineErrorKind::protocol);
    EXPECT_THAT(e.what(), HasSubstr("upgrade Docker"));
    EXPECT_THAT(e.what(), HasSubstr("Docker 18.09"));
  }
  EXPECT_EQ(fake.requests().size(), 1u) << "nothing but the version was asked";
}

TEST(DockerEngine, ErrorStatusesCarryTheEnginesMessage) {
  FakeEngine fake;
  fake.route("GET /v1.45/images/missing/json",
             [](const Recorded&) { return json_reply(404, R"({"message":"No such image: missing:latest"})"); });
  fake.route("GET /v1.45/images/broken/json", [](const Recorded&) { return json_reply(500, "engine on fire\n", "text/plain"); });
  try {
    run(fake.address(), [](DockerEngine& e) -> asio::awaitable<void> { co_await e.inspect_image("missing"); });
    FAIL();
  } catch (const EngineError& e) {
    EXPECT_TRUE(e.not_found());
    EXPECT_EQ(e.kind(), EngineErrorKind::response);
    EXPECT_EQ(e.engine_message(), "No such image: missing:latest");
    EXPECT_STREQ(e.what(), "inspecting image missing: No such image: missing:latest (HTTP 404)");
  }
  auto found = run(fake.address(),
                   [](DockerEngine& e) -> asio::awaitable<bool> { co_return (co_await e.find_image("missing")).has_value(); });
  EXPECT_FALSE(found);
  try {
    run(fake.address(), [](DockerEngine& e) -> asio::awaitable<void> { co_await e.find_image("broken"); });
    FAIL() << "find_image hides only 404";
  } catch (const EngineError& e) {
    EXPECT_FALSE(e.not_found());
    EXPECT_EQ(e.status(), 500u);
    EXPECT_EQ(e.engine_message(), "engine on fire");
  }
}

TEST(DockerEngine, NoEngineIsAConnectionError) {
  TempDir dir;
  EngineAddress nowhere{(dir / "none.sock").string()};
  try {
    run(nowhere, [](DockerEngine& e) -> asio::awaitable<void> { co_await e.inspect_image("x"); });
    FAIL();
  } catch (const EngineError& e) {
    EXPECT_EQ(e.kind(), EngineErrorKind::connection);
    EXPECT_THAT(e.what(), HasSubstr("cannot connect to the Docker engine at unix://" + nowhere.socket_path));
    EXPECT_THAT(e.what(), HasSubstr("DOCKER_HOST"));
  }
}

TEST(DockerEngine, ExportStreamsIntoTheSinkPieceByPiece) {
  FakeEngine fake;
  const std::string archive = pattern(8 << 20);
  fake.route("GET /v1.45/images/app:1/get", [&](const Recorded&) {
    std::vector<std::string> pieces;
    for (std::size_t i = 0; i < archive.size(); i += 100000) pieces.push_back(archive.substr(i, 100000));
    return chunked_reply(pieces, "application/x-tar");
  });
  struct CountingSink : ByteSink {
    std::string data;
    int writes = 0;
    std::size_t largest = 0;
    void write(std::span<const std::uint8_t> b) override {
      ++writes;
      largest = std::max(largest, b.size());
      data.append(b.begin(), b.end());
    }
  } sink;
  run(fake.address(), [&](DockerEngine& e) -> asio::awaitable<void> { co_await e.export_image("app:1", sink); });
  EXPECT_EQ(sink.data, archive);
  EXPECT_GT(sink.writes, 100) << "streamed, not collected";
  EXPECT_LE(sink.largest, 64u * 1024) << "bounded pieces";
}

TEST(DockerEngine, ExportToAFileAndNoFileLeftOnError) {
  FakeEngine fake;
  const std::string archive = pattern(300000);
  fake.route("GET /v1.45/images/app:1/get", [&](const Recorded&) { return json_reply(200, archive, "application/x-tar"); });
  fake.route("GET /v1.45/images/gone/get", [](const Recorded&) { return json_reply(404, R"({"message":"reference does not exist"})"); });
  TempDir dir;
  run(fake.address(), [&](DockerEngine& e) -> asio::awaitable<void> { co_await e.export_image("app:1", dir / "a.tar"); });
  std::ifstream in(dir / "a.tar", std::ios::binary);
  std::stringstream got;
  got << in.rdbuf();
  EXPECT_EQ(got.str(), archive);
  EXPECT_THROW(run(fake.address(), [&](DockerEngine& e) -> asio::awaitable<void> { co_await e.export_image("gone", dir / "b.tar"); }),
               EngineError);
  EXPECT_FALSE(std::filesystem::exists(dir / "b.tar"));
}

TEST(DockerEngine, LoadUploadsTheProducersBytesChunked) {
  FakeEngine fake;
  const std::string archive = pattern(3 << 20);
  fake.route("POST /v1.45/images/load", [](const Recorded&) {
    return chunked_reply({R"({"stream":"Loaded image: app:1\n"})" "\n", R"({"stream":"Loaded image ID: sha256:ff\n"})" "\n"});
  });
  std::vector<ProgressEvent> events;
  auto loaded = run(fake.address(), [&](DockerEngine& e) -> asio::awaitable<std::vector<std::string>> {
    co_return co_await e.load_image(
        [&](ByteSink& sink) {
          // Uneven pieces, as a producer assembling an archive makes them.
          for (std::size_t i = 0; i < archive.size();) {
            const std::size_t n = std::min<std::size_t>(1 + (i % 70000), archive.size() - i);
            sink.write({reinterpret_cast<const std::uint8_t*>(archive.data() + i), n});
            i += n;
          }
        },
        [&](const ProgressEvent& ev) { events.push_back(ev); });
  });
  EXPECT_THAT(loaded, ElementsAre("app:1", "sha256:ff"));
  EXPECT_EQ(events.size(), 2u);
  auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].target, "/v1.45/images/load?quiet=0");
  EXPECT_EQ(reqs[1].headers["Transfer-Encoding"], "chunked");
  EXPECT_EQ(reqs[1].headers["Content-Type"], "application/x-tar");
  EXPECT_TRUE(reqs[1].complete);
  EXPECT_EQ(reqs[1].body, archive);
}

TEST(DockerEngine, LoadFromAFile) {
  FakeEngine fake;
  TempDir dir;
  const std::string archive = pattern(200000);
  std::ofstream(dir / "in.tar", std::ios::binary) << archive;
  fake.route("POST /v1.45/images/load", [](const Recorded&) { return chunked_reply({R"({"stream":"Loaded image: x:2\n"})"}); });
  auto loaded = run(fake.address(), [&](DockerEngine& e) -> asio::awaitable<std::vector<std::string>> {
    co_return co_await e.load_image(dir / "in.tar");
  });
  EXPECT_THAT(loaded, ElementsAre("x:2"));
  EXPECT_EQ(fake.requests().back().body, archive);
  EXPECT_THROW(run(fake.address(), [&](DockerEngine& e) -> asio::awaitable<std::vector<std::string>> {
                 co_return co_await e.load_image(dir / "missing.tar");
               }),
               std::system_error);
}

TEST(DockerEngine, AFailingProducerCutsTheUploadShortAndIsRethrown) {
  FakeEngine fake;
  fake.route("POST /v1.45/images/load", [](const Recorded&) { return chunked_reply({}); });
  try {
    run(fake.address(), [&](DockerEngine& e) -> asio::awaitable<std::vector<std::string>> {
      co_return co_await e.load_image([](ByteSink& sink) {
        std::string half(100000, 'h');
        sink.write({reinterpret_cast<const std::uint8_t*>(half.data()), half.size()});
        throw std::runtime_error("layer 3 is unreadable");
      });
    });
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "layer 3 is unreadable");
  }
  // The engine never saw a complete body (no last chunk).
  for (const auto& r : fake.requests())
    if (r.target.find("/images/load") != std::string::npos) {
      EXPECT_FALSE(r.complete);
    }
}

TEST(DockerEngine, AnEngineRefusingAnUploadIsReportedWithItsMessage) {
  FakeEngine fake;
  fake.route("POST /v1.45/images/load",
             [](const Recorded&) { return json_reply(400, R"({"message":"unexpected EOF in archive"})"); },
             /*before_body=*/true);
  bool producer_stopped = false;
  try {
    run(fake.address(), [&](DockerEngine& e) -> asio::awaitable<std::vector<std::string>> {
      co_return co_await e.load_image([&](ByteSink& sink) {
        std::string block(1 << 20, 'b');
        try {
          for (int i = 0; i < 64; ++i) sink.write({reinterpret_cast<const std::uint8_t*>(block.data()), block.size()});
        } catch (const std::system_error&) {
          producer_stopped = true;  // EPIPE: the upload ended
          throw;
        }
      });
    });
    FAIL();
  } catch (const EngineError& e) {
    EXPECT_EQ(e.status(), 400u);
    EXPECT_EQ(e.engine_message(), "unexpected EOF in archive");
  }
  EXPECT_TRUE(producer_stopped);
}

TEST(DockerEngine, PullReportsProgressAndTheEnginesStreamedError) {
  FakeEngine fake;
  fake.route("POST /v1.45/images/create", [](const Recorded&) {
    return chunked_reply({R"({"status":"Pulling from library/app","id":"latest"})" "\n{\"status\":\"Downl",
                          R"(oading","progressDetail":{"current":5,"total":10},"id":"l1"})" "\n",
                          R"({"errorDetail":{"message":"unauthorized: authentication required"},"error":"unauthorized"})" "\n"});
  });
  std::vector<ProgressEvent> events;
  try {
    run(fake.address(), [&](DockerEngine& e) -> asio::awaitable<void> {
      co_await e.pull_image("app", [&](const ProgressEvent& ev) { events.push_back(ev); });
    });
    FAIL();
  } catch (const EngineError& e) {
    EXPECT_EQ(e.kind(), EngineErrorKind::stream);
    EXPECT_EQ(e.engine_message(), "unauthorized: authentication required");
    EXPECT_STREQ(e.what(), "pulling image app: unauthorized: authentication required");
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].current, 5u);
  EXPECT_EQ(fake.requests().back().target, "/v1.45/images/create?fromImage=app&tag=latest");
}

TEST(DockerEngine, EnsureImagePullsOnlyWhenAbsent) {
  FakeEngine fake;
  int inspections = 0;
  fake.route("GET /v1.45/images/app:2/json", [&](const Recorded&) {
    return ++inspections == 1 ? json_reply(404, R"({"message":"No such image: app:2"})") : json_reply(200, kImageJson);
  });
  fake.route("POST /v1.45/images/create", [](const Recorded&) { return chunked_reply({R"({"status":"Downloaded"})" "\n"}); });
  auto id = run(fake.address(), [](DockerEngine& e) -> asio::awaitable<std::string> { co_return (co_await e.ensure_image("app:2")).id; });
  EXPECT_EQ(id, "sha256:aa");
  EXPECT_EQ(fake.requests().size(), 4u);  // version, inspect, pull, inspect
  EXPECT_EQ(fake.requests()[2].target, "/v1.45/images/create?fromImage=app&tag=2");
}

TEST(DockerEngine, TagRemoveAndBuild) {
  FakeEngine fake;
  fake.route("POST /v1.45/images/src:1/tag", [](const Recorded&) { return json_reply(201, ""); });
  fake.route("DELETE /v1.45/images/src:1", [](const Recorded&) { return json_reply(200, "[]"); });
  fake.route("POST /v1.45/build", [](const Recorded&) {
    return chunked_reply({R"({"stream":"Step 1/1 : FROM scratch\n"})" "\n", R"({"aux":{"ID":"sha256:b1"}})" "\n",
                          R"({"stream":"Successfully built b1\n"})" "\n"});
  });
  const std::string context = pattern(10000);
  auto id = run(fake.address(), [&](DockerEngine& e) -> asio::awaitable<std::string> {
    co_await e.tag_image("src:1", "registry:5000/dst:2");
    co_await e.remove_image("src:1", true);
    BuildOptions options;
    options.tags = {"built:1"};
    co_return co_await e.build_image(options, [&](ByteSink& s) {
      s.write({reinterpret_cast<const std::uint8_t*>(context.data()), context.size()});
    });
  });
  EXPECT_EQ(id, "sha256:b1") << "the aux ID wins over the older text";
  auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[1].target, "/v1.45/images/src:1/tag?repo=registry%3A5000%2Fdst&tag=2");
  EXPECT_EQ(reqs[2].target, "/v1.45/images/src:1?force=1");
  EXPECT_THAT(reqs[3].target, HasSubstr("/v1.45/build?t=built%3A1&version=1&dockerfile=Dockerfile"));
  EXPECT_EQ(reqs[3].body, context);
}

TEST(DockerEngine, ABuildFailureIsTheEnginesMessage) {
  FakeEngine fake;
  fake.route("POST /v1.45/build", [](const Recorded&) {
    return chunked_reply({R"({"stream":"Step 1/2 : FROM scratch\n"})" "\n",
                          R"({"errorDetail":{"message":"COPY failed: file not found in build context"}})" "\n"});
  });
  try {
    run(fake.address(), [&](DockerEngine& e) -> asio::awaitable<std::string> {
      BuildOptions options;
      co_return co_await e.build_image(options, [](ByteSink&) {});
    });
    FAIL();
  } catch (const EngineError& e) {
    EXPECT_EQ(e.kind(), EngineErrorKind::stream);
    EXPECT_THAT(e.engine_message(), HasSubstr("COPY failed"));
  }
}

}  // namespace
}  // namespace enclaver::image::engine
