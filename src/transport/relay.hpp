// relay(a, b): the bidirectional relay every proxy uses. Bytes read from a
// are written to b and bytes read from b to a, both directions at once, as
// two coroutines on the caller's executor (no thread per connection), until
// both directions have ended.
//
// End of stream. When a read from one side reaches end of stream, the relay
// shuts the other side down for writing (shutdown(SHUT_WR): half-close) and
// keeps relaying the opposite direction. When both directions have ended
// so, the relay completes, "closed cleanly".
//
// Errors. An error reading or writing either side (ECONNRESET, EPIPE,
// ETIMEDOUT, ...), or in half-closing one, ends both directions at once:
// both ends are aborted (RelayStreamTraits::abort, relay_stream.hpp).
//   - A TCP end is closed with SO_LINGER {1, 0}: its peer gets an RST and
//     sees ECONNRESET, as the peer of the failing end did.
//   - A Unix (simulated vsock) end cannot carry a reset, nor can AF_VSOCK
//     (Linux's virtio transport); it is just closed. Its peer reads
//     whatever was already queued to it, then end of stream (read()
//     returns 0), and its writes fail with EPIPE.
//     Linux makes that first read fail with ECONNRESET instead of returning
//     0 only when our end still held bytes the relay had not yet read. A
//     protocol that must tell a reset from an orderly close across vsock has
//     to say so in its own framing.
// The relay does not throw for any of this; the outcome is in RelayStats.
//
// Idle timeout. With idle_timeout > 0, when no byte moved in either
// direction for that long, both ends are aborted as for an error; the stats
// say reset and timed_out.
//
// Cancellation. Cancelling the relay's operation (a cancellation slot, e.g.
// awaitable_operators' ||) aborts both ends as well: "cancelled".
//
// Ownership. The caller owns both streams and keeps them alive until the
// relay completes, using neither meanwhile. The relay closes them only when
// it aborts them; after a clean end they are open (shut down both ways) and
// closing them is the caller's. Splicing switches socket ends to
// non-blocking mode, through asio, so their own operations work as before.
//
// How bytes move. When both ends are sockets and allow_splice, each
// direction moves bytes with splice(2), socket -> its own pipe -> socket,
// never through user space. A direction falls back to a buffered copy when
// it cannot get a pipe (EMFILE, ENFILE) or the kernel cannot splice that
// socket (EINVAL); streams that are not sockets (TLS) are always copied.
// Memory is bounded by one pipe or one buffer per direction: a slow reader
// holds the writer back through the sockets' flow control, nothing queues
// up in the relay. A splicing relay holds four descriptors (two pipes)
// besides the two sockets: size RLIMIT_NOFILE for six per connection.
//
// Socket buffers are the caller's: the relay leaves them alone. On legs
// that stay on the machine (vsock, an enclave's loopback to its
// application) modest fixed buffers (256 KiB) are faster than autotuned
// ones, the bytes in flight staying in the CPU cache; a socket facing a
// real network needs autotuning (see bench/relay_hop.cpp).
//
// SIGPIPE. splice(2) cannot be told MSG_NOSIGNAL, yet the relay never lets a
// vanished peer raise SIGPIPE: unless the process ignores SIGPIPE, the relay
// blocks it on the calling thread around each batch of writing splices and
// discards the one it raised. Programs should ignore SIGPIPE anyway; that
// saves those two system calls per batch.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "transport/relay_stream.hpp"

namespace enclaver::transport {

struct RelayOptions {
  // No byte in either direction for this long aborts both ends; 0: never.
  std::chrono::steady_clock::duration idle_timeout{0};
  // The buffer of each copying direction.
  std::size_t buffer_size = 64 * 1024;
  // The pipe of each splicing direction: the most one splice(2) moves. From
  // 64 KiB (Linux's default) to 1 MiB, throughput differed by less than the
  // noise on loopback (bench/relay_bench.py); this bounds the kernel memory
  // a stalled direction pins. When the kernel refuses the size
  // (fs.pipe-max-size, or the user's pipe-user-pages-soft budget spent),
  // the pipe keeps the size it got.
  std::size_t pipe_size = 256 * 1024;
  // false: always copy through buffer_size (to measure, or to test the
  // copying path on sockets).
  bool allow_splice = true;
};

struct RelayStats {
  std::uint64_t a_to_b = 0;  // bytes written to b
  std::uint64_t b_to_a = 0;  // bytes written to a
  bool spliced = false;      // both directions ran on splice(2), neither copied
  bool reset = false;        // ended by an error, the idle timeout or cancellation
  bool timed_out = false;    // ... by the idle timeout
  std::string error;         // why it was reset ("reading a: Connection reset by peer"); empty if clean
};

// One log line: "a->b 123 B, b->a 456 B, spliced, closed cleanly",
// "a->b 0 B, b->a 5 B, copied, reset: reading a: Connection reset by peer".
std::string to_string(const RelayStats& stats);

namespace detail {
boost::asio::awaitable<RelayStats> relay_ends(RelayEnd& a, RelayEnd& b, RelayOptions options);
}

// Relays between a and b until both directions end (see the top of this
// file). A and B are any streams with a RelayStreamTraits specialisation:
// basic_stream_socket of any protocol (tcp::socket, transport::Socket) out
// of the box, so TCP and vsock ends mix freely.
template <RelayStream A, RelayStream B>
boost::asio::awaitable<RelayStats> relay(A& a, B& b, RelayOptions options = {}) {
  detail::StreamEnd<A> end_a(a);
  detail::StreamEnd<B> end_b(b);
  co_return co_await detail::relay_ends(end_a, end_b, options);
}

}  // namespace enclaver::transport
