// The validating reader against broken and hostile files: every check says
// which rule failed and where, and nothing crashes or allocates by a size
// field. Files are made by a small independent builder (raw_eif) or by
// corrupting what the writer produces.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "eif/eif_format.hpp"
#include "eif/eif_reader.hpp"
#include "eif/eif_writer.hpp"
#include "eif/metadata.hpp"
#include "eif/pcr.hpp"

namespace enclaver::eif {
namespace {

namespace fs = std::filesystem;

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

void put16(std::vector<std::uint8_t>& f, std::size_t at, std::uint16_t v) {
  f[at] = static_cast<std::uint8_t>(v >> 8);
  f[at + 1] = static_cast<std::uint8_t>(v);
}
void put32(std::vector<std::uint8_t>& f, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) f[at + i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}
void put64(std::vector<std::uint8_t>& f, std::size_t at, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) f[at + i] = static_cast<std::uint8_t>(v >> (56 - 8 * i));
}

// Recomputes the CRC field (zlib over the file without bytes 544..547).
void fix_crc(std::vector<std::uint8_t>& f) {
  uLong crc = ::crc32(0, f.data(), 544);
  crc = ::crc32(crc, f.data() + 548, static_cast<uInt>(f.size() - 548));
  put32(f, 544, static_cast<std::uint32_t>(crc));
}

struct Raw {
  std::uint16_t type;
  std::vector<std::uint8_t> data;
};

// An EIF built by hand: contiguous sections, table, valid CRC.
std::vector<std::uint8_t> raw_eif(const std::vector<Raw>& sections, std::uint16_t version = 4) {
  std::vector<std::uint8_t> f(548, 0);
  f[0] = '.';
  f[1] = 'e';
  f[2] = 'i';
  f[3] = 'f';
  put16(f, 4, version);
  put64(f, 8, 1 << 30);
  put64(f, 16, 2);
  put16(f, 26, static_cast<std::uint16_t>(sections.size()));
  for (std::size_t i = 0; i < sections.size(); ++i) {
    const std::size_t off = f.size();
    if (i < 32) {
      put64(f, 28 + 8 * i, off);
      put64(f, 284 + 8 * i, sections[i].data.size());
    }
    f.resize(off + 12);
    put16(f, off, sections[i].type);
    put64(f, off + 4, sections[i].data.size());
    f.insert(f.end(), sections[i].data.begin(), sections[i].data.end());
  }
  fix_crc(f);
  return f;
}

const Raw kKernel{1, bytes("KERNEL")};
const Raw kCmdline{2, bytes("console=ttyS0")};
const Raw kMetadata{5, bytes(R"({"ImageName":"a","ImageVersion":"b","BuildMetadata":{"BuildTime":"t","BuildTool":"x",)"
                             R"("BuildToolVersion":"1","OperatingSystem":"Linux","KernelVersion":"6"},)"
                             R"("DockerInfo":null,"CustomMetadata":null})")};
const Raw kRamdisk0{3, bytes("BOOTSTRAP")};
const Raw kRamdisk1{3, bytes("APPLICATION")};
const Raw kSignature{4, bytes("SIG")};

std::vector<Raw> standard() { return {kKernel, kCmdline, kMetadata, kRamdisk0, kRamdisk1}; }

Result<EifInfo> read(const std::vector<std::uint8_t>& f, ReadOptions opt = {}) {
  MemorySource src(f);
  return read_eif(src, opt);
}

// The error message, or "(ok)".
std::string error_of(const std::vector<std::uint8_t>& f, ReadOptions opt = {}) {
  auto r = read(f, std::move(opt));
  return r ? "(ok)" : r.error().message;
}

#define EXPECT_ERROR_HAS(file, needle)                                                   \
  do {                                                                                 \
    const std::string message_ = error_of(file);                                       \
    EXPECT_NE(message_.find(needle), std::string::npos) << "error was: " << message_; \
  } while (0)

// The writer's output for the same sections, signed.
std::vector<std::uint8_t> written(WriteSummary* summary = nullptr) {
  EifContents c;
  c.kernel = SectionSource::from_bytes(bytes("KERNEL"), "kernel");
  c.cmdline = "console=ttyS0";
  c.metadata = std::string(kMetadata.data.begin(), kMetadata.data.end());
  c.ramdisks.push_back(SectionSource::from_bytes(bytes("BOOTSTRAP"), "ramdisk 0"));
  c.ramdisks.push_back(SectionSource::from_bytes(bytes("APPLICATION"), "ramdisk 1"));
  c.signature = [](const Measurements&) { return SignatureSection{bytes("SIG"), {}}; };
  MemoryOutput out;
  WriteSummary s = write_eif(out, c);
  if (summary) *summary = s;
  return out.data();
}

TEST(EifReader, HandBuiltFileReadsAndMatchesTheWriter) {
  const auto f = raw_eif(standard());
  auto info = read(f);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->sections.size(), 5u);
  EXPECT_EQ(info->cmdline, "console=ttyS0");
  EXPECT_EQ(info->measurements.pcr0, pcr_of(bytes("KERNELconsole=ttyS0BOOTSTRAPAPPLICATION")));
  EXPECT_EQ(info->measurements.pcr1, pcr_of(bytes("KERNELconsole=ttyS0BOOTSTRAP")));
  EXPECT_EQ(info->measurements.pcr2, pcr_of(bytes("APPLICATION")));
  // The writer makes the same file, plus the signature.
  auto with_sig = standard();
  with_sig.push_back(kSignature);
  EXPECT_EQ(written(), raw_eif(with_sig));
}

