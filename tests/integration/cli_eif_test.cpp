// `enclaver eif build` and `enclaver describe-eif` as users run them: a
// blobs directory and a rootfs (directory or tar) in, an EIF out whose PCRs
// an independent script (written from eif.md, sharing no code with us)
// reproduces.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <sys/time.h>

#include <filesystem>
#include <fstream>

#include "tests/integration/support/files.hpp"
#include "tests/integration/support/process.hpp"

namespace enclaver::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class EifCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_test_dir("enclaver-eif-cli-");
    write_tiny_blobs(dir_ / "blobs", "reboot=k panic=30 pci=off nomodules console=ttyS0\n", /*config=*/true);
    make_rootfs(dir_ / "rootfs", false);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The same tree, created in a different order with different mtimes when `shuffled`.
  static void make_rootfs(const fs::path& root, bool shuffled) {
    std::vector<std::pair<std::string, std::string>> files = {
        {"bin/app", "#!/bin/sh\necho hello\n"}, {"etc/app.conf", "x=1\n"}, {"usr/share/doc/readme", "docs"}};
    if (shuffled) std::reverse(files.begin(), files.end());
    for (const auto& [name, content] : files) write_file(root / name, content);
    fs::permissions(root / "bin/app", fs::perms(0755));
    fs::create_directory_symlink("../usr/share", root / "etc/share");
    timeval times[2] = {{shuffled ? 1000 : 2000000, 0}, {shuffled ? 1000 : 2000000, 0}};
    utimes((root / "etc/app.conf").c_str(), times);
  }

  ProcessResult build(const fs::path& rootfs, const fs::path& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {program("enclaver"), "eif", "build", "--blobs", (dir_ / "blobs").string(),
                                     "--rootfs", rootfs.string(), "-o", out.string(), "--env", "GREETING=hi"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--", "/sbin/odyn", "--flag"});
    return run(args);
  }

  static std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  fs::path dir_;
};

