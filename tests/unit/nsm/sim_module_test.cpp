// The simulated NSM (nsm.md §1-§4, simulation.md "Simulated NSM").
#include "nsm/sim_module.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "nsm/messages.hpp"
#include "tests/support/bytes.hpp"

namespace enclaver::nsm::sim {
namespace {

using enclaver::testing::hex;
using enclaver::testing::unhex;
using enclaver::testing::bytes;
using enclaver::testing::pattern;

eif::Digest digest_filled(std::uint8_t v) {
  eif::Digest d;
  d.fill(v);
  return d;
}

Bytes bytes_of(const eif::Digest& d) { return Bytes(d.begin(), d.end()); }

// SHA-384 with the openssl command line, independent of our code.
Bytes openssl_sha384(const Bytes& data) {
  char path[] = "/tmp/sim_nsm_sha_XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  close(fd);
  std::string cmd = std::string("openssl dgst -sha384 -r ") + path;
  FILE* p = popen(cmd.c_str(), "r");
  EXPECT_NE(p, nullptr);
  char buf[256] = {};
  std::string out;
  while (fgets(buf, sizeof buf, p)) out += buf;
  pclose(p);
  unlink(path);
  return unhex(out.substr(0, 96));
}

struct Fixture : ::testing::Test {
  std::vector<AttestationFields> issued;
  int random_calls = 0;

