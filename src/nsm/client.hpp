// Talking to the Nitro Security Module: a Transport moves one encoded request
// and brings back one encoded response; a Client builds the requests, checks
// the responses and turns Error responses into messages.
//
// Transports (nsm.md §1), which send the same bytes:
//   - DeviceTransport: the /dev/nsm ioctl NSM_IOCTL_RAW (0xC0200A00) with a
//     12288-byte response buffer; decodes exactly the length the driver
//     stores back.
//   - SocketTransport: the simulator's Unix SOCK_SEQPACKET socket, one
//     request per datagram, the reply received into a 12288-byte buffer;
//     a truncated reply (MSG_TRUNC) is an error.
// Both refuse a request over 4096 bytes without sending it (as AWS's client
// does: InputTooLarge). Not thread-safe: one exchange at a time per object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "common/result.hpp"
#include "nsm/messages.hpp"

namespace enclaver::nsm {

inline constexpr const char* kDevicePath = "/dev/nsm";

class Transport {
 public:
  virtual ~Transport() = default;
  // One request (encoded CBOR) in, one response (encoded CBOR) out.
  virtual Result<std::vector<std::uint8_t>> exchange(std::span<const std::uint8_t> request) = 0;
};

class DeviceTransport final : public Transport {
 public:
  // Opens `path` read-write; a missing device gives an error that says so.
  static Result<std::unique_ptr<DeviceTransport>> open(const std::string& path = kDevicePath);
  ~DeviceTransport() override;
  DeviceTransport(const DeviceTransport&) = delete;
  DeviceTransport& operator=(const DeviceTransport&) = delete;
  Result<std::vector<std::uint8_t>> exchange(std::span<const std::uint8_t> request) override;

 private:
  DeviceTransport(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

class SocketTransport final : public Transport {
 public:
  // Connects a SOCK_SEQPACKET socket to the Unix socket at `path`, with
  // send and receive timeouts of kSocketTimeoutSeconds: an exchange that
  // times out is an error, and closes the connection (a late answer would
  // otherwise pair with the next request).
  static constexpr int kSocketTimeoutSeconds = 10;
  static Result<std::unique_ptr<SocketTransport>> connect(const std::string& path);
  // Takes ownership of a connected SOCK_SEQPACKET socket (tests: socketpair).
  static std::unique_ptr<SocketTransport> adopt(int fd, std::string description = "socket");
  ~SocketTransport() override;
  SocketTransport(const SocketTransport&) = delete;
  SocketTransport& operator=(const SocketTransport&) = delete;
  Result<std::vector<std::uint8_t>> exchange(std::span<const std::uint8_t> request) override;

 private:
  SocketTransport(int fd, std::string description) : fd_(fd), description_(std::move(description)) {}
  int fd_;
  std::string description_;
};

// The simulator socket when `socket_path` is given (the caller passes
// ENCLAVER_NSM_SOCKET's value; an empty string counts as not given), else
// /dev/nsm.
Result<std::unique_ptr<Transport>> open_transport(const std::optional<std::string>& socket_path);

// "NSM error InvalidIndex (PCR index out of range)".
std::string describe_error(ErrorCode code);

class Client {
 public:
  explicit Client(std::unique_ptr<Transport> transport) : transport_(std::move(transport)) {}

  // One request, one response. An Error response is returned as a value
  // here (not turned into an Error); transport and decoding failures are
  // errors.
  Result<Response> call(const Request& request);

  // The helpers below fail on an Error response with a message naming the
  // request, the NSM error code and its meaning, and on a response of the
  // wrong variant (InvalidResponse).

  // Exactly n random bytes, asking GetRandom as often as needed.
  Result<Bytes> random(std::size_t n);
  Result<response::DescribePCR> describe_pcr(std::uint16_t index);
  // Returns the PCR's new value.
  Result<Bytes> extend_pcr(std::uint16_t index, std::span<const std::uint8_t> data);
  Result<std::monostate> lock_pcr(std::uint16_t index);
  // Locks PCRs 0 .. range-1.
  Result<std::monostate> lock_pcrs(std::uint16_t range);
  Result<response::DescribeNSM> describe_nsm();
  // The attestation document (COSE_Sign1 bytes). nullopt -> null on the wire.
  Result<Bytes> attestation(std::optional<std::span<const std::uint8_t>> user_data,
                            std::optional<std::span<const std::uint8_t>> nonce,
                            std::optional<std::span<const std::uint8_t>> public_key);

 private:
  template <class R>
  Result<R> expect(const Request& request);
  std::unique_ptr<Transport> transport_;
};

}  // namespace enclaver::nsm
