// The EIF writer (eif.md §1-§3, §5, §6): layout checked by hand, CRC against
// zlib over the whole file, round trip through the reader, determinism,
// streaming, atomic replacement, metadata, describe-eif, and an independent
// recomputation of the PCRs by tests/integration/pcr_independent_check.py.
#include <gtest/gtest.h>

#include "common/temp_dir.hpp"
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "eif/eif_format.hpp"
#include "eif/eif_reader.hpp"
#include "eif/eif_writer.hpp"
#include "eif/metadata.hpp"
#include "eif/pcr.hpp"
#include "tests/support/bytes.hpp"

namespace enclaver::eif {
namespace {

using enclaver::testing::hex;
using enclaver::testing::unhex;
using enclaver::testing::bytes;
using enclaver::testing::pattern;

namespace fs = std::filesystem;

constexpr const char* kEmptyPcr =
    "21b9efbc184807662e966d34f390821309eeac6802309798826296bf3e8bec7c10edb30948c90ba67310f7b964fc500a";

std::vector<std::uint8_t> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& p, std::span<const std::uint8_t> data) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

std::uint32_t zlib_crc(std::span<const std::uint8_t> data) {
  return static_cast<std::uint32_t>(::crc32(0, data.data(), static_cast<uInt>(data.size())));
}

// The whole file's CRC with bytes 544..547 cut out (eif.md §2).
std::uint32_t crc_without_field(std::span<const std::uint8_t> file) {
  std::vector<std::uint8_t> cut(file.begin(), file.begin() + 544);
  cut.insert(cut.end(), file.begin() + 548, file.end());
  return zlib_crc(cut);
}

std::uint64_t be64(std::span<const std::uint8_t> f, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | f[at + i];
  return v;
}
std::uint32_t be32(std::span<const std::uint8_t> f, std::size_t at) {
  return (std::uint32_t{f[at]} << 24) | (std::uint32_t{f[at + 1]} << 16) | (std::uint32_t{f[at + 2]} << 8) | f[at + 3];
}
std::uint16_t be16(std::span<const std::uint8_t> f, std::size_t at) {
  return static_cast<std::uint16_t>((f[at] << 8) | f[at + 1]);
}

std::string metadata_json(std::string name = "app") {
  MetadataInput in;
  in.image_name = std::move(name);
  in.image_version = "1.0";
  in.build_tool_version = "0.1.0";
  return encode_metadata(in).value();
}

// A small EIF: kernel "KERN", cmdline "c=1", metadata "{}", ramdisks "R0" and "RAMDISK1".
EifContents tiny() {
  EifContents c;
  c.kernel = SectionSource::from_bytes(bytes("KERN"), "kernel");
  c.cmdline = "c=1";
  c.metadata = "{}";
  c.ramdisks.push_back(SectionSource::from_bytes(bytes("R0"), "ramdisk 0 (bootstrap)"));
  c.ramdisks.push_back(SectionSource::from_bytes(bytes("RAMDISK1"), "ramdisk 1 (application)"));
  return c;
}

std::vector<std::uint8_t> build(const EifContents& c, WriteSummary* summary = nullptr) {
  MemoryOutput out;
  WriteSummary s = write_eif(out, c);
  if (summary) *summary = s;
  return out.data();
}

// A scratch directory, removed at the end of the test.
// The shared TempDir, plus the listing these tests check for stray files.
class TempDir : public enclaver::TempDir {
 public:
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path())) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

// --- layout -------------------------------------------------------------------

