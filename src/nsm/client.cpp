#include "nsm/client.hpp"

#include <fcntl.h>
#include <linux/ioctl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace enclaver::nsm {

namespace {

// include/uapi/linux/nsm.h (nsm.md §1): two {u64 addr; u64 len;} pairs.
struct nsm_iovec {
  std::uint64_t addr;
  std::uint64_t len;
};
struct nsm_raw {
  nsm_iovec request;
  nsm_iovec response;
};
static_assert(sizeof(nsm_raw) == 32);
constexpr unsigned long kNsmIoctlRaw = _IOWR(0x0A, 0x0, struct nsm_raw);
static_assert(kNsmIoctlRaw == 0xC0200A00UL);

std::string errno_text(int e) { return std::strerror(e); }

Error too_large(std::size_t size) {
  return make_error("NSM request too large: " + std::to_string(size) + " bytes, the limit is " +
                    std::to_string(kMaxRequestSize) + " (" + describe_error(ErrorCode::InputTooLarge) + ")");
}

}  // namespace

std::string describe_error(ErrorCode code) {
  return "NSM error " + std::string(error_code_name(code)) + " (" + std::string(error_code_meaning(code)) + ")";
}

// --- DeviceTransport ---------------------------------------------------------

Result<std::unique_ptr<DeviceTransport>> DeviceTransport::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    std::string msg = "cannot open the NSM device " + path + ": " + errno_text(e);
    if (e == ENOENT)
      msg += " (not running inside a Nitro enclave? set ENCLAVER_NSM_SOCKET to use the simulated NSM)";
    return make_error(std::move(msg));
  }
  return std::unique_ptr<DeviceTransport>(new DeviceTransport(fd, path));
}

DeviceTransport::~DeviceTransport() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::vector<std::uint8_t>> DeviceTransport::exchange(std::span<const std::uint8_t> request) {
  if (request.size() > kMaxRequestSize) return too_large(request.size());
  std::vector<std::uint8_t> buffer(kMaxResponseSize);
  nsm_raw raw{};
  raw.request.addr = reinterpret_cast<std::uintptr_t>(request.data());
  raw.request.len = request.size();
  raw.response.addr = reinterpret_cast<std::uintptr_t>(buffer.data());
  raw.response.len = buffer.size();
  int rc;
  do {
    rc = ::ioctl(fd_, kNsmIoctlRaw, &raw);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    int e = errno;
    if (e == EMSGSIZE) return too_large(request.size());
    return make_error("NSM ioctl on " + path_ + " failed: " + errno_text(e) + " (" +
                      describe_error(ErrorCode::InternalError) + ")");
  }
  if (raw.response.len > buffer.size())
    return make_error("NSM ioctl on " + path_ + " reported " + std::to_string(raw.response.len) +
                      " response bytes, more than the buffer's " + std::to_string(buffer.size()));
  buffer.resize(static_cast<std::size_t>(raw.response.len));
  return buffer;
}

// --- SocketTransport ---------------------------------------------------------

Result<std::unique_ptr<SocketTransport>> SocketTransport::connect(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path))
    return make_error("NSM socket path " + (path.empty() ? std::string("is empty") : "is too long (" + std::to_string(path.size()) + " bytes): " + path));
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error("cannot create a SOCK_SEQPACKET socket: " + errno_text(errno));
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    int e = errno;
    ::close(fd);
    return make_error("cannot connect to the simulated NSM at " + path + ": " + errno_text(e));
  }
  // The caller's event loop waits on every exchange (odyn's APIs call the
  // NSM synchronously): a wedged simulator must not hang it forever.
  const timeval limit{kSocketTimeoutSeconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  return std::unique_ptr<SocketTransport>(new SocketTransport(fd, "simulated NSM at " + path));
}

std::unique_ptr<SocketTransport> SocketTransport::adopt(int fd, std::string description) {
  return std::unique_ptr<SocketTransport>(new SocketTransport(fd, std::move(description)));
}

