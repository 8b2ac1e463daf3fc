// Egress end to end in the simulator: the app inside the enclave reaches
// real servers on the host (tests/integration/egress/upstream.mjs, Node's
// http and https) only through odyn's proxy, the vsock tunnel and the
// sleeve's host side. Names resolve through a hosts file the sleeve is
// given (--egress-hosts), so that "a name resolving to a private address"
// is real. The app is enclave-test-app: /raw/PORT sends bytes exactly as a
// test writes them (malformed requests included), /exec runs curl, which
// is installed in the enclave with its libraries. Needs root; skipped
// otherwise.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/hex.hpp"
#include "tests/integration/enclave/sleeve_process.hpp"
#include "tests/integration/support/files.hpp"
#include "tests/integration/support/net.hpp"
#include "tests/integration/support/process.hpp"
#include "tests/integration/support/rootfs.hpp"
#include "tests/integration/support/test_enclave.hpp"
#include "tests/unit/egress/catalogue.hpp"
#include "tests/unit/egress/tunnel_harness.hpp"

namespace enclaver::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr int kProxyPort = 10000;

// The hosts the sleeve resolves (no DNS): names that an allow pattern lets
// through at odyn but that resolve to addresses the host side must refuse.
constexpr const char* kHosts =
    "127.0.0.2 allowed.test tls.test ok.wild.test mixed.wild.test\n"
    "127.0.0.3 denied.test\n"
    "10.0.0.5 priv.wild.test mixed.wild.test\n"
    "169.254.169.254 imds.wild.test\n"
    "127.0.0.1 loop.wild.test localhost\n"
    "::1 v6loop.wild.test\n"
    "127.0.5.1 cidr.wild.test\n"
    "127.0.0.2 bad.wild.test\n";

struct Case {
  const char* what;
  std::string request;   // raw bytes the app sends to the proxy; "$H" = upstream HTTP port
  const char* status;    // the status line's start
  const char* contains;  // in the answer ("" = anything)
};

// An enclave running enclave-test-app (and curl, with its libraries) behind
// odyn with the given egress section, its host side resolving with `hosts`.
struct EgressEnclave : TestEnclave {
  EgressEnclave(fs::path directory, const std::string& egress, const std::string& hosts, const fs::path& ca = {})
      : TestEnclave(directory, spec(directory, egress, hosts, ca)) {}

  static TestEnclaveSpec spec(const fs::path& directory, const std::string& egress, const std::string& hosts, const fs::path& ca) {
    fs::create_directories(directory);
    write_file(directory / "hosts", hosts);
    TestEnclaveSpec spec;
    spec.name = "egress";
    spec.sections = "egress:\n" + egress;
    spec.programs = {"/usr/bin/curl"};
    if (!ca.empty()) spec.files = {{ca, "/ca.pem"}};
    spec.sleeve_args = {"--egress-hosts", (directory / "hosts").string()};
    return spec;
  }
};

