// NSM messages: byte-exact encodings (nsm.md §2 worked examples and
// hand-written CBOR for every other variant), round trips, tolerant decoding
// (key order, integer widths, unknown keys) and malformed input.
#include "nsm/messages.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

namespace enclaver::nsm {
namespace {

Bytes H(std::string_view hex) {
  Bytes out;
  int hi = -1;
  for (char c : hex) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(hi * 16 + v));
      hi = -1;
    }
  }
  EXPECT_EQ(hi, -1) << "odd hex";
  return out;
}

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const Bytes kExtendedValue =
    H("cb178fcd3f328244c05c6248723fd068b3a1dda878e1ab8be911098f199958add55d0c27f04826d27b44d949a650694e");

Bytes seq(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return b;
}

struct RequestCase {
  const char* name;
  Request value;
  Bytes bytes;
};

struct ResponseCase {
  const char* name;
  Response value;
  Bytes bytes;
};

std::vector<RequestCase> request_cases() {
  return {
      // nsm.md worked examples
      {"GetRandom", request::GetRandom{}, H("69 47 65 74 52 61 6e 64 6f 6d")},
      {"DescribePCR0", request::DescribePCR{0}, H("a1 6b 44 65 73 63 72 69 62 65 50 43 52 a1 65 69 6e 64 65 78 00")},
      {"DescribePCR16", request::DescribePCR{16}, H("a1 6b 4465736372696265504352 a1 65 696e646578 10")},
      {"DescribePCR31", request::DescribePCR{31}, H("a1 6b 4465736372696265504352 a1 65 696e646578 18 1f")},
      {"ExtendPCR16", request::ExtendPCR{16, {1, 2, 3}},
       H("a1 69 457874656e64504352 a2 65 696e646578 10 64 64617461 43 010203")},
      {"AttestationNothing", request::Attestation{},
       H("a1 6b 4174746573746174696f6e a3 69 757365725f64617461 f6 65 6e6f6e6365 f6 6a 7075626c69635f6b6579 f6")},
      // hand-written
      {"DescribeNSM", request::DescribeNSM{}, H("6b 44657363726962654e534d")},
      {"LockPCR16", request::LockPCR{16}, H("a1 67 4c6f636b504352 a1 65 696e646578 10")},
      {"LockPCRs32", request::LockPCRs{32}, H("a1 68 4c6f636b50435273 a1 65 72616e6765 18 20")},
      {"DescribePCR65535", request::DescribePCR{65535}, H("a1 6b 4465736372696265504352 a1 65 696e646578 19 ffff")},
      {"ExtendPCR300Empty", request::ExtendPCR{300, {}}, H("a1 69 457874656e64504352 a2 65 696e646578 19 012c 64 64617461 40")},
      {"AttestationAll", request::Attestation{Bytes{1, 2}, Bytes{}, Bytes{0xaa}},
       H("a1 6b 4174746573746174696f6e a3 69 757365725f64617461 42 0102 65 6e6f6e6365 40 6a 7075626c69635f6b6579 41 aa")},
      {"AttestationLarge", request::Attestation{seq(1024), std::nullopt, std::nullopt},
       cat(cat(H("a1 6b 4174746573746174696f6e a3 69 757365725f64617461 59 0400"), seq(1024)),
           H("65 6e6f6e6365 f6 6a 7075626c69635f6b6579 f6"))},
  };
}

