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

#include "tests/integration/support/process.hpp"

namespace enclaver::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

void write_file(const fs::path& p, const std::string& content, fs::perms perms = fs::perms(0644)) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
  fs::permissions(p, perms);
}

class EifCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("enclaver-eif-cli-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    write_file(dir_ / "blobs/bzImage", std::string(4096, 'K'));
    write_file(dir_ / "blobs/cmdline", "reboot=k panic=30 pci=off nomodules console=ttyS0\n");
    write_file(dir_ / "blobs/init", "#!init", fs::perms(0755));
    write_file(dir_ / "blobs/bzImage.config", "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86_64 6.12.9 Kernel Configuration\n");
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
