// NSM client: the socket transport against an in-test SOCK_SEQPACKET peer
// (socketpair) answering canned responses; each helper's request bytes and
// its handling of Error responses; transport limits; the device transport's
// error when there is no device.
#include "nsm/client.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <thread>

namespace enclaver::nsm {
namespace {

Bytes seq(std::size_t n, std::uint8_t start = 0) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(start + i);
  return b;
}

// The peer end of a socketpair: answers each request with the next canned
// datagram and records the requests; stops when the client closes or the
// canned answers run out (then it closes its end).
class Peer {
 public:
  explicit Peer(std::vector<Bytes> answers) : answers_(std::move(answers)) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) std::abort();
    client_fd_ = sv[0];
    peer_fd_ = sv[1];
    thread_ = std::thread([this] { run(); });
  }
  ~Peer() {
    if (thread_.joinable()) thread_.join();
  }
  std::unique_ptr<Transport> transport() { return SocketTransport::adopt(client_fd_, "test peer"); }
  // Call after the client is destroyed (or the answers ran out).
  const std::vector<Bytes>& requests() {
    if (thread_.joinable()) thread_.join();
    return requests_;
  }

 private:
  void run() {
    for (const Bytes& answer : answers_) {
      Bytes buf(65536);
      ssize_t n = ::recv(peer_fd_, buf.data(), buf.size(), 0);
      if (n <= 0) break;
      buf.resize(static_cast<std::size_t>(n));
      requests_.push_back(std::move(buf));
      if (::send(peer_fd_, answer.data(), answer.size(), MSG_NOSIGNAL) < 0) break;
    }
    ::close(peer_fd_);
  }
  std::vector<Bytes> answers_;
  std::vector<Bytes> requests_;
  int client_fd_ = -1;
  int peer_fd_ = -1;
  std::thread thread_;
};

Bytes enc(const Response& r) { return encode(r); }
Bytes enc(const Request& r) { return encode(r); }
Bytes error_reply(ErrorCode c) { return encode(Response(response::Error{c})); }

TEST(NsmClient, RandomLoopsUntilEnough) {
  Peer peer({enc(response::GetRandom{seq(256, 0)}), enc(response::GetRandom{seq(256, 100)}),
             enc(response::GetRandom{seq(256, 200)})});
  Bytes got;
  {
    Client client(peer.transport());
    auto r = client.random(600);
    ASSERT_TRUE(r.ok()) << r.error().message;
    got = *r;
  }
  ASSERT_EQ(got.size(), 600u);
  Bytes expected = seq(256, 0);
  Bytes b = seq(256, 100), c = seq(88, 200);
  expected.insert(expected.end(), b.begin(), b.end());
  expected.insert(expected.end(), c.begin(), c.end());
  EXPECT_EQ(got, expected);
  const Bytes get_random = {0x69, 0x47, 0x65, 0x74, 0x52, 0x61, 0x6e, 0x64, 0x6f, 0x6d};
  ASSERT_EQ(peer.requests().size(), 3u);
  for (const auto& req : peer.requests()) EXPECT_EQ(req, get_random);
}

TEST(NsmClient, RandomUsesShortAnswers) {
  Peer peer({enc(response::GetRandom{seq(3)}), enc(response::GetRandom{seq(10, 50)})});
  Client client(peer.transport());
  auto r = client.random(5);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, (Bytes{0, 1, 2, 50, 51}));
}

TEST(NsmClient, RandomZeroSendsNothing) {
  Peer peer({});
  {
    Client client(peer.transport());
    auto r = client.random(0);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->empty());
  }
  EXPECT_TRUE(peer.requests().empty());
}

TEST(NsmClient, RandomEmptyAnswerIsAnError) {
  Peer peer({enc(response::GetRandom{{}})});
  Client client(peer.transport());
  auto r = client.random(8);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no bytes"), std::string::npos) << r.error().message;
}

TEST(NsmClient, RandomError) {
  Peer peer({error_reply(ErrorCode::InternalError)});
  Client client(peer.transport());
  auto r = client.random(8);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("GetRandom failed: NSM error InternalError"), std::string::npos) << r.error().message;
}

TEST(NsmClient, DescribePcr) {
  Peer peer({enc(response::DescribePCR{true, Bytes(48, 0)}), error_reply(ErrorCode::InvalidIndex)});
  {
    Client client(peer.transport());
    auto r = client.describe_pcr(0);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r->lock);
    EXPECT_EQ(r->data, Bytes(48, 0));
    auto bad = client.describe_pcr(32);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message, "DescribePCR failed: NSM error InvalidIndex (PCR index out of range)");
  }
  ASSERT_EQ(peer.requests().size(), 2u);
  const Bytes pcr0 = {0xa1, 0x6b, 0x44, 0x65, 0x73, 0x63, 0x72, 0x69, 0x62, 0x65, 0x50,
                      0x43, 0x52, 0xa1, 0x65, 0x69, 0x6e, 0x64, 0x65, 0x78, 0x00};
  EXPECT_EQ(peer.requests()[0], pcr0);
  Bytes pcr32 = pcr0;
  pcr32.back() = 0x18;
  pcr32.push_back(0x20);
  EXPECT_EQ(peer.requests()[1], pcr32);
}