TEST(EifWriter, TinyLayoutByHand) {
  WriteSummary s;
  const auto f = build(tiny(), &s);
  // 548 header, then 12 + 4 kernel, 12 + 3 cmdline, 12 + 2 metadata, 12 + 2 R0, 12 + 8 R1.
  ASSERT_EQ(f.size(), 548u + 16 + 15 + 14 + 14 + 20);
  EXPECT_EQ(s.file_size, f.size());
  EXPECT_EQ(std::string(f.begin(), f.begin() + 4), ".eif");
  EXPECT_EQ(be16(f, 4), 4);                         // version
  EXPECT_EQ(be16(f, 6), 0);                         // flags: x86_64
  EXPECT_EQ(be64(f, 8), 1073741824u);               // default_mem
  EXPECT_EQ(be64(f, 16), 2u);                       // default_cpus
  EXPECT_EQ(be16(f, 24), 0);                        // reserved
  EXPECT_EQ(be16(f, 26), 5);                        // num_sections
  const std::uint64_t offsets[] = {548, 564, 579, 593, 607};
  const std::uint64_t sizes[] = {4, 3, 2, 2, 8};
  const std::uint16_t types[] = {1, 2, 5, 3, 3};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(be64(f, 28 + 8 * i), offsets[i]) << i;
    EXPECT_EQ(be64(f, 284 + 8 * i), sizes[i]) << i;
    EXPECT_EQ(be16(f, offsets[i]), types[i]) << i;       // section type
    EXPECT_EQ(be16(f, offsets[i] + 2), 0) << i;          // section flags
    EXPECT_EQ(be64(f, offsets[i] + 4), sizes[i]) << i;   // section size
    EXPECT_EQ(s.sections[i].header_offset, offsets[i]);
    EXPECT_EQ(s.sections[i].data_offset, offsets[i] + 12);
    EXPECT_EQ(s.sections[i].size, sizes[i]);
  }
  for (std::size_t i = 5; i < 32; ++i) {
    EXPECT_EQ(be64(f, 28 + 8 * i), 0u);
    EXPECT_EQ(be64(f, 284 + 8 * i), 0u);
  }
  EXPECT_EQ(be32(f, 540), 0u);  // unused
  EXPECT_EQ(std::string(f.begin() + 560, f.begin() + 564), "KERN");
  EXPECT_EQ(std::string(f.begin() + 576, f.begin() + 579), "c=1");
  EXPECT_EQ(std::string(f.begin() + 591, f.begin() + 593), "{}");
  EXPECT_EQ(std::string(f.begin() + 605, f.begin() + 607), "R0");
  EXPECT_EQ(std::string(f.begin() + 619, f.end()), "RAMDISK1");
  // CRC: zlib crc32 of the whole file with 544..547 cut out.
  EXPECT_EQ(be32(f, 544), crc_without_field(f));
  EXPECT_EQ(s.header.crc32, be32(f, 544));
  EXPECT_EQ(decode_header(f).value(), s.header);
  EXPECT_TRUE(std::equal(f.begin(), f.begin() + 548, encode_header(s.header).begin()));
}

TEST(EifWriter, HeaderEncodingRoundTrips) {
  Header h;
  h.version = 3;
  h.flags = 1;
  h.default_memory = 0x0102030405060708;
  h.default_cpus = 9;
  h.reserved = 0xabcd;
  h.num_sections = 32;
  for (std::size_t i = 0; i < 32; ++i) {
    h.section_offsets[i] = 1000 + i;
    h.section_sizes[i] = 0xff00000000000000 + i;
  }
  h.unused = 0xdeadbeef;
  h.crc32 = 0x12345678;
  const HeaderBytes b = encode_header(h);
  EXPECT_EQ(b[8], 0x01);
  EXPECT_EQ(b[15], 0x08);
  EXPECT_EQ(b[544], 0x12);
  EXPECT_EQ(b[547], 0x78);
  EXPECT_EQ(decode_header(b).value(), h);
  const SectionHeader sh{4, 7, 0x1122334455667788};
  const SectionHeaderBytes sb = encode_section_header(sh);
  EXPECT_EQ(sb[0], 0);
  EXPECT_EQ(sb[1], 4);
  EXPECT_EQ(sb[3], 7);
  EXPECT_EQ(sb[4], 0x11);
  EXPECT_EQ(sb[11], 0x88);
  EXPECT_EQ(decode_section_header(sb), sh);
}

