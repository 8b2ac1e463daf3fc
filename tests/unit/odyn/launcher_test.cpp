// launch_app: argv on the app's PATH, exact environment, identity, working
// directory, output into the console fd, and failures with their reason.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "odyn/bootstrap/bootstrap.hpp"
#include "odyn/launch/launcher.hpp"

namespace enclaver::odyn {
namespace {

using ::testing::HasSubstr;

struct Ran {
  int status = -1;
  std::string output;
};

Ran run_app(LaunchSpec spec) {
  int pipe_fds[2];
  EXPECT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  spec.output_fd = pipe_fds[1];
  auto pid = launch_app(spec);
  ::close(pipe_fds[1]);
  Ran ran;
  if (!pid) {
    ::close(pipe_fds[0]);
    ran.output = "LAUNCH ERROR: " + pid.error().message;
    return ran;
  }
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0) ran.output.append(buffer, static_cast<std::size_t>(n));
  ::close(pipe_fds[0]);
  ::waitpid(*pid, &ran.status, 0);
  return ran;
}

TEST(Launcher, RunsTheCommandOnItsPathWithExactlyItsEnvironmentAndDirectory) {
  LaunchSpec spec;
  spec.argv = {"sh", "-c", "echo \"$GREETING\"; env | sort | tr '\\n' ' '; pwd; echo err >&2; read x; echo \"stdin:$x.\""};
  spec.env = {"PATH=/usr/bin:/bin", "GREETING=hello"};
  spec.working_dir = "/tmp";
  auto ran = run_app(spec);
  EXPECT_TRUE(WIFEXITED(ran.status) && WEXITSTATUS(ran.status) == 0) << ran.output;
  EXPECT_THAT(ran.output, HasSubstr("hello\n"));
  EXPECT_THAT(ran.output, HasSubstr("GREETING=hello PATH=/usr/bin:/bin PWD=/tmp"));
  EXPECT_THAT(ran.output, HasSubstr("/tmp\nerr\nstdin:.")) << "stderr merged, stdin empty";
}

TEST(Launcher, TakesTheIdentity) {
  if (::geteuid() != 0) GTEST_SKIP() << "changing user needs root";
  LaunchSpec spec;
  spec.argv = {"/bin/sh", "-c", "id -u; id -g; id -G"};
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.identity.uid = 65534;
  spec.identity.gid = 65533;
  spec.identity.groups = {65533, 44};
  auto ran = run_app(spec);
  EXPECT_EQ(ran.output, "65534\n65533\n65533 44\n");
}

TEST(Launcher, ItRunsInASessionOfItsOwn) {
  LaunchSpec spec;
  spec.argv = {"/bin/sh", "-c", "ps -o sid= -p $$ | tr -d ' '; echo $$"};
  spec.env = {"PATH=/usr/bin:/bin"};
  auto ran = run_app(spec);
  auto newline = ran.output.find('\n');
  ASSERT_NE(newline, std::string::npos) << ran.output;
  EXPECT_EQ(ran.output.substr(0, newline), ran.output.substr(newline + 1, ran.output.size() - newline - 2));
}

TEST(Launcher, FailuresComeBackWithTheirReason) {
  LaunchSpec spec;
  spec.env = {"PATH=/nonexistent"};
  spec.argv = {"sh"};
  EXPECT_THAT(run_app(spec).output, HasSubstr("LAUNCH ERROR: cannot start the app sh"));
  spec.env = {"PATH=/bin"};
  spec.working_dir = "/no/such/dir";
  EXPECT_THAT(run_app(spec).output, HasSubstr("chdir to the working directory /no/such/dir"));
  spec.working_dir = "/";
  spec.argv = {"/etc/hostname"};
  EXPECT_THAT(run_app(spec).output, HasSubstr("LAUNCH ERROR"));
  spec.argv = {};
  EXPECT_THAT(run_app(spec).output, HasSubstr("command is empty"));
}

TEST(Netlink, TheLinkUpRequestIsAnRtmNewlinkForTheIndexWithIffUp) {
  auto bytes = link_up_request(7, 42);
  ASSERT_EQ(bytes.size(), sizeof(nlmsghdr) + sizeof(ifinfomsg));
  nlmsghdr header;
  ifinfomsg info;
  std::memcpy(&header, bytes.data(), sizeof header);
  std::memcpy(&info, bytes.data() + sizeof header, sizeof info);
  EXPECT_EQ(header.nlmsg_len, bytes.size());
  EXPECT_EQ(header.nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(header.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(header.nlmsg_seq, 42u);
  EXPECT_EQ(info.ifi_index, 7);
  EXPECT_EQ(info.ifi_flags, static_cast<unsigned>(IFF_UP));
  EXPECT_EQ(info.ifi_change, static_cast<unsigned>(IFF_UP));
}

std::vector<std::uint8_t> ack(int error, std::uint32_t sequence, std::uint16_t type = NLMSG_ERROR) {
  struct {
    nlmsghdr header;
    nlmsgerr err;
  } m{};
  m.header.nlmsg_len = sizeof m;
  m.header.nlmsg_type = type;
  m.header.nlmsg_seq = sequence;
  m.err.error = error;
  auto* p = reinterpret_cast<const std::uint8_t*>(&m);
  return {p, p + sizeof m};
}

TEST(Netlink, AcknowledgementsAreCheckedForErrorSequenceAndShape) {
  EXPECT_TRUE(parse_netlink_ack(ack(0, 1), 1));
  EXPECT_THAT(parse_netlink_ack(ack(-EPERM, 1), 1).error().message, HasSubstr("not permitted"));
  EXPECT_THAT(parse_netlink_ack(ack(0, 2), 1).error().message, HasSubstr("another request"));
  EXPECT_THAT(parse_netlink_ack(ack(0, 1, RTM_NEWLINK), 1).error().message, HasSubstr("not an acknowledgement"));
  auto short_answer = ack(0, 1);
  short_answer.resize(10);
  EXPECT_THAT(parse_netlink_ack(short_answer, 1).error().message, HasSubstr("too short"));
  auto lying = ack(0, 1);
  lying[0] = 0xff;  // nlmsg_len beyond the answer
  EXPECT_THAT(parse_netlink_ack(lying, 1).error().message, HasSubstr("bad length"));
}

}  // namespace
}  // namespace enclaver::odyn