TEST(NsmClient, ExtendPcr) {
  const Bytes value = seq(48, 9);
  Peer peer({enc(response::ExtendPCR{value}), error_reply(ErrorCode::ReadOnlyIndex)});
  {
    Client client(peer.transport());
    const Bytes data{1, 2, 3};
    auto r = client.extend_pcr(16, data);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, value);
    auto locked = client.extend_pcr(0, data);
    ASSERT_FALSE(locked.ok());
    EXPECT_NE(locked.error().message.find("ExtendPCR failed: NSM error ReadOnlyIndex"), std::string::npos);
    EXPECT_NE(locked.error().message.find("locked"), std::string::npos);
  }
  ASSERT_EQ(peer.requests().size(), 2u);
  // nsm.md's example: ExtendPCR index 16 with 01 02 03, 28 bytes.
  const Bytes expected = {0xa1, 0x69, 0x45, 0x78, 0x74, 0x65, 0x6e, 0x64, 0x50, 0x43, 0x52, 0xa2, 0x65, 0x69,
                          0x6e, 0x64, 0x65, 0x78, 0x10, 0x64, 0x64, 0x61, 0x74, 0x61, 0x43, 0x01, 0x02, 0x03};
  EXPECT_EQ(peer.requests()[0], expected);
  EXPECT_EQ(peer.requests()[1], enc(Request(request::ExtendPCR{0, {1, 2, 3}})));
}

TEST(NsmClient, LockPcrAndPcrs) {
  Peer peer({enc(response::LockPCR{}), error_reply(ErrorCode::ReadOnlyIndex), enc(response::LockPCRs{}),
             error_reply(ErrorCode::InvalidIndex)});
  {
    Client client(peer.transport());
    EXPECT_TRUE(client.lock_pcr(16).ok());
    auto again = client.lock_pcr(16);
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.error().message.find("LockPCR failed: NSM error ReadOnlyIndex"), std::string::npos);
    EXPECT_TRUE(client.lock_pcrs(32).ok());
    auto bad = client.lock_pcrs(33);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("LockPCRs failed: NSM error InvalidIndex"), std::string::npos);
  }
  ASSERT_EQ(peer.requests().size(), 4u);
  EXPECT_EQ(peer.requests()[0], (Bytes{0xa1, 0x67, 0x4c, 0x6f, 0x63, 0x6b, 0x50, 0x43, 0x52, 0xa1, 0x65, 0x69, 0x6e,
                                       0x64, 0x65, 0x78, 0x10}));
  EXPECT_EQ(peer.requests()[2], (Bytes{0xa1, 0x68, 0x4c, 0x6f, 0x63, 0x6b, 0x50, 0x43, 0x52, 0x73, 0xa1, 0x65, 0x72,
                                       0x61, 0x6e, 0x67, 0x65, 0x18, 0x20}));
  EXPECT_EQ(peer.requests()[3], enc(Request(request::LockPCRs{33})));
}

TEST(NsmClient, DescribeNsm) {
  response::DescribeNSM d{1, 0, 0, "sim-abc", 32, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, "SHA384"};
  Peer peer({enc(d), error_reply(ErrorCode::InvalidOperation)});
  {
    Client client(peer.transport());
    auto r = client.describe_nsm();
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, d);
    auto bad = client.describe_nsm();
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("DescribeNSM failed: NSM error InvalidOperation"), std::string::npos);
  }
  ASSERT_EQ(peer.requests().size(), 2u);
  EXPECT_EQ(peer.requests()[0],
            (Bytes{0x6b, 0x44, 0x65, 0x73, 0x63, 0x72, 0x69, 0x62, 0x65, 0x4e, 0x53, 0x4d}));  // "DescribeNSM"
}

TEST(NsmClient, Attestation) {
  const Bytes doc = {0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0, 0x40, 0x40};
  Peer peer({enc(response::Attestation{doc}), enc(response::Attestation{doc}), error_reply(ErrorCode::InputTooLarge)});
  {
    Client client(peer.transport());
    const Bytes user{1, 2}, pk{0xaa};
    auto r = client.attestation(user, Bytes{}, pk);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, doc);
    auto none = client.attestation(std::nullopt, std::nullopt, std::nullopt);
    ASSERT_TRUE(none.ok()) << none.error().message;
    const Bytes big(1025, 0);
    auto bad = client.attestation(std::nullopt, big, std::nullopt);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("Attestation failed: NSM error InputTooLarge"), std::string::npos);
  }
  ASSERT_EQ(peer.requests().size(), 3u);
  EXPECT_EQ(peer.requests()[0], enc(Request(request::Attestation{Bytes{1, 2}, Bytes{}, Bytes{0xaa}})));
  // nsm.md's example: Attestation with nothing, 44 bytes, ending in three nulls.
  ASSERT_EQ(peer.requests()[1].size(), 44u);
  EXPECT_EQ(peer.requests()[1], enc(Request(request::Attestation{})));
  EXPECT_EQ(peer.requests()[2], enc(Request(request::Attestation{std::nullopt, Bytes(1025, 0), std::nullopt})));
}