TEST(EifFormat, CrcHelpersAgreeWithZlib) {
  const auto a = pattern(1000, 1);
  const auto b = pattern(3000, 2);
  std::vector<std::uint8_t> ab = a;
  ab.insert(ab.end(), b.begin(), b.end());
  EXPECT_EQ(crc_update(0, ab), zlib_crc(ab));
  EXPECT_EQ(crc_update(crc_update(0, a), b), zlib_crc(ab));
  EXPECT_EQ(crc_combine(zlib_crc(a), zlib_crc(b), b.size()), zlib_crc(ab));
  EXPECT_EQ(crc_combine(0, zlib_crc(b), b.size()), zlib_crc(b));
  EXPECT_EQ(crc_update(0, bytes("123456789")), 0xcbf43926u);  // CRC-32/ISO-HDLC check value
}

TEST(EifWriter, Aarch64SetsFlagBit0AndOptionsReachTheHeader) {
  EifContents c = tiny();
  c.arch = Arch::Aarch64;
  c.default_memory = 512u << 20;
  c.default_cpus = 4;
  const auto f = build(c);
  EXPECT_EQ(be16(f, 6), 1);
  EXPECT_EQ(be64(f, 8), 512u << 20);
  EXPECT_EQ(be64(f, 16), 4u);
  auto info = read_eif(*std::make_unique<MemorySource>(f));
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->arch, Arch::Aarch64);
}

TEST(EifWriter, SingleRamdiskKnownAnswer) {
  EifContents c = tiny();
  c.ramdisks.pop_back();
  WriteSummary s;
  const auto f = build(c, &s);
  EXPECT_EQ(to_hex(s.measurements.pcr2), kEmptyPcr);
  EXPECT_EQ(s.measurements.pcr0, s.measurements.pcr1);
  EXPECT_EQ(s.measurements.pcr0, pcr_of(bytes("KERNc=1R0")));
  EXPECT_EQ(be16(f, 26), 4);
}

TEST(EifWriter, PcrsAreSectionDataInFileOrderWithoutHeadersOrMetadata) {
  WriteSummary s;
  build(tiny(), &s);
  EXPECT_EQ(s.measurements.pcr0, pcr_of(bytes("KERNc=1R0RAMDISK1")));
  EXPECT_EQ(s.measurements.pcr1, pcr_of(bytes("KERNc=1R0")));
  EXPECT_EQ(s.measurements.pcr2, pcr_of(bytes("RAMDISK1")));
  // Metadata is not measured.
  EifContents other = tiny();
  other.metadata = metadata_json("something else");
  WriteSummary s2;
  build(other, &s2);
  EXPECT_EQ(s.measurements, s2.measurements);
  EXPECT_NE(s.header.crc32, s2.header.crc32);
}

// --- signature hook -------------------------------------------------------------

TEST(EifWriter, SignatureSectionIsAppendedLastWithPcr8) {
  EifContents c = tiny();
  Measurements seen;
  c.signature = [&](const Measurements& m) {
    seen = m;
    return SignatureSection{bytes("SIGNATURE"), bytes("CERT-DER")};
  };
  WriteSummary s;
  const auto f = build(c, &s);
  EXPECT_EQ(be16(f, 26), 6);
  EXPECT_EQ(s.sections.back().type, SectionType::Signature);
  EXPECT_EQ(be16(f, s.sections.back().header_offset), 4);
  EXPECT_EQ(std::string(f.end() - 9, f.end()), "SIGNATURE");
  EXPECT_EQ(seen.pcr0, s.measurements.pcr0);
  EXPECT_EQ(seen.pcr0, pcr_of(bytes("KERNc=1R0RAMDISK1")));
  ASSERT_TRUE(s.measurements.pcr8);
  EXPECT_EQ(*s.measurements.pcr8, pcr_of(bytes("CERT-DER")));
  EXPECT_EQ(be32(f, 544), crc_without_field(f));

  ReadOptions opt;
  opt.certificate_der = [](std::span<const std::uint8_t> sig) -> Result<std::vector<std::uint8_t>> {
    EXPECT_EQ(std::string(sig.begin(), sig.end()), "SIGNATURE");
    return bytes("CERT-DER");
  };
  auto info = read_eif(*std::make_unique<MemorySource>(f), opt);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->measurements, s.measurements);
  EXPECT_TRUE(info->is_signed());
}

