// The NSM socket server: one request packet in, one response packet out,
// with our own NSM client on the other end, as odyn will talk to it.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <fstream>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "common/fd.hpp"
#include "common/temp_dir.hpp"
#include "nsm/client.hpp"
#include "nsm/messages.hpp"
#include "sleeve/nsm_server.hpp"

namespace enclaver::sleeve {
namespace {

// Runs an io_context on a thread with a server whose handler answers
// DescribePCR with the index echoed in `data`.
class Served : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<NsmServer>(io_.get_executor(), dir_ / "nsm.sock", [this](std::span<const std::uint8_t> bytes) {
      ++requests_;
      auto request = nsm::decode_request(bytes);
      if (!request) return nsm::encode(nsm::Response{nsm::response::Error{nsm::ErrorCode::InvalidArgument}});
      if (auto* d = std::get_if<nsm::request::DescribePCR>(&*request))
        return nsm::encode(nsm::Response{nsm::response::DescribePCR{true, nsm::Bytes(48, static_cast<std::uint8_t>(d->index))}});
      return nsm::encode(nsm::Response{nsm::response::Error{nsm::ErrorCode::InvalidOperation}});
    });
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    boost::asio::post(io_, [this] { server_->stop(); });
    thread_.join();
  }

  TempDir dir_;
  boost::asio::io_context io_;
  std::unique_ptr<NsmServer> server_;
  std::thread thread_;
  std::atomic<int> requests_{0};
};

TEST_F(Served, AnswersEachRequestOnItsConnection) {
  auto transport = nsm::SocketTransport::connect((dir_ / "nsm.sock").string());
  ASSERT_TRUE(transport) << transport.error().message;
  nsm::Client client(std::move(*transport));
  for (std::uint16_t i : {0, 5, 31}) {
    auto pcr = client.describe_pcr(i);
    ASSERT_TRUE(pcr) << pcr.error().message;
    EXPECT_TRUE(pcr->lock);
    EXPECT_EQ(pcr->data, nsm::Bytes(48, static_cast<std::uint8_t>(i)));
  }
  auto other = client.describe_nsm();
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("InvalidOperation"), std::string::npos);
  EXPECT_EQ(requests_, 4);
}

TEST_F(Served, SeveralClientsAtOnce) {
  std::vector<std::unique_ptr<nsm::Client>> clients;
  for (int i = 0; i < 8; ++i) {
    auto t = nsm::SocketTransport::connect((dir_ / "nsm.sock").string());
    ASSERT_TRUE(t);
    clients.push_back(std::make_unique<nsm::Client>(std::move(*t)));
  }
  for (std::uint16_t i = 0; i < clients.size(); ++i) {
    auto pcr = clients[i]->describe_pcr(i);
    ASSERT_TRUE(pcr);
    EXPECT_EQ(pcr->data[0], i);
  }
}

TEST_F(Served, OversizedPacketGetsInputTooLarge) {
  Fd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = (dir_ / "nsm.sock").string();
  std::copy(path.begin(), path.end(), addr.sun_path);
  ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::vector<std::uint8_t> big(nsm::kMaxRequestSize + 100, 0x60);
  ASSERT_EQ(::send(fd.get(), big.data(), big.size(), 0), static_cast<ssize_t>(big.size()));
  std::vector<std::uint8_t> reply(nsm::kMaxResponseSize);
  const ssize_t n = ::recv(fd.get(), reply.data(), reply.size(), 0);
  ASSERT_GT(n, 0);
  reply.resize(static_cast<std::size_t>(n));
  auto response = nsm::decode_response(reply);
  ASSERT_TRUE(response);
  auto* error = std::get_if<nsm::response::Error>(&*response);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->code, nsm::ErrorCode::InputTooLarge);
  EXPECT_EQ(requests_, 0);  // never reached the handler
}

TEST(NsmServer, ReplacesAStaleSocketButNotAFile) {
  TempDir dir;
  boost::asio::io_context io;
  { NsmServer first(io.get_executor(), dir / "a.sock", [](auto) { return std::vector<std::uint8_t>{}; }); }
  // stop() removed it; leave a stale one behind by binding a plain socket.
  Fd fd(::socket(AF_UNIX, SOCK_SEQPACKET, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string stale = (dir / "a.sock").string();
  std::copy(stale.begin(), stale.end(), addr.sun_path);
  ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_NO_THROW(NsmServer(io.get_executor(), dir / "a.sock", [](auto) { return std::vector<std::uint8_t>{}; }));

  std::ofstream(dir / "file") << "not a socket";
  try {
    NsmServer s(io.get_executor(), dir / "file", [](auto) { return std::vector<std::uint8_t>{}; });
    FAIL() << "a regular file was replaced";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("a file that is not a socket is there"), std::string::npos);
  }
  EXPECT_TRUE(std::filesystem::is_regular_file(dir / "file"));
}

}  // namespace
}  // namespace enclaver::sleeve
