// For fuzz targets of decoders whose errors start "offset N: ...": the N, to
// check that an error never points past the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace enclaver::fuzzing {

// The N of "offset N: ...", or SIZE_MAX if the message has another shape.
inline std::size_t offset_of(const std::string& message) {
  if (message.rfind("offset ", 0) != 0) return SIZE_MAX;
  std::size_t n = 0, i = 7;
  if (i >= message.size() || message[i] < '0' || message[i] > '9') return SIZE_MAX;
  while (i < message.size() && message[i] >= '0' && message[i] <= '9') n = n * 10 + static_cast<std::size_t>(message[i++] - '0');
  if (message.compare(i, 2, ": ") != 0) return SIZE_MAX;
  return n;
}

}  // namespace enclaver::fuzzing