  Config config(bool debug = false) {
    Config c;
    c.pcr0 = digest_filled(0xa0);
    c.pcr1 = digest_filled(0xa1);
    c.pcr2 = digest_filled(0xa2);
    c.pcr8 = digest_filled(0xa8);
    c.other_pcrs[4] = digest_filled(0xa4);
    c.debug_mode = debug;
    c.module_id = "sim-test-enc0123456789abcdef";
    c.issuer = [this](const AttestationFields& f) -> Result<Bytes> {
      issued.push_back(f);
      return Bytes{0x84, 0x01, 0x02};
    };
    c.random = [this](std::span<std::uint8_t> out) {
      ++random_calls;
      for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(i);
      return true;
    };
    c.clock = [] { return std::uint64_t{1760583282550}; };
    return c;
  }
};

template <class T>
const T& as(const Response& r) {
  EXPECT_TRUE(std::holds_alternative<T>(r)) << "got " << name_of(r);
  static T empty{};
  return std::holds_alternative<T>(r) ? std::get<T>(r) : empty;
}

ErrorCode error_of(const Response& r) { return as<response::Error>(r).code; }

TEST_F(Fixture, ConfigValidation) {
  auto c = config();
  c.module_id = "i-123-enc0";
  EXPECT_FALSE(SimulatedNsm::create(c).ok());
  EXPECT_THROW(SimulatedNsm{c}, std::invalid_argument);
  c = config();
  c.module_id = "sim-" + std::string(61, 'x');
  EXPECT_FALSE(SimulatedNsm::create(c).ok());
  c = config();
  c.other_pcrs[32] = {};
  EXPECT_FALSE(SimulatedNsm::create(c).ok());
  c = config();
  c.other_pcrs[8] = {};
  EXPECT_FALSE(SimulatedNsm::create(c).ok());
  EXPECT_TRUE(SimulatedNsm::create(config()).ok());
}

TEST_F(Fixture, DescribeNsmAtBoot) {
  SimulatedNsm nsm(config());
  auto d = as<response::DescribeNSM>(nsm.handle(request::DescribeNSM{}));
  EXPECT_EQ(d.version_major, 1);
  EXPECT_EQ(d.version_minor, 0);
  EXPECT_EQ(d.version_patch, 0);
  EXPECT_EQ(d.module_id, "sim-test-enc0123456789abcdef");
  EXPECT_EQ(d.max_pcrs, 32);
  EXPECT_EQ(d.digest, "SHA384");
  std::vector<std::uint16_t> expect;
  for (std::uint16_t i = 0; i < 16; ++i) expect.push_back(i);
  EXPECT_EQ(d.locked_pcrs, expect);
}

TEST_F(Fixture, DescribeNsmCustomVersion) {
  auto c = config();
  c.version_major = 2;
  c.version_minor = 3;
  c.version_patch = 4;
  SimulatedNsm nsm(c);
  auto d = as<response::DescribeNSM>(nsm.handle(request::DescribeNSM{}));
  EXPECT_EQ(d.version_major, 2);
  EXPECT_EQ(d.version_minor, 3);
  EXPECT_EQ(d.version_patch, 4);
}

TEST_F(Fixture, DescribePcrValuesAndLocks) {
  SimulatedNsm nsm(config());
  auto p0 = as<response::DescribePCR>(nsm.handle(request::DescribePCR{0}));
  EXPECT_TRUE(p0.lock);
  EXPECT_EQ(p0.data, bytes_of(digest_filled(0xa0)));
  EXPECT_EQ(as<response::DescribePCR>(nsm.handle(request::DescribePCR{1})).data, bytes_of(digest_filled(0xa1)));
  EXPECT_EQ(as<response::DescribePCR>(nsm.handle(request::DescribePCR{2})).data, bytes_of(digest_filled(0xa2)));
  EXPECT_EQ(as<response::DescribePCR>(nsm.handle(request::DescribePCR{4})).data, bytes_of(digest_filled(0xa4)));
  EXPECT_EQ(as<response::DescribePCR>(nsm.handle(request::DescribePCR{8})).data, bytes_of(digest_filled(0xa8)));
  auto p3 = as<response::DescribePCR>(nsm.handle(request::DescribePCR{3}));
  EXPECT_TRUE(p3.lock);
  EXPECT_EQ(p3.data, Bytes(48, 0));
  auto p16 = as<response::DescribePCR>(nsm.handle(request::DescribePCR{16}));
  EXPECT_FALSE(p16.lock);
  EXPECT_EQ(p16.data, Bytes(48, 0));
  auto p31 = as<response::DescribePCR>(nsm.handle(request::DescribePCR{31}));
  EXPECT_FALSE(p31.lock);
  EXPECT_EQ(error_of(nsm.handle(request::DescribePCR{32})), ErrorCode::InvalidIndex);
  EXPECT_EQ(error_of(nsm.handle(request::DescribePCR{65535})), ErrorCode::InvalidIndex);
}

TEST_F(Fixture, UnsignedEifHasZeroPcr8) {
  auto c = config();
  c.pcr8.reset();
  SimulatedNsm nsm(c);
  EXPECT_EQ(as<response::DescribePCR>(nsm.handle(request::DescribePCR{8})).data, Bytes(48, 0));
}

TEST_F(Fixture, ExtendMatchesOpensslCommandLine) {
  SimulatedNsm nsm(config());
  Bytes old(48, 0);
  Bytes data{0x01, 0x02, 0x03};
  auto r1 = as<response::ExtendPCR>(nsm.handle(request::ExtendPCR{16, data}));
  Bytes input = old;
  input.insert(input.end(), data.begin(), data.end());
  EXPECT_EQ(r1.data, openssl_sha384(input));
  // nsm.md §2 worked example.
  EXPECT_EQ(r1.data, unhex("cb178fcd3f328244c05c6248723fd068b3a1dda878e1ab8be911098f199958add55d0c27f04826d27b44d949a650694e"));
  // A second extend chains from the new value; empty data is legal.
  for (const Bytes& more : {Bytes{}, Bytes(4000, 0x5a)}) {
    Bytes before = as<response::DescribePCR>(nsm.handle(request::DescribePCR{16})).data;
    auto r = as<response::ExtendPCR>(nsm.handle(request::ExtendPCR{16, more}));
    Bytes in = before;
    in.insert(in.end(), more.begin(), more.end());
    EXPECT_EQ(r.data, openssl_sha384(in));
    EXPECT_EQ(as<response::DescribePCR>(nsm.handle(request::DescribePCR{16})).data, r.data);
  }
  // Other registers untouched.
  EXPECT_EQ(as<response::DescribePCR>(nsm.handle(request::DescribePCR{17})).data, Bytes(48, 0));
}

TEST_F(Fixture, ExtendRefusals) {
  SimulatedNsm nsm(config());
  for (std::uint16_t i = 0; i < 16; ++i)
    EXPECT_EQ(error_of(nsm.handle(request::ExtendPCR{i, {1}})), ErrorCode::ReadOnlyIndex) << i;
  EXPECT_EQ(error_of(nsm.handle(request::ExtendPCR{32, {1}})), ErrorCode::InvalidIndex);
  EXPECT_EQ(error_of(nsm.handle(request::ExtendPCR{1000, {1}})), ErrorCode::InvalidIndex);
  // A request over the 4096-byte cap (nsm.md §1).
  EXPECT_EQ(error_of(nsm.handle(request::ExtendPCR{16, Bytes(4096, 0)})), ErrorCode::InputTooLarge);
  EXPECT_EQ(as<response::DescribePCR>(nsm.handle(request::DescribePCR{16})).data, Bytes(48, 0));
  EXPECT_EQ(as<response::DescribePCR>(nsm.handle(request::DescribePCR{0})).data, bytes_of(digest_filled(0xa0)));
}

TEST_F(Fixture, LockPcr) {
  SimulatedNsm nsm(config());
  for (std::uint16_t i = 0; i < 16; ++i) EXPECT_EQ(error_of(nsm.handle(request::LockPCR{i})), ErrorCode::ReadOnlyIndex);
  EXPECT_EQ(error_of(nsm.handle(request::LockPCR{32})), ErrorCode::InvalidIndex);
  as<response::ExtendPCR>(nsm.handle(request::ExtendPCR{20, {9}}));
  Bytes value = as<response::DescribePCR>(nsm.handle(request::DescribePCR{20})).data;
  as<response::LockPCR>(nsm.handle(request::LockPCR{20}));
  auto d = as<response::DescribePCR>(nsm.handle(request::DescribePCR{20}));
  EXPECT_TRUE(d.lock);
  EXPECT_EQ(d.data, value);
  EXPECT_EQ(error_of(nsm.handle(request::ExtendPCR{20, {9}})), ErrorCode::ReadOnlyIndex);
  EXPECT_EQ(error_of(nsm.handle(request::LockPCR{20})), ErrorCode::ReadOnlyIndex);
  auto nsm_d = as<response::DescribeNSM>(nsm.handle(request::DescribeNSM{}));
  EXPECT_EQ(nsm_d.locked_pcrs.size(), 17u);
  EXPECT_EQ(nsm_d.locked_pcrs.back(), 20);
  // The value is still what it was.
  EXPECT_EQ(as<response::DescribePCR>(nsm.handle(request::DescribePCR{20})).data, value);
}

TEST_F(Fixture, LockPcrs) {
  SimulatedNsm nsm(config());
  EXPECT_EQ(error_of(nsm.handle(request::LockPCRs{33})), ErrorCode::InvalidIndex);
  as<response::LockPCRs>(nsm.handle(request::LockPCRs{0}));
  as<response::LockPCRs>(nsm.handle(request::LockPCRs{16}));  // all already locked: fine
  EXPECT_FALSE(nsm.locked(16));
  as<response::LockPCRs>(nsm.handle(request::LockPCRs{18}));
  EXPECT_TRUE(nsm.locked(16));
  EXPECT_TRUE(nsm.locked(17));
  EXPECT_FALSE(nsm.locked(18));
  EXPECT_EQ(error_of(nsm.handle(request::ExtendPCR{17, {1}})), ErrorCode::ReadOnlyIndex);
  as<response::ExtendPCR>(nsm.handle(request::ExtendPCR{18, {1}}));
  as<response::LockPCRs>(nsm.handle(request::LockPCRs{32}));
  as<response::LockPCRs>(nsm.handle(request::LockPCRs{32}));  // AWS's test: succeeds when all locked
  auto d = as<response::DescribeNSM>(nsm.handle(request::DescribeNSM{}));
  EXPECT_EQ(d.locked_pcrs.size(), 32u);
  EXPECT_EQ(error_of(nsm.handle(request::ExtendPCR{31, {1}})), ErrorCode::ReadOnlyIndex);
}

TEST_F(Fixture, AttestationFields) {
  SimulatedNsm nsm(config());
  request::Attestation a{Bytes{1, 2}, Bytes{}, std::nullopt};
  auto r = as<response::Attestation>(nsm.handle(a));
  EXPECT_EQ(r.document, (Bytes{0x84, 0x01, 0x02}));
  ASSERT_EQ(issued.size(), 1u);
  const auto& f = issued[0];
  EXPECT_EQ(f.module_id, "sim-test-enc0123456789abcdef");
  EXPECT_EQ(f.timestamp_ms, 1760583282550u);
  ASSERT_EQ(f.pcrs.size(), 16u);
  std::uint16_t expect_key = 0;
  for (const auto& [k, v] : f.pcrs) {
    EXPECT_EQ(k, expect_key++);
    EXPECT_EQ(v.size(), 48u);
  }
  EXPECT_EQ(f.pcrs.at(0), bytes_of(digest_filled(0xa0)));
  EXPECT_EQ(f.pcrs.at(1), bytes_of(digest_filled(0xa1)));
  EXPECT_EQ(f.pcrs.at(2), bytes_of(digest_filled(0xa2)));
  EXPECT_EQ(f.pcrs.at(4), bytes_of(digest_filled(0xa4)));
  EXPECT_EQ(f.pcrs.at(8), bytes_of(digest_filled(0xa8)));
  EXPECT_EQ(f.pcrs.at(3), Bytes(48, 0));
  EXPECT_EQ(f.user_data, (Bytes{1, 2}));
  ASSERT_TRUE(f.nonce.has_value());  // empty stays empty, not null
  EXPECT_TRUE(f.nonce->empty());
  EXPECT_FALSE(f.public_key.has_value());
}

TEST_F(Fixture, AttestationIncludesAppLockedPcrs) {
  SimulatedNsm nsm(config());
  auto v = as<response::ExtendPCR>(nsm.handle(request::ExtendPCR{23, {7}})).data;
  as<response::LockPCR>(nsm.handle(request::LockPCR{23}));
  as<response::ExtendPCR>(nsm.handle(request::ExtendPCR{24, {7}}));  // unlocked: not included
  as<response::Attestation>(nsm.handle(request::Attestation{}));
  ASSERT_EQ(issued.size(), 1u);
  EXPECT_EQ(issued[0].pcrs.size(), 17u);
  EXPECT_EQ(issued[0].pcrs.at(23), v);
  EXPECT_EQ(issued[0].pcrs.count(24), 0u);
}

TEST_F(Fixture, AttestationSizeLimits) {
  SimulatedNsm nsm(config());
  Bytes ok(1024, 1), big(1025, 1);
  as<response::Attestation>(nsm.handle(request::Attestation{ok, ok, ok}));  // AWS's own test: 3 x 1024
  EXPECT_EQ(error_of(nsm.handle(request::Attestation{big, std::nullopt, std::nullopt})), ErrorCode::InputTooLarge);
  EXPECT_EQ(error_of(nsm.handle(request::Attestation{std::nullopt, big, std::nullopt})), ErrorCode::InputTooLarge);
  EXPECT_EQ(error_of(nsm.handle(request::Attestation{std::nullopt, std::nullopt, big})), ErrorCode::InputTooLarge);
  EXPECT_EQ(issued.size(), 1u);
  // The same over the wire.
  auto bytes = encode(Request{request::Attestation{std::nullopt, big, std::nullopt}});
  auto reply = decode_response(nsm.handle_bytes(bytes));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(error_of(*reply), ErrorCode::InputTooLarge);
}

TEST_F(Fixture, AttestationIssuerFailureAndMissingIssuer) {
  auto c = config();
  c.issuer = [](const AttestationFields&) -> Result<Bytes> { return make_error("no key"); };
  SimulatedNsm nsm(c);
  EXPECT_EQ(error_of(nsm.handle(request::Attestation{})), ErrorCode::InternalError);
  c.issuer = nullptr;
  SimulatedNsm nsm2(c);
  EXPECT_EQ(error_of(nsm2.handle(request::Attestation{})), ErrorCode::InternalError);
}

TEST_F(Fixture, DebugModeZeroesImagePcrsOnly) {
  SimulatedNsm nsm(config(true));
  for (std::uint16_t i : {0, 1, 2, 8}) {
    auto d = as<response::DescribePCR>(nsm.handle(request::DescribePCR{i}));
    EXPECT_EQ(d.data, Bytes(48, 0)) << i;
    EXPECT_TRUE(d.lock);
  }
  EXPECT_EQ(as<response::DescribePCR>(nsm.handle(request::DescribePCR{4})).data, bytes_of(digest_filled(0xa4)));
  as<response::Attestation>(nsm.handle(request::Attestation{}));
  ASSERT_EQ(issued.size(), 1u);
  for (std::uint16_t i : {0, 1, 2, 8}) EXPECT_EQ(issued[0].pcrs.at(i), Bytes(48, 0)) << i;
  EXPECT_EQ(issued[0].pcrs.at(4), bytes_of(digest_filled(0xa4)));
  // The raw values are kept.
  EXPECT_EQ(nsm.raw_pcr(0), digest_filled(0xa0));
  EXPECT_TRUE(nsm.debug_mode());
}

TEST_F(Fixture, GetRandom) {
  SimulatedNsm nsm(config());
  auto r = as<response::GetRandom>(nsm.handle(request::GetRandom{}));
  EXPECT_EQ(r.random.size(), 256u);
  EXPECT_EQ(r.random[255], 255);
  EXPECT_EQ(random_calls, 1);
  auto c = config();
  c.random = [](std::span<std::uint8_t>) { return false; };
  SimulatedNsm failing(c);
  EXPECT_EQ(error_of(failing.handle(request::GetRandom{})), ErrorCode::InternalError);
}

TEST_F(Fixture, GetRandomDefaultSourceIsOpenssl) {
  auto c = config();
  c.random = nullptr;
  SimulatedNsm nsm(c);
  auto a = as<response::GetRandom>(nsm.handle(request::GetRandom{})).random;
  auto b = as<response::GetRandom>(nsm.handle(request::GetRandom{})).random;
  EXPECT_EQ(a.size(), 256u);
  EXPECT_NE(a, b);
}

TEST_F(Fixture, HandleBytesWorkedExamples) {
  SimulatedNsm nsm(config());
  // nsm.md §2: ExtendPCR 16 with 01 02 03 -> the 67-byte reply.
  auto reply = nsm.handle_bytes(unhex("a169457874656e64504352a265696e646578106464617461430102" "03"));
  EXPECT_EQ(reply, unhex("a169457874656e64504352a16464617461" "5830"
                         "cb178fcd3f328244c05c6248723fd068b3a1dda878e1ab8be911098f199958add55d0c27f04826d27b44d949a650694e"));
  // LockPCR reply is the bare text "LockPCR".
  auto lock = nsm.handle_bytes(encode(Request{request::LockPCR{16}}));
  EXPECT_EQ(lock, unhex("674c6f636b504352"));
  // GetRandom: the hwrng's exact request bytes and reply prefix.
  auto rnd = nsm.handle_bytes(unhex("6947657452616e646f6d"));
  ASSERT_EQ(rnd.size(), 278u);
  EXPECT_EQ(Bytes(rnd.begin(), rnd.begin() + 22), unhex("a16947657452616e646f6da16672616e646f6d590100"));
  // Attestation with nothing (44 bytes).
  auto att = nsm.handle_bytes(unhex("a16b4174746573746174696f6ea369757365725f64617461f6656e6f6e6365f66a7075626c69635f6b6579f6"));
  auto decoded = decode_response(att);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(as<response::Attestation>(*decoded).document, (Bytes{0x84, 0x01, 0x02}));
  // Every request type round-trips through bytes.
  for (const Request& req : {Request{request::DescribePCR{3}}, Request{request::DescribeNSM{}}, Request{request::LockPCRs{16}},
                             Request{request::ExtendPCR{17, {1}}}, Request{request::GetRandom{}}}) {
    auto bytes = nsm.handle_bytes(encode(req));
    auto r = decode_response(bytes);
    ASSERT_TRUE(r.ok()) << name_of(req);
    EXPECT_NE(name_of(*r), "Error") << name_of(req);
  }
}

TEST_F(Fixture, HandleBytesErrors) {
  SimulatedNsm nsm(config());
  const Bytes invalid_operation = encode(Response{response::Error{ErrorCode::InvalidOperation}});
  const Bytes input_too_large = encode(Response{response::Error{ErrorCode::InputTooLarge}});
  EXPECT_EQ(nsm.handle_bytes({}), invalid_operation);
  EXPECT_EQ(nsm.handle_bytes(unhex("ff")), invalid_operation);
  EXPECT_EQ(nsm.handle_bytes(unhex("6a47657452616e646f6d")), invalid_operation);  // truncated text
  EXPECT_EQ(nsm.handle_bytes(unhex("6c556e6b6e6f776e5265717565")), invalid_operation);  // "UnknownReque"
  EXPECT_EQ(nsm.handle_bytes(unhex("a16b446573637269626550435218")), invalid_operation);  // truncated
  EXPECT_EQ(nsm.handle_bytes(unhex("a16b4465736372696265504352a0")), invalid_operation);  // missing index
  EXPECT_EQ(nsm.handle_bytes(unhex("01")), invalid_operation);
  // Exactly the 23-byte InvalidArgument shape check of the encoder, for reference.
  EXPECT_EQ(encode(Response{response::Error{ErrorCode::InvalidArgument}}),
            unhex("a1654572726f726f496e76616c6964417267756d656e74"));
  // Over 4096 bytes: InputTooLarge before parsing, even if garbage.
  EXPECT_EQ(nsm.handle_bytes(Bytes(4097, 0xff)), input_too_large);
  // Exactly 4096 bytes of a valid ExtendPCR is accepted.
  Bytes data(4096 - 31, 0x11);
  auto req = encode(Request{request::ExtendPCR{16, data}});
  while (req.size() < 4096) {
    data.push_back(0x11);
    req = encode(Request{request::ExtendPCR{16, data}});
  }
  ASSERT_EQ(req.size(), 4096u);
  auto ok = decode_response(nsm.handle_bytes(req));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(name_of(*ok), "ExtendPCR");
  // Index errors over the wire.
  auto bad = decode_response(nsm.handle_bytes(encode(Request{request::DescribePCR{40}})));
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(error_of(*bad), ErrorCode::InvalidIndex);
  auto ro = decode_response(nsm.handle_bytes(encode(Request{request::ExtendPCR{2, {1}}})));
  ASSERT_TRUE(ro.ok());
  EXPECT_EQ(error_of(*ro), ErrorCode::ReadOnlyIndex);
}

TEST_F(Fixture, OversizedDocumentBecomesInternalError) {
  auto c = config();
  c.issuer = [](const AttestationFields&) -> Result<Bytes> { return Bytes(13000, 0); };
  SimulatedNsm nsm(c);
  auto reply = nsm.handle_bytes(encode(Request{request::Attestation{}}));
  EXPECT_LE(reply.size(), kMaxResponseSize);
  auto r = decode_response(reply);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(error_of(*r), ErrorCode::InternalError);
}

}  // namespace
}  // namespace enclaver::nsm::sim
