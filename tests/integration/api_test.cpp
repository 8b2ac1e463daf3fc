// odyn's internal and aux APIs end to end in the simulator, judged by
// third-party clients: tests/js/api_oracle.mjs (ethers v6, Node's
// WebCrypto, fetch) runs in the enclave's network namespace, where
// 127.0.0.1 is the enclave's loopback, as a program of the app's would.
// The attestation documents it collects are verified twice on the host:
// by `enclaver verify-attestation --root` and by the independent Node
// oracle (tests/js/attestation_oracle.mjs). Needs root; skipped otherwise.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/integration/support/test_enclave.hpp"

namespace enclaver::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr int kApiPort = 9000;  // the aux API: 9001, the default

class Api : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    dir_ = new fs::path(fresh_test_dir("enclaver-api-"));
    TestEnclaveSpec spec;
    spec.name = "api";
    spec.sections = "api:\n  listen_port: " + std::to_string(kApiPort) + "\n";
    enclave_ = new TestEnclave(*dir_ / "enclave", spec);
  }
  static void TearDownTestSuite() {
    delete enclave_;
    enclave_ = nullptr;
    if (dir_) fs::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the simulator needs root";
    ASSERT_TRUE(enclave_ && enclave_->ready) << (enclave_ ? enclave_->why : "no enclave");
  }

  static std::string js(const char* name) { return std::string(ENCLAVER_SOURCE_DIR) + "/tests/js/" + name; }

  static fs::path* dir_;
  static TestEnclave* enclave_;
};
fs::path* Api::dir_ = nullptr;
TestEnclave* Api::enclave_ = nullptr;

TEST_F(Api, TheAppIsToldWhereTheApiIsAndReachesIt) {
  EXPECT_THAT(enclave_->app("/whoami", "").out, HasSubstr("ENCLAVER_API http://127.0.0.1:9000\n"));
  auto answer = enclave_->app("/raw/" + std::to_string(kApiPort), "GET /v1/eth/address HTTP/1.1\r\nHost: odyn\r\nConnection: close\r\n\r\n").out;
  EXPECT_THAT(answer, ::testing::StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(answer, HasSubstr("\"address\":\"0x"));
  EXPECT_THAT(enclave_->sleeve->stdout_text(), HasSubstr("internal API on 127.0.0.1:9000, aux API on 127.0.0.1:9001"));
}

TEST_F(Api, EthersWebCryptoAndBothAttestationVerifiersAgree) {
  const fs::path out = *dir_ / "oracle";
  fs::create_directories(out);
  auto oracle = enclave_->in_enclave_network({"/usr/bin/node", js("api_oracle.mjs"), "--api", "http://127.0.0.1:9000", "--aux",
                                              "http://127.0.0.1:9001", "--out", out.string()});
  const auto report = json::parse(oracle.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << oracle.out << oracle.err;
  for (const auto& c : report["checks"])
    EXPECT_TRUE(c["ok"].get<bool>()) << c["name"].get<std::string>() << ": " << c["detail"].get<std::string>();
  EXPECT_EQ(oracle.exit_code, 0) << oracle.err;
  EXPECT_GE(report["checks"].size(), 80u);
  // odyn says which address it has; the clients saw the same.
  EXPECT_THAT(enclave_->sleeve->stdout_text(), HasSubstr("Ethereum address " + report["address"].get<std::string>()));

  std::ifstream listing(out / "documents.json");
  const auto documents = json::parse(listing, nullptr, false);
  ASSERT_TRUE(documents.is_array());
  EXPECT_EQ(documents.size(), 8u) << "sign, sign-tx and six attestation variants";
  for (const auto& doc : documents) {
    const std::string name = doc["name"], file = doc["file"];
    std::vector<std::string> ours = {program("enclaver"), "verify-attestation", file, "--root", enclave_->sim_root().string()};
    if (!doc["nonce_hex"].is_null()) ours.insert(ours.end(), {"--nonce", doc["nonce_hex"].get<std::string>()});
    if (!doc["user_data_hex"].is_null()) ours.insert(ours.end(), {"--user-data-hex", doc["user_data_hex"].get<std::string>()});
    if (doc.contains("user_data_json")) ours.insert(ours.end(), {"--user-data-json", doc["user_data_json"].dump()});
    auto verified = run(ours);
    EXPECT_EQ(verified.exit_code, 0) << name << ":\n" << verified.out << verified.err;

    auto independent = run({"/usr/bin/node", js("attestation_oracle.mjs"), "verify", file, "--root", enclave_->sim_root().string()});
    const auto result = json::parse(independent.out, nullptr, false);
    ASSERT_TRUE(result.is_object()) << name << ": " << independent.out << independent.err;
    EXPECT_TRUE(result["ok"].get<bool>()) << name << ": " << result["errors"].dump();
    EXPECT_EQ(result["public_key"], doc["public_key_hex"]) << name;
    EXPECT_EQ(result["nonce"], doc["nonce_hex"]) << name;
    if (!doc["user_data_hex"].is_null()) {
      EXPECT_EQ(result["user_data"], doc["user_data_hex"]) << name;
    }
  }
}

}  // namespace
}  // namespace enclaver::testing
