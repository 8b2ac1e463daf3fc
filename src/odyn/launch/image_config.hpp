// What odyn needs from the app image to run the app as `docker run` would
// (runtime issue): /etc/enclaver/image.json, written by `enclaver build`
// from the image config,
//   {"entrypoint":[...],"cmd":[...],"env":["K=V",...],
//    "user":"name|uid[:group|gid]","working_dir":"/..."}
// the user resolved against the image's own /etc/passwd and /etc/group, and
// the app's environment (the image's plus the variables of manifest.md).
// Sans-IO: texts in, values out.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "manifest/manifest.hpp"

namespace enclaver::odyn {

inline constexpr const char* kImageConfigPath = "/etc/enclaver/image.json";
// Docker's PATH for an image that sets none.
inline constexpr std::string_view kDockerDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct ImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "K=V"
  std::string user;              // "" = root
  std::string working_dir;       // "" = /
};

// Errors name the field and what was expected. Unknown keys are ignored (a
// newer build may add some); missing keys take the defaults above.
Result<ImageConfig> parse_image_config(std::string_view json_text);

// The argv as `docker run` joins them: entrypoint then cmd. Error: both empty.
Result<std::vector<std::string>> app_argv(const ImageConfig& config);

// "user[:group]" split, each part a name or a number.
struct UserSpec {
  std::string user;                  // name or decimal uid; "" = root
  std::optional<std::string> group;  // name or decimal gid
};
Result<UserSpec> parse_user_spec(std::string_view spec);

struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary, as Docker sets them
  std::string home = "/";
};

// Resolves as Docker does: a name must exist in passwd; a number may be
// absent (then gid 0 and HOME "/"); the primary group is the passwd entry's
// unless a group is given (a name must exist in group; a number may not);
// the supplementary groups are the primary one plus every group that lists
// the user's name, whether or not a group was given (as runc computes them).
Result<Identity> resolve_identity(const UserSpec& spec, std::string_view passwd, std::string_view group);

// The app's environment: the image's variables; then PATH (Docker's
// default) and HOME (the identity's) when the image sets none; then the
// manifest's (manifest.md), which win over the image's.
std::vector<std::string> app_environment(const std::vector<std::string>& image_env, const manifest::Manifest& manifest,
                                         const Identity& identity);

// The value of `name` in a "K=V" list, if present.
std::optional<std::string> env_value(const std::vector<std::string>& env, std::string_view name);

}  // namespace enclaver::odyn
