// The Nitro Security Module's request and response messages (nsm.md §2),
// sans-IO: typed values <-> the CBOR bytes AWS's serde_cbor types produce.
//
// Wire shapes: a unit variant is a bare text string ("GetRandom"); a struct
// variant is a one-entry map {"Name": {field: value, ...}} with the fields in
// Rust declaration order; Error is {"Error": "<ErrorCode name>"}. Byte fields
// are CBOR byte strings; `locked_pcrs` is the one array of integers; None is
// null. Integers are written in shortest form.
//
// Decoding is by name: key order inside the inner maps does not matter
// (QEMU sends them reversed), unknown inner keys are ignored, any integer
// width is accepted. Like QEMU's module, request decoding also accepts a text
// string where a byte field is expected and a missing Attestation field as
// null; response decoding is strict about types. Integers must fit the Rust
// field types (u16). Inputs larger than the transport limits (4096-byte
// requests, 12288-byte responses) are refused before parsing; the CBOR
// decoder's own limits (depth, items, string sizes) bound everything else, so
// no length field is trusted. Sizes of user_data / nonce / public_key / PCR
// values are not checked here: that is the module's (or the caller's) job.
// Errors are values (Result); only std::bad_alloc escapes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.hpp"

namespace enclaver::nsm {

using Bytes = std::vector<std::uint8_t>;

// Transport limits (nsm.md §1).
inline constexpr std::size_t kMaxRequestSize = 0x1000;   // 4096
inline constexpr std::size_t kMaxResponseSize = 0x3000;  // 12288
// Module facts (nsm.md §3).
inline constexpr std::uint16_t kMaxPcrs = 32;
inline constexpr std::size_t kPcrSize = 48;

// The numbers are the C enum's order; only the names go on the wire.
enum class ErrorCode : std::uint8_t {
  Success = 0,
  InvalidArgument = 1,
  InvalidIndex = 2,
  InvalidResponse = 3,
  ReadOnlyIndex = 4,
  InvalidOperation = 5,
  BufferTooSmall = 6,
  InputTooLarge = 7,
  InternalError = 8,
};
inline constexpr std::size_t kErrorCodeCount = 9;

// "InvalidIndex" etc.: the wire name.
std::string_view error_code_name(ErrorCode code);
// A short explanation, e.g. "PCR index out of range".
std::string_view error_code_meaning(ErrorCode code);
std::optional<ErrorCode> error_code_from_name(std::string_view name);

namespace request {
struct DescribePCR {
  std::uint16_t index = 0;
  friend bool operator==(const DescribePCR&, const DescribePCR&) = default;
};
struct ExtendPCR {
  std::uint16_t index = 0;
  Bytes data;
  friend bool operator==(const ExtendPCR&, const ExtendPCR&) = default;
};
struct LockPCR {
  std::uint16_t index = 0;
  friend bool operator==(const LockPCR&, const LockPCR&) = default;
};
struct LockPCRs {
  std::uint16_t range = 0;  // locks indexes 0 .. range-1
  friend bool operator==(const LockPCRs&, const LockPCRs&) = default;
};
struct DescribeNSM {
  friend bool operator==(const DescribeNSM&, const DescribeNSM&) = default;
};
struct Attestation {
  std::optional<Bytes> user_data;
  std::optional<Bytes> nonce;
  std::optional<Bytes> public_key;
  friend bool operator==(const Attestation&, const Attestation&) = default;
};
struct GetRandom {
  friend bool operator==(const GetRandom&, const GetRandom&) = default;
};
}  // namespace request

using Request = std::variant<request::DescribePCR, request::ExtendPCR, request::LockPCR, request::LockPCRs,
                             request::DescribeNSM, request::Attestation, request::GetRandom>;

namespace response {
struct DescribePCR {
  bool lock = false;
  Bytes data;
  friend bool operator==(const DescribePCR&, const DescribePCR&) = default;
};
struct ExtendPCR {
  Bytes data;  // the new value
  friend bool operator==(const ExtendPCR&, const ExtendPCR&) = default;
};
struct LockPCR {
  friend bool operator==(const LockPCR&, const LockPCR&) = default;
};
struct LockPCRs {
  friend bool operator==(const LockPCRs&, const LockPCRs&) = default;
};
struct DescribeNSM {
  std::uint16_t version_major = 0;
  std::uint16_t version_minor = 0;
  std::uint16_t version_patch = 0;
  std::string module_id;
  std::uint16_t max_pcrs = 0;
  std::vector<std::uint16_t> locked_pcrs;  // encoded in this order
  std::string digest = "SHA384";           // a unit variant of Rust's Digest: "SHA256" / "SHA384" / "SHA512"
  friend bool operator==(const DescribeNSM&, const DescribeNSM&) = default;
};
struct Attestation {
  Bytes document;  // COSE_Sign1 (nsm.md §4)
  friend bool operator==(const Attestation&, const Attestation&) = default;
};
struct GetRandom {
  Bytes random;
  friend bool operator==(const GetRandom&, const GetRandom&) = default;
};
struct Error {
  ErrorCode code = ErrorCode::InternalError;
  friend bool operator==(const Error&, const Error&) = default;
};
}  // namespace response

using Response = std::variant<response::DescribePCR, response::ExtendPCR, response::LockPCR, response::LockPCRs,
                              response::DescribeNSM, response::Attestation, response::GetRandom, response::Error>;

// The variant's wire name ("DescribePCR", ..., "Error").
std::string_view name_of(const Request& request);
std::string_view name_of(const Response& response);

// Encoding cannot fail. (A request may still exceed kMaxRequestSize; the
// transports refuse that.)
std::vector<std::uint8_t> encode(const Request& request);
std::vector<std::uint8_t> encode(const Response& response);

// Errors start with "NSM request: " / "NSM response: ".
Result<Request> decode_request(std::span<const std::uint8_t> data);
Result<Response> decode_response(std::span<const std::uint8_t> data);

}  // namespace enclaver::nsm
