// PCR computation (eif.md §3): SHA-384, the extend formula, known answers,
// and SectionHasher against a direct computation over concatenated data.
#include <gtest/gtest.h>
#include <zlib.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "eif/pcr.hpp"
#include "tests/support/bytes.hpp"

namespace enclaver::eif {
namespace {

using enclaver::testing::hex;
using enclaver::testing::unhex;
using enclaver::testing::bytes;
using enclaver::testing::pattern;

constexpr const char* kEmptyPcr =
    "21b9efbc184807662e966d34f390821309eeac6802309798826296bf3e8bec7c10edb30948c90ba67310f7b964fc500a";

std::vector<std::uint8_t> concat(std::initializer_list<const std::vector<std::uint8_t>*> parts) {
  std::vector<std::uint8_t> out;
  for (const auto* p : parts) out.insert(out.end(), p->begin(), p->end());
  return out;
}

TEST(Sha384, KnownVectors) {
  EXPECT_EQ(to_hex(sha384(bytes("abc"))),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
  EXPECT_EQ(to_hex(sha384({})),
            "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b");
}

TEST(Sha384, StreamingCloneAndPeek) {
  Sha384 h;
  h.update(bytes("ab"));
  Sha384 fork = h.clone();
  EXPECT_EQ(h.peek(), sha384(bytes("ab")));
  h.update(bytes("c"));
  fork.update(bytes("x"));
  EXPECT_EQ(h.finish(), sha384(bytes("abc")));
  EXPECT_EQ(fork.finish(), sha384(bytes("abx")));
  // finish() starts over.
  EXPECT_EQ(h.finish(), sha384({}));
  Sha384 moved = std::move(fork);
  moved.update(bytes("abc"));
  EXPECT_EQ(moved.finish(), sha384(bytes("abc")));
}

TEST(Pcr, EmptyContentKnownAnswer) {
  // eif.md §11: PCR2 of every single-ramdisk EIF, and `nitro-cli pcr` of an empty file.
  EXPECT_EQ(to_hex(pcr_of({})), kEmptyPcr);
}

TEST(Pcr, FormulaIsOneExtendOfZeros) {
  const auto data = bytes("kernel bytes");
  EXPECT_EQ(pcr_of(data), pcr_extend(Digest{}, sha384(data)));
  EXPECT_EQ(pcr_of(data), pcr_from_content_digest(sha384(data)));
  // extend = SHA-384(old || data), computed by hand.
  std::vector<std::uint8_t> joined(48, 0);
  const Digest d = sha384(data);
  joined.insert(joined.end(), d.begin(), d.end());
  EXPECT_EQ(pcr_of(data), sha384(joined));
}

TEST(Hex, RoundTripAndRejects) {
  const Digest d = sha384(bytes("x"));
  const std::string h = to_hex(d);
  EXPECT_EQ(h.size(), 96u);
  EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(digest_from_hex(h), d);
  std::string upper = h;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(digest_from_hex(upper), d);
  EXPECT_FALSE(digest_from_hex(h.substr(1)));
  EXPECT_FALSE(digest_from_hex(h + "0"));
  EXPECT_FALSE(digest_from_hex(std::string(95, '0') + "g"));
}

struct Feed {
  SectionType type;
  std::vector<std::uint8_t> data;
};

// Runs SectionHasher over sections fed in pieces of `piece` bytes.
Measurements hash_sections(const std::vector<Feed>& sections, bool parallel, std::size_t piece,
                           std::vector<std::uint32_t>* crcs = nullptr) {
  SectionHasher h(parallel);
  for (const auto& s : sections) {
    h.begin_section(s.type);
    for (std::size_t at = 0; at < s.data.size(); at += piece) {
      h.update(std::span(s.data).subspan(at, std::min(piece, s.data.size() - at)));
    }
    const std::uint32_t crc = h.end_section();
    if (crcs) crcs->push_back(crc);
  }
  return h.measurements();
}

class SectionHasherTest : public ::testing::TestWithParam<std::tuple<bool, std::size_t>> {};

TEST_P(SectionHasherTest, SingleRamdiskGivesPcr0EqualPcr1AndEmptyPcr2) {
  const auto [parallel, piece] = GetParam();
  const std::vector<Feed> sections = {
      {SectionType::Kernel, pattern(300000, 1)},
      {SectionType::Cmdline, bytes("console=ttyS0")},
      {SectionType::Metadata, bytes("{\"not\":\"measured\"}")},
      {SectionType::Ramdisk, pattern(200000, 2)},
  };
  const Measurements m = hash_sections(sections, parallel, piece);
  EXPECT_EQ(m.pcr0, m.pcr1);
  EXPECT_EQ(to_hex(m.pcr2), kEmptyPcr);
  EXPECT_EQ(m.pcr0, pcr_of(concat({&sections[0].data, &sections[1].data, &sections[3].data})));
  EXPECT_FALSE(m.pcr8);
}

TEST_P(SectionHasherTest, TwoRamdisksMatchDirectComputation) {
  const auto [parallel, piece] = GetParam();
  const std::vector<Feed> sections = {
      {SectionType::Kernel, pattern(250001, 3)},   {SectionType::Cmdline, bytes("reboot=k panic=30")},
      {SectionType::Metadata, bytes("{}")},        {SectionType::Ramdisk, pattern(131072, 4)},
      {SectionType::Ramdisk, pattern(700003, 5)},  {SectionType::Ramdisk, pattern(70000, 6)},
      {SectionType::Signature, pattern(1000, 7)},
  };
  std::vector<std::uint32_t> crcs;
  const Measurements m = hash_sections(sections, parallel, piece, &crcs);
  const auto& k = sections[0].data;
  const auto& c = sections[1].data;
  const auto& r0 = sections[3].data;
  const auto& r1 = sections[4].data;
  const auto& r2 = sections[5].data;
  EXPECT_EQ(m.pcr0, pcr_of(concat({&k, &c, &r0, &r1, &r2})));
  EXPECT_EQ(m.pcr1, pcr_of(concat({&k, &c, &r0})));
  EXPECT_EQ(m.pcr2, pcr_of(concat({&r1, &r2})));
  ASSERT_EQ(crcs.size(), sections.size());
  for (std::size_t i = 0; i < sections.size(); ++i) {
    const auto& d = sections[i].data;
    EXPECT_EQ(crcs[i], ::crc32(0, d.data(), static_cast<uInt>(d.size()))) << "section " << i;
  }
}

TEST_P(SectionHasherTest, UnusualOrderFollowsFileOrder) {
  // eif.md §3: with another order the digests follow it (a cmdline after a
  // ramdisk is hashed after it).
  const auto [parallel, piece] = GetParam();
  const std::vector<Feed> sections = {
      {SectionType::Kernel, pattern(90000, 8)},
      {SectionType::Ramdisk, pattern(80000, 9)},
      {SectionType::Ramdisk, pattern(100000, 10)},
      {SectionType::Cmdline, pattern(70000, 11)},
  };
  const Measurements m = hash_sections(sections, parallel, piece);
  const auto& k = sections[0].data;
  const auto& r0 = sections[1].data;
  const auto& r1 = sections[2].data;
  const auto& c = sections[3].data;
  EXPECT_EQ(m.pcr0, pcr_of(concat({&k, &r0, &r1, &c})));
  EXPECT_EQ(m.pcr1, pcr_of(concat({&k, &r0, &c})));
  EXPECT_EQ(m.pcr2, pcr_of(r1));
}

INSTANTIATE_TEST_SUITE_P(Modes, SectionHasherTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Values(std::size_t{1000}, std::size_t{65536},
                                                                                 std::size_t{1} << 20)));

TEST(SectionHasher, MeasurementsCanBeTakenMidStream) {
  SectionHasher h;
  h.begin_section(SectionType::Kernel);
  h.update(bytes("k"));
  h.end_section();
  const Measurements before = h.measurements();
  EXPECT_EQ(before.pcr0, pcr_of(bytes("k")));
  h.begin_section(SectionType::Ramdisk);
  h.update(bytes("r"));
  h.end_section();
  EXPECT_EQ(h.measurements().pcr0, pcr_of(bytes("kr")));
  EXPECT_EQ(h.measurements(), h.measurements());
}

TEST(SectionHasher, AlongsideRunsAndItsExceptionPropagates) {
  SectionHasher h(true);
  const auto data = pattern(1 << 20, 12);
  h.begin_section(SectionType::Kernel);
  int calls = 0;
  h.update(data, [&] { ++calls; });
  EXPECT_EQ(calls, 1);
  EXPECT_THROW(h.update(data, [] { throw std::runtime_error("disk full"); }), std::runtime_error);
  h.end_section();
  // The hasher is still usable afterwards (the worker was joined).
  h.begin_section(SectionType::Ramdisk);
  h.update(data, [&] { ++calls; });
  h.end_section();
  EXPECT_EQ(calls, 2);
}

TEST(SectionHasher, MisuseIsALogicError) {
  SectionHasher h;
  EXPECT_THROW(h.update(bytes("x")), std::logic_error);
  EXPECT_THROW(h.end_section(), std::logic_error);
  h.begin_section(SectionType::Kernel);
  EXPECT_THROW(h.begin_section(SectionType::Kernel), std::logic_error);
}

}  // namespace
}  // namespace enclaver::eif
