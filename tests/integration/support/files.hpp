// Files the integration tests lay out: a directory per test, and a tiny
// blobs directory that `enclaver eif build` accepts (not bootable: the
// tests measure and serve EIFs, they do not boot them).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace enclaver::testing {

inline void write_file(const std::filesystem::path& p, const std::string& content,
                       std::filesystem::perms perms = std::filesystem::perms(0644)) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
  std::filesystem::permissions(p, perms);
}

// A fresh, empty directory named after the running test (or the suite,
// from SetUpTestSuite, where no test runs yet).
inline std::filesystem::path fresh_test_dir(const std::string& prefix) {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const auto* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
  const std::string name = test ? test->name() : suite ? suite->name() : "suite";
  const auto dir = std::filesystem::temp_directory_path() / (prefix + std::to_string(getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// bzImage, cmdline and init (and, with `config`, bzImage.config) in `dir`.
inline void write_tiny_blobs(const std::filesystem::path& dir, const std::string& cmdline, bool config = false) {
  write_file(dir / "bzImage", std::string(4096, 'K'));
  write_file(dir / "cmdline", cmdline);
  write_file(dir / "init", "#!init", std::filesystem::perms(0755));
  if (config)
    write_file(dir / "bzImage.config",
               "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86_64 6.12.9 Kernel Configuration\n");
}

}  // namespace enclaver::testing
