// Attestation: issue + verify round trip in one process, against the named
// baseline of a plain ECDSA P-384 / SHA-384 sign + verify of a payload of the
// same size (what `openssl dgst -sha384 -sign/-verify` does, minus process
// start-up): the floor under any attestation. And parsing the real AWS
// document (CBOR decode alone, and the full strict parse) against hashing
// its bytes once with SHA-384, the floor of touching every byte. (nlohmann's
// CBOR reader cannot serve as a baseline: it refuses the integer map keys
// of the PCR map.)
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <fstream>
#include <iterator>

#include "cbor/cbor.hpp"
#include "nsm/attestation.hpp"
#include "nsm/sim_ca.hpp"
#include "nsm/verify.hpp"

namespace {
using namespace enclaver;

struct Chain {
  nsm::sim::CertAndKey root, intermediate, leaf;
  Chain()
      : root(std::move(nsm::sim::make_root().value())),
        intermediate(std::move(nsm::sim::make_intermediate(root).value())),
        leaf(std::move(nsm::sim::make_leaf(intermediate, "sim-bench").value())) {}
};

nsm::AttestationDocument document(const Chain& chain) {
  nsm::AttestationDocument doc;
  doc.module_id = "sim-bench";
  doc.timestamp_ms = 1'800'000'000'000;
  for (std::uint32_t i = 0; i < 16; ++i) doc.pcrs.emplace(i, nsm::Bytes(48, static_cast<std::uint8_t>(i)));
  doc.certificate = chain.leaf.cert_der;
  doc.cabundle = {chain.root.cert_der, chain.intermediate.cert_der};
  doc.public_key = nsm::Bytes(120, 7);
  doc.user_data = nsm::Bytes(64, 8);
  doc.nonce = nsm::Bytes(32, 9);
  return doc;
}

void ours(benchmark::State& state) {
  static const Chain chain;
  const auto doc = document(chain);
  nsm::VerifyOptions options;
  options.root = chain.root.cert_der;
  for (auto _ : state) {
    auto issued = nsm::issue_attestation(doc, chain.leaf.key.get());
    auto verdict = nsm::verify_attestation(issued.value(), options);
    if (!verdict.ok) state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(verdict);
  }
  state.SetItemsProcessed(state.iterations());
}

void baseline_ecdsa_p384_sign_verify(benchmark::State& state) {
  static const Chain chain;
  const auto doc = document(chain);
  const std::vector<std::uint8_t> payload(nsm::issue_attestation(doc, chain.leaf.key.get()).value().size(), 0x5a);
  EVP_PKEY* key = chain.leaf.key.get();
  std::vector<std::uint8_t> sig(256);
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t len = sig.size();
    EVP_DigestSignInit(ctx, nullptr, EVP_sha384(), nullptr, key);
    EVP_DigestSign(ctx, sig.data(), &len, payload.data(), payload.size());
    EVP_MD_CTX_reset(ctx);
    EVP_DigestVerifyInit(ctx, nullptr, EVP_sha384(), nullptr, key);
    const int ok = EVP_DigestVerify(ctx, sig.data(), len, payload.data(), payload.size());
    EVP_MD_CTX_free(ctx);
    if (ok != 1) state.SkipWithError("baseline verification failed");
  }
  state.SetItemsProcessed(state.iterations());
}

std::vector<std::uint8_t> fixture() {
  std::ifstream in(ENCLAVER_SHARED_DIR "/fixtures/attestation/aws-nitro-debug-1.cbor", std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void cbor_ours(benchmark::State& state) {
  const auto doc = fixture();
  if (doc.empty()) return state.SkipWithError("fixture missing (../shared/fixtures/attestation)");
  for (auto _ : state) {
    auto parsed = nsm::parse_attestation(doc);
    if (!parsed) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(state.iterations());
}

void cbor_decode_only(benchmark::State& state) {
  const auto doc = fixture();
  if (doc.empty()) return state.SkipWithError("fixture missing (../shared/fixtures/attestation)");
  for (auto _ : state) {
    auto envelope = cbor::decode(doc);
    auto payload = cbor::decode(*envelope.value().as_array()->at(2).as_bytes());
    benchmark::DoNotOptimize(payload);
  }
  state.SetItemsProcessed(state.iterations());
}

// The floor: reading every byte once through SHA-384.
void baseline_sha384(benchmark::State& state) {
  const auto doc = fixture();
  if (doc.empty()) return state.SkipWithError("fixture missing (../shared/fixtures/attestation)");
  unsigned char md[48];
  unsigned int len = 0;
  for (auto _ : state) {
    EVP_Digest(doc.data(), doc.size(), md, &len, EVP_sha384(), nullptr);
    benchmark::DoNotOptimize(md);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(ours)->Name("attestation_issue_verify/ours");
BENCHMARK(baseline_ecdsa_p384_sign_verify)->Name("attestation_issue_verify/baseline_ecdsa_p384_sign_verify");
BENCHMARK(cbor_ours)->Name("attestation_parse_fixture/ours");
BENCHMARK(cbor_decode_only)->Name("attestation_parse_fixture/ours_cbor_decode_only");
BENCHMARK(baseline_sha384)->Name("attestation_parse_fixture/baseline_sha384_of_the_bytes");
BENCHMARK_MAIN();
