// The normalised manifest (every default filled in) as JSON or YAML, as
// `enclaver manifest check` prints it. Loading the YAML output again gives
// the same Manifest.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "manifest/diagnostic.hpp"
#include "manifest/manifest.hpp"

namespace enclaver::manifest {

nlohmann::ordered_json to_json(const Manifest& manifest);
std::string to_yaml(const Manifest& manifest);

nlohmann::ordered_json to_json(const Diagnostics& diagnostics);

}  // namespace enclaver::manifest