TEST(EifWriter, OversizedOrEmptySignatureIsRefused) {
  EifContents c = tiny();
  c.signature = [](const Measurements&) { return SignatureSection{std::vector<std::uint8_t>(32769, 1), {}}; };
  EXPECT_THROW(build(c), std::runtime_error);
  c.signature = [](const Measurements&) { return SignatureSection{{}, {}}; };
  EXPECT_THROW(build(c), std::runtime_error);
}

// --- round trip, determinism, streaming -----------------------------------------

EifContents streamed(std::size_t app_size, std::size_t piece, bool parallel) {
  EifContents c;
  c.kernel = SectionSource::from_bytes(pattern(3 << 20, 1), "kernel");
  c.cmdline = "reboot=k panic=30 pci=off nomodules console=ttyS0";
  c.metadata = metadata_json();
  c.ramdisks.push_back(SectionSource::from_bytes(pattern(100000, 2), "ramdisk 0 (bootstrap)"));
  c.ramdisks.push_back(SectionSource::from_producer(
      [app_size, piece](ByteSink& sink) {
        const auto data = pattern(app_size, 3);
        for (std::size_t at = 0; at < data.size(); at += piece) {
          sink.write(std::span(data).subspan(at, std::min(piece, data.size() - at)));
        }
      },
      "ramdisk 1 (application)"));
  c.parallel_hashing = parallel;
  return c;
}

TEST(EifWriter, RoundTripThroughTheReader) {
  WriteSummary s;
  const auto f = build(streamed(5'000'000, 4096, true), &s);
  MemorySource src(f);
  auto info = read_eif(src);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->header, s.header);
  EXPECT_EQ(info->sections, s.sections);
  EXPECT_EQ(info->measurements, s.measurements);
  EXPECT_TRUE(info->crc_ok);
  EXPECT_EQ(info->computed_crc, s.header.crc32);
  EXPECT_EQ(info->cmdline, "reboot=k panic=30 pci=off nomodules console=ttyS0");
  EXPECT_EQ(info->metadata, metadata_json());
  EXPECT_FALSE(info->signature);
  // Ramdisks are ranges of the file.
  const auto ramdisks = info->ramdisks();
  ASSERT_EQ(ramdisks.size(), 2u);
  const auto app = pattern(5'000'000, 3);
  ASSERT_EQ(ramdisks[1].size, app.size());
  EXPECT_TRUE(std::equal(app.begin(), app.end(), f.begin() + static_cast<std::ptrdiff_t>(ramdisks[1].data_offset)));
  EXPECT_EQ(info->kernel().size, 3u << 20);
}

TEST(EifWriter, SameInputsSameBytesWhateverTheChunkingAndThreads) {
  const auto a = build(streamed(2'500'000, 1 << 20, true));
  const auto b = build(streamed(2'500'000, 1 << 20, true));
  const auto c = build(streamed(2'500'000, 777, false));
  const auto d = build(streamed(2'500'000, 3 << 20, true));
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, c);
  EXPECT_EQ(a, d);
}

TEST(EifWriter, EmptyApplicationRamdiskIsAllowed) {
  EifContents c = tiny();
  c.ramdisks[1] = SectionSource::from_producer([](ByteSink&) {}, "ramdisk 1 (application)");
  WriteSummary s;
  const auto f = build(c, &s);
  EXPECT_EQ(s.sections.back().size, 0u);
  EXPECT_EQ(to_hex(s.measurements.pcr2), kEmptyPcr);
  EXPECT_TRUE(read_eif(*std::make_unique<MemorySource>(f)));
}

// --- refusals -----------------------------------------------------------------------

