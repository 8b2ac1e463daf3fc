// The bootstrap and customer ramdisks (see ramdisk.hpp for the contract).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <span>
#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "common/fd.hpp"
#include "common/text.hpp"
#include "eif/ramdisk.hpp"

namespace enclaver::eif {
namespace {

namespace fs = std::filesystem;
using cpio::Header;


Header make(std::string name, std::uint32_t mode, std::uint32_t mtime) {
  Header h;
  h.name = std::move(name);
  h.mode = mode;
  h.mtime = mtime;
  return h;  // uid/gid 0
}

void add_blob(cpio::Writer& w, const std::string& name, const fs::path& path, std::uint32_t mtime,
              std::uint32_t perms = 0755) {
  const std::string shown = text::quote(path.string(), 200);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw std::system_error(errno, std::generic_category(), "bootstrap ramdisk: cannot open " + shown);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    throw std::system_error(errno, std::generic_category(), "bootstrap ramdisk: cannot stat " + shown);
  if (!S_ISREG(st.st_mode)) throw std::runtime_error("bootstrap ramdisk: " + shown + " is not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > 0xffffffffu)
    throw std::runtime_error("bootstrap ramdisk: " + shown + " is 4 GiB or larger");
  Header h = make(name, cpio::kRegular | perms, mtime);
  h.filesize = static_cast<std::uint32_t>(st.st_size);
  w.add_file(std::move(h), fd.get());
}

std::string lines(const std::vector<std::string>& items, const char* what, bool env) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string& s = items[i];
    const std::string where = std::string(what) + " element " + std::to_string(i) + " " + text::quote(s);
    if (s.find('\n') != std::string::npos)
      throw std::invalid_argument(where + " contains a newline; the enclave init reads one element per line");
    if (s.find('\0') != std::string::npos) throw std::invalid_argument(where + " contains NUL");
    if (env) {
      const std::size_t eq = s.find('=');
      if (eq == std::string::npos || eq == 0) throw std::invalid_argument(where + " is not KEY=VALUE");
    }
    out += s;
    out += '\n';
  }
  return out;
}

struct NoContents final : cpio::ContentSource {
  std::uint32_t add_file(cpio::Writer&, Header, const cpio::TreeEntry& e) const override {
    throw std::invalid_argument("customer ramdisk: no contents for " + text::quote(e.path));
  }
};

}  // namespace

RamdiskSummary write_bootstrap_ramdisk(const fs::path& init, const fs::path& nsm_ko, ByteSink& sink,
                                       const std::vector<fs::path>& modules) {
  cpio::Writer w(sink);
  w.add(make("dev", cpio::kDirectory | 0755, kLinuxkitMtime));
  add_blob(w, "init", init, kLinuxkitMtime);
  if (!nsm_ko.empty()) add_blob(w, "nsm.ko", nsm_ko, kLinuxkitMtime);
  if (!modules.empty()) {
    w.add(make("modules", cpio::kDirectory | 0755, kLinuxkitMtime));
    for (const auto& module : modules) add_blob(w, "modules/" + module.filename().string(), module, kLinuxkitMtime, 0644);
  }
  w.finish();
  RamdiskSummary s;
  s.entries = w.entries_written();
  s.bytes = w.bytes_written();
  return s;
}

RamdiskSummary write_customer_ramdisk(const fs::path& rootfs_dir, const std::vector<std::string>& cmd,
                                      const std::vector<std::string>& env, const CustomerRamdiskOptions& options,
                                      ByteSink& sink) {
  // Validate before anything is scanned or reaches the sink.
  lines(cmd, "cmd", false);
  lines(env, "env", true);
  cpio::Tree scanned = cpio::scan_tree(rootfs_dir);
  RootfsTree tree;
  tree.entries = std::move(scanned.entries);
  tree.skipped = std::move(scanned.skipped);
  tree.contents = std::make_shared<const cpio::DirectoryContents>(scanned.root);
  return write_customer_ramdisk(std::move(tree), cmd, env, options, sink);
}

RamdiskSummary write_customer_ramdisk(RootfsTree tree, const std::vector<std::string>& cmd,
                                      const std::vector<std::string>& env, const CustomerRamdiskOptions& options,
                                      ByteSink& sink) {
  // Validate before anything reaches the sink.
  const std::string cmd_text = lines(cmd, "cmd", false);
  const std::string env_text = lines(env, "env", true);
  if (!tree.contents &&
      std::any_of(tree.entries.begin(), tree.entries.end(),
                  [](const cpio::TreeEntry& e) { return (e.mode & cpio::kTypeMask) == cpio::kRegular; }))
    throw std::invalid_argument("customer ramdisk: the rootfs tree has regular files but no content source");

  RamdiskSummary s;
  s.notes = std::move(tree.notes);
  for (const char* name : kRootfsMountPoints) {
    const auto it = std::find_if(tree.entries.begin(), tree.entries.end(),
                                 [&](const cpio::TreeEntry& e) { return e.path == name; });
    if (it != tree.entries.end()) {
      if ((it->mode & cpio::kTypeMask) == cpio::kDirectory) continue;
      s.notes.push_back(std::string("rootfs/") + name +
                        " is not a directory in the image; replaced by one (the init mounts on it)");
      tree.entries.erase(it);  // not a directory, so nothing lies below it
    }
    cpio::TreeEntry dir;
    dir.path = name;
    dir.mode = cpio::kDirectory | 0755;
    tree.entries.push_back(std::move(dir));
  }
  std::sort(tree.entries.begin(), tree.entries.end(),
            [](const cpio::TreeEntry& a, const cpio::TreeEntry& b) { return a.path < b.path; });

  cpio::Writer w(sink);
  w.add(make("rootfs", cpio::kDirectory | 0755, options.mtime));
  // A tree without regular files may come without a source: nothing reads it.
  const NoContents none;
  cpio::write_tree(w, std::span<const cpio::TreeEntry>(tree.entries), tree.contents ? *tree.contents : none,
                   {.prefix = "rootfs", .mtime = options.mtime});
  w.add(make("cmd", cpio::kRegular | 0644, options.mtime), std::string_view(cmd_text));
  w.add(make("env", cpio::kRegular | 0644, options.mtime), std::string_view(env_text));
  w.finish();

  s.entries = w.entries_written();
  s.bytes = w.bytes_written();
  s.skipped = std::move(tree.skipped);
  return s;
}

}  // namespace enclaver::eif