TEST_F(EifCli, BuildPrintsPcrsThatDescribeAndAnIndependentScriptAgreeOn) {
  auto r = build(dir_ / "rootfs", dir_ / "app.eif", {"--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto built = nlohmann::json::parse(r.out)["Measurements"];

  auto d = run({program("enclaver"), "describe-eif", "--json", (dir_ / "app.eif").string()});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  auto described = nlohmann::json::parse(d.out);
  EXPECT_EQ(described["EifVersion"], 4);
  EXPECT_EQ(described["CheckCRC"], true);
  EXPECT_EQ(described["IsSigned"], false);
  EXPECT_EQ(described["Measurements"], built);
  EXPECT_EQ(described["Metadata"]["KernelVersion"], "6.12.9");

  auto py = run({"/usr/bin/python3", std::string(ENCLAVER_SOURCE_DIR) + "/tests/integration/pcr_independent_check.py",
                 (dir_ / "app.eif").string()});
  ASSERT_EQ(py.exit_code, 0) << py.err;
  auto independent = nlohmann::json::parse(py.out);
  EXPECT_EQ(independent["crc_ok"], true);
  for (const char* pcr : {"PCR0", "PCR1", "PCR2"}) EXPECT_EQ(independent[pcr], built[pcr]) << pcr;
}

TEST_F(EifCli, SameTreeGivesSameBytesWhateverOrderMtimesOrDirectory) {
  make_rootfs(dir_ / "rootfs2", true);
  ASSERT_EQ(build(dir_ / "rootfs", dir_ / "a.eif").exit_code, 0);
  ASSERT_EQ(build(dir_ / "rootfs2", dir_ / "b.eif").exit_code, 0);
  EXPECT_TRUE(slurp(dir_ / "a.eif") == slurp(dir_ / "b.eif"));
}

TEST_F(EifCli, TarRootfsGivesTheSameEifAsTheDirectory) {
  ASSERT_EQ(run({"/bin/tar", "-C", (dir_ / "rootfs").string(), "-cf", (dir_ / "rootfs.tar").string(), "."}).exit_code, 0);
  ASSERT_EQ(build(dir_ / "rootfs", dir_ / "a.eif").exit_code, 0);
  auto r = build(dir_ / "rootfs.tar", dir_ / "b.eif");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(slurp(dir_ / "a.eif") == slurp(dir_ / "b.eif"));
  // The temporary extraction is gone.
  for (const auto& e : fs::directory_iterator(dir_)) EXPECT_THAT(e.path().filename().string(), ::testing::Not(HasSubstr(".enclaver-rootfs")));
}

// PCR8 as `nitro-cli pcr --signing-certificate` defines it, computed with the
// openssl command line only: SHA-384(48 zero bytes || SHA-384(DER)).
std::string openssl_pcr8(const fs::path& cert) {
  const std::string cmd = "openssl x509 -in '" + cert.string() + "' -outform DER | openssl dgst -sha384 -binary"
                          " | { head -c 48 /dev/zero; cat; } | openssl dgst -sha384 -r | cut -d' ' -f1";
  auto r = run({"/bin/sh", "-c", cmd});
  return r.out.substr(0, 96);
}

TEST_F(EifCli, SignedEifHasPcr8AndAVerifiedSignature) {
  const fs::path key = dir_ / "key.pem", cert = dir_ / "cert.pem";
  ASSERT_EQ(run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp384r1", "-nodes",
                 "-sha384", "-keyout", key.string(), "-out", cert.string(), "-days", "30", "-subj", "/CN=enclaver-test/O=Example"})
                .exit_code, 0);
  auto r = build(dir_ / "rootfs", dir_ / "signed.eif", {"--sign-cert", cert.string(), "--sign-key", key.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto built = nlohmann::json::parse(r.out)["Measurements"];
  const std::string pcr8 = openssl_pcr8(cert);
  ASSERT_EQ(pcr8.size(), 96u);
  EXPECT_EQ(built["PCR8"], pcr8);

  auto d = run({program("enclaver"), "describe-eif", "--json", (dir_ / "signed.eif").string()});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  auto described = nlohmann::json::parse(d.out);
  EXPECT_EQ(described["IsSigned"], true);
  EXPECT_EQ(described["SignatureCheck"], true);
  EXPECT_EQ(described["Measurements"]["PCR8"], pcr8);
  EXPECT_EQ(described["SigningCertificate"]["Algorithm"], "ecdsa-with-SHA384");
  EXPECT_EQ(described["SigningCertificate"]["IssuerName"]["commonName"], "enclaver-test");

  // Signing does not move PCR0/1/2.
  ASSERT_EQ(build(dir_ / "rootfs", dir_ / "unsigned.eif", {"--json"}).exit_code, 0);
  auto unsigned_described = nlohmann::json::parse(run({program("enclaver"), "describe-eif", "--json", (dir_ / "unsigned.eif").string()}).out);
  for (const char* pcr : {"PCR0", "PCR1", "PCR2"}) EXPECT_EQ(unsigned_described["Measurements"][pcr], built[pcr]);

  // A flipped bit in the signature fails the check. The file's last byte is
  // the last byte of r||s, written as a CBOR uint: either the value itself
  // (< 24) or the byte after 0x18 (>= 24); flipping bit 0 keeps it on the
  // same side of 24, so the section stays well-formed CBOR and only the
  // signature is wrong.
  std::string bytes = slurp(dir_ / "signed.eif");
  bytes[bytes.size() - 1] ^= 0x01;
  write_file(dir_ / "tampered.eif", bytes);
  auto t = run({program("enclaver"), "describe-eif", (dir_ / "tampered.eif").string()});
  EXPECT_EQ(t.exit_code, 1);
  EXPECT_THAT(t.out, HasSubstr("signature check FAILED"));
}

TEST_F(EifCli, SigningNeedsBothFilesAndAMatchingKey) {
  auto one = build(dir_ / "rootfs", dir_ / "x.eif", {"--sign-cert", (dir_ / "c.pem").string()});
  EXPECT_EQ(one.exit_code, 2);
  EXPECT_THAT(one.err, HasSubstr("--sign-cert and --sign-key go together"));
  const fs::path k1 = dir_ / "k1.pem", c1 = dir_ / "c1.pem", k2 = dir_ / "k2.pem", c2 = dir_ / "c2.pem";
  for (auto [k, c] : {std::pair{k1, c1}, std::pair{k2, c2}})
    ASSERT_EQ(run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp384r1", "-nodes",
                   "-keyout", k.string(), "-out", c.string(), "-days", "1", "-subj", "/CN=x"}).exit_code, 0);
  auto mismatch = build(dir_ / "rootfs", dir_ / "x.eif", {"--sign-cert", c1.string(), "--sign-key", k2.string()});
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_THAT(mismatch.err, HasSubstr("enclaver eif build: "));
  EXPECT_FALSE(fs::exists(dir_ / "x.eif"));
}

TEST_F(EifCli, MissingBlobsSayWhatIsMissingAndLeaveNoFile) {
  fs::remove(dir_ / "blobs/init");
  auto r = build(dir_ / "rootfs", dir_ / "app.eif");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("lacks init"));
  EXPECT_THAT(r.err, HasSubstr("scripts/blobs"));
  EXPECT_FALSE(fs::exists(dir_ / "app.eif"));
}

TEST_F(EifCli, CmdIsRequired) {
  auto r = run({program("enclaver"), "eif", "build", "--blobs", (dir_ / "blobs").string(), "--rootfs",
                (dir_ / "rootfs").string(), "-o", (dir_ / "x.eif").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("give the program to run after --"));
}

TEST_F(EifCli, DescribeRefusesACorruptFileWithTheReason) {
  ASSERT_EQ(build(dir_ / "rootfs", dir_ / "app.eif").exit_code, 0);
  std::string bytes = slurp(dir_ / "app.eif");
  write_file(dir_ / "truncated.eif", bytes.substr(0, bytes.size() - 100));
  auto t = run({program("enclaver"), "describe-eif", (dir_ / "truncated.eif").string()});
  EXPECT_EQ(t.exit_code, 1);
  EXPECT_THAT(t.err, HasSubstr("truncated.eif"));
  bytes[0] = 'X';
  write_file(dir_ / "magic.eif", bytes);
  auto m = run({program("enclaver"), "describe-eif", (dir_ / "magic.eif").string()});
  EXPECT_EQ(m.exit_code, 1);
  EXPECT_THAT(m.err, HasSubstr("magic"));
}

}  // namespace
}  // namespace enclaver::testing