std::string build_error(const EifContents& c) {
  try {
    build(c);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(EifWriter, CmdlineMustBeTrimmedAndNulFree) {
  EifContents c = tiny();
  c.cmdline = "console=ttyS0\n";
  EXPECT_NE(build_error(c).find("trim"), std::string::npos) << build_error(c);
  c.cmdline = " console=ttyS0";
  EXPECT_NE(build_error(c).find("whitespace"), std::string::npos);
  c.cmdline = std::string("a\0b", 3);
  EXPECT_NE(build_error(c).find("NUL byte at offset 1"), std::string::npos) << build_error(c);
  c.cmdline = std::string(kMaxCmdlineSize + 1, 'a');
  EXPECT_NE(build_error(c).find("at most"), std::string::npos);
  c.cmdline = "";
  EXPECT_EQ(build_error(c), "(no error)");
}

TEST(EifWriter, NeedsKernelRamdiskAndMetadata) {
  EifContents c = tiny();
  c.ramdisks.clear();
  EXPECT_NE(build_error(c).find("at least one ramdisk"), std::string::npos);
  c = tiny();
  c.metadata.clear();
  EXPECT_NE(build_error(c).find("metadata is empty"), std::string::npos);
  c = tiny();
  c.kernel = SectionSource::from_bytes({}, "kernel");
  EXPECT_NE(build_error(c).find("kernel is empty"), std::string::npos) << build_error(c);
  c = tiny();
  for (int i = 0; i < 28; ++i) c.ramdisks.push_back(SectionSource::from_bytes(bytes("x"), "ramdisk"));
  EXPECT_NE(build_error(c).find("at most 32 sections"), std::string::npos) << build_error(c);
  c.ramdisks.pop_back();  // 29 ramdisks + 3 = 32: fine
  EXPECT_EQ(build_error(c), "(no error)");
}

TEST(EifWriter, ProducerErrorsNameTheSection) {
  EifContents c = tiny();
  c.ramdisks[1] = SectionSource::from_producer([](ByteSink&) { throw std::runtime_error("cannot read /rootfs/x"); },
                                               "ramdisk 1 (application)");
  EXPECT_EQ(build_error(c), "cannot write ramdisk 1 (application): cannot read /rootfs/x");
}

// --- files ----------------------------------------------------------------------------

TEST(EifFile, WritesAndReadsBackFromDisk) {
  TempDir dir;
  const fs::path kernel = dir.path() / "bzImage";
  write_file(kernel, pattern(2'000'001, 9));
  EifContents c = streamed(3'000'000, 65536, true);
  c.kernel = SectionSource::from_file(kernel, "kernel");
  const fs::path target = dir.path() / "app.eif";
  const WriteSummary s = write_eif_file(target, c);
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"app.eif", "bzImage"}));
  const auto f = read_file(target);
  EXPECT_EQ(f.size(), s.file_size);
  EXPECT_EQ(f, build(c));  // same bytes as the in-memory writer
  auto info = read_eif_file(target);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->measurements, s.measurements);
  // Permissions follow the umask like any new file, not mkstemp's 0600.
  struct stat st{};
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  const mode_t mask = ::umask(022);
  ::umask(mask);
  EXPECT_EQ(st.st_mode & 0777, 0666 & ~mask);
}

TEST(EifFile, MissingKernelSaysWhatAndLeavesNothing) {
  TempDir dir;
  EifContents c = tiny();
  c.kernel = SectionSource::from_file(dir.path() / "nope" / "bzImage", "kernel");
  try {
    write_eif_file(dir.path() / "app.eif", c);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot read kernel \"" + (dir.path() / "nope" / "bzImage").string() + "\": No such file or directory");
  }
  EXPECT_TRUE(dir.entries().empty());
}

TEST(EifFile, FailureMidwayLeavesNoFileAndNoTempFile) {
  TempDir dir;
  EifContents c = streamed(3'000'000, 65536, true);
  c.ramdisks[1] = SectionSource::from_producer(
      [](ByteSink& sink) {
        sink.write(pattern(2 << 20, 4));  // some data already on disk
        throw std::runtime_error("rootfs walk failed");
      },
      "ramdisk 1 (application)");
  EXPECT_THROW(write_eif_file(dir.path() / "app.eif", c), std::runtime_error);
  EXPECT_TRUE(dir.entries().empty());
}

