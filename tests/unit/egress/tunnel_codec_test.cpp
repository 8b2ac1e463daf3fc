// The egress tunnel's framing: upstream's exact bytes, every way a frame can
// arrive in pieces, and everything a peer that is not ours might send.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "egress/tunnel_codec.hpp"

namespace enclaver::egress {
namespace {

using ::testing::HasSubstr;
using namespace std::string_literals;

std::string framed(const std::string& json) {
  return std::string{static_cast<char>(json.size() & 0xff), static_cast<char>(json.size() >> 8)} + json;
}

TEST(TunnelCodec, RequestBytesAreUpstreams) {
  auto frame = encode_request({"example.com", 443});
  ASSERT_TRUE(frame);
  EXPECT_EQ(*frame, "\x21\x00"s + R"({"host":"example.com","port":443})");
  EXPECT_EQ(*encode_request({"2001:db8::1", 8443}), framed(R"({"host":"2001:db8::1","port":8443})"));
}

TEST(TunnelCodec, ResponseBytesAreUpstreams) {
  EXPECT_EQ(encode_response({}), "\x04\x00\"Ok\""s);
  EXPECT_EQ(encode_response({DialError{111, "Connection refused", false}}),
            framed(R"({"Err":{"os_code":111,"message":"Connection refused"}})"));
}

TEST(TunnelCodec, LengthIsLittleEndian) {
  const std::string host(300, 'a');
  auto frame = encode_request({host, 1});
  ASSERT_TRUE(frame);
  const std::size_t body = frame->size() - 2;
  EXPECT_EQ(static_cast<unsigned char>((*frame)[0]), body & 0xff);
  EXPECT_EQ(static_cast<unsigned char>((*frame)[1]), body >> 8);
}

TEST(TunnelCodec, RoundTrips) {
  for (const TunnelRequest& request : {TunnelRequest{"example.com", 1}, TunnelRequest{"1.2.3.4", 65535},
                                       TunnelRequest{"b\xc3\xbc\x63her.de", 80}, TunnelRequest{"a\"b\\c\n", 5}}) {
    auto frame = encode_request(request);
    ASSERT_TRUE(frame) << request.host;
    auto parsed = parse_request(frame->substr(2));
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(*parsed, request);
  }
  for (const TunnelResponse& response :
       {TunnelResponse{}, TunnelResponse{DialError{13, "denied by egress.deny[0] \"x\"", false}},
        TunnelResponse{DialError{110, "timed out", true}}, TunnelResponse{DialError{-5, "", false}}}) {
    auto parsed = parse_response(encode_response(response).substr(2));
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(*parsed, response);
  }
}

TEST(TunnelCodec, ErrorMessagesAlwaysFitAFrame) {
  const std::string long_message(10000, '\x01');  // each byte escapes to six
  const std::string frame = encode_response({DialError{5, long_message, false}});
  ASSERT_LE(frame.size() - 2, kMaxFrame);
  auto parsed = parse_response(frame.substr(2));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_FALSE(parsed->error->message.empty());
  // Not UTF-8: replaced, still a valid frame.
  auto lossy = parse_response(encode_response({DialError{5, "bad \xff byte", false}}).substr(2));
  ASSERT_TRUE(lossy);
  EXPECT_THAT(lossy->error->message, HasSubstr("bad "));
}

TEST(TunnelCodec, RequestsThatCannotBeEncodedAreRefused) {
  EXPECT_FALSE(encode_request({"", 443}));
  EXPECT_FALSE(encode_request({"example.com", 0}));
  EXPECT_FALSE(encode_request({std::string(kMaxRequestHost + 1, 'a'), 443}));
  EXPECT_THAT(encode_request({"bad\xff", 443}).error().message, HasSubstr("UTF-8"));
}

TEST(TunnelCodec, ParsingAcceptsJsonWhitespaceAndAnyFieldOrder) {
  EXPECT_EQ(*parse_request(R"( { "port" : 80 , "host" : "a.com" } )"), (TunnelRequest{"a.com", 80}));
  EXPECT_TRUE(parse_response(" \"Ok\"\n")->ok());
  EXPECT_TRUE(parse_response(R"({"Ok":null})")->ok()) << "serde's other spelling of a unit variant";
  auto err = parse_response(R"({"Err":{"message":"m","os_code":110}})");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->error->os_code, 110);
  EXPECT_TRUE(err->error->timed_out);
}

struct Malformed {
  const char* json;
  const char* reason;
};

TEST(TunnelCodec, MalformedRequestsAreRefusedWithAReason) {
  const Malformed cases[] = {
      {"", "not JSON"},
      {"{", "not JSON"},
      {R"({"host":"a.com","port":443} x)", "not JSON"},
      {R"({"host":"a.com","port":443}{})", "not JSON"},
      {"\"Ok\"", "must be an object"},
      {"[\"a.com\",443]", "must be an object"},
      {R"({"host":"a.com"})", "no \"port\""},
      {R"({"port":443})", "no \"host\""},
      {R"({"host":"a.com","port":443,"via":"b.com"})", "unknown field \"via\""},
      {R"({"host":"a.com","port":443,"host":"evil.com"})", "\"host\" appears twice"},
      {R"({"host":"a.com","port":"443"})", "port must be an integer"},
      {R"({"host":"a.com","port":443.0})", "fractional"},
      {R"({"host":"a.com","port":-1})", "negative"},
      {R"({"host":"a.com","port":65536})", "not in 1..65535"},
      {R"({"host":"a.com","port":0})", "not in 1..65535"},
      {R"({"host":"a.com","port":1e2})", "fractional"},
      {R"({"host":"a.com","port":99999999999999999999999})", "port must be an integer"},
      {R"({"host":"a.com","port":true})", "boolean"},
      {R"({"host":null,"port":443})", "host must be a string"},
      {R"({"host":["a.com"],"port":443})", "host must be a string"},
      {R"({"host":"","port":443})", "host is empty"},
      {"{\"host\":\"a\xff.com\",\"port\":443}", "not JSON"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_request(c.json);
    ASSERT_FALSE(parsed) << c.json;
    EXPECT_THAT(parsed.error().message, HasSubstr(c.reason)) << c.json;
    EXPECT_THAT(parsed.error().message, HasSubstr("bad tunnel request")) << c.json;
  }
  EXPECT_FALSE(parse_request(R"({"host":")" + std::string(kMaxRequestHost + 1, 'a') + R"(","port":1})"));
}

TEST(TunnelCodec, MalformedResponsesAreRefusedWithAReason) {
  const Malformed cases[] = {
      {"Ok", "not JSON"},
      {"\"ok\"", "is not \"Ok\""},
      {"\"Err\"", "is not \"Ok\""},
      {"null", "expected"},
      {"{}", "expected"},
      {R"({"Ok":null,"Err":{"os_code":1,"message":""}})", "expected"},
      {R"({"Ok":1})", "carries a value"},
      {R"({"Err":"Connection refused"})", "must be an object"},
      {R"({"Err":{"os_code":111}})", "no \"message\""},
      {R"({"Err":{"message":"x"}})", "no \"os_code\""},
      {R"({"Err":{"os_code":"111","message":"x"}})", "os_code must be an integer"},
      {R"({"Err":{"os_code":1.5,"message":"x"}})", "os_code must be an integer"},
      {R"({"Err":{"os_code":4294967296,"message":"x"}})", "out of range"},
      {R"({"Err":{"os_code":111,"message":7}})", "message must be a string"},
      {R"({"Err":{"os_code":111,"message":"x","kind":"y"}})", "unknown field"},
      {R"({"Err":{"os_code":111,"os_code":13,"message":"x"}})", "appears twice"},
      {R"("Ok" "Ok")", "not JSON"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_response(c.json);
    ASSERT_FALSE(parsed) << c.json;
    EXPECT_THAT(parsed.error().message, HasSubstr(c.reason)) << c.json;
  }
}

TEST(FrameReader, EverySplitOfTwoFramesGivesTheFirstAndLeavesTheRest) {
  const std::string first = *encode_request({"example.com", 443});
  const std::string stream = first + "GET / HTTP/1.1\r\n";  // payload follows the frame
  for (std::size_t a = 0; a <= stream.size(); ++a) {
    for (std::size_t b = a; b <= stream.size(); ++b) {
      FrameReader reader;
      std::size_t used = 0;
      for (auto piece : {std::string_view(stream).substr(0, a), std::string_view(stream).substr(a, b - a),
                         std::string_view(stream).substr(b)}) {
        used += reader.feed(piece);
        if (reader.complete()) break;
      }
      ASSERT_TRUE(reader.complete()) << a << "," << b;
      EXPECT_EQ(used, first.size()) << "consumed past the frame at split " << a << "," << b;
      EXPECT_EQ(reader.payload(), first.substr(2));
      EXPECT_EQ(reader.wanted(), 0u);
      EXPECT_EQ(reader.feed("more"), 0u);
    }
  }
}

TEST(FrameReader, WantedIsExactlyWhatTheFrameStillNeeds) {
  const std::string frame = encode_response({});
  FrameReader reader;
  EXPECT_EQ(reader.wanted(), 2u);
  reader.feed(frame.substr(0, 1));
  EXPECT_EQ(reader.wanted(), 1u);
  reader.feed(frame.substr(1, 1));
  EXPECT_EQ(reader.wanted(), 4u);
  reader.feed(frame.substr(2, 3));
  EXPECT_EQ(reader.wanted(), 1u);
  reader.feed(frame.substr(5));
  EXPECT_TRUE(reader.complete());
}

TEST(FrameReader, OversizeAndEmptyFramesFailAtTheHeader) {
  FrameReader big;
  EXPECT_EQ(big.feed("\xff\xff{\"host\""), 2u) << "nothing of the body is taken";
  EXPECT_TRUE(big.failed());
  EXPECT_THAT(big.error(), HasSubstr("65535 bytes, more than the limit of 4096"));
  EXPECT_EQ(big.wanted(), 0u);

  FrameReader just_over;
  just_over.feed(std::string{static_cast<char>((kMaxFrame + 1) & 0xff), static_cast<char>((kMaxFrame + 1) >> 8)});
  EXPECT_TRUE(just_over.failed());
  FrameReader at_limit;
  at_limit.feed(std::string{static_cast<char>(kMaxFrame & 0xff), static_cast<char>(kMaxFrame >> 8)});
  EXPECT_FALSE(at_limit.failed());
  EXPECT_EQ(at_limit.wanted(), kMaxFrame);

  FrameReader empty;
  empty.feed("\x00\x00"s);
  EXPECT_TRUE(empty.failed());
  EXPECT_THAT(empty.error(), HasSubstr("empty frame"));
}

}  // namespace
}  // namespace enclaver::egress
