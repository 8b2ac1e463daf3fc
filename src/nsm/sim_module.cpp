#include "nsm/sim_module.hpp"

#include <openssl/rand.h>

#include <chrono>
#include <climits>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace enclaver::nsm::sim {

namespace {

response::Error error(ErrorCode code) { return response::Error{code}; }

bool too_large(const std::optional<Bytes>& field) {
  return field.has_value() && field->size() > kMaxAttestationField;
}

// The registers debug mode zeroes (nsm.md §4 "Debug mode": 0, 1, 2 and 8;
// 3 and 4 keep their values).
bool zeroed_in_debug(std::uint16_t index) { return index <= 2 || index == 8; }

}  // namespace

bool openssl_random(std::span<std::uint8_t> out) {
  if (out.empty()) return true;
  if (out.size() > static_cast<std::size_t>(INT_MAX)) return false;
  return RAND_bytes(out.data(), static_cast<int>(out.size())) == 1;
}

std::uint64_t system_clock_ms() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
}

std::optional<std::string> SimulatedNsm::validate(const Config& config) {
  if (config.module_id.rfind("sim-", 0) != 0)
    return "simulated NSM: module_id must start with \"sim-\" (got \"" + config.module_id + "\")";
  if (config.module_id.size() > 64)
    return "simulated NSM: module_id longer than 64 characters";
  for (const auto& [index, value] : config.other_pcrs) {
    (void)value;
    if (index >= kMaxPcrs) return "simulated NSM: PCR index " + std::to_string(index) + " out of range (max 31)";
    if (zeroed_in_debug(index))
      return "simulated NSM: PCR" + std::to_string(index) + " comes from the EIF fields, not other_pcrs";
  }
  return std::nullopt;
}

SimulatedNsm::SimulatedNsm(Config config) : config_(std::move(config)) {
  if (auto problem = validate(config_)) throw std::invalid_argument(*problem);
  if (!config_.random) config_.random = openssl_random;
  if (!config_.clock) config_.clock = system_clock_ms;
  // nsm.md §3: 32 PCRs of 48 bytes; 0/1/2 (and 8) from the EIF, others zero
  // unless given; 0..15 locked at boot.
  pcrs_.assign(kMaxPcrs, eif::Digest{});
  locked_.assign(kMaxPcrs, false);
  pcrs_[0] = config_.pcr0;
  pcrs_[1] = config_.pcr1;
  pcrs_[2] = config_.pcr2;
  if (config_.pcr8) pcrs_[8] = *config_.pcr8;
  for (const auto& [index, value] : config_.other_pcrs) pcrs_[index] = value;
  for (std::uint16_t i = 0; i < kBootLockedPcrs; ++i) locked_[i] = true;
}

Result<SimulatedNsm> SimulatedNsm::create(Config config) {
  if (auto problem = validate(config)) return make_error(*problem);
  return SimulatedNsm(std::move(config));
}

std::vector<std::uint16_t> SimulatedNsm::locked_pcrs() const {
  std::vector<std::uint16_t> out;
  for (std::uint16_t i = 0; i < kMaxPcrs; ++i)
    if (locked_[i]) out.push_back(i);
  return out;
}

Bytes SimulatedNsm::visible_pcr(std::uint16_t index) const {
  if (config_.debug_mode && zeroed_in_debug(index)) return Bytes(kPcrSize, 0);
  return Bytes(pcrs_[index].begin(), pcrs_[index].end());
}

Response SimulatedNsm::handle(const Request& request) {
  // nsm.md §1: a request over 4096 bytes never reaches the module; answer as
  // the simulator's transport does.
  if (encode(request).size() > kMaxRequestSize) return error(ErrorCode::InputTooLarge);
  return std::visit(
      [this](const auto& r) -> Response {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, request::DescribePCR>) return describe_pcr(r);
        else if constexpr (std::is_same_v<T, request::ExtendPCR>) return extend_pcr(r);
        else if constexpr (std::is_same_v<T, request::LockPCR>) return lock_pcr(r);
        else if constexpr (std::is_same_v<T, request::LockPCRs>) return lock_pcrs(r);
        else if constexpr (std::is_same_v<T, request::DescribeNSM>) return describe_nsm();
        else if constexpr (std::is_same_v<T, request::Attestation>) return attestation(r);
        else return get_random();
      },
      request);
}