TEST(EifFile, FailureKeepsAnExistingTargetUntouched) {
  TempDir dir;
  const fs::path target = dir.path() / "app.eif";
  write_file(target, bytes("previous build"));
  EifContents c = tiny();
  c.signature = [](const Measurements&) -> SignatureSection { throw std::runtime_error("signing key refused"); };
  EXPECT_THROW(write_eif_file(target, c), std::runtime_error);
  EXPECT_EQ(read_file(target), bytes("previous build"));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"app.eif"});
  // A successful write replaces it.
  c.signature = nullptr;
  write_eif_file(target, c);
  EXPECT_EQ(read_file(target), build(c));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"app.eif"});
}

TEST(EifFile, UnwritableDirectoryIsAClearError) {
  TempDir dir;
  try {
    write_eif_file(dir.path() / "missing" / "app.eif", tiny());
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create a temporary file in"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos) << e.what();
  }
  // The target is a directory: the rename fails, nothing is left behind.
  fs::create_directory(dir.path() / "out.eif");
  EXPECT_THROW(write_eif_file(dir.path() / "out.eif", tiny()), std::runtime_error);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.eif"});
}

TEST(EifFile, ReadCmdlineFileTrimsLikeNitroCli) {
  TempDir dir;
  const fs::path p = dir.path() / "cmdline";
  write_file(p, bytes("  reboot=k panic=30 console=ttyS0\n"));
  EXPECT_EQ(read_cmdline_file(p).value(), "reboot=k panic=30 console=ttyS0");
  write_file(p, bytes("a b\r\n\n"));
  EXPECT_EQ(read_cmdline_file(p).value(), "a b");
  write_file(p, std::vector<std::uint8_t>{'a', 0, 'b'});
  EXPECT_FALSE(read_cmdline_file(p));
  auto missing = read_cmdline_file(dir.path() / "none");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("No such file or directory"), std::string::npos);
}

// --- metadata and describe -------------------------------------------------------

TEST(Metadata, CompactJsonInNitroCliKeyOrder) {
  MetadataInput in;
  in.image_name = "hello";
  in.image_version = "sha256:abc";
  in.build_tool_version = "0.1.0";
  in.kernel = parse_kernel_config("#\n# Automatically generated file; DO NOT EDIT.\n"
                                  "# Linux/x86_64 6.12.38-cloud-amd64 Kernel Configuration\n");
  in.docker_info = docker_info("sha256:1111", "sha256:2222");
  in.custom_metadata = nlohmann::json::parse(R"({"z":1,"a":{"y":true,"b":null}})");
  EXPECT_EQ(encode_metadata(in).value(),
            R"({"ImageName":"hello","ImageVersion":"sha256:abc","BuildMetadata":{"BuildTime":"1970-01-01T00:00:00Z",)"
            R"("BuildTool":"enclaver-cpp","BuildToolVersion":"0.1.0","OperatingSystem":"Linux",)"
            R"("KernelVersion":"6.12.38"},"DockerInfo":{"ConfigDigest":"sha256:2222","Id":"sha256:1111"},)"
            R"("CustomMetadata":{"a":{"b":null,"y":true},"z":1}})");
  in.build_time = 1700000000;
  in.docker_info = nullptr;
  in.custom_metadata = nullptr;
  const std::string m = encode_metadata(in).value();
  EXPECT_NE(m.find(R"("BuildTime":"2023-11-14T22:13:20Z")"), std::string::npos) << m;
  EXPECT_NE(m.find(R"("DockerInfo":null,"CustomMetadata":null})"), std::string::npos) << m;
  in.image_name = "\xff";
  EXPECT_FALSE(encode_metadata(in));
}