SocketTransport::~SocketTransport() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::vector<std::uint8_t>> SocketTransport::exchange(std::span<const std::uint8_t> request) {
  if (request.size() > kMaxRequestSize) return too_large(request.size());
  if (fd_ < 0) return make_error("the " + description_ + " timed out earlier; this connection to it is closed");
  ssize_t sent;
  do {
    sent = ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return make_error("sending to the " + description_ + " failed: " + errno_text(errno));
  if (static_cast<std::size_t>(sent) != request.size())
    return make_error("sending to the " + description_ + ": only " + std::to_string(sent) + " of " +
                      std::to_string(request.size()) + " bytes sent");
  std::vector<std::uint8_t> buffer(kMaxResponseSize);
  ssize_t got;
  do {
    // MSG_TRUNC: the return value is the datagram's real length.
    got = ::recv(fd_, buffer.data(), buffer.size(), MSG_TRUNC);
  } while (got < 0 && errno == EINTR);
  if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    // A late answer would pair with the next request: this connection is done.
    ::close(fd_);
    fd_ = -1;
    return make_error("the " + description_ + " did not answer within " + std::to_string(kSocketTimeoutSeconds) + " s");
  }
  if (got < 0) return make_error("receiving from the " + description_ + " failed: " + errno_text(errno));
  if (got == 0) return make_error("the " + description_ + " closed the connection without answering");
  if (static_cast<std::size_t>(got) > buffer.size())
    return make_error("the " + description_ + " sent a " + std::to_string(got) + "-byte response, more than the " +
                      std::to_string(kMaxResponseSize) + "-byte limit (" + describe_error(ErrorCode::InternalError) + ")");
  buffer.resize(static_cast<std::size_t>(got));
  return buffer;
}

Result<std::unique_ptr<Transport>> open_transport(const std::optional<std::string>& socket_path) {
  if (socket_path && !socket_path->empty()) {
    auto s = SocketTransport::connect(*socket_path);
    if (!s) return s.error();
    return std::unique_ptr<Transport>(std::move(*s));
  }
  auto d = DeviceTransport::open(kDevicePath);
  if (!d) return d.error();
  return std::unique_ptr<Transport>(std::move(*d));
}

// --- Client ------------------------------------------------------------------

Result<Response> Client::call(const Request& request) {
  const auto bytes = encode(request);
  auto reply = transport_->exchange(bytes);
  if (!reply) return reply.error();
  auto decoded = decode_response(*reply);
  if (!decoded)
    return make_error(std::string(name_of(request)) + ": undecodable response (" +
                      describe_error(ErrorCode::InternalError) + "): " + decoded.error().message);
  return std::move(*decoded);
}

template <class R>
Result<R> Client::expect(const Request& request) {
  auto r = call(request);
  if (!r) return r.error();
  if (auto* e = std::get_if<response::Error>(&*r))
    return make_error(std::string(name_of(request)) + " failed: " + describe_error(e->code));
  if (auto* ok = std::get_if<R>(&*r)) return std::move(*ok);
  return make_error(std::string(name_of(request)) + ": the NSM answered " + std::string(name_of(*r)) + " (" +
                    describe_error(ErrorCode::InvalidResponse) + ")");
}

Result<Bytes> Client::random(std::size_t n) {
  Bytes out;
  out.reserve(n);
  while (out.size() < n) {
    auto r = expect<response::GetRandom>(request::GetRandom{});
    if (!r) return r.error();
    if (r->random.empty())
      return make_error("GetRandom: the NSM returned no bytes (" + describe_error(ErrorCode::InvalidResponse) + ")");
    const std::size_t take = std::min(n - out.size(), r->random.size());
    out.insert(out.end(), r->random.begin(), r->random.begin() + static_cast<std::ptrdiff_t>(take));
  }
  return out;
}

Result<response::DescribePCR> Client::describe_pcr(std::uint16_t index) {
  return expect<response::DescribePCR>(request::DescribePCR{index});
}

Result<Bytes> Client::extend_pcr(std::uint16_t index, std::span<const std::uint8_t> data) {
  auto r = expect<response::ExtendPCR>(request::ExtendPCR{index, Bytes(data.begin(), data.end())});
  if (!r) return r.error();
  return std::move(r->data);
}

Result<std::monostate> Client::lock_pcr(std::uint16_t index) {
  auto r = expect<response::LockPCR>(request::LockPCR{index});
  if (!r) return r.error();
  return std::monostate{};
}

Result<std::monostate> Client::lock_pcrs(std::uint16_t range) {
  auto r = expect<response::LockPCRs>(request::LockPCRs{range});
  if (!r) return r.error();
  return std::monostate{};
}

Result<response::DescribeNSM> Client::describe_nsm() { return expect<response::DescribeNSM>(request::DescribeNSM{}); }

Result<Bytes> Client::attestation(std::optional<std::span<const std::uint8_t>> user_data,
                                  std::optional<std::span<const std::uint8_t>> nonce,
                                  std::optional<std::span<const std::uint8_t>> public_key) {
  auto to = [](const std::optional<std::span<const std::uint8_t>>& s) -> std::optional<Bytes> {
    if (!s) return std::nullopt;
    return Bytes(s->begin(), s->end());
  };
  auto r = expect<response::Attestation>(request::Attestation{to(user_data), to(nonce), to(public_key)});
  if (!r) return r.error();
  return std::move(r->document);
}

}  // namespace enclaver::nsm
