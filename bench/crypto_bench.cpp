// The Ethereum identity's hot paths, each against a named baseline in the
// same run (bench/ratios.py's "<group>/<variant>" convention):
//   secp256k1_sign/baseline_libsecp256k1  secp256k1_ecdsa_sign_recoverable on a
//                                         bare context: libsecp256k1's own
//                                         signing figure, what its bench_sign measures
//   secp256k1_sign/ours                   EthKey::sign (the same call, plus our wrapping)
//   personal_sign/ours                    EIP-191 digest + sign: /v1/eth/sign's work
//                                         without HTTP (no baseline)
//   keccak256/baseline_openssl_sha3_256/N OpenSSL's SHA3-256: the same permutation
//                                         and rate, another padding byte
//   keccak256/ours/N                      our Keccak-256
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "crypto/eth.hpp"
#include "crypto/keccak.hpp"
#include "crypto/secp256k1_key.hpp"

namespace {

const std::array<std::uint8_t, 32> kSecret = {0x4c, 0x08, 0x83, 0xa6, 0x91, 0x02, 0x93, 0x7d, 0x62, 0x31, 0x47, 0x1b, 0x5d, 0xbb, 0x62, 0x04,
                                              0xfe, 0x51, 0x29, 0x61, 0x70, 0x82, 0x79, 0x2a, 0xe4, 0x68, 0xd0, 0x1a, 0x3f, 0x36, 0x23, 0x18};

std::array<std::uint8_t, 32> digest_of(std::int64_t i) {
  std::array<std::uint8_t, 32> digest{};
  std::memcpy(digest.data(), &i, sizeof i);
  digest[31] = 0x5a;
  return digest;
}

void baseline_libsecp256k1(benchmark::State& state) {
  secp256k1_context* context = secp256k1_context_create(SECP256K1_CONTEXT_SIGN);
  secp256k1_ecdsa_recoverable_signature signature;
  std::int64_t i = 0;
  for (auto _ : state) {
    const auto digest = digest_of(i++);
    if (!secp256k1_ecdsa_sign_recoverable(context, &signature, digest.data(), kSecret.data(), nullptr, nullptr)) std::abort();
    benchmark::DoNotOptimize(signature);
  }
  secp256k1_context_destroy(context);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(baseline_libsecp256k1)->Name("secp256k1_sign/baseline_libsecp256k1");

void ours_sign(benchmark::State& state) {
  auto key = enclaver::crypto::EthKey::from_secret(kSecret);
  if (!key) std::abort();
  std::int64_t i = 0;
  for (auto _ : state) {
    auto signature = key->sign(digest_of(i++));
    benchmark::DoNotOptimize(signature);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(ours_sign)->Name("secp256k1_sign/ours");

void ours_personal_sign(benchmark::State& state) {
  auto key = enclaver::crypto::EthKey::from_secret(kSecret);
  if (!key) std::abort();
  const std::vector<std::uint8_t> message(64, 'm');
  for (auto _ : state) {
    auto signature = key->sign(enclaver::crypto::personal_message_digest(message));
    benchmark::DoNotOptimize(signature);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(ours_personal_sign)->Name("personal_sign/ours");

void baseline_sha3(benchmark::State& state) {
  const std::vector<std::uint8_t> input(static_cast<std::size_t>(state.range(0)), 0xa3);
  EVP_MD* sha3 = EVP_MD_fetch(nullptr, "SHA3-256", nullptr);
  unsigned char out[32];
  for (auto _ : state) {
    unsigned int n = 0;
    EVP_Digest(input.data(), input.size(), out, &n, sha3, nullptr);
    benchmark::DoNotOptimize(out);
  }
  EVP_MD_free(sha3);
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(baseline_sha3)->Name("keccak256/baseline_openssl_sha3_256")->Arg(32)->Arg(1024);

void ours_keccak(benchmark::State& state) {
  const std::vector<std::uint8_t> input(static_cast<std::size_t>(state.range(0)), 0xa3);
  for (auto _ : state) {
    auto hash = enclaver::crypto::keccak256(input);
    benchmark::DoNotOptimize(hash);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(ours_keccak)->Name("keccak256/ours")->Arg(32)->Arg(1024);

}  // namespace

BENCHMARK_MAIN();