TEST(Metadata, BuildToolVersionDefaultsToOurs) {
  MetadataInput in;
  const std::string m = encode_metadata(in).value();
#ifdef ENCLAVER_VERSION
  EXPECT_NE(m.find(std::string(R"("BuildTool":"enclaver-cpp","BuildToolVersion":")") + ENCLAVER_VERSION + "\""),
            std::string::npos)
      << m;
#endif
  EXPECT_EQ(m.find(R"("BuildToolVersion":"")"), std::string::npos) << m;
}

TEST(Metadata, Rfc3339) {
  EXPECT_EQ(rfc3339_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(rfc3339_utc(951782400), "2000-02-29T00:00:00Z");
  EXPECT_EQ(rfc3339_utc(4102444799), "2099-12-31T23:59:59Z");
  EXPECT_EQ(rfc3339_utc(-1), "1969-12-31T23:59:59Z");
}

TEST(Metadata, KernelConfigLineThree) {
  EXPECT_EQ(parse_kernel_config("#\n#\n# Linux/x86_64 4.14.256-197.484.amzn2.x86_64 Kernel Configuration\n"),
            (KernelIdentity{"Linux", "4.14.256"}));
  EXPECT_EQ(parse_kernel_config("#\r\n#\r\n# Linux/arm64 6.1.0 Kernel Configuration\r\n"),
            (KernelIdentity{"Linux", "6.1.0"}));
  EXPECT_EQ(parse_kernel_config("#\n#\n"), KernelIdentity{});
  EXPECT_EQ(parse_kernel_config(""), KernelIdentity{});
  EXPECT_EQ(parse_kernel_config("a\nb\n#  x y"), (KernelIdentity{"", "y"}));  // Rust's split keeps empty words
  EXPECT_EQ(parse_kernel_config("a\nb\nCONFIG_X=y"), (KernelIdentity{"Unknown", "Unknown"}));
}

TEST(Metadata, ParseChecksTheShape) {
  EXPECT_TRUE(parse_metadata(metadata_json()));
  auto missing = parse_metadata(R"({"ImageName":"a","ImageVersion":"b","BuildMetadata":{"BuildTime":"t"}})");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "metadata: BuildMetadata.BuildTool is missing");
  EXPECT_FALSE(parse_metadata("{"));
  EXPECT_FALSE(parse_metadata("[]"));
  std::string no_custom = metadata_json();
  no_custom = no_custom.substr(0, no_custom.find(",\"CustomMetadata\"")) + "}";
  auto r = parse_metadata(no_custom);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "metadata: CustomMetadata is missing");
}

TEST(Describe, KeysInDescribeEifOrder) {
  EifContents c = tiny();
  MetadataInput in;
  in.image_name = "app";
  in.image_version = "v1";
  in.build_tool_version = "0.1.0";
  in.custom_metadata = nlohmann::json::parse(R"({"team":"x","BuildTool":"spoof"})");
  c.metadata = encode_metadata(in).value();
  WriteSummary s;
  const auto f = build(c, &s);
  MemorySource src(f);
  auto info = read_eif(src);
  ASSERT_TRUE(info) << info.error().message;
  auto d = describe_eif(*info);
  ASSERT_TRUE(d) << d.error().message;
  std::vector<std::string> keys;
  for (const auto& [k, v] : d->items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"EifVersion", "Measurements", "IsSigned", "CheckCRC", "ImageName",
                                            "ImageVersion", "Metadata"}));
  EXPECT_EQ((*d)["EifVersion"], 4);
  EXPECT_EQ((*d)["Measurements"]["HashAlgorithm"], "Sha384 { ... }");
  EXPECT_EQ((*d)["Measurements"]["PCR0"], to_hex(s.measurements.pcr0));
  EXPECT_EQ((*d)["Measurements"]["PCR2"], to_hex(s.measurements.pcr2));
  EXPECT_FALSE((*d)["Measurements"].contains("PCR8"));
  EXPECT_EQ((*d)["IsSigned"], false);
  EXPECT_EQ((*d)["CheckCRC"], true);
  EXPECT_EQ((*d)["ImageName"], "app");
  EXPECT_EQ((*d)["ImageVersion"], "v1");
  keys.clear();
  for (const auto& [k, v] : (*d)["Metadata"].items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"BuildTime", "BuildTool", "BuildToolVersion", "OperatingSystem",
                                            "KernelVersion", "DockerInfo", "team"}));
  EXPECT_EQ((*d)["Metadata"]["BuildTool"], "enclaver-cpp");
  EXPECT_EQ((*d)["Metadata"]["OperatingSystem"], "Unknown");

  SignatureDescription sig;
  sig.signing_certificate = nlohmann::ordered_json{{"IssuerName", {{"CN", "me"}}}};
  sig.signature_check = true;
  d = describe_eif(*info, sig);
  keys.clear();
  for (const auto& [k, v] : d->items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"EifVersion", "Measurements", "IsSigned", "SigningCertificate",
                                            "CheckCRC", "SignatureCheck", "ImageName", "ImageVersion", "Metadata"}));

  info->metadata = "{}";
  EXPECT_FALSE(describe_eif(*info));  // as describe-eif, refuses metadata without the shape
  EXPECT_EQ(measurements_json(s.measurements).dump().substr(0, 36), R"({"HashAlgorithm":"Sha384 { ... }","P)");
}

