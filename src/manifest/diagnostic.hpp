// One problem found in a manifest, located precisely enough for an editor to
// jump to it: file, 1-based line and column, and the field path
// (egress.allow[2]).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace enclaver::manifest {

struct Diagnostic {
  std::string file;     // as given by the user ("-" reads as "<stdin>")
  std::size_t line = 0;
  std::size_t column = 0;
  std::string path;     // field path, empty for the document as a whole
  std::string message;  // what was wrong and what was expected

  // "enclaver.yaml:3:5: egress.allow[2]: <message>"
  std::string to_string() const;
};

using Diagnostics = std::vector<Diagnostic>;

}  // namespace enclaver::manifest
