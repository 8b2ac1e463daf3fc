// tests/fixtures/eth/oracle.json: values computed by third-party code
// (ethers v6, Node WebCrypto) by tests/js/make_eth_fixtures.mjs, loaded
// once per test binary.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "common/hex.hpp"

namespace enclaver::crypto::testing {

inline const nlohmann::json& oracle() {
  static const nlohmann::json fixture = [] {
    const std::string path = std::string(ENCLAVER_SOURCE_DIR) + "/tests/fixtures/eth/oracle.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    return nlohmann::json::parse(in);
  }();
  return fixture;
}

// Bytes of a "0x..." fixture string; a malformed fixture fails the test.
inline std::vector<std::uint8_t> fixture_bytes(const nlohmann::json& value) {
  auto bytes = enclaver::from_hex(value.get<std::string>());
  if (!bytes) throw std::runtime_error("fixture hex: " + bytes.error().message);
  return *bytes;
}

template <std::size_t N>
std::array<std::uint8_t, N> fixture_array(const nlohmann::json& value) {
  const auto bytes = fixture_bytes(value);
  if (bytes.size() != N) throw std::runtime_error("fixture value of " + std::to_string(bytes.size()) + " bytes, expected " + std::to_string(N));
  std::array<std::uint8_t, N> out;
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

inline std::string hex0x(std::span<const std::uint8_t> bytes) { return "0x" + enclaver::to_hex(bytes); }

}  // namespace enclaver::crypto::testing
