// TLS through the proxy: CONNECT tunnels that carry TLS end to end (curl
// verifying the destination itself), D14 (nothing after the 200 parsed),
// and https:// absolute-form requests, where odyn originates TLS and
// verifies the destination's certificate and name.
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <gmock/gmock.h>

#include "common/temp_dir.hpp"
#include "tests/unit/support/test_certs.hpp"
#include "tests/unit/odyn/egress/proxy_harness.hpp"

namespace enclaver::odyn::egress::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

using enclaver::testing::Cert;
using enclaver::testing::Key;
using enclaver::testing::new_cert;
using enclaver::testing::new_key;

// A test CA and a server certificate for localhost and 127.0.0.1.
struct Pki {
  TempDir dir;
  Key ca_key = new_key();
  Cert ca = new_cert("egress test CA", ca_key.get(), nullptr, ca_key.get(), true);
  Key key = new_key();
  Cert cert = new_cert("localhost", key.get(), ca.get(), ca_key.get(), false, "DNS:localhost,IP:127.0.0.1");
  std::filesystem::path ca_file = dir / "ca.pem", cert_file = dir / "cert.pem", key_file = dir / "key.pem";
  asio::ssl::context server{asio::ssl::context::tls_server};

  Pki() {
    auto write = [](const std::filesystem::path& path, auto writer) {
      FILE* f = std::fopen(path.c_str(), "w");
      writer(f);
      std::fclose(f);
    };
    write(ca_file, [&](FILE* f) { PEM_write_X509(f, ca.get()); });
    write(cert_file, [&](FILE* f) { PEM_write_X509(f, cert.get()); });
    write(key_file, [&](FILE* f) { PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr); });
    server.use_certificate_chain_file(cert_file.string());
    server.use_private_key_file(key_file.string(), asio::ssl::context::pem);
  }
};

TEST(EgressProxyTls, ConnectCarriesTlsEndToEndVerifiedByCurl) {
  Pki pki;
  Upstream upstream(&pki.server);
  ProxyUnderTest proxy;
  const std::string port = std::to_string(upstream.port());
  auto result = run(curl(proxy, "--cacert " + pki.ca_file.string() + " https://localhost:" + port + "/echo"));
  ASSERT_EQ(result.status, 0) << result.out;
  EXPECT_THAT(result.out, HasSubstr("target /echo\n"));
  EXPECT_THAT(result.out, HasSubstr("Host: localhost:" + port + "\n"));
  // Without the CA, curl itself refuses the destination: the proxy saw only ciphertext.
  auto untrusted = run(curl(proxy, "https://localhost:" + port + "/echo"));
  EXPECT_NE(untrusted.status, 0);
  EXPECT_THAT(proxy.dialled(), ::testing::ElementsAre("localhost:" + port, "localhost:" + port));
}

TEST(EgressProxyTls, NothingAfterThe200IsParsed) {
  Upstream upstream;
  ProxyUnderTest proxy;
  const std::string port = std::to_string(upstream.port());
  // The tunnelled request follows the CONNECT in the same write, before the
  // 200; it names evil.com, which the proxy would refuse if it parsed it.
  auto answer = raw_exchange(proxy.port(), "CONNECT allowed.com:" + port + " HTTP/1.1\r\nHost: allowed.com\r\n\r\n"
                                           "GET http://evil.com/echo HTTP/1.1\r\nHost: evil.com\r\n"
                                           "Proxy-Authorization: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(answer, HasSubstr("target http://evil.com/echo\nHost: evil.com\nProxy-Authorization: x\n"));
  EXPECT_THAT(proxy.dialled(), ::testing::ElementsAre("allowed.com:" + port));
}

TEST(EgressProxyTls, HttpsAbsoluteFormIsOriginatedAndVerified) {
  Pki pki;
  Upstream upstream(&pki.server);
  ProxyUnderTest proxy([&](ProxyOptions& o) { o.extra_ca_file = pki.ca_file; });
  const std::string port = std::to_string(upstream.port());
  auto answer = raw_exchange(proxy.port(), "POST https://localhost:" + port + "/echo HTTP/1.1\r\nHost: x\r\n"
                                           "Content-Length: 5\r\nConnection: close\r\n\r\nhello");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(answer, HasSubstr("target /echo\n"));
  EXPECT_THAT(answer, HasSubstr("\nHost: localhost:" + port + "\n"));
  Sha256 sha;
  sha.update("hello", 5);
  EXPECT_THAT(answer, HasSubstr("body " + sha.hex() + " 5\n"));
  // An IP literal is checked against the certificate's IP addresses.
  auto by_ip = raw_exchange(proxy.port(), "GET https://127.0.0.1:" + port + "/echo HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(by_ip, StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST(EgressProxyTls, HttpsVerificationFailuresAre502WithTheReason) {
  Pki pki;
  Upstream upstream(&pki.server);
  const std::string port = std::to_string(upstream.port());
  {
    ProxyUnderTest untrusting;  // no CA at all
    auto answer = raw_exchange(untrusting.port(), "GET https://localhost:" + port + "/echo HTTP/1.1\r\n\r\n");
    EXPECT_THAT(answer, StartsWith("HTTP/1.1 502 Bad Gateway\r\n"));
    EXPECT_THAT(answer, HasSubstr("certificate verification failed"));
    EXPECT_THAT(answer, HasSubstr("local issuer"));
    ASSERT_EQ(untrusting.log().size(), 1u);
    EXPECT_THAT(untrusting.log()[0], HasSubstr("localhost:" + port));
  }
  ProxyUnderTest proxy([&](ProxyOptions& o) { o.extra_ca_file = pki.ca_file; });
  // allowed.com reaches the same server (the dialer maps every name to
  // 127.0.0.1), whose certificate does not name it.
  auto mismatch = raw_exchange(proxy.port(), "GET https://allowed.com:" + port + "/echo HTTP/1.1\r\n\r\n");
  EXPECT_THAT(mismatch, StartsWith("HTTP/1.1 502 Bad Gateway\r\n"));
  EXPECT_THAT(mismatch, HasSubstr("hostname mismatch"));
}

TEST(EgressProxyTls, AnExtraCaFileThatDoesNotLoadIsAnError) {
  asio::io_context io;
  ProxyOptions options;
  options.port = 0;
  options.dialer = TestDialer{}.dialer();
  options.extra_ca_file = "/nonexistent/ca.pem";
  auto proxy = EgressProxy::start(io.get_executor(), test_policy(), options);
  ASSERT_FALSE(proxy);
  EXPECT_THAT(proxy.error().message, HasSubstr("/nonexistent/ca.pem"));
}

}  // namespace
}  // namespace enclaver::odyn::egress::testing
