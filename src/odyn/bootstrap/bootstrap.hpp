// odyn's bootstrap of the enclave platform (architecture.md, "Bootstrap
// Phase"): bring the loopback interface up, since an enclave's `lo` starts
// DOWN and there is no `ip` binary in an app image; and seed the kernel's
// RNG from the NSM, the only entropy source an enclave has at boot.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.hpp"
#include "nsm/client.hpp"

namespace enclaver::odyn {

// The rtnetlink RTM_NEWLINK request that sets IFF_UP on interface
// `ifindex`, asking for an acknowledgement. Sans-IO.
std::vector<std::uint8_t> link_up_request(int ifindex, std::uint32_t sequence);

// Parses the kernel's answer to a request with `sequence`: success is an
// NLMSG_ERROR message with error 0. Error: the kernel's errno, or a malformed answer.
Result<bool> parse_netlink_ack(std::span<const std::uint8_t> answer, std::uint32_t sequence);

// Brings `lo` up over rtnetlink. Error says what failed (needs CAP_NET_ADMIN).
Result<bool> bring_loopback_up();

// Adds `bytes` bytes from the NSM's GetRandom to the kernel's pool
// (RNDADDENTROPY on /dev/random, crediting their entropy). Error says what
// failed (the NSM, or the ioctl, which needs CAP_SYS_ADMIN).
Result<bool> seed_kernel_rng(nsm::Client& nsm, std::size_t bytes = 256);

}  // namespace enclaver::odyn