// --- independent check --------------------------------------------------------------

std::string run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  if (status != 0) out = "exit status " + std::to_string(status) + ": " + out;
  return out;
}

TEST(IndependentCheck, PythonFromTheSpecAgreesWithWriterAndReader) {
  if (std::system("python3 -c pass >/dev/null 2>&1") != 0) GTEST_SKIP() << "python3 is not installed";
  TempDir dir;
  const fs::path target = dir.path() / "two-ramdisks.eif";
  EifContents c = streamed(1'500'000, 10000, true);
  c.signature = [](const Measurements&) { return SignatureSection{bytes("not really CBOR"), {}}; };
  const WriteSummary s = write_eif_file(target, c);
  auto info = read_eif_file(target);
  ASSERT_TRUE(info) << info.error().message;

  const std::string script = std::string(ENCLAVER_SOURCE_DIR) + "/tests/integration/pcr_independent_check.py";
  const std::string out = run("python3 '" + script + "' '" + target.string() + "'");
  const auto j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["PCR0"], to_hex(s.measurements.pcr0));
  EXPECT_EQ(j["PCR1"], to_hex(s.measurements.pcr1));
  EXPECT_EQ(j["PCR2"], to_hex(s.measurements.pcr2));
  EXPECT_EQ(j["PCR0"], to_hex(info->measurements.pcr0));
  EXPECT_EQ(j["PCR1"], to_hex(info->measurements.pcr1));
  EXPECT_EQ(j["PCR2"], to_hex(info->measurements.pcr2));
  EXPECT_NE(j["PCR0"], j["PCR1"]);
  EXPECT_EQ(j["crc_ok"], true);
  char crc[16];
  std::snprintf(crc, sizeof crc, "0x%08x", s.header.crc32);
  EXPECT_EQ(j["crc_computed"], crc);
  EXPECT_EQ(j["num_sections"], 6);
  ASSERT_EQ(j["sections"].size(), s.sections.size());
  for (std::size_t i = 0; i < s.sections.size(); ++i) {
    EXPECT_EQ(j["sections"][i]["type"], static_cast<int>(s.sections[i].type));
    EXPECT_EQ(j["sections"][i]["offset"], s.sections[i].header_offset);
    EXPECT_EQ(j["sections"][i]["size"], s.sections[i].size);
  }

  // A single-ramdisk EIF: the script finds the §11 constant too.
  EifContents one = tiny();
  one.ramdisks.pop_back();
  write_eif_file(target, one);
  const auto j1 = nlohmann::json::parse(run("python3 '" + script + "' '" + target.string() + "'"), nullptr, false);
  ASSERT_FALSE(j1.is_discarded());
  EXPECT_EQ(j1["PCR2"], kEmptyPcr);
  EXPECT_EQ(j1["PCR0"], j1["PCR1"]);
}

}  // namespace
}  // namespace enclaver::eif
