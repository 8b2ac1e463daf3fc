// YAML-level edge cases: anchors, empty and odd documents, duplicate keys,
// huge numbers, bad bytes, oversized input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/manifest/check.hpp"

namespace enclaver::manifest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::errors;
using testing::kMinimal;
using testing::valid;

TEST(YamlEdges, AnchorsAndAliasesAreFollowed) {
  // An anchor must live in a known field: a free-standing "x-" key is still unknown.
  EXPECT_THAT(errors(kMinimal + "x-ports: &p 8080\ningress:\n  - listen_port: *p\n"),
              ElementsAre(HasSubstr("x-ports: unknown field")));
  Manifest shared = valid(kMinimal +
                          "egress:\n  allow: &hosts\n    - a.example.com\n    - b.example.com\n  deny: []\n"
                          "helios_rpc: &h\n  enabled: false\n");
  EXPECT_EQ(shared.egress->allow.size(), 2u);
  Manifest merged = valid(kMinimal + "ingress:\n  - &first {listen_port: 8080}\n  - listen_port: 8081\n");
  EXPECT_EQ(merged.ingress[1].listen_port, 8081);
}

TEST(YamlEdges, AnchoredValueReusedInPlace) {
  Manifest m = valid("version: v1\nname: &n app\ntarget: app:enclave\nsources:\n  app: *n\n");
  EXPECT_EQ(m.sources.app, "app");
}

TEST(YamlEdges, UndefinedAliasIsASyntaxError) {
  EXPECT_THAT(errors(kMinimal + "api:\n  listen_port: *nope\n"), ElementsAre(HasSubstr("YAML syntax error")));
}

TEST(YamlEdges, EmptyFile) {
  const char* expected = "enclaver.yaml:1:1: the manifest is empty; expected a mapping with at least `version: v1`, `name`, `target` and `sources.app`";
  EXPECT_THAT(errors(""), ElementsAre(expected));
  EXPECT_THAT(errors("# only a comment\n\n"), ElementsAre(expected));
}

TEST(YamlEdges, NonMappingRoot) {
  EXPECT_THAT(errors("- a\n- b\n"),
              ElementsAre("enclaver.yaml:1:1: the manifest must be a mapping with at least `version`, `name`, `target` and `sources`; got a list"));
  EXPECT_THAT(errors("just a string\n"), ElementsAre(HasSubstr("got the string \"just a string\"")));
}

TEST(YamlEdges, SeveralDocuments) {
  EXPECT_THAT(errors(kMinimal + "---\n" + kMinimal),
              ElementsAre(HasSubstr("expected one YAML document, found 2")));
}

TEST(YamlEdges, DocumentMarkers) {
  EXPECT_EQ(valid("---\n" + kMinimal + "...\n").name, "app");
  EXPECT_EQ(valid("%YAML 1.2\n---\n" + kMinimal).name, "app");
  EXPECT_THAT(errors("---\n" + kMinimal + "---\n" + kMinimal), ElementsAre("enclaver.yaml:7:1: expected one YAML document, found 2 (separated by ---)"));
}

TEST(YamlEdges, GarbageThatYamlCppReadsAsNothing) {
  // yaml-cpp's LoadAll loops forever on this (found by the fuzzer).
  EXPECT_THAT(errors(",(\n"), ElementsAre("enclaver.yaml:1:1: YAML syntax error: this is not a YAML value; expected a mapping"));
}

TEST(YamlEdges, DuplicateKeysAreErrors) {
  EXPECT_THAT(errors(kMinimal + "name: other\n"),
              ElementsAre("enclaver.yaml:6:1: name: duplicate key \"name\"; each field may appear only once"));
  EXPECT_THAT(errors(kMinimal + "api:\n  listen_port: 1\n  listen_port: 2\n"),
              ElementsAre(HasSubstr("enclaver.yaml:8:3: api.listen_port: duplicate key")));
  EXPECT_THAT(errors(kMinimal + "kms_proxy:\n  listen_port: 1\n  endpoints: {us-east-1: a.example, us-east-1: b.example}\n"),
              ElementsAre(HasSubstr("kms_proxy.endpoints.us-east-1: duplicate key")));
}

