// The OpenSSL error queue as one line ("error:...; error:..."), for
// messages; the queue is emptied. Header-only: whoever includes it links
// OpenSSL already.
#pragma once

#include <openssl/err.h>

#include <string>

namespace enclaver {

inline std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(e, text, sizeof text);
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out.empty() ? "no detail from OpenSSL" : out;
}

}  // namespace enclaver