// --- truncation -----------------------------------------------------------------------

TEST(EifReader, TruncatedAtEverySectionBoundaryAndInside) {
  WriteSummary s;
  const auto f = written(&s);
  ASSERT_EQ(error_of(f), "(ok)");
  std::vector<std::size_t> cuts;
  for (const auto& sec : s.sections) {
    cuts.push_back(sec.header_offset);                 // before the section header
    cuts.push_back(sec.header_offset + 5);             // inside it
    cuts.push_back(sec.data_offset);                   // after the header, before the data
    cuts.push_back(sec.data_offset + sec.size / 2);    // inside the data
  }
  cuts.push_back(f.size() - 1);
  for (std::size_t cut : cuts) {
    const std::vector<std::uint8_t> t(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(cut));
    const std::string e = error_of(t);
    EXPECT_NE(e.find("truncated"), std::string::npos) << "cut at " << cut << ": " << e;
  }
}

TEST(EifReader, TruncatedInsideTheHeader) {
  const auto f = raw_eif(standard());
  for (std::size_t cut : {0, 1, 3}) {
    EXPECT_ERROR_HAS(std::vector<std::uint8_t>(f.begin(), f.begin() + cut), "offset 0 (magic)");
  }
  for (std::size_t cut : {4, 5, 27, 100, 543, 544, 547}) {
    const std::vector<std::uint8_t> t(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_EQ(error_of(t), "offset 0: the file is " + std::to_string(cut) +
                               " bytes long, shorter than the 548-byte EIF header: it is truncated");
  }
  // A header alone, declaring sections that are not there.
  EXPECT_ERROR_HAS(std::vector<std::uint8_t>(f.begin(), f.begin() + 548), "offset 548 (section 0 header)");
}

// --- header fields ---------------------------------------------------------------------

TEST(EifReader, WrongMagic) {
  auto f = raw_eif(standard());
  f[1] = 'E';
  EXPECT_EQ(error_of(f), "offset 0 (magic): found \".Eif\", expected \".eif\": this is not an Enclave Image File");
  const auto text = bytes("#!/bin/sh\necho this is not an EIF\n");
  EXPECT_ERROR_HAS(text, "not an Enclave Image File");
}

TEST(EifReader, BadCrcIsAnErrorOrAReport) {
  auto f = raw_eif(standard());
  f[f.size() - 3] ^= 0x01;  // inside ramdisk 1
  EXPECT_ERROR_HAS(f, "offset 544 (eif_crc32): the header says 0x");
  EXPECT_ERROR_HAS(f, "the file is corrupt");
  ReadOptions lenient;
  lenient.require_valid_crc = false;
  auto info = read(f, lenient);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_FALSE(info->crc_ok);
  auto d = describe_eif(*info);
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)["CheckCRC"], false);
  // The CRC field itself damaged.
  auto g = raw_eif(standard());
  g[545] ^= 0x80;
  EXPECT_ERROR_HAS(g, "offset 544 (eif_crc32)");
  // A byte of the unused slots of the table is covered too (but caught earlier).
  auto h = raw_eif(standard());
  h[28 + 8 * 31 + 7] = 1;
  EXPECT_ERROR_HAS(h, "offset 276 (section_offsets[31]): 1 in an unused slot (num_sections is 5); must be 0");
}

