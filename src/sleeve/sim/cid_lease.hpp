// The CID of a simulated enclave (simulation.md §6): the first free one from
// 16 up. A CID is held by binding the abstract Unix socket
// "enclaver-sim/cid/<N>": the kernel frees it when its holder exits, however
// it exits, so a killed sleeve never leaves a CID taken and no file is
// involved.
#pragma once

#include <cstdint>
#include <utility>

#include "common/fd.hpp"

namespace enclaver::sleeve::sim {

class CidLease {
 public:
  // Takes the first free CID in [first, first + count). Throws
  // std::runtime_error when all are taken.
  static CidLease acquire(std::uint32_t first = 16, std::uint32_t count = 4096);
  // Takes exactly `cid`; throws std::runtime_error if another sleeve holds it.
  static CidLease acquire_exactly(std::uint32_t cid);

  std::uint32_t cid() const { return cid_; }

 private:
  CidLease(Fd fd, std::uint32_t cid) : fd_(std::move(fd)), cid_(cid) {}
  Fd fd_;
  std::uint32_t cid_;
};

}  // namespace enclaver::sleeve::sim