std::vector<std::uint8_t> SimulatedNsm::handle_bytes(std::span<const std::uint8_t> request_bytes) {
  // nsm.md §1 "Simulator": > 4096 bytes -> {"Error":"InputTooLarge"}.
  if (request_bytes.size() > kMaxRequestSize) return encode(Response{error(ErrorCode::InputTooLarge)});
  auto request = decode_request(request_bytes);
  // nsm.md §3 "Malformed or unknown request": InvalidOperation (QEMU's choice).
  if (!request) return encode(Response{error(ErrorCode::InvalidOperation)});
  auto out = encode(handle(*request));
  // nsm.md §1: replies never exceed 12288 bytes.
  if (out.size() > kMaxResponseSize) return encode(Response{error(ErrorCode::InternalError)});
  return out;
}

Response SimulatedNsm::describe_pcr(const request::DescribePCR& r) const {
  if (r.index >= kMaxPcrs) return error(ErrorCode::InvalidIndex);  // nsm.md §3: 32 PCRs
  return response::DescribePCR{locked_[r.index], visible_pcr(r.index)};
}

Response SimulatedNsm::extend_pcr(const request::ExtendPCR& r) {
  // nsm.md §3 "Extend": index >= 32 -> InvalidIndex; locked -> ReadOnlyIndex;
  // any data length that fits the 4096-byte request (checked in handle()).
  if (r.index >= kMaxPcrs) return error(ErrorCode::InvalidIndex);
  if (locked_[r.index]) return error(ErrorCode::ReadOnlyIndex);
  pcrs_[r.index] = eif::pcr_extend(pcrs_[r.index], r.data);  // SHA-384(old || data)
  // Only 0-15 can read as zeros in debug mode and those are locked from boot,
  // so the reply is the raw new value.
  return response::ExtendPCR{visible_pcr(r.index)};
}

Response SimulatedNsm::lock_pcr(const request::LockPCR& r) {
  // nsm.md §3 "LockPCR(i)": i >= 32 -> InvalidIndex; already locked (0-15
  // included) -> ReadOnlyIndex, as QEMU.
  if (r.index >= kMaxPcrs) return error(ErrorCode::InvalidIndex);
  if (locked_[r.index]) return error(ErrorCode::ReadOnlyIndex);
  locked_[r.index] = true;
  return response::LockPCR{};
}

Response SimulatedNsm::lock_pcrs(const request::LockPCRs& r) {
  // nsm.md §3 "LockPCRs(range)": range > 32 -> InvalidIndex; locks [0, range);
  // already-locked members are not an error. range 0 locks nothing.
  if (r.range > kMaxPcrs) return error(ErrorCode::InvalidIndex);
  for (std::uint16_t i = 0; i < r.range; ++i) locked_[i] = true;
  return response::LockPCRs{};
}

Response SimulatedNsm::describe_nsm() const {
  response::DescribeNSM d;
  d.version_major = config_.version_major;
  d.version_minor = config_.version_minor;
  d.version_patch = config_.version_patch;
  d.module_id = config_.module_id;
  d.max_pcrs = kMaxPcrs;           // nsm.md §3: 32
  d.locked_pcrs = locked_pcrs();   // ascending, [0..15] at boot
  d.digest = "SHA384";             // nsm.md §3
  return d;
}

Response SimulatedNsm::attestation(const request::Attestation& r) const {
  // nsm.md §3 "Attestation inputs": any of the three over 1024 bytes ->
  // InputTooLarge. Empty byte strings are legal and stay empty (not null).
  if (too_large(r.user_data) || too_large(r.nonce) || too_large(r.public_key))
    return error(ErrorCode::InputTooLarge);
  if (!config_.issuer) return error(ErrorCode::InternalError);
  AttestationFields fields;
  fields.module_id = config_.module_id;
  fields.timestamp_ms = config_.clock();
  // nsm.md §4: pcrs = all locked PCRs, ascending keys.
  for (std::uint16_t i = 0; i < kMaxPcrs; ++i)
    if (locked_[i]) fields.pcrs.emplace(i, visible_pcr(i));
  fields.user_data = r.user_data;
  fields.nonce = r.nonce;
  fields.public_key = r.public_key;
  auto document = config_.issuer(fields);
  if (!document) return error(ErrorCode::InternalError);
  return response::Attestation{std::move(*document)};
}

Response SimulatedNsm::get_random() const {
  response::GetRandom g;
  g.random.resize(kRandomBytesPerCall);  // nsm.md §3: 256 bytes per call
  if (!config_.random(g.random)) return error(ErrorCode::InternalError);
  return g;
}

}  // namespace enclaver::nsm::sim