TEST(EifReader, Versions) {
  auto f = raw_eif(standard(), 5);
  EXPECT_ERROR_HAS(f, "offset 4 (version): version 5 is not an EIF version this reader knows");
  f = raw_eif({kKernel, kCmdline, kRamdisk0, kSignature}, 3);
  EXPECT_ERROR_HAS(f, "offset 4 (version): version 3 is an old EIF format");
  ReadOptions old;
  old.accept_old_versions = true;
  auto info = read(f, old);
  ASSERT_TRUE(info) << info.error().message;  // v3: no metadata needed
  EXPECT_FALSE(info->metadata);
  EXPECT_TRUE(info->is_signed());
  auto d = describe_eif(*info);
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)["EifVersion"], 3);
  EXPECT_FALSE(d->contains("ImageName"));
  // Sections newer than the version.
  f = raw_eif({kKernel, kCmdline, kMetadata, kRamdisk0}, 3);
  EXPECT_EQ(error_of(f, old), "offset 591 (section 2 type): a metadata section needs EIF version 4 or later, but "
                              "the header says version 3");
  f = raw_eif({kKernel, kCmdline, kRamdisk0, kSignature}, 2);
  EXPECT_NE(error_of(f, old).find("a signature section needs EIF version 3"), std::string::npos);
  f = raw_eif({kKernel, kCmdline, kRamdisk0}, 1);
  EXPECT_NE(error_of(f, old).find("version 1 is not an EIF version"), std::string::npos);
}

TEST(EifReader, FlagsReservedAndUnused) {
  auto f = raw_eif(standard());
  put16(f, 6, 0x0003);
  fix_crc(f);
  EXPECT_EQ(error_of(f), "offset 6 (flags): 0x0003 has unknown bits 0x0002; only bit 0 (aarch64) is defined, so "
                         "this EIF needs a newer reader");
  put16(f, 6, 0x0001);
  fix_crc(f);
  auto info = read(f);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->arch, Arch::Aarch64);
  auto g = raw_eif(standard());
  put16(g, 24, 1);
  fix_crc(g);
  EXPECT_ERROR_HAS(g, "offset 24 (reserved): 0x0001 instead of 0");
  g = raw_eif(standard());
  put32(g, 540, 7);
  fix_crc(g);
  EXPECT_ERROR_HAS(g, "offset 540 (unused): 0x00000007 instead of 0");
}