class Egress : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    suite_ = std::make_unique<Suite>();
  }
  static void TearDownTestSuite() { suite_.reset(); }

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the simulator needs root";
    ASSERT_TRUE(suite_ && suite_->ready) << (suite_ ? suite_->why : "no suite");
  }

  // One enclave and one pair of upstream servers for the whole suite: the
  // cases only send requests.
  struct Suite {
    fs::path dir = fresh_test_dir("enclaver-egress-");
    std::string http_port = free_port(), https_port = free_port();
    std::unique_ptr<SleeveProcess> upstream;
    std::unique_ptr<EgressEnclave> enclave;
    bool ready = false;
    std::string why;

    Suite() {
      // A CA and a certificate for the upstream HTTPS names.
      const fs::path pki = dir / "pki";
      fs::create_directories(pki);
      auto openssl = [&](std::vector<std::string> args) {
        args.insert(args.begin(), "/usr/bin/openssl");
        auto r = run(args);
        if (r.exit_code != 0) why += r.err;
      };
      openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=egress CA",
               "-keyout", (pki / "ca.key").string(), "-out", (pki / "ca.pem").string()});
      openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=tls.test", "-keyout",
               (pki / "server.key").string(), "-out", (pki / "server.csr").string()});
      write_file(pki / "ext.cnf", "subjectAltName=DNS:tls.test,DNS:allowed.test\n");
      openssl({"x509", "-req", "-in", (pki / "server.csr").string(), "-CA", (pki / "ca.pem").string(), "-CAkey",
               (pki / "ca.key").string(), "-CAcreateserial", "-days", "1", "-extfile", (pki / "ext.cnf").string(), "-out",
               (pki / "server.pem").string()});
      upstream = std::make_unique<SleeveProcess>(std::vector<std::string>{"/usr/bin/node", UPSTREAM_JS, "127.0.0.2", http_port,
                                                                          https_port, (pki / "server.pem").string(),
                                                                          (pki / "server.key").string()});
      if (!upstream->wait_for("ready")) {
        why += "upstream: " + upstream->stderr_text();
        return;
      }
      enclave = std::make_unique<EgressEnclave>(dir / "enclave",
                                                "  allow:\n    - allowed.test\n    - tls.test\n    - \"*.wild.test\"\n"
                                                "    - 127.0.0.2\n    - 127.0.5.0/24\n    - 0.0.0.0/0\n"
                                                "  deny:\n    - bad.wild.test\n",
                                                kHosts, pki / "ca.pem");
      why += enclave->why;
      ready = enclave->ready;
    }
    ~Suite() {
      enclave.reset();
      upstream.reset();
      fs::remove_all(dir);
    }
  };

  // POST to the app inside the enclave, through ingress.
  static ProcessResult app(const std::string& path, const std::string& body) { return suite_->enclave->app(path, body); }
  // The app sends `raw` to odyn's proxy; what came back.
  static std::string through_proxy(std::string raw) {
    for (std::size_t at; (at = raw.find("$H")) != std::string::npos;) raw.replace(at, 2, suite_->http_port);
    return app("/raw/" + std::to_string(kProxyPort), raw).out;
  }
  // curl inside the enclave, through the proxy.
  static std::string curl_inside(std::vector<std::string> args) {
    std::string lines = "/usr/bin/curl\n-sS\n--max-time\n60\n-x\nhttp://127.0.0.1:" + std::to_string(kProxyPort);
    for (auto& a : args) {
      for (std::size_t at; (at = a.find("$H")) != std::string::npos;) a.replace(at, 2, suite_->http_port);
      for (std::size_t at; (at = a.find("$S")) != std::string::npos;) a.replace(at, 2, suite_->https_port);
      lines += "\n" + a;
    }
    return app("/exec", lines).out;
  }

  static std::unique_ptr<Suite> suite_;
};
std::unique_ptr<Egress::Suite> Egress::suite_;

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: x\r\n" + extra + "Connection: close\r\n\r\n";
}
std::string connect(const std::string& authority) {
  return "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n";
}

