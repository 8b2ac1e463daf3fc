// Putting host programs into a test enclave's root filesystem.
#pragma once

#include <filesystem>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>

#include "tests/integration/support/process.hpp"

namespace enclaver::testing {

// Copies `program` (a dynamically linked host binary such as /usr/bin/curl)
// into `rootfs` at the same path, with every library ldd lists and the
// dynamic loader, so that it runs inside the enclave as on the host.
inline void install_program(const std::filesystem::path& rootfs, const std::filesystem::path& program) {
  namespace fs = std::filesystem;
  auto copy = [&](const fs::path& from) {
    const fs::path to = rootfs / from.relative_path();
    fs::create_directories(to.parent_path());
    fs::copy_file(fs::canonical(from), to, fs::copy_options::overwrite_existing);
  };
  auto listed = run({"/usr/bin/ldd", program.string()});
  if (listed.exit_code != 0) throw std::runtime_error("ldd " + program.string() + ": " + listed.err);
  static const std::regex library(R"((?:=>\s+)?(/\S+)\s+\(0x)");
  std::istringstream lines(listed.out);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, library)) copy(m[1].str());
  }
  copy(program);
}

}  // namespace enclaver::testing
