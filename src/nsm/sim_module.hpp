// The simulated Nitro Security Module (simulation.md "Simulated NSM"), as a
// sans-IO state machine: typed requests in, typed responses out, or the CBOR
// bytes the device takes and gives (nsm.md §1-§3). It owns the 32 PCRs and
// their locks; randomness, the clock and the signing of attestation documents
// are callbacks, so the module itself does no I/O and tests can fake them.
//
// Not thread-safe: the caller serialises requests (the real driver does too,
// nsm.md §1: "calls are serialised by a mutex in the driver").
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "eif/pcr.hpp"
#include "nsm/messages.hpp"

namespace enclaver::nsm::sim {

// nsm.md §3: "At boot PCRs 0-15 are locked".
inline constexpr std::uint16_t kBootLockedPcrs = 16;
// nsm.md §3 "Attestation inputs": our simulator refuses user_data, nonce or
// public_key over 1024 bytes with InputTooLarge.
inline constexpr std::size_t kMaxAttestationField = 1024;
// nsm.md §3 "GetRandom": 256 bytes per call (QEMU; AWS: "up to 256").
inline constexpr std::size_t kRandomBytesPerCall = 256;

// What goes into an attestation document's payload (nsm.md §4), minus the
// certificate and cabundle, which belong to the issuer.
struct AttestationFields {
  std::string module_id;
  std::uint64_t timestamp_ms = 0;  // ms since the epoch, UTC
  // Every locked PCR (nsm.md §4: "all locked PCRs"; at least 0..15), index ->
  // 48 bytes, ascending; debug mode already applied.
  std::map<std::uint16_t, Bytes> pcrs;
  std::optional<Bytes> user_data;  // nullopt = null in the document
  std::optional<Bytes> nonce;
  std::optional<Bytes> public_key;
  friend bool operator==(const AttestationFields&, const AttestationFields&) = default;
};

// Signs the fields into a COSE_Sign1 document (nsm.md §4). An error becomes
// an InternalError response.
using AttestationIssuer = std::function<Result<Bytes>(const AttestationFields&)>;
// Fills the span with random bytes; false on failure (-> InternalError).
using RandomSource = std::function<bool(std::span<std::uint8_t>)>;
// Milliseconds since the epoch, UTC.
using Clock = std::function<std::uint64_t()>;

// OpenSSL's RAND_bytes.
bool openssl_random(std::span<std::uint8_t> out);
// std::chrono::system_clock, in ms.
std::uint64_t system_clock_ms();

struct Config {
  // From the EIF (eif::Measurements); PCR8 only for signed EIFs.
  eif::Digest pcr0{};
  eif::Digest pcr1{};
  eif::Digest pcr2{};
  std::optional<eif::Digest> pcr8;
  // Any other boot values (e.g. PCR3 = role ARN, PCR4 = instance id, nsm.md
  // §3), index < 32; 0, 1, 2 and 8 here are refused (use the fields above).
  std::map<std::uint16_t, eif::Digest> other_pcrs;
  // nsm.md §4 "Debug mode": PCR0, 1, 2 and 8 read as zeros in DescribePCR
  // and attestation documents; the others keep their values.
  bool debug_mode = false;
  // Must start with "sim-" (simulation.md: every document says it is
  // simulated) and be at most 64 characters (it becomes a certificate CN).
  std::string module_id = "sim-enclave";
  // nsm.md §3: QEMU reports 1.0.0.
  std::uint16_t version_major = 1;
  std::uint16_t version_minor = 0;
  std::uint16_t version_patch = 0;
  // Required: without an issuer Attestation answers InternalError.
  AttestationIssuer issuer;
  RandomSource random = openssl_random;  // empty -> openssl_random
  Clock clock = system_clock_ms;         // empty -> system_clock_ms
};

class SimulatedNsm {
 public:
  // Throws std::invalid_argument when validate(config) reports a problem.
  explicit SimulatedNsm(Config config);
  // The same, as a value.
  static Result<SimulatedNsm> create(Config config);
  // Why a Config is unusable, or nullopt.
  static std::optional<std::string> validate(const Config& config);

  // One request, as the module answers it (nsm.md §3). A request that could
  // not have been sent (encoding > 4096 bytes) gets InputTooLarge.
  Response handle(const Request& request);
  // The device's view: request bytes in, response bytes out (never more than
  // kMaxResponseSize). More than 4096 bytes -> {"Error":"InputTooLarge"}; bytes
  // that do not decode as a request -> {"Error":"InvalidOperation"} (nsm.md
  // §1 "Simulator", §3 "Malformed or unknown request").
  std::vector<std::uint8_t> handle_bytes(std::span<const std::uint8_t> request_bytes);

  // Inspection, for the sleeve and tests. Raw values (no debug zeroing).
  const eif::Digest& raw_pcr(std::uint16_t index) const { return pcrs_.at(index); }
  bool locked(std::uint16_t index) const { return locked_.at(index); }
  std::vector<std::uint16_t> locked_pcrs() const;
  const std::string& module_id() const { return config_.module_id; }
  bool debug_mode() const { return config_.debug_mode; }

 private:
  Response describe_pcr(const request::DescribePCR& r) const;
  Response extend_pcr(const request::ExtendPCR& r);
  Response lock_pcr(const request::LockPCR& r);
  Response lock_pcrs(const request::LockPCRs& r);
  Response describe_nsm() const;
  Response attestation(const request::Attestation& r) const;
  Response get_random() const;
  // The value DescribePCR and documents show: zeros for 0/1/2/8 in debug mode.
  Bytes visible_pcr(std::uint16_t index) const;

  Config config_;
  std::vector<eif::Digest> pcrs_;  // kMaxPcrs entries
  std::vector<bool> locked_;       // kMaxPcrs entries
};

}  // namespace enclaver::nsm::sim
