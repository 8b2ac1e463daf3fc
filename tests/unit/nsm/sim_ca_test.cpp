// The simulator's local certificate chain (simulation.md "Simulated NSM",
// nsm.md §4 "Certificates"), checked with the openssl command line.
#include "nsm/sim_ca.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace enclaver::nsm::sim {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/sim_ca_test_XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_text(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

// Runs a shell command; returns its exit status and output (stdout+stderr).
std::pair<int, std::string> run(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string key_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return out;
}

void write_pem(const fs::path& p, const std::vector<std::uint8_t>& der) {
  auto pem = certificate_pem(der);
  ASSERT_TRUE(pem.ok()) << pem.error().message;
  write_text(p, *pem);
}

TEST(SimCa, DefaultRootPath) {
  EXPECT_EQ(default_root_path("/home/alice"), fs::path("/home/alice/.local/share/enclaver/sim-root.pem"));
}

TEST(SimCa, RootCreatedOnceWithPrivateModes) {
  TempDir dir;
  fs::path path = dir.path / "a" / "b" / "sim-root.pem";
  bool created = false;
  auto first = load_or_create_root(path, &created);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(created);
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(stat((dir.path / "a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(stat((dir.path / "a" / "b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  // No temporary files left.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(path.parent_path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  std::string content = slurp(path);
  EXPECT_NE(content.find("-----BEGIN CERTIFICATE-----"), std::string::npos);
  EXPECT_NE(content.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);

  auto second = load_or_create_root(path, &created);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_FALSE(created);
  EXPECT_EQ(second->cert_der, first->cert_der);
  EXPECT_EQ(slurp(path), content);

  // The openssl command line reads it as a P-384 CA with the AWS-like profile.
  auto [rc, text] = run("openssl x509 -in " + path.string() + " -noout -text");
  ASSERT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("secp384r1"), std::string::npos) << text;
  EXPECT_NE(text.find("ecdsa-with-SHA384"), std::string::npos);
  EXPECT_NE(text.find("CA:TRUE"), std::string::npos);
  EXPECT_NE(text.find("Certificate Sign"), std::string::npos);
  EXPECT_NE(text.find("not a security boundary"), std::string::npos);
  auto [krc, ktext] = run("openssl pkey -in " + path.string() + " -noout -check");
  EXPECT_EQ(krc, 0) << ktext;
}

TEST(SimCa, ChainVerifiesWithOpensslCommandLine) {
  TempDir dir;
  auto root = load_or_create_root(dir.path / "root.pem");
  ASSERT_TRUE(root.ok()) << root.error().message;
  auto inter = make_intermediate(*root);
  ASSERT_TRUE(inter.ok()) << inter.error().message;
  auto leaf = make_leaf(*inter, "sim-abc-enc0123456789abcdef");
  ASSERT_TRUE(leaf.ok()) << leaf.error().message;
  write_pem(dir.path / "inter.pem", inter->cert_der);
  write_pem(dir.path / "leaf.pem", leaf->cert_der);
  std::string base = "openssl verify -CAfile " + (dir.path / "root.pem").string() + " -untrusted " +
                     (dir.path / "inter.pem").string() + " ";
  auto [rc, out] = run(base + (dir.path / "leaf.pem").string());
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find(": OK"), std::string::npos) << out;
  // Strict mode too (we add AKI/SKI, which AWS leaves lack).
  auto [src, sout] = run("openssl verify -x509_strict -CAfile " + (dir.path / "root.pem").string() + " -untrusted " +
                         (dir.path / "inter.pem").string() + " " + (dir.path / "leaf.pem").string());
  EXPECT_EQ(src, 0) << sout;
  // The leaf's profile.
  auto [lrc, ltext] = run("openssl x509 -in " + (dir.path / "leaf.pem").string() + " -noout -text -subject");
  ASSERT_EQ(lrc, 0);
  EXPECT_NE(ltext.find("CA:FALSE"), std::string::npos) << ltext;
  EXPECT_NE(ltext.find("Digital Signature, Non Repudiation"), std::string::npos) << ltext;
  EXPECT_NE(ltext.find("sim-abc-enc0123456789abcdef"), std::string::npos);
  EXPECT_NE(ltext.find("secp384r1"), std::string::npos);
  auto [irc, itext] = run("openssl x509 -in " + (dir.path / "inter.pem").string() + " -noout -text");
  EXPECT_NE(itext.find("pathlen:0"), std::string::npos) << itext;
  // Leaf lifetime ~3 hours: valid in 2h50m, not in 3h10m.
  std::time_t now = std::time(nullptr);
  auto at = [&](std::time_t t) {
    return run(base + "-attime " + std::to_string(t) + " " + (dir.path / "leaf.pem").string()).first;
  };
  EXPECT_EQ(at(now + 2 * 3600 + 50 * 60), 0);
  EXPECT_NE(at(now + 3 * 3600 + 10 * 60), 0);
  // A chain with another root does not verify.
  TempDir other;
  ASSERT_TRUE(load_or_create_root(other.path / "root.pem").ok());
  auto [orc, oout] = run("openssl verify -CAfile " + (other.path / "root.pem").string() + " -untrusted " +
                         (dir.path / "inter.pem").string() + " " + (dir.path / "leaf.pem").string());
  EXPECT_NE(orc, 0) << oout;
}

TEST(SimCa, LeafKeySignsAndCertCarriesItsPublicKey) {
  TempDir dir;
  auto root = make_root();
  ASSERT_TRUE(root.ok());
  auto inter = make_intermediate(*root);
  ASSERT_TRUE(inter.ok());
  auto leaf = make_leaf(*inter, "sim-x");
  ASSERT_TRUE(leaf.ok());
  ASSERT_NE(leaf->key, nullptr);
  EXPECT_NE(leaf->cert_der, inter->cert_der);
  EXPECT_FALSE(make_leaf(*inter, "").ok());
  EXPECT_FALSE(make_leaf(*inter, std::string(65, 'a')).ok());
}

TEST(SimCa, ExplicitTime) {
  TempDir dir;
  std::time_t t = 1760583282;  // 2025-10-16
  auto root = make_root(t);
  ASSERT_TRUE(root.ok());
  auto inter = make_intermediate(*root, t);
  auto leaf = make_leaf(*inter, "sim-t", t);
  ASSERT_TRUE(leaf.ok());
  write_pem(dir.path / "root.pem", root->cert_der);
  write_pem(dir.path / "inter.pem", inter->cert_der);
  write_pem(dir.path / "leaf.pem", leaf->cert_der);
  std::string base = "openssl verify -CAfile " + (dir.path / "root.pem").string() + " -untrusted " +
                     (dir.path / "inter.pem").string() + " -attime ";
  EXPECT_EQ(run(base + std::to_string(t + 60) + " " + (dir.path / "leaf.pem").string()).first, 0);
  EXPECT_NE(run(base + std::to_string(t + 4 * 3600) + " " + (dir.path / "leaf.pem").string()).first, 0);
}

TEST(SimCa, CorruptRootIsAnErrorAndLeftUntouched) {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"garbage", "this is not a PEM file\n"},
      {"truncated", "-----BEGIN CERTIFICATE-----\nMIIB\n"},
  };
  for (const auto& [name, content] : cases) {
    fs::path path = dir.path / (name + ".pem");
    write_text(path, content);
    chmod(path.c_str(), 0600);
    bool created = true;
    auto r = load_or_create_root(path, &created);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_FALSE(created);
    EXPECT_NE(r.error().message.find(path.string()), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("not usable"), std::string::npos) << r.error().message;
    EXPECT_EQ(slurp(path), content) << name;
  }
  // A certificate without its key, and a key that belongs to another cert.
  auto good = load_or_create_root(dir.path / "good.pem");
  ASSERT_TRUE(good.ok());
  std::string good_text = slurp(dir.path / "good.pem");
  std::string cert_only = good_text.substr(0, good_text.find("-----BEGIN PRIVATE KEY-----"));
  write_text(dir.path / "cert_only.pem", cert_only);
  auto r1 = load_or_create_root(dir.path / "cert_only.pem");
  ASSERT_FALSE(r1.ok());
  EXPECT_NE(r1.error().message.find("private key"), std::string::npos) << r1.error().message;
  EXPECT_EQ(slurp(dir.path / "cert_only.pem"), cert_only);

  ASSERT_TRUE(load_or_create_root(dir.path / "other.pem").ok());
  std::string other_text = slurp(dir.path / "other.pem");
  std::string mixed = cert_only + other_text.substr(other_text.find("-----BEGIN PRIVATE KEY-----"));
  write_text(dir.path / "mixed.pem", mixed);
  auto r2 = load_or_create_root(dir.path / "mixed.pem");
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message.find("does not match"), std::string::npos) << r2.error().message;
  EXPECT_EQ(slurp(dir.path / "mixed.pem"), mixed);

  // A leaf (not a CA) with its own key is refused too.
  auto inter = make_intermediate(*good);
  ASSERT_TRUE(inter.ok());
  auto leaf = make_leaf(*inter, "sim-leaf");
  ASSERT_TRUE(leaf.ok());
  std::string leaf_text = *certificate_pem(leaf->cert_der) + key_pem(leaf->key.get());
  write_text(dir.path / "leaf.pem", leaf_text);
  auto r3 = load_or_create_root(dir.path / "leaf.pem");
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.error().message.find("not a CA"), std::string::npos) << r3.error().message;
  EXPECT_EQ(slurp(dir.path / "leaf.pem"), leaf_text);

  // A P-256 CA made by the openssl command line is refused (not P-384).
  fs::path p256 = dir.path / "p256.pem";
  auto [rc, out] = run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=x -days 1 "
                       "-keyout " + (dir.path / "k.pem").string() + " -out " + (dir.path / "c.pem").string() +
                       " && cat " + (dir.path / "c.pem").string() + " " + (dir.path / "k.pem").string() + " > " +
                       p256.string());
  ASSERT_EQ(rc, 0) << out;
  std::string p256_text = slurp(p256);
  auto r4 = load_or_create_root(p256);
  ASSERT_FALSE(r4.ok());
  EXPECT_NE(r4.error().message.find("P-384"), std::string::npos) << r4.error().message;
  EXPECT_EQ(slurp(p256), p256_text);
}

TEST(SimCa, ConcurrentCreatorsAgree) {
  TempDir dir;
  fs::path path = dir.path / "d" / "root.pem";
  std::vector<std::vector<std::uint8_t>> certs(4);
  std::vector<std::string> errors(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      auto r = load_or_create_root(path);
      if (r.ok()) certs[i] = r->cert_der;
      else errors[i] = r.error().message;
    });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(errors[i], "") << i;
    EXPECT_EQ(certs[i], certs[0]) << i;
  }
  auto again = load_or_create_root(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->cert_der, certs[0]);
  int entries = 0;
  for (const auto& e : fs::directory_iterator(path.parent_path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(SimCa, UnwritableDirectoryIsAnError) {
  if (geteuid() == 0) GTEST_SKIP() << "root ignores directory modes";
  TempDir dir;
  fs::path ro = dir.path / "ro";
  fs::create_directory(ro);
  chmod(ro.c_str(), 0500);
  auto r = load_or_create_root(ro / "sub" / "root.pem");
  EXPECT_FALSE(r.ok());
  chmod(ro.c_str(), 0700);
}

}  // namespace
}  // namespace enclaver::nsm::sim
