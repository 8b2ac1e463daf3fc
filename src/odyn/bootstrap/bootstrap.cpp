#include "odyn/bootstrap/bootstrap.hpp"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/random.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/fd.hpp"

namespace enclaver::odyn {
namespace {

std::string os_error(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

std::vector<std::uint8_t> link_up_request(int ifindex, std::uint32_t sequence) {
  struct Request {
    nlmsghdr header;
    ifinfomsg info;
  } request{};
  request.header.nlmsg_len = sizeof request;
  request.header.nlmsg_type = RTM_NEWLINK;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  request.header.nlmsg_seq = sequence;
  request.info.ifi_family = AF_UNSPEC;
  request.info.ifi_index = ifindex;
  request.info.ifi_flags = IFF_UP;
  request.info.ifi_change = IFF_UP;
  auto* bytes = reinterpret_cast<const std::uint8_t*>(&request);
  return {bytes, bytes + sizeof request};
}

Result<bool> parse_netlink_ack(std::span<const std::uint8_t> answer, std::uint32_t sequence) {
  if (answer.size() < sizeof(nlmsghdr) + sizeof(nlmsgerr)) return make_error("netlink answer too short");
  nlmsghdr header;
  std::memcpy(&header, answer.data(), sizeof header);
  if (header.nlmsg_len > answer.size() || header.nlmsg_len < sizeof(nlmsghdr) + sizeof(nlmsgerr))
    return make_error("netlink answer has a bad length");
  if (header.nlmsg_type != NLMSG_ERROR) return make_error("netlink answer is not an acknowledgement");
  if (header.nlmsg_seq != sequence) return make_error("netlink answer is for another request");
  nlmsgerr error;
  std::memcpy(&error, answer.data() + sizeof header, sizeof error);
  if (error.error != 0) return make_error(std::strerror(-error.error));
  return true;
}

Result<bool> bring_loopback_up() {
  unsigned index = ::if_nametoindex("lo");
  if (index == 0) return make_error(os_error("bringing lo up: no loopback interface"));
  Fd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd.valid()) return make_error(os_error("bringing lo up: cannot open a netlink socket"));
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  constexpr std::uint32_t kSequence = 1;
  auto request = link_up_request(static_cast<int>(index), kSequence);
  if (::sendto(fd.get(), request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
    return make_error(os_error("bringing lo up: cannot send to netlink"));
  std::uint8_t answer[4096];
  ssize_t n;
  do n = ::recv(fd.get(), answer, sizeof answer, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) return make_error(os_error("bringing lo up: no answer from netlink"));
  auto ack = parse_netlink_ack({answer, static_cast<std::size_t>(n)}, kSequence);
  if (!ack) return make_error("bringing lo up: the kernel refused: " + ack.error().message);
  return true;
}

Result<bool> seed_kernel_rng(nsm::Client& nsm, std::size_t bytes) {
  auto random = nsm.random(bytes);
  if (!random) return make_error("seeding the RNG: " + random.error().message);
  std::vector<std::uint8_t> pool(sizeof(rand_pool_info) + random->size());
  auto* info = reinterpret_cast<rand_pool_info*>(pool.data());
  info->entropy_count = static_cast<int>(random->size() * 8);
  info->buf_size = static_cast<int>(random->size());
  std::memcpy(pool.data() + sizeof(rand_pool_info), random->data(), random->size());
  Fd fd(::open("/dev/random", O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return make_error(os_error("seeding the RNG: cannot open /dev/random"));
  if (::ioctl(fd.get(), RNDADDENTROPY, pool.data()) != 0) return make_error(os_error("seeding the RNG: RNDADDENTROPY"));
  return true;
}

}  // namespace enclaver::odyn
