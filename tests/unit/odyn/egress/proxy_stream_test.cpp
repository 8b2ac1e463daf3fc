// Large bodies through the proxy: 100 MiB each way with checksums (sized
// and chunked), and proof that the proxy streams rather than buffers: a
// destination that stops reading holds the app back, and an app that stops
// reading holds the destination back, long before 100 MiB.
#include <fcntl.h>

#include <gmock/gmock.h>

#include "common/temp_dir.hpp"
#include "tests/unit/odyn/egress/proxy_harness.hpp"

namespace enclaver::odyn::egress::testing {
namespace {

using ::testing::HasSubstr;

constexpr std::uint64_t kBig = 100ull * 1024 * 1024;
constexpr std::uint64_t kFarBelowBig = 48ull * 1024 * 1024;  // socket buffers on the way are a few MiB each

std::filesystem::path write_pattern_file(const TempDir& dir, std::uint64_t size) {
  auto path = dir / "upload.bin";
  FILE* f = std::fopen(path.c_str(), "wb");
  std::vector<char> chunk(1 << 20);
  for (std::uint64_t done = 0; done < size;) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), size - done));
    fill_pattern(chunk.data(), n, done);
    std::fwrite(chunk.data(), 1, n, f);
    done += n;
  }
  std::fclose(f);
  return path;
}

TEST(EgressProxyStream, Upload100MiBSizedAndChunked) {
  Upstream upstream;
  ProxyUnderTest proxy;
  TempDir dir;
  auto file = write_pattern_file(dir, kBig);
  const std::string expected = "body " + pattern_sha256(kBig) + " " + std::to_string(kBig) + "\n";
  const std::string url = "http://allowed.com:" + std::to_string(upstream.port()) + "/echo";
  auto sized = run(curl(proxy, "--data-binary @" + file.string() + " '" + url + "'"));
  ASSERT_EQ(sized.status, 0) << sized.out;
  EXPECT_THAT(sized.out, HasSubstr("Content-Length: " + std::to_string(kBig) + "\n"));
  EXPECT_THAT(sized.out, HasSubstr(expected));
  // From stdin, curl sends chunked.
  auto chunked = run("cat " + file.string() + " | " + curl(proxy, "-T - '" + url + "'"));
  ASSERT_EQ(chunked.status, 0) << chunked.out;
  EXPECT_THAT(chunked.out, HasSubstr("Transfer-Encoding: chunked\n"));
  EXPECT_THAT(chunked.out, HasSubstr(expected));
}

TEST(EgressProxyStream, Download100MiBSizedAndChunked) {
  Upstream upstream;
  ProxyUnderTest proxy;
  const std::string expected = pattern_sha256(kBig) + "  -\n";
  const std::string url = "http://allowed.com:" + std::to_string(upstream.port()) + "/download?n=" + std::to_string(kBig);
  auto sized = run(curl(proxy, "'" + url + "' | sha256sum"));
  EXPECT_EQ(sized.out, expected);
  auto chunked = run(curl(proxy, "-D /dev/stderr '" + url + "&chunked' 2>/dev/null | sha256sum"));
  EXPECT_EQ(chunked.out, expected);
  EXPECT_EQ(upstream.connections(), 2);
}

TEST(EgressProxyStream, AStalledDestinationHoldsTheUploadBack) {
  Upstream upstream;
  ProxyUnderTest proxy;
  Fd fd = connect_to(proxy.port());
  send_text(fd.get(), "POST http://allowed.com:" + std::to_string(upstream.port()) +
                          "/stall HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(kBig) + "\r\n\r\n");
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) | O_NONBLOCK);
  std::vector<char> chunk(256 * 1024);
  std::uint64_t sent = 0;
  int quiet = 0;
  while (sent < kBig && quiet < 3) {  // until the proxy has taken nothing for 3 x 300 ms
    fill_pattern(chunk.data(), chunk.size(), sent);
    ssize_t n = ::send(fd.get(), chunk.data(), std::min<std::uint64_t>(chunk.size(), kBig - sent), MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::uint64_t>(n);
      quiet = 0;
      continue;
    }
    ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << std::strerror(errno);
    pollfd p{fd.get(), POLLOUT, 0};
    if (::poll(&p, 1, 300) == 0) ++quiet;
  }
  EXPECT_LT(sent, kFarBelowBig) << "the proxy took " << sent << " bytes the destination never read";
  EXPECT_GT(sent, 0u);
}

TEST(EgressProxyStream, AStalledAppHoldsTheDownloadBack) {
  Upstream upstream;
  ProxyUnderTest proxy;
  Fd fd = connect_to(proxy.port());
  send_text(fd.get(), "GET http://allowed.com:" + std::to_string(upstream.port()) + "/download?n=" +
                          std::to_string(kBig) + " HTTP/1.1\r\nHost: a\r\n\r\n");
  // The app reads nothing: the destination's writes must stall.
  std::uint64_t before = 0;
  for (int stable = 0; stable < 3;) {
    std::this_thread::sleep_for(300ms);
    std::uint64_t now = upstream.downloaded();
    stable = now == before ? stable + 1 : 0;
    before = now;
  }
  EXPECT_LT(before, kFarBelowBig) << "the proxy took " << before << " bytes the app never read";
  EXPECT_GT(before, 0u);
}

}  // namespace
}  // namespace enclaver::odyn::egress::testing
