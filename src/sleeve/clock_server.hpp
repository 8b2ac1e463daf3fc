// The host's half of clock sync (wire.md, "Clock sync"): on each "time\n"
// from odyn, one JSON line with when the request arrived and when the
// answer leaves, from the host's CLOCK_REALTIME.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "transport/vsock.hpp"

namespace enclaver::sleeve {

// Serves every connection on `acceptor` until it is closed.
boost::asio::awaitable<void> serve_clock(transport::Acceptor& acceptor);

}  // namespace enclaver::sleeve