TEST(EifReader, SectionCounts) {
  auto f = raw_eif(standard());
  put16(f, 26, 1000);
  EXPECT_EQ(error_of(f),
            "offset 26 (num_sections): 1000 sections declared; at most 32 are allowed: the header is corrupt");
  put16(f, 26, 33);
  EXPECT_ERROR_HAS(f, "offset 26 (num_sections): 33 sections declared");
  put16(f, 26, 0xffff);
  EXPECT_ERROR_HAS(f, "65535 sections declared");
  put16(f, 26, 0);
  EXPECT_ERROR_HAS(f, "offset 26 (num_sections): the EIF declares no sections");
  // Fewer sections than the file holds: the rest is trailing bytes.
  f = raw_eif(standard());
  put16(f, 26, 4);
  put64(f, 28 + 8 * 4, 0);
  put64(f, 284 + 8 * 4, 0);
  fix_crc(f);
  // kernel 548..566, cmdline ..591, metadata ..591+12+M, ramdisk 0 +21, then ramdisk 1 (23 bytes) trails.
  const std::size_t end = 591 + 12 + kMetadata.data.size() + 21;
  EXPECT_ERROR_HAS(f, "offset " + std::to_string(end) + " (end of the last section): 23 trailing bytes follow the "
                                                        "last section");
  // 33 sections built honestly: the table cannot hold them.
  std::vector<Raw> many = standard();
  while (many.size() < 33) many.push_back(kRamdisk1);
  EXPECT_ERROR_HAS(raw_eif(many), "offset 26 (num_sections): 33 sections declared");
  many.pop_back();
  EXPECT_EQ(error_of(raw_eif(many)), "(ok)");  // 32 is the maximum
}

// --- section table ---------------------------------------------------------------------

TEST(EifReader, SizesPointingPastTheEnd) {
  auto f = raw_eif(standard());
  const std::size_t last = 28 + 8 * 4;
  const std::uint64_t off = 548 + 18 + 25 + 12 + static_cast<std::uint64_t>(kMetadata.data.size()) + 21;
  ASSERT_EQ(off, [&] {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | f[last + i];
    return v;
  }());
  for (std::uint64_t size : {std::uint64_t{12}, std::uint64_t{1} << 40, std::numeric_limits<std::uint64_t>::max()}) {
    put64(f, 284 + 8 * 4, size);
    put64(f, off + 4, size);
    fix_crc(f);
    const std::string e = error_of(f);
    EXPECT_NE(e.find("offset " + std::to_string(off + 12) + " (section 4 data): section 4 declares " +
                     std::to_string(size) + " bytes (section_sizes[4]), but only 11 remain in the file: the file "
                     "is truncated or the size is corrupt"),
              std::string::npos)
        << e;
  }
  // A huge size early in the table.
  auto g = raw_eif(standard());
  put64(g, 284, std::numeric_limits<std::uint64_t>::max() - 5);
  EXPECT_ERROR_HAS(g, "section 0 declares 18446744073709551610 bytes");
  // A huge offset.
  g = raw_eif(standard());
  put64(g, 28 + 8, std::numeric_limits<std::uint64_t>::max());
  EXPECT_ERROR_HAS(g, "sections must follow each other with no gap");
}

TEST(EifReader, GapsAndOverlaps) {
  auto f = raw_eif(standard());
  put64(f, 28 + 8, 565);  // section 1 at 565 instead of 564
  fix_crc(f);
  EXPECT_EQ(error_of(f), "offset 36 (section_offsets[1]): section 1 is at offset 565, but section 0 ends at 566: "
                         "sections must follow each other with no overlap");
  put64(f, 28 + 8, 567);
  fix_crc(f);
  EXPECT_ERROR_HAS(f, "section 0 ends at 566: sections must follow each other with no gap");
  f = raw_eif(standard());
  put64(f, 28, 560);
  EXPECT_ERROR_HAS(f, "offset 28 (section_offsets[0]): the first section is at offset 560; it must follow the "
                      "header, at 548");
  // Sections listed out of file order.
  f = raw_eif(standard());
  std::swap_ranges(f.begin() + 28, f.begin() + 36, f.begin() + 36);
  EXPECT_ERROR_HAS(f, "offset 28 (section_offsets[0])");
}

