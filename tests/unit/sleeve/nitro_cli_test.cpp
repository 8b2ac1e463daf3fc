// nitro-cli's command lines and answers (sleeve/nitro/nitro_cli.hpp), with
// the JSON shapes nitro-cli documents.
#include "sleeve/nitro/nitro_cli.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace enclaver::sleeve::nitro {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(NitroCli, RunEnclaveArgvFollowsTheDocumentedFlags) {
  EXPECT_THAT(run_enclave_argv({"/enclave/application.eif", 2, 4096, false, std::nullopt}),
              ElementsAre("nitro-cli", "run-enclave", "--eif-path", "/enclave/application.eif", "--cpu-count", "2", "--memory", "4096"));
  EXPECT_THAT(run_enclave_argv({"a.eif", 4, 512, true, 21}),
              ElementsAre("nitro-cli", "run-enclave", "--eif-path", "a.eif", "--cpu-count", "4", "--memory", "512", "--enclave-cid",
                          "21", "--debug-mode"));
  EXPECT_THAT(terminate_enclave_argv("i-1-enc2"), ElementsAre("nitro-cli", "terminate-enclave", "--enclave-id", "i-1-enc2"));
}

TEST(NitroCli, RunEnclaveAnswerIsReadAfterProgressLines) {
  auto launched = parse_run_enclave(
      "Start allocating memory...\nStarted enclave with enclave-cid: 16, memory: 512 MiB, cpu-ids: [1, 3]\n"
      "{\n  \"EnclaveName\": \"app\",\n  \"EnclaveID\": \"i-05f6ed443aEXAMPLE-enc173dfe3eEXAMPLE\",\n  \"ProcessID\": 7077,\n"
      "  \"EnclaveCID\": 16,\n  \"NumberOfCPUs\": 2,\n  \"CPUIDs\": [1, 3],\n  \"MemoryMiB\": 512\n}\n");
  ASSERT_TRUE(launched) << launched.error().message;
  EXPECT_EQ(launched->id, "i-05f6ed443aEXAMPLE-enc173dfe3eEXAMPLE");
  EXPECT_EQ(launched->cid, 16u);
  EXPECT_EQ(launched->cpus, 2u);
  EXPECT_EQ(launched->memory_mib, 512u);
}

TEST(NitroCli, RunEnclaveAnswersWithoutIdOrCidAreRefused) {
  EXPECT_THAT(parse_run_enclave("").error().message, HasSubstr("no JSON object"));
  EXPECT_THAT(parse_run_enclave("{\"EnclaveCID\": 16}").error().message, HasSubstr("EnclaveID"));
  EXPECT_THAT(parse_run_enclave("{\"EnclaveID\": \"e\", \"EnclaveCID\": 2}").error().message, HasSubstr("EnclaveCID"));
  EXPECT_THAT(parse_run_enclave("{\"EnclaveID\": \"e\", \"EnclaveCID\": -5}").error().message, HasSubstr("EnclaveCID"));
  EXPECT_THAT(parse_run_enclave("{\"EnclaveID\": \"e\", \"EnclaveCID\": 4294967296}").error().message, HasSubstr("EnclaveCID"));
}

TEST(NitroCli, DescribeEnclavesListsIdsAndStates) {
  auto listed = parse_describe_enclaves(
      "[\n  {\n    \"EnclaveName\": \"app\",\n    \"EnclaveID\": \"i-1-enc1\",\n    \"ProcessID\": 7077,\n    \"EnclaveCID\": 16,\n"
      "    \"NumberOfCPUs\": 2,\n    \"CPUIDs\": [1, 3],\n    \"MemoryMiB\": 512,\n    \"State\": \"RUNNING\",\n    \"Flags\": \"DEBUG_MODE\"\n  },\n"
      "  {\"EnclaveID\": \"i-1-enc2\", \"State\": \"TERMINATING\"}\n]\n");
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, "i-1-enc1");
  EXPECT_EQ((*listed)[0].state, "RUNNING");
  EXPECT_EQ((*listed)[1].state, "TERMINATING");
  auto none = parse_describe_enclaves("[]\n");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  EXPECT_FALSE(parse_describe_enclaves("{}"));
  EXPECT_FALSE(parse_describe_enclaves("[{\"State\": \"RUNNING\"}]"));
}

}  // namespace
}  // namespace enclaver::sleeve::nitro
