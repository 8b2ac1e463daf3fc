#include "sleeve/sim_nsm.hpp"

#include <openssl/rand.h>

#include <chrono>
#include <mutex>
#include <stdexcept>

#include "eif/eif_reader.hpp"
#include "eif/eif_sign.hpp"
#include "nsm/attestation.hpp"
#include "nsm/sim_ca.hpp"

namespace enclaver::sleeve {
namespace {

std::string random_module_id() {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness for the simulated module id");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "sim-";
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

// Issues documents with a leaf of this enclave; a leaf lives 3 hours (as
// AWS's), so a fresh one is made when the current one is 2 hours old.
class Issuer {
 public:
  Issuer(nsm::sim::CertAndKey root, std::string module_id) : root_(std::move(root)), module_id_(std::move(module_id)) {
    auto intermediate = nsm::sim::make_intermediate(root_);
    if (!intermediate) throw std::runtime_error("simulator intermediate CA: " + intermediate.error().message);
    intermediate_ = std::move(*intermediate);
    renew();
  }

  Result<nsm::Bytes> issue(const nsm::sim::AttestationFields& fields) {
    std::lock_guard lock(mutex_);
    if (std::chrono::steady_clock::now() - leaf_made_ > std::chrono::hours(2)) renew();
    nsm::AttestationDocument doc;
    doc.module_id = fields.module_id;
    doc.timestamp_ms = fields.timestamp_ms;
    for (const auto& [index, value] : fields.pcrs) doc.pcrs.emplace(index, value);
    doc.certificate = leaf_.cert_der;
    doc.cabundle = {root_.cert_der, intermediate_.cert_der};
    doc.public_key = fields.public_key;
    doc.user_data = fields.user_data;
    doc.nonce = fields.nonce;
    return nsm::issue_attestation(doc, leaf_.key.get());
  }

 private:
  void renew() {
    auto leaf = nsm::sim::make_leaf(intermediate_, module_id_);
    if (!leaf) throw std::runtime_error("simulator leaf certificate: " + leaf.error().message);
    leaf_ = std::move(*leaf);
    leaf_made_ = std::chrono::steady_clock::now();
  }

  nsm::sim::CertAndKey root_, intermediate_, leaf_;
  std::string module_id_;
  std::chrono::steady_clock::time_point leaf_made_;
  std::mutex mutex_;
};

}  // namespace

SimNsm make_sim_nsm(const SimNsmOptions& options) {
  eif::ReadOptions read;
  read.certificate_der = eif::certificate_der_from_section;
  auto info = eif::read_eif_file(options.eif, read);
  if (!info) throw std::runtime_error(info.error().message);
  return make_sim_nsm(options, info->measurements);
}

SimNsm make_sim_nsm(const SimNsmOptions& options, const eif::Measurements& measurements) {
  SimNsm sim;
  sim.root_path = options.root;
  auto root = nsm::sim::load_or_create_root(options.root, &sim.root_created);
  if (!root) throw std::runtime_error(root.error().message);
  sim.module_id = options.module_id.empty() ? random_module_id() : options.module_id;

  auto issuer = std::make_shared<Issuer>(std::move(*root), sim.module_id);
  nsm::sim::Config config;
  config.pcr0 = measurements.pcr0;
  config.pcr1 = measurements.pcr1;
  config.pcr2 = measurements.pcr2;
  config.pcr8 = measurements.pcr8;
  config.debug_mode = options.debug_mode;
  config.module_id = sim.module_id;
  config.issuer = [issuer](const nsm::sim::AttestationFields& fields) { return issuer->issue(fields); };
  auto module = nsm::sim::SimulatedNsm::create(std::move(config));
  if (!module) throw std::runtime_error("simulated NSM: " + module.error().message);
  sim.module = std::make_unique<nsm::sim::SimulatedNsm>(std::move(*module));
  return sim;
}

}  // namespace enclaver::sleeve