TEST(EifReader, TrailingBytes) {
  auto f = raw_eif(standard());
  f.push_back(0);
  fix_crc(f);
  EXPECT_ERROR_HAS(f, "1 trailing bytes follow the last section");
}

// --- section headers and rules -----------------------------------------------------

TEST(EifReader, UnknownAndInvalidTypes) {
  auto s = standard();
  s.push_back({6, bytes("?")});
  const std::size_t at = 591 + 12 + kMetadata.data.size() + 21 + 23;
  EXPECT_ERROR_HAS(raw_eif(s), "offset " + std::to_string(at) +
                                   " (section 5 type): unknown type 6; known types are 1 kernel, 2 cmdline, 3 "
                                   "ramdisk, 4 signature, 5 metadata");
  s.back().type = 0;
  EXPECT_ERROR_HAS(raw_eif(s), "(section 5 type): invalid (type 0)");
  s.back().type = 0xffff;
  EXPECT_ERROR_HAS(raw_eif(s), "unknown type 65535");
}

TEST(EifReader, SectionHeaderMustMatchTheTable) {
  auto f = raw_eif(standard());
  put16(f, 548 + 2, 1);
  fix_crc(f);
  EXPECT_EQ(error_of(f), "offset 550 (section 0 (kernel) flags): 0x0001 instead of 0");
  f = raw_eif(standard());
  put64(f, 548 + 4, 5);
  fix_crc(f);
  EXPECT_EQ(error_of(f), "offset 552 (section 0 (kernel) size): the section header says 5 bytes, the header's "
                         "section_sizes[0] says 6: the file is corrupt");
}

TEST(EifReader, SectionRules) {
  EXPECT_ERROR_HAS(raw_eif({kKernel, kKernel, kCmdline, kMetadata, kRamdisk0}),
                   "offset 566 (section 1 (kernel)): a second kernel section; an EIF has exactly one");
  EXPECT_ERROR_HAS(raw_eif({kCmdline, kMetadata, kRamdisk0}), "ramdisk before the kernel section");
  EXPECT_ERROR_HAS(raw_eif({kCmdline, kMetadata}), "offset 548 (sections): no kernel section among the 2 sections");
  EXPECT_ERROR_HAS(raw_eif({kKernel, kMetadata, kRamdisk0}), "no cmdline section");
  EXPECT_ERROR_HAS(raw_eif({kKernel, kCmdline, kCmdline, kMetadata, kRamdisk0}), "a second cmdline section");
  EXPECT_ERROR_HAS(raw_eif({kKernel, kCmdline, kMetadata}),
                   "offset 548 (sections): no ramdisk section among the 3 sections; an EIF needs at least one");
  EXPECT_ERROR_HAS(raw_eif({kKernel, kCmdline, kRamdisk0}), "no metadata section among the 3 sections; a version 4");
  EXPECT_ERROR_HAS(raw_eif({kKernel, kCmdline, kMetadata, kMetadata, kRamdisk0}), "a second metadata section");
  EXPECT_ERROR_HAS(raw_eif({kKernel, kCmdline, kMetadata, kRamdisk0, kSignature, kSignature}),
                   "a second signature section");
  EXPECT_ERROR_HAS(raw_eif({kRamdisk0, kKernel, kCmdline, kMetadata}), "ramdisk before the kernel");
}

TEST(EifReader, OtherOrdersAreAcceptedAndMeasuredInFileOrder) {
  // eif.md §10.4: readers accept any order (ramdisks after the kernel).
  const auto f = raw_eif({kSignature, kKernel, kRamdisk0, kMetadata, kRamdisk1, kCmdline});
  auto info = read(f);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->measurements.pcr0, pcr_of(bytes("KERNELBOOTSTRAPAPPLICATIONconsole=ttyS0")));
  EXPECT_EQ(info->measurements.pcr1, pcr_of(bytes("KERNELBOOTSTRAPconsole=ttyS0")));
  EXPECT_EQ(info->measurements.pcr2, pcr_of(bytes("APPLICATION")));
}

