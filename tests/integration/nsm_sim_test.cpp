// `enclaver-run nsm-sim` serving an EIF's simulated NSM, driven through our
// NSM client as odyn will drive it, with its documents checked by
// `enclaver verify-attestation` and its extend results by the openssl CLI.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "nsm/client.hpp"
#include "tests/integration/support/files.hpp"
#include "tests/integration/support/process.hpp"
#include "tests/support/bytes.hpp"

namespace enclaver::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class NsmSim : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_test_dir("enclaver-nsm-sim-");
    write_tiny_blobs(dir_ / "blobs", "console=ttyS0");
    write_file(dir_ / "rootfs/bin/app", "app", fs::perms(0755));
    auto built = run({program("enclaver"), "eif", "build", "--blobs", (dir_ / "blobs").string(), "--rootfs",
                      (dir_ / "rootfs").string(), "-o", (dir_ / "app.eif").string(), "--json", "--", "/bin/app"});
    ASSERT_EQ(built.exit_code, 0) << built.err;
    pcrs_ = nlohmann::json::parse(built.out)["Measurements"];
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  void start(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {program("enclaver-run"), "nsm-sim", "--socket", socket().string(), "--eif",
                                     (dir_ / "app.eif").string(), "--root", (dir_ / "sim-root.pem").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    server_ = std::make_unique<Background>(argv);
    for (int i = 0; i < 200 && !fs::exists(socket()); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    ASSERT_TRUE(fs::exists(socket())) << "nsm-sim did not create its socket";
  }
  nsm::Client client() {
    auto t = nsm::SocketTransport::connect(socket().string());
    if (!t) throw std::runtime_error(t.error().message);
    return nsm::Client(std::move(*t));
  }
  fs::path socket() const { return dir_ / "nsm.sock"; }

  fs::path dir_;
  nlohmann::json pcrs_;
  std::unique_ptr<Background> server_;
};

TEST_F(NsmSim, ReportsTheEifsPcrsLockedAndTheRestZero) {
  start();
  auto nsm = client();
  for (int i : {0, 1, 2}) {
    auto pcr = nsm.describe_pcr(static_cast<std::uint16_t>(i));
    ASSERT_TRUE(pcr) << pcr.error().message;
    EXPECT_TRUE(pcr->lock);
    EXPECT_EQ(hex(pcr->data), pcrs_["PCR" + std::to_string(i)]);
  }
  auto pcr3 = nsm.describe_pcr(3);
  ASSERT_TRUE(pcr3);
  EXPECT_EQ(pcr3->data, nsm::Bytes(48, 0));
  auto info = nsm.describe_nsm();
  ASSERT_TRUE(info);
  EXPECT_THAT(info->module_id, ::testing::StartsWith("sim-"));
  EXPECT_EQ(info->max_pcrs, 32);
}

TEST_F(NsmSim, ExtendMatchesOpensslAndLockedPcrsAreRefused) {
  start();
  auto nsm = client();
  const std::string data = "measured by the app";
  auto extended = nsm.extend_pcr(16, std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
  ASSERT_TRUE(extended) << extended.error().message;
  auto expected = run({"/bin/sh", "-c", "{ head -c 48 /dev/zero; printf '%s' '" + data + "'; } | openssl dgst -sha384 -r | cut -d' ' -f1"});
  EXPECT_EQ(hex(*extended), expected.out.substr(0, 96));
  auto refused = nsm.extend_pcr(0, std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("ReadOnlyIndex"));
  ASSERT_TRUE(nsm.lock_pcr(16));
  EXPECT_FALSE(nsm.extend_pcr(16, std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size())));
}

TEST_F(NsmSim, AttestationVerifiesWithTheSimulatorRootOnly) {
  start();
  auto nsm = client();
  const nsm::Bytes nonce = {0xde, 0xad, 0xbe, 0xef}, user = {'h', 'i'};
  auto doc = nsm.attestation(user, nonce, std::nullopt);
  ASSERT_TRUE(doc) << doc.error().message;
  std::ofstream(dir_ / "doc.cbor", std::ios::binary).write(reinterpret_cast<const char*>(doc->data()), doc->size());

  auto ok = run({program("enclaver"), "verify-attestation", "--root", (dir_ / "sim-root.pem").string(), "--pcr",
                 "0=" + pcrs_["PCR0"].get<std::string>(), "--pcr", "2=" + pcrs_["PCR2"].get<std::string>(), "--nonce",
                 "deadbeef", "--user-data-hex", "6869", (dir_ / "doc.cbor").string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  // An independent oracle (Node's crypto and X509Certificate, cbor-x; no code of ours).
  auto oracle = run({"/usr/bin/env", "node", std::string(ENCLAVER_SOURCE_DIR) + "/tests/js/attestation_oracle.mjs", "verify",
                     (dir_ / "doc.cbor").string(), "--root", (dir_ / "sim-root.pem").string()});
  ASSERT_EQ(oracle.exit_code, 0) << oracle.out << oracle.err;
  auto verdict = nlohmann::json::parse(oracle.out);
  EXPECT_EQ(verdict["ok"], true);
  EXPECT_EQ(verdict["pcrs"]["0"], pcrs_["PCR0"]);
  EXPECT_EQ(verdict["nonce"], "deadbeef");
  EXPECT_EQ(verdict["user_data"], "6869");
  EXPECT_THAT(verdict["module_id"].get<std::string>(), ::testing::StartsWith("sim-"));

  auto aws = run({program("enclaver"), "verify-attestation", (dir_ / "doc.cbor").string()});
  EXPECT_EQ(aws.exit_code, 1);
  EXPECT_THAT(aws.err, HasSubstr("check \"chain\" failed"));

  auto too_big = nsm.attestation(std::nullopt, nsm::Bytes(1025, 1), std::nullopt);
  ASSERT_FALSE(too_big);
  EXPECT_THAT(too_big.error().message, HasSubstr("InputTooLarge"));
  auto random = nsm.random(1000);
  ASSERT_TRUE(random);
  EXPECT_EQ(random->size(), 1000u);
}

// Our responses as an independent decoder (cbor-x, from nsm.md's shapes) reads them.
TEST_F(NsmSim, AnIndependentDecoderReadsOurResponses) {
  start();
  auto transport = nsm::SocketTransport::connect(socket().string());
  ASSERT_TRUE(transport);
  const std::vector<std::pair<nsm::Request, std::string>> cases = {
      {nsm::request::DescribePCR{2}, "DescribePCR"},
      {nsm::request::DescribeNSM{}, "DescribeNSM"},
      {nsm::request::GetRandom{}, "GetRandom"},
      {nsm::request::ExtendPCR{0, {1, 2, 3}}, "Error"},
      {nsm::request::LockPCRs{20}, "LockPCRs"},
  };
  for (const auto& [request, variant] : cases) {
    auto bytes = (*transport)->exchange(nsm::encode(request));
    ASSERT_TRUE(bytes) << bytes.error().message;
    auto decoded = run({"/usr/bin/env", "node", std::string(ENCLAVER_SOURCE_DIR) + "/tests/js/attestation_oracle.mjs",
                        "decode-nsm", hex(*bytes)});
    ASSERT_EQ(decoded.exit_code, 0) << decoded.out << decoded.err;
    auto j = nlohmann::json::parse(decoded.out);
    EXPECT_EQ(j["variant"], variant);
    EXPECT_EQ(j["kind"], "response");
    EXPECT_EQ(j["schema_ok"], true) << decoded.out;
    EXPECT_EQ(j["reencode_matches"], true) << decoded.out;
    if (variant == "DescribePCR") {
      EXPECT_EQ(j["message"]["DescribePCR"]["data"], pcrs_["PCR2"]);
    } else if (variant == "Error") {
      EXPECT_EQ(j["message"]["Error"], "ReadOnlyIndex");
    }
  }
}

TEST_F(NsmSim, DebugModeReadsZerosAndTheServerStopsCleanly) {
  start({"--debug-mode"});
  auto nsm = client();
  auto pcr0 = nsm.describe_pcr(0);
  ASSERT_TRUE(pcr0);
  EXPECT_EQ(pcr0->data, nsm::Bytes(48, 0));
  EXPECT_EQ(server_->stop(), 0);
  EXPECT_FALSE(fs::exists(socket()));
}

TEST_F(NsmSim, ACorruptRootIsAClearErrorAndLeftAlone) {
  write_file(dir_ / "sim-root.pem", "not a certificate");
  auto r = run({program("enclaver-run"), "nsm-sim", "--socket", socket().string(), "--eif", (dir_ / "app.eif").string(),
                "--root", (dir_ / "sim-root.pem").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("sim-root.pem"));
  std::ifstream in(dir_ / "sim-root.pem");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "not a certificate");
}

}  // namespace
}  // namespace enclaver::testing