std::vector<ResponseCase> response_cases() {
  std::vector<ResponseCase> v = {
      // nsm.md worked examples
      {"ExtendPCR", response::ExtendPCR{kExtendedValue},
       cat(H("a1 69 457874656e64504352 a1 64 64617461 58 30"), kExtendedValue)},
      {"ErrorInvalidArgument", response::Error{ErrorCode::InvalidArgument},
       H("a1 65 4572726f72 6f 496e76616c6964417267756d656e74")},
      {"LockPCR", response::LockPCR{}, H("67 4c6f636b504352")},
      {"GetRandom256", response::GetRandom{seq(256)},
       cat(H("a1 69 47657452616e646f6d a1 66 72616e646f6d 59 01 00"), seq(256))},
      // hand-written
      {"LockPCRs", response::LockPCRs{}, H("68 4c6f636b50435273")},
      {"DescribePCRLocked", response::DescribePCR{true, Bytes(48, 0)},
       cat(H("a1 6b 4465736372696265504352 a2 64 6c6f636b f5 64 64617461 58 30"), Bytes(48, 0))},
      {"DescribePCRUnlocked", response::DescribePCR{false, kExtendedValue},
       cat(H("a1 6b 4465736372696265504352 a2 64 6c6f636b f4 64 64617461 58 30"), kExtendedValue)},
      {"DescribeNSM",
       response::DescribeNSM{1, 0, 0, "i-0d77c5a9ff8a7dbad-enc0199e6cadc8142c2", 32,
                             {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, "SHA384"},
       H("a1 6b 44657363726962654e534d a7"
         " 6d 76657273696f6e5f6d616a6f72 01"
         " 6d 76657273696f6e5f6d696e6f72 00"
         " 6d 76657273696f6e5f7061746368 00"
         " 69 6d6f64756c655f6964 78 27 692d30643737633561396666386137646261642d656e633031393965366361646338313432633"
         "2"
         " 68 6d61785f70637273 18 20"
         " 6b 6c6f636b65645f70637273 90 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f"
         " 66 646967657374 66 534841333834")},
      {"DescribeNSMEmptyLocked", response::DescribeNSM{1, 2, 300, "sim-x", 32, {}, "SHA384"},
       H("a1 6b 44657363726962654e534d a7"
         " 6d 76657273696f6e5f6d616a6f72 01"
         " 6d 76657273696f6e5f6d696e6f72 02"
         " 6d 76657273696f6e5f7061746368 19 012c"
         " 69 6d6f64756c655f6964 65 73696d2d78"
         " 68 6d61785f70637273 18 20"
         " 6b 6c6f636b65645f70637273 80"
         " 66 646967657374 66 534841333834")},
      {"Attestation", response::Attestation{H("84 44 a1013822 a0 40 40")},
       H("a1 6b 4174746573746174696f6e a1 68 646f63756d656e74 49 84 44 a1013822 a0 40 40")},
      {"GetRandomEmpty", response::GetRandom{{}}, H("a1 69 47657452616e646f6d a1 66 72616e646f6d 40")},
  };
  // Every error code.
  const std::pair<ErrorCode, const char*> codes[] = {
      {ErrorCode::Success, "53756363657373"},
      {ErrorCode::InvalidArgument, "496e76616c6964417267756d656e74"},
      {ErrorCode::InvalidIndex, "496e76616c6964496e646578"},
      {ErrorCode::InvalidResponse, "496e76616c6964526573706f6e7365"},
      {ErrorCode::ReadOnlyIndex, "526561644f6e6c79496e646578"},
      {ErrorCode::InvalidOperation, "496e76616c69644f7065726174696f6e"},
      {ErrorCode::BufferTooSmall, "427566666572546f6f536d616c6c"},
      {ErrorCode::InputTooLarge, "496e707574546f6f4c61726765"},
      {ErrorCode::InternalError, "496e7465726e616c4572726f72"},
  };
  for (auto [code, hex] : codes) {
    Bytes name = H(hex);
    Bytes b = H("a1 65 4572726f72");
    b.push_back(static_cast<std::uint8_t>(0x60 + name.size()));
    v.push_back({"Error", response::Error{code}, cat(b, name)});
  }
  return v;
}

TEST(NsmMessages, RequestsEncodeByteExact) {
  for (const auto& c : request_cases()) {
    EXPECT_EQ(encode(c.value), c.bytes) << c.name;
  }
}

TEST(NsmMessages, RequestsDecodeAndRoundTrip) {
  for (const auto& c : request_cases()) {
    auto d = decode_request(c.bytes);
    ASSERT_TRUE(d.ok()) << c.name << ": " << d.error().message;
    EXPECT_EQ(*d, c.value) << c.name;
    EXPECT_EQ(encode(*d), c.bytes) << c.name;
  }
}

TEST(NsmMessages, ResponsesEncodeByteExact) {
  for (const auto& c : response_cases()) {
    EXPECT_EQ(encode(c.value), c.bytes) << c.name;
  }
}

TEST(NsmMessages, ResponsesDecodeAndRoundTrip) {
  for (const auto& c : response_cases()) {
    auto d = decode_response(c.bytes);
    ASSERT_TRUE(d.ok()) << c.name << ": " << d.error().message;
    EXPECT_EQ(*d, c.value) << c.name;
    EXPECT_EQ(encode(*d), c.bytes) << c.name;
  }
}

TEST(NsmMessages, WorkedExampleSizes) {
  EXPECT_EQ(encode(Request(request::GetRandom{})).size(), 10u);
  EXPECT_EQ(encode(Request(request::DescribePCR{0})).size(), 21u);
  EXPECT_EQ(encode(Request(request::ExtendPCR{16, {1, 2, 3}})).size(), 28u);
  EXPECT_EQ(encode(Response(response::ExtendPCR{kExtendedValue})).size(), 67u);
  EXPECT_EQ(encode(Request(request::Attestation{})).size(), 44u);
  EXPECT_EQ(encode(Response(response::Error{ErrorCode::InvalidArgument})).size(), 23u);
  EXPECT_EQ(encode(Response(response::GetRandom{seq(256)})).size(), 278u);
}

TEST(NsmMessages, ErrorCodeNamesAndMeanings) {
  for (std::size_t i = 0; i < kErrorCodeCount; ++i) {
    auto code = static_cast<ErrorCode>(i);
    auto name = error_code_name(code);
    EXPECT_EQ(error_code_from_name(name), code);
    EXPECT_FALSE(error_code_meaning(code).empty());
  }
  EXPECT_EQ(error_code_name(ErrorCode::ReadOnlyIndex), "ReadOnlyIndex");
  EXPECT_EQ(static_cast<int>(ErrorCode::InternalError), 8);
  EXPECT_FALSE(error_code_from_name("invalidindex").has_value());
  EXPECT_FALSE(error_code_from_name("").has_value());
}

TEST(NsmMessages, NamesOfVariants) {
  EXPECT_EQ(name_of(Request(request::Attestation{})), "Attestation");
  EXPECT_EQ(name_of(Request(request::LockPCRs{})), "LockPCRs");
  EXPECT_EQ(name_of(Response(response::Error{})), "Error");
  EXPECT_EQ(name_of(Response(response::DescribeNSM{})), "DescribeNSM");
}

TEST(NsmMessages, TruncationAtEveryOffsetFails) {
  for (const auto& c : request_cases()) {
    for (std::size_t k = 0; k < c.bytes.size(); ++k) {
      EXPECT_FALSE(decode_request(std::span(c.bytes).first(k)).ok()) << c.name << " cut at " << k;
    }
  }
  for (const auto& c : response_cases()) {
    for (std::size_t k = 0; k < c.bytes.size(); ++k) {
      EXPECT_FALSE(decode_response(std::span(c.bytes).first(k)).ok()) << c.name << " cut at " << k;
    }
  }
}

TEST(NsmMessages, TrailingBytesFail) {
  auto r = decode_request(cat(encode(Request(request::GetRandom{})), {0x00}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("NSM request: "), std::string::npos);
  EXPECT_FALSE(decode_response(cat(H("67 4c6f636b504352"), {0xf6})).ok());
}

// --- tolerant decoding -------------------------------------------------------

TEST(NsmMessages, QemuKeyOrderDecodes) {
  // DescribePCR as data, lock.
  auto d = decode_response(cat(H("a1 6b 4465736372696265504352 a2 64 64617461 58 30"), cat(Bytes(48, 7), H("64 6c6f636b f5"))));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(*d, Response(response::DescribePCR{true, Bytes(48, 7)}));
  // DescribeNSM as digest, max_pcrs, module_id, locked_pcrs, version_*.
  auto n = decode_response(H("a1 6b 44657363726962654e534d a7"
                             " 66 646967657374 66 534841333834"
                             " 68 6d61785f70637273 18 20"
                             " 69 6d6f64756c655f6964 63 692d31"
                             " 6b 6c6f636b65645f70637273 82 00 01"
                             " 6d 76657273696f6e5f6d616a6f72 01"
                             " 6d 76657273696f6e5f6d696e6f72 00"
                             " 6d 76657273696f6e5f7061746368 00"));
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, Response(response::DescribeNSM{1, 0, 0, "i-1", 32, {0, 1}, "SHA384"}));
  // ExtendPCR request as data, index.
  auto e = decode_request(H("a1 69 457874656e64504352 a2 64 64617461 43 010203 65 696e646578 10"));
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(*e, Request(request::ExtendPCR{16, {1, 2, 3}}));
}

TEST(NsmMessages, AnyIntegerWidthDecodes) {
  for (const char* idx : {"10", "18 10", "19 0010", "1a 00000010", "1b 0000000000000010"}) {
    auto r = decode_request(cat(H("a1 6b 4465736372696265504352 a1 65 696e646578"), H(idx)));
    ASSERT_TRUE(r.ok()) << idx << ": " << r.error().message;
    EXPECT_EQ(*r, Request(request::DescribePCR{16}));
  }
}

TEST(NsmMessages, UnknownInnerKeysIgnored) {
  auto r = decode_request(H("a1 67 4c6f636b504352 a2 63 666f6f 82 01 02 65 696e646578 05"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, Request(request::LockPCR{5}));
  auto s = decode_response(H("a1 69 47657452616e646f6d a2 66 72616e646f6d 41 ff 01 02"));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(*s, Response(response::GetRandom{{0xff}}));
}

TEST(NsmMessages, IndefiniteLengthsDecode) {
  auto r = decode_request(H("bf 6b 4465736372696265504352 bf 65 696e646578 03 ff ff"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, Request(request::DescribePCR{3}));
  auto s = decode_response(H("a1 69 47657452616e646f6d a1 66 72616e646f6d 5f 41 01 42 0203 ff"));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(*s, Response(response::GetRandom{{1, 2, 3}}));
}

TEST(NsmMessages, RequestsAcceptTextForBytesLikeQemu) {
  auto e = decode_request(H("a1 69 457874656e64504352 a2 65 696e646578 10 64 64617461 63 616263"));
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(*e, Request(request::ExtendPCR{16, {'a', 'b', 'c'}}));
  auto a = decode_request(H("a1 6b 4174746573746174696f6e a3 69 757365725f64617461 62 6869 65 6e6f6e6365 f6 6a 7075626c69635f6b6579 f6"));
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(*a, Request(request::Attestation{Bytes{'h', 'i'}, std::nullopt, std::nullopt}));
}

TEST(NsmMessages, AttestationMissingFieldsAreNull) {
  auto a = decode_request(H("a1 6b 4174746573746174696f6e a1 65 6e6f6e6365 41 09"));
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(*a, Request(request::Attestation{std::nullopt, Bytes{9}, std::nullopt}));
  auto empty = decode_request(H("a1 6b 4174746573746174696f6e a0"));
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(*empty, Request(request::Attestation{}));
}

// --- malformed input ---------------------------------------------------------

void expect_request_error(const Bytes& b, std::string_view needle) {
  auto r = decode_request(b);
  ASSERT_FALSE(r.ok()) << "decoded: " << name_of(*r);
  EXPECT_EQ(r.error().message.rfind("NSM request: ", 0), 0u) << r.error().message;
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message << " lacks " << needle;
}

void expect_response_error(const Bytes& b, std::string_view needle) {
  auto r = decode_response(b);
  ASSERT_FALSE(r.ok()) << "decoded: " << name_of(*r);
  EXPECT_EQ(r.error().message.rfind("NSM response: ", 0), 0u) << r.error().message;
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message << " lacks " << needle;
}

TEST(NsmMessages, WrongShapes) {
  expect_request_error(H("01"), "expected a text string or a one-entry map");
  expect_request_error(H("81 69 47657452616e646f6d"), "expected a text string or a one-entry map");
  expect_request_error(H("a0"), "one-entry map, got 0");
  expect_request_error(H("a2 69 47657452616e646f6d f6 6b 44657363726962654e534d f6"), "one-entry map, got 2");
  expect_request_error(H("a1 01 a1 65 696e646578 00"), "variant name must be a text string");
  expect_request_error(H("f6"), "expected a text string or a one-entry map");
  expect_response_error(H("40"), "expected a text string or a one-entry map");
  expect_response_error(H("a1 41 00 f6"), "variant name must be a text string");
  // inner not a map
  expect_request_error(H("a1 6b 4465736372696265504352 81 00"), "expected a map of fields");
  expect_response_error(H("a1 69 47657452616e646f6d 41 00"), "expected a map of fields");
}

TEST(NsmMessages, UnknownVariants) {
  expect_request_error(H("63 466f6f"), "unknown unit variant");                            // "Foo"
  expect_request_error(H("a1 63 466f6f a0"), "unknown struct variant");                    // {"Foo": {}}
  expect_request_error(H("6b 4465736372696265504352"), "unknown unit variant");            // "DescribePCR" as unit
  expect_request_error(H("67 4c6f636b504352"), "unknown unit variant");                    // response-only unit
  expect_request_error(H("a1 69 47657452616e646f6d a0"), "unknown struct variant");        // GetRandom as struct
  expect_request_error(H("a1 65 4572726f72 6f 496e76616c6964417267756d656e74"), "unknown struct variant");  // Error as request
  expect_response_error(H("69 47657452616e646f6d"), "unknown unit variant");               // "GetRandom"
  expect_response_error(H("6b 44657363726962654e534d"), "unknown unit variant");           // "DescribeNSM"
  expect_response_error(H("67 6c6f636b706372"), "unknown unit variant");                   // case matters
  expect_response_error(H("a1 67 4c6f636b504352 a0"), "unknown struct variant");          // LockPCR as struct
}

TEST(NsmMessages, WrongFieldTypes) {
  // index as text / negative / too large / bool
  expect_request_error(H("a1 6b 4465736372696265504352 a1 65 696e646578 61 30"), "\"index\" must be an unsigned integer");
  expect_request_error(H("a1 6b 4465736372696265504352 a1 65 696e646578 20"), "\"index\" must be an unsigned integer");
  expect_request_error(H("a1 6b 4465736372696265504352 a1 65 696e646578 1a 00010000"), "out of range");
  expect_request_error(H("a1 68 4c6f636b50435273 a1 65 72616e6765 f5"), "\"range\" must be an unsigned integer");
  // missing fields
  expect_request_error(H("a1 6b 4465736372696265504352 a0"), "missing field \"index\"");
  expect_request_error(H("a1 69 457874656e64504352 a1 65 696e646578 10"), "missing field \"data\"");
  // data as an array of integers
  expect_request_error(H("a1 69 457874656e64504352 a2 65 696e646578 10 64 64617461 83 01 02 03"), "\"data\" must be a byte string");
  expect_request_error(H("a1 6b 4174746573746174696f6e a1 65 6e6f6e6365 81 01"), "\"nonce\" must be a byte string");
  // responses are strict: text for bytes refused
  expect_response_error(H("a1 69 457874656e64504352 a1 64 64617461 63 616263"), "\"data\" must be a byte string");
  expect_response_error(H("a1 69 457874656e64504352 a1 64 64617461 82 01 02"), "\"data\" must be a byte string");
  expect_response_error(H("a1 6b 4465736372696265504352 a2 64 6c6f636b 01 64 64617461 40"), "\"lock\" must be a boolean");
  expect_response_error(H("a1 6b 4465736372696265504352 a1 64 64617461 40"), "missing field \"lock\"");
  expect_response_error(H("a1 6b 4174746573746174696f6e a1 68 646f63756d656e74 f6"), "\"document\" must be a byte string");
  expect_response_error(H("a1 69 47657452616e646f6d a0"), "missing field \"random\"");
  // Error code: not text, unknown name
  expect_response_error(H("a1 65 4572726f72 02"), "error code must be a text string");
  expect_response_error(H("a1 65 4572726f72 63 466f6f"), "unknown error code");
  // DescribeNSM: locked_pcrs wrong, module_id wrong, version too big
  const char* nsm_head = "a1 6b 44657363726962654e534d a7 6d 76657273696f6e5f6d616a6f72 01 6d 76657273696f6e5f6d696e6f72 00 6d 76657273696f6e5f7061746368 00 ";
  expect_response_error(H(std::string(nsm_head) + "69 6d6f64756c655f6964 41 00 68 6d61785f70637273 18 20 6b 6c6f636b65645f70637273 80 66 646967657374 66 534841333834"),
                        "\"module_id\" must be a text string");
  expect_response_error(H(std::string(nsm_head) + "69 6d6f64756c655f6964 60 68 6d61785f70637273 18 20 6b 6c6f636b65645f70637273 41 00 66 646967657374 66 534841333834"),
                        "\"locked_pcrs\" must be an array");
  expect_response_error(H(std::string(nsm_head) + "69 6d6f64756c655f6964 60 68 6d61785f70637273 18 20 6b 6c6f636b65645f70637273 81 61 30 66 646967657374 66 534841333834"),
                        "\"locked_pcrs\" must hold unsigned integers");
  expect_response_error(H(std::string(nsm_head) + "69 6d6f64756c655f6964 60 68 6d61785f70637273 1a 00010000 6b 6c6f636b65645f70637273 80 66 646967657374 66 534841333834"),
                        "\"max_pcrs\" out of range");
  std::string six(nsm_head);
  six.replace(six.find(" a7 "), 4, " a6 ");
  expect_response_error(H(six + "69 6d6f64756c655f6964 60 68 6d61785f70637273 18 20 6b 6c6f636b65645f70637273 80"),
                        "missing field \"digest\"");
}

TEST(NsmMessages, CborLevelErrors) {
  // duplicate inner key
  expect_request_error(H("a1 6b 4465736372696265504352 a2 65 696e646578 01 65 696e646578 02"), "offset");
  // invalid UTF-8 in the variant name
  expect_request_error(H("62 c3 28"), "offset");
  // reserved additional information
  expect_response_error(H("7c"), "offset");
  expect_request_error({}, "offset 0");
}

TEST(NsmMessages, SizeLimits) {
  // A request of exactly 4096 bytes decodes; one byte more is refused before parsing.
  const Bytes head = H("a1 69 457874656e64504352 a2 65 696e646578 10 64 64617461 59");
  const std::size_t fixed = head.size() + 2;
  const std::size_t n = kMaxRequestSize - fixed;
  Bytes ok = head;
  ok.push_back(static_cast<std::uint8_t>(n >> 8));
  ok.push_back(static_cast<std::uint8_t>(n));
  ok.resize(kMaxRequestSize, 0x5a);
  auto r = decode_request(ok);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(std::get<request::ExtendPCR>(*r).data.size(), n);
  Bytes big = encode(Request(request::ExtendPCR{16, Bytes(n + 1, 0x5a)}));
  ASSERT_EQ(big.size(), kMaxRequestSize + 1);
  expect_request_error(big, "too large: 4097 bytes, the limit is 4096");

  // {"Attestation": {"document": bstr}} costs 26 bytes around the document.
  Bytes resp = encode(Response(response::Attestation{Bytes(kMaxResponseSize - 26, 1)}));
  ASSERT_EQ(resp.size(), kMaxResponseSize);
  EXPECT_TRUE(decode_response(resp).ok());
  Bytes resp_big = encode(Response(response::Attestation{Bytes(kMaxResponseSize, 1)}));
  expect_response_error(resp_big, "the limit is 12288");
}

TEST(NsmMessages, LengthFieldsAreNotTrusted) {
  // A byte string claiming 2^32 bytes, and an array claiming 2^64 - 1 items.
  expect_request_error(H("a1 69 457874656e64504352 a2 65 696e646578 10 64 64617461 5a ffffffff 00"), "offset");
  expect_response_error(H("a1 6b 44657363726962654e534d a1 6b 6c6f636b65645f70637273 9b ffffffffffffffff 00"), "offset");
}

TEST(NsmMessages, DeepNestingRefused) {
  Bytes deep(200, 0x81);
  deep.push_back(0x00);
  expect_request_error(cat(H("a1 63 466f6f"), deep), "offset");
}

}  // namespace
}  // namespace enclaver::nsm