TEST(EifReader, SmallSectionsAreBounded) {
  EXPECT_ERROR_HAS(raw_eif({kKernel, {2, std::vector<std::uint8_t>(kMaxCmdlineSize + 1, 'a')}, kMetadata, kRamdisk0}),
                   "(section 1 (cmdline) size): 65537 bytes; a kernel command line is at most 65536");
  auto s = standard();
  s.push_back({4, std::vector<std::uint8_t>(kMaxSignatureSize + 1, 1)});
  EXPECT_ERROR_HAS(raw_eif(s), "a signature section is at most 32768");
}

// --- PCR8 hook, files, describe ------------------------------------------------------

TEST(EifReader, CertificateHookGivesPcr8OrFails) {
  auto s = standard();
  s.push_back(kSignature);
  const auto f = raw_eif(s);
  ReadOptions opt;
  opt.certificate_der = [](std::span<const std::uint8_t>) -> Result<std::vector<std::uint8_t>> {
    return bytes("DER");
  };
  auto info = read(f, opt);
  ASSERT_TRUE(info);
  ASSERT_TRUE(info->measurements.pcr8);
  EXPECT_EQ(*info->measurements.pcr8, pcr_of(bytes("DER")));
  EXPECT_EQ(describe_eif(*info).value()["Measurements"]["PCR8"], to_hex(pcr_of(bytes("DER"))));
  opt.certificate_der = [](std::span<const std::uint8_t>) -> Result<std::vector<std::uint8_t>> {
    return make_error("not CBOR");
  };
  EXPECT_NE(error_of(f, opt).find("(signature section): not CBOR"), std::string::npos) << error_of(f, opt);
  // Without the hook there is no PCR8, as for an unsigned EIF.
  info = read(f);
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->measurements.pcr8);
  EXPECT_TRUE(info->is_signed());
}

TEST(EifReader, Files) {
  const fs::path dir = fs::temp_directory_path() / ("eif_reader_test." + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path p = dir / "x.eif";
  const auto f = raw_eif(standard());
  {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
  }
  auto info = read_eif_file(p);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->file_size, f.size());
  auto missing = read_eif_file(dir / "none.eif");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "cannot open \"" + (dir / "none.eif").string() + "\": No such file or directory");
  auto directory = read_eif_file(dir);
  ASSERT_FALSE(directory);
  EXPECT_NE(directory.error().message.find("is not a regular file"), std::string::npos);
  fs::resize_file(p, 600);
  auto truncated = read_eif_file(p);
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().message.rfind("\"" + p.string() + "\": offset 591 (section 2 header)", 0), 0u)
      << truncated.error().message;
  fs::remove_all(dir);
}

TEST(EifReader, RandomCorruptionNeverCrashes) {
  // A smoke version of the fuzz target: random byte changes, cuts and
  // extensions of a valid file; each read either succeeds or errs cleanly.
  const auto base = written();
  std::mt19937 rng(12345);
  int ok = 0;
  for (int round = 0; round < 3000; ++round) {
    auto f = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 4) {
        case 0: f[rng() % f.size()] = static_cast<std::uint8_t>(rng()); break;
        case 1: f[rng() % 548] = static_cast<std::uint8_t>(rng()); break;  // the header
        case 2: f.resize(rng() % (f.size() + 1)); break;
        case 3: f.push_back(static_cast<std::uint8_t>(rng())); break;
      }
      if (f.empty()) f.push_back(0);
    }
    ReadOptions opt;
    opt.require_valid_crc = (round % 2) == 0;
    auto r = read(f, opt);
    if (r) {
      ++ok;
      (void)describe_eif(*r);
    } else {
      EXPECT_EQ(r.error().message.rfind("offset ", 0), 0u) << r.error().message;
    }
  }
  EXPECT_GT(ok, 0);
}

}  // namespace
}  // namespace enclaver::eif
