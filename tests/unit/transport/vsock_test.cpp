// The vsock transport choice and the simulated transport's behaviour:
// addresses to paths, listen/connect, refused ports, stale socket files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/vm_sockets.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include "common/temp_dir.hpp"
#include "transport/vsock.hpp"

namespace enclaver::transport {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

TEST(VsockEnvironment, NeitherVariableMeansAfVsock) {
  auto v = Vsock::from_environment(nullptr, nullptr);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->simulated());
  EXPECT_EQ(v->describe(), "AF_VSOCK");
  auto empty = Vsock::from_environment("", "");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->simulated());
}

TEST(VsockEnvironment, BothVariablesMeanTheSimulator) {
  auto v = Vsock::from_environment("/run/enclaver/vsock", "16");
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->simulated());
  EXPECT_EQ(v->socket_path({kCidParent, 17002}), "/run/enclaver/vsock/3/17002.sock");
  EXPECT_EQ(v->socket_path({kCidAny, 17000}), "/run/enclaver/vsock/16/17000.sock") << "CID any binds our own directory";
  EXPECT_EQ(v->describe(), "simulated vsock in /run/enclaver/vsock (CID 16)");
}

TEST(VsockEnvironment, HalfAConfigurationOrABadValueIsAnError) {
  EXPECT_THAT(Vsock::from_environment("/x", nullptr).error().message, HasSubstr("ENCLAVER_VSOCK_CID is not"));
  EXPECT_THAT(Vsock::from_environment(nullptr, "16").error().message, HasSubstr("ENCLAVER_VSOCK_DIR is not"));
  EXPECT_THAT(Vsock::from_environment("relative", "16").error().message, HasSubstr("absolute"));
  for (const char* cid : {"x", "16x", "-1", "4294967295", "99999999999"})
    EXPECT_THAT(Vsock::from_environment("/x", cid).error().message, HasSubstr("must be a CID")) << cid;
}

TEST(VsockAddress, Printing) {
  EXPECT_EQ(to_string(VsockAddress{16, 5000}), "vsock 16:5000");
  EXPECT_EQ(to_string(VsockAddress{kCidAny, 5000}), "vsock any:5000");
}

TEST(VsockEndpoint, NativeIsASockaddrVm) {
  auto ep = Vsock::native().endpoint({16, 5000});
  ASSERT_EQ(ep.size(), sizeof(sockaddr_vm));
  auto* sa = reinterpret_cast<const sockaddr_vm*>(ep.data());
  EXPECT_EQ(sa->svm_family, AF_VSOCK);
  EXPECT_EQ(sa->svm_cid, 16u);
  EXPECT_EQ(sa->svm_port, 5000u);
}

TEST(VsockEndpoint, APathTooLongForSunPathIsRefusedWithAHint) {
  auto v = Vsock::simulated(std::string(120, 'd'), 16);
  try {
    v.endpoint({16, 5000});
    FAIL() << "accepted a path longer than sun_path";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENAMETOOLONG);
    EXPECT_THAT(e.what(), HasSubstr("shorter ENCLAVER_VSOCK_DIR"));
  }
}

class SimulatedVsock : public ::testing::Test {
 protected:
  TempDir dir_;
  Vsock enclave_ = Vsock::simulated(dir_.path(), 16);
  Vsock host_ = Vsock::simulated(dir_.path(), kCidParent);
  boost::asio::io_context io_;

  template <class F>
  auto run(F f) {
    auto future = boost::asio::co_spawn(io_, f, boost::asio::use_future);
    io_.restart();
    io_.run();
    return future.get();
  }
};

TEST_F(SimulatedVsock, TheHostConnectsToTheEnclavesCidAndBytesFlowBothWays) {
  auto acceptor = enclave_.listen(io_.get_executor(), 5000);
  EXPECT_TRUE(fs::exists(dir_.path() / "16/5000.sock"));
  auto reply = run([&]() -> boost::asio::awaitable<std::string> {
    auto client = co_await host_.connect({16, 5000});
    auto server = co_await acceptor.async_accept(boost::asio::use_awaitable);
    co_await boost::asio::async_write(client, boost::asio::buffer(std::string("ping")), boost::asio::use_awaitable);
    std::string got(4, '\0');
    co_await boost::asio::async_read(server, boost::asio::buffer(got), boost::asio::use_awaitable);
    co_await boost::asio::async_write(server, boost::asio::buffer("pong:" + got), boost::asio::use_awaitable);
    std::string back(9, '\0');
    co_await boost::asio::async_read(client, boost::asio::buffer(back), boost::asio::use_awaitable);
    co_return back;
  });
  EXPECT_EQ(reply, "pong:ping");
}

TEST_F(SimulatedVsock, APortNobodyListensOnIsRefused) {
  for (std::uint32_t port : {5001u, 5002u}) {
    if (port == 5002) {  // a socket file whose listener is gone
      enclave_.listen(io_.get_executor(), port).close();
      ASSERT_TRUE(fs::exists(dir_.path() / "16/5002.sock"));
    }
    try {
      run([&]() -> boost::asio::awaitable<int> {
        co_await host_.connect({16, port});
        co_return 0;
      });
      ADD_FAILURE() << "connected to a port nobody listens on";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code().value(), ECONNREFUSED) << e.what();
      EXPECT_THAT(e.what(), HasSubstr("vsock 16:" + std::to_string(port)));
    }
  }
}

TEST_F(SimulatedVsock, AStaleSocketFileIsReplacedButALiveListenerIsNot) {
  enclave_.listen(io_.get_executor(), 5003).close();
  auto again = enclave_.listen(io_.get_executor(), 5003);  // stale: removed and bound
  EXPECT_TRUE(again.is_open());
  try {
    enclave_.listen(io_.get_executor(), 5003);
    FAIL() << "bound over a live listener";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EADDRINUSE);
    EXPECT_THAT(e.what(), HasSubstr("another process listens there"));
  }
}

TEST_F(SimulatedVsock, SomethingElseAtTheSocketPathIsLeftAlone) {
  fs::create_directories(dir_.path() / "16");
  std::ofstream(dir_.path() / "16/5004.sock") << "not a socket";
  try {
    enclave_.listen(io_.get_executor(), 5004);
    FAIL() << "listened over a regular file";
  } catch (const std::system_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("exists and is not a socket"));
  }
  EXPECT_TRUE(fs::is_regular_file(dir_.path() / "16/5004.sock"));
}

}  // namespace
}  // namespace enclaver::transport