TEST(YamlEdges, HugeNumbers) {
  EXPECT_THAT(errors(kMinimal + "api:\n  listen_port: 99999999999999999999999999999999\n"),
              ElementsAre(HasSubstr("api.listen_port: expected an integer 1..65535, got 99999999999999999999999999999999 (out of range)")));
  EXPECT_THAT(errors(kMinimal + "defaults:\n  memory_mb: 18446744073709551616\n"),
              ElementsAre(HasSubstr("out of range")));
  EXPECT_THAT(errors(kMinimal + "defaults:\n  cpu_count: 1e9\n"), ElementsAre(HasSubstr("got the number 1e9")));
}

TEST(YamlEdges, NonUtf8BytesArePinpointed) {
  EXPECT_THAT(errors(kMinimal + "ingress:\n  - listen_port: 80\x80\n"),
              ElementsAre("enclaver.yaml:7:20: invalid UTF-8 (byte 0x80); the manifest must be UTF-8 text"));
  EXPECT_THAT(errors("name: \xc0\xaf\n"), ElementsAre(HasSubstr("1:7: invalid UTF-8 (byte 0xc0)")));  // overlong '/'
  EXPECT_THAT(errors(std::string("name: a\0b\n", 10)), ElementsAre(HasSubstr("1:8: control character \"\\x00\"")));
}

TEST(YamlEdges, UnicodeIsFineWhereStringsGo) {
  EXPECT_EQ(valid("version: v1\nname: \"приложение ✓\"\ntarget: a\nsources: {app: a}\n").name, "приложение ✓");
}

TEST(YamlEdges, TenMegabytesIsRefusedQuickly) {
  std::string big = kMinimal + "egress:\n  allow:\n";
  while (big.size() < 10 * 1024 * 1024) big += "    - host-number-" + std::to_string(big.size()) + ".example.com\n";
  EXPECT_THAT(errors(big), ElementsAre(HasSubstr("too large (more than 1048576 bytes)")));
}

TEST(YamlEdges, LargeButAllowedManifestLoads) {
  std::string text = kMinimal + "egress:\n  allow:\n";
  for (int i = 0; i < 5000; ++i) text += "    - host-" + std::to_string(i) + ".example.com\n";
  EXPECT_EQ(valid(text).egress->allow.size(), 5000u);
}

TEST(YamlEdges, ManyErrorsAreCapped) {
  std::string text = kMinimal + "egress:\n  allow:\n";
  for (int i = 0; i < 500; ++i) text += "    - 'bad*pattern.com'\n";
  auto e = errors(text);
  ASSERT_EQ(e.size(), 101u);
  EXPECT_EQ(e.back(), "enclaver.yaml: ... and 400 more errors");
}

TEST(YamlEdges, DeepNestingDoesNotCrash) {
  std::string deep(100000, '[');
  EXPECT_THAT(errors("name: " + deep + "\n"), ElementsAre(HasSubstr("YAML syntax error")));
}

TEST(YamlEdges, AliasBombStaysCheap) {
  std::string text = kMinimal + "x: &a [1,1,1,1,1,1,1,1,1,1]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'j'; ++c) {
    text += std::string("y") + c + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) text += std::string(i ? "," : "") + "*" + prev;
    text += "]\n";
    prev = c;
  }
  auto e = errors(text);
  EXPECT_EQ(e.size(), 10u);  // ten unknown keys, nothing expanded
}

TEST(YamlEdges, TabsAndCrLfWork) {
  Manifest m = valid("version: v1\r\nname: a\r\ntarget: a\r\nsources:\r\n  app: a\r\n");
  EXPECT_EQ(m.sources.app, "a");
}

}  // namespace
}  // namespace enclaver::manifest