// The bypass catalogue: each attempt, and what the proxy must answer.
const std::vector<Case>& catalogue() {
  static const std::vector<Case> cases = {
      {"an allowed name", get("http://allowed.test:$H/hello"), "HTTP/1.1 200", "hello from upstream http"},
      {"an allowed IP literal", get("http://127.0.0.2:$H/hello"), "HTTP/1.1 200", "hello from upstream http"},
      {"upper case is the same name", get("http://ALLOWED.TEST:$H/hello"), "HTTP/1.1 200", "hello from upstream"},
      {"one trailing dot is the same name", get("http://allowed.test.:$H/hello"), "HTTP/1.1 200", "hello from upstream"},
      {"a name no rule allows", get("http://denied.test:$H/"), "HTTP/1.1 403", "X-Enclaver-Egress: denied"},
      {"loopback literal", get("http://127.0.0.1:$H/"), "HTTP/1.1 403", "blocked by egress policy"},
      {"decimal integer address", get("http://2130706433:$H/"), "HTTP/1.1 403", ""},
      {"hex dotted address", get("http://0x7f.1:$H/"), "HTTP/1.1 403", ""},
      {"short dotted address", get("http://127.1:$H/"), "HTTP/1.1 403", ""},
      {"octal dotted address", get("http://0177.0.0.1:$H/"), "HTTP/1.1 403", ""},
      {"five-part dotted address", get("http://1.2.3.4.5:$H/"), "HTTP/1.1 403", ""},
      {"userinfo names an allowed host", get("http://allowed.test@denied.test:$H/"), "HTTP/1.1 403", "denied.test"},
      {"Host header forgery", get("http://denied.test:$H/", "Host: allowed.test\r\n"), "HTTP/1.1 4", ""},
      {"origin-form request", "GET /hello HTTP/1.1\r\nHost: allowed.test\r\nConnection: close\r\n\r\n", "HTTP/1.1 400", ""},
      {"CONNECT without a port", connect("allowed.test"), "HTTP/1.1 400", ""},
      {"CONNECT to port 0", connect("allowed.test:0"), "HTTP/1.1 400", ""},
      {"CONNECT to port 99999", connect("allowed.test:99999"), "HTTP/1.1 400", ""},
      {"CONNECT with userinfo", connect("user@allowed.test:443"), "HTTP/1.1 400", ""},
      {"IPv4-mapped IPv6 loopback", connect("[::ffff:127.0.0.1]:80"), "HTTP/1.1 403", ""},
      {"IPv6 loopback", connect("[::1]:80"), "HTTP/1.1 403", ""},
      {"NAT64 prefix", connect("[64:ff9b::7f00:1]:80"), "HTTP/1.1 403", ""},
      {"6to4 prefix", connect("[2002:7f00:1::]:80"), "HTTP/1.1 403", ""},
      {"IPv6 zone id", connect("[fe80::1%25eth0]:80"), "HTTP/1.1 400", ""},
      {"IPv6 without brackets", connect("::1:80"), "HTTP/1.1 400", ""},
      {"a name resolving to a private address", get("http://priv.wild.test:$H/"), "HTTP/1.1 403", "10.0.0.5"},
      {"a name resolving to IMDS", get("http://imds.wild.test:$H/"), "HTTP/1.1 403", "169.254.169.254"},
      {"a name resolving to loopback (0.0.0.0/0 unlocks nothing)", get("http://loop.wild.test:$H/"), "HTTP/1.1 403", ""},
      {"a name resolving to IPv6 loopback", get("http://v6loop.wild.test:$H/"), "HTTP/1.1 403", ""},
      {"one bad address among several refuses the name", get("http://mixed.wild.test:$H/"), "HTTP/1.1 403", ""},
      {"deny overrides allow", get("http://bad.wild.test:$H/"), "HTTP/1.1 403", ""},
      {"a CIDR allow opens a private range (nothing listens: 502)", get("http://cidr.wild.test:$H/"), "HTTP/1.1 502", ""},
      {"localhost", get("http://localhost:$H/"), "HTTP/1.1 403", ""},
      {"host (the parent), not listed", get("http://host:$H/"), "HTTP/1.1 403", ""},
      {"a 64-byte label", get("http://" + std::string(64, 'a') + ".wild.test:$H/"), "HTTP/1.1 403", ""},
      {"a name over 253 bytes", get("http://" + std::string(120, 'a') + "." + std::string(120, 'b') + ".x.wild.test:$H/"),
       "HTTP/1.1 403", ""},
      {"an empty label", get("http://ok..wild.test:$H/"), "HTTP/1.1 403", ""},
      {"a Cyrillic look-alike of an allowed name", get("http://\xd0\xb0llowed.test:$H/"), "HTTP/1.1 4", ""},
      {"percent-encoding in the host", get("http://allowed%2etest:$H/"), "HTTP/1.1 403", ""},
      {"an unsupported scheme", get("ftp://allowed.test/"), "HTTP/1.1 400", ""},
      {"CRLF injected in the target", "GET http://allowed.test:$H/\r\nX: y HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400", ""},
      {"Content-Length with Transfer-Encoding",
       "POST http://allowed.test:$H/sha256 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       "HTTP/1.1 400", ""},
      {"two different Content-Lengths",
       "POST http://allowed.test:$H/sha256 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "HTTP/1.1 400",
       ""},
      {"a duplicate Host", "GET http://allowed.test:$H/hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "HTTP/1.1 400", ""},
  };
  return cases;
}

TEST_F(Egress, TheBypassCatalogueGetsTheExpectedAnswers) {
  for (const auto& c : catalogue()) {
    const std::string answer = through_proxy(c.request);
    EXPECT_THAT(answer, StartsWith(c.status)) << c.what << "\n" << answer.substr(0, 400);
    if (*c.contains) {
      EXPECT_THAT(answer, HasSubstr(c.contains)) << c.what << "\n" << answer.substr(0, 400);
    }
  }
  EXPECT_GE(catalogue().size(), 40u);
}

TEST_F(Egress, KeepAliveAndChunkedBodiesWork) {
  const std::string two = "GET http://allowed.test:$H/hello HTTP/1.1\r\nHost: x\r\n\r\n"
                          "POST http://allowed.test:$H/sha256 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                          "Connection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  const std::string answer = through_proxy(two);
  EXPECT_THAT(answer, HasSubstr("hello from upstream http"));
  // sha256("abc")
  EXPECT_THAT(answer, HasSubstr("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad 3"));
}

TEST_F(Egress, HttpsThroughConnectIsVerifiedEndToEndByCurlInside) {
  EXPECT_THAT(curl_inside({"--cacert", "/ca.pem", "https://tls.test:$S/hello"}), HasSubstr("hello from upstream https"));
  // Without the CA, curl inside refuses the server: the proxy never saw plaintext.
  EXPECT_THAT(curl_inside({"https://tls.test:$S/hello"}), Not(HasSubstr("hello from upstream")));
}

TEST_F(Egress, HundredMebibytesDownAndUpIntact) {
  constexpr std::size_t kSize = 100u << 20;
  EXPECT_THAT(curl_inside({"-o", "/tmp/big", "http://allowed.test:$H/bytes/" + std::to_string(kSize)}), StartsWith("exit 0"));
  std::string expected(kSize, '\0');
  for (std::size_t i = 0; i < kSize; ++i) expected[i] = static_cast<char>(i % 251);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), digest);
  const std::string hex = to_hex(std::span<const std::uint8_t>(digest, sizeof digest));
  EXPECT_THAT(curl_inside({"--data-binary", "@/tmp/big", "http://allowed.test:$H/sha256"}),
              HasSubstr(hex + " " + std::to_string(kSize)));
}