TEST(NsmClient, WrongVariantIsInvalidResponse) {
  Peer peer({enc(response::LockPCRs{})});
  Client client(peer.transport());
  auto r = client.lock_pcr(16);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("answered LockPCRs"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("InvalidResponse"), std::string::npos) << r.error().message;
}

TEST(NsmClient, UndecodableResponse) {
  Peer peer({Bytes{0xff, 0x00}});
  Client client(peer.transport());
  auto r = client.describe_pcr(1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("undecodable response"), std::string::npos) << r.error().message;
}

TEST(NsmClient, CallReturnsErrorResponsesAsValues) {
  Peer peer({error_reply(ErrorCode::BufferTooSmall)});
  Client client(peer.transport());
  auto r = client.call(request::GetRandom{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, Response(response::Error{ErrorCode::BufferTooSmall}));
}

TEST(NsmClient, OversizedResponseIsTruncationError) {
  Peer peer({Bytes(kMaxResponseSize + 1, 0x40), Bytes(kMaxResponseSize, 0x40)});
  auto t = peer.transport();
  const Bytes req = enc(Request(request::GetRandom{}));
  auto r = t->exchange(req);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("12289-byte response"), std::string::npos) << r.error().message;
  // A reply of exactly the limit passes the transport.
  auto ok = t->exchange(req);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->size(), kMaxResponseSize);
}

TEST(NsmClient, OversizedRequestNotSent) {
  Peer peer({});
  {
    Client client(peer.transport());
    auto r = client.extend_pcr(16, Bytes(kMaxRequestSize, 0));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("too large"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("InputTooLarge"), std::string::npos) << r.error().message;
  }
  EXPECT_TRUE(peer.requests().empty());
}

TEST(NsmClient, PeerClosedIsAnError) {
  Peer peer({});  // closes at once
  (void)peer.requests();
  Client client(peer.transport());
  auto r = client.describe_nsm();
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.error().message.empty());
}

TEST(NsmClient, DeviceMissingGivesClearError) {
  auto d = DeviceTransport::open("/nonexistent-dir/nsm");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("cannot open the NSM device /nonexistent-dir/nsm"), std::string::npos) << d.error().message;
  EXPECT_NE(d.error().message.find("ENCLAVER_NSM_SOCKET"), std::string::npos) << d.error().message;
  struct stat st {};
  if (::stat(kDevicePath, &st) != 0) {
    auto t = open_transport(std::nullopt);
    ASSERT_FALSE(t.ok());
    EXPECT_NE(t.error().message.find("/dev/nsm"), std::string::npos) << t.error().message;
    auto e = open_transport(std::string());  // empty means "not given"
    ASSERT_FALSE(e.ok());
    EXPECT_NE(e.error().message.find("/dev/nsm"), std::string::npos);
  }
}

TEST(NsmClient, SocketMissingGivesClearError) {
  auto t = open_transport(std::string("/nonexistent-dir/nsm.sock"));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("cannot connect to the simulated NSM at /nonexistent-dir/nsm.sock"), std::string::npos)
      << t.error().message;
  auto long_path = open_transport(std::string(200, 'a'));
  ASSERT_FALSE(long_path.ok());
  EXPECT_NE(long_path.error().message.find("too long"), std::string::npos);
}

TEST(NsmClient, OpenTransportConnectsToListeningSocket) {
  char dir_template[] = "/tmp/nsm_client_test.XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/nsm.sock";
  int listener = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  Bytes seen;
  std::thread server([&] {
    int c = ::accept(listener, nullptr, nullptr);
    if (c < 0) return;
    Bytes buf(8192);
    ssize_t n = ::recv(c, buf.data(), buf.size(), 0);
    if (n > 0) {
      buf.resize(static_cast<std::size_t>(n));
      seen = buf;
      Bytes reply = encode(Response(response::GetRandom{Bytes{7, 7, 7, 7}}));
      ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
    }
    ::close(c);
  });
  {
    auto t = open_transport(path);
    ASSERT_TRUE(t.ok()) << t.error().message;
    Client client(std::move(*t));
    auto r = client.random(4);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, (Bytes{7, 7, 7, 7}));
  }
  server.join();
  EXPECT_EQ(seen, enc(Request(request::GetRandom{})));
  ::close(listener);
  ::unlink(path.c_str());
  ::rmdir(dir_template);
}

}  // namespace
}  // namespace enclaver::nsm
