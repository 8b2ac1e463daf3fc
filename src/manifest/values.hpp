// Checks for the string values a manifest holds (image references, URLs,
// AWS names). Each returns nullopt when the value is fine, or says what is
// wrong with it, for a diagnostic.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace enclaver::manifest::values {

// A Docker image reference: [registry[:port]/]path[:tag][@digest], lower-case
// path components, as the Docker engine accepts it.
std::optional<std::string> check_image_reference(std::string_view ref);

// sources.odyn: a local path (absolute, or starting with ./ or ../) or an
// image reference.
bool is_local_path(std::string_view value);

// An http:// or https:// URL with a host (helios_rpc URLs).
std::optional<std::string> check_http_url(std::string_view url);

// A KMS endpoint: host, host:port, or http(s)://host[:port] (http only for tests).
std::optional<std::string> check_kms_endpoint(std::string_view endpoint);

// An AWS region name such as us-east-1 or us-gov-west-1.
std::optional<std::string> check_region(std::string_view region);

// An S3 bucket name (3..63 of a-z 0-9 . -, alphanumeric at both ends, not an IP).
std::optional<std::string> check_bucket(std::string_view bucket);

// Normalises an S3 key prefix: no leading '/', a trailing '/' unless empty;
// empty, "." and ".." segments are refused. Returns the prefix or an error.
struct PrefixResult {
  std::string prefix;
  std::optional<std::string> error;
};
PrefixResult normalize_s3_prefix(std::string_view prefix);

// A weak-subjectivity checkpoint: 0x and 64 hex digits. Returns the lower-case form or an error.
PrefixResult normalize_checkpoint(std::string_view checkpoint);

}  // namespace enclaver::manifest::values