// odyn's refusal reaches the host's log (the app's log stream, [odyn]
// lines); the host side's own refusal reaches the sleeve's stderr.
TEST_F(Egress, RefusalsAreLoggedWithHostPortAndReason) {
  through_proxy(get("http://denied.test:$H/"));
  through_proxy(get("http://priv.wild.test:$H/"));
  auto logged = [](auto text, const std::string& what) {
    for (int i = 0; i < 50; ++i, std::this_thread::sleep_for(std::chrono::milliseconds(100)))
      if (text().find(what) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(logged([] { return suite_->enclave->sleeve->stdout_text(); }, "denied.test:" + suite_->http_port)) << "odyn's refusal";
  EXPECT_TRUE(logged([] { return suite_->enclave->sleeve->stderr_text(); }, "10.0.0.5")) << "the host side's refusal";
}

}  // namespace
}  // namespace enclaver::testing

namespace enclaver::testing {
namespace {

// The host side's own catalogue (tests/unit/egress/catalogue.hpp, run there
// against the host side alone, as a compromised odyn would speak) run end
// to end through odyn's proxy, with the same policy and the same hosts
// table: every case the host side lets through must work through the
// proxy, every case it refuses must be refused.
class EgressCatalogue : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    namespace c = egress::catalogue;
    echo_ = std::make_unique<egress::testing::EchoServer>();
    blackhole_ = std::make_unique<egress::testing::Blackhole>();
    closed_ = egress::testing::closed_port();
    std::string policy = "  allow:\n";
    for (const auto& p : c::kAllow) policy += "    - \"" + p + "\"\n";
    policy += "  deny:\n";
    for (const auto& p : c::kDeny) policy += "    - \"" + p + "\"\n";
    dir_ = fresh_test_dir("enclaver-egress-catalogue-");
    enclave_ = std::make_unique<EgressEnclave>(dir_, policy, c::kHosts);
  }
  static void TearDownTestSuite() {
    enclave_.reset();
    blackhole_.reset();
    echo_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the simulator needs root";
    ASSERT_TRUE(enclave_ && enclave_->ready) << (enclave_ ? enclave_->why : "no enclave");
  }

  static std::uint16_t port_of(egress::catalogue::Target target) {
    switch (target) {
      case egress::catalogue::Target::closed: return closed_;
      case egress::catalogue::Target::blackhole: return blackhole_->port();
      default: return echo_->port();
    }
  }

  static inline std::unique_ptr<egress::testing::EchoServer> echo_;
  static inline std::unique_ptr<egress::testing::Blackhole> blackhole_;
  static inline std::uint16_t closed_ = 0;
  static inline fs::path dir_;
  static inline std::unique_ptr<EgressEnclave> enclave_;
};

TEST_F(EgressCatalogue, EveryCaseOfTheHostSidesCatalogueGetsTheSameVerdictThroughTheProxy) {
  for (const auto& c : egress::catalogue::kCases) {
    // CONNECT's authority: an IPv6 literal goes in brackets there.
    const bool v6 = c.host.find(':') != std::string::npos;
    const std::string authority = (v6 ? "[" + c.host + "]" : c.host) + ":" + std::to_string(port_of(c.target));
    const std::string answer =
        enclave_->app("/rawshut/" + std::to_string(kProxyPort), "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority +
                                                                 "\r\n\r\nping").out;
    const std::string what = std::string(c.description) + " (" + authority + ")\n" + answer.substr(0, 300);
    switch (c.os_code) {
      case 0:
        EXPECT_THAT(answer, StartsWith("HTTP/1.1 200")) << what;
        EXPECT_THAT(answer, HasSubstr("echo:ping")) << what;
        break;
      case 13:  // refused by policy: by odyn already, or by the host side
        EXPECT_TRUE(answer.starts_with("HTTP/1.1 403") || answer.starts_with("HTTP/1.1 400")) << what;
        break;
      case 110:
        EXPECT_THAT(answer, StartsWith("HTTP/1.1 504")) << what;
        break;
      default:  // the host side could not connect, or the request is not one
        EXPECT_TRUE(answer.starts_with("HTTP/1.1 502") || answer.starts_with("HTTP/1.1 400")) << what;
    }
  }
}

}  // namespace
}  // namespace enclaver::testing
