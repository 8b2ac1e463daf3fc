// The request target of a request to one of odyn's own HTTP services, as
// the router sees it: one canonical path, so that a route is matched by
// plain string equality and no spelling of a path (dot segments, %2e,
// doubled slashes, an absolute-form URL) reaches a handler it was not
// routed to. Sans-IO, fuzzed on its own (tests/fuzz/http_path_fuzz.cpp).
//
// Contract of normalise_target():
//  - Accepts origin-form ("/a/b?x") and absolute-form
//    ("http://host[:port]/a/b?x", scheme http or https in any case; the
//    authority must be non-empty and is otherwise ignored: the services
//    listen on loopback and do not care which name was used).
//  - Refuses, with a message that says why: an empty target, asterisk-form
//    ("*"), authority-form ("host:port") and other schemes, a fragment
//    ('#'), a raw byte that is a control character, space, DEL or
//    non-ASCII, a raw backslash (anywhere, query included), a '%' not
//    followed by two hex digits, and in the path an escape of a control
//    character (%00-%1F, %7F) or of '/' or '\' (%2F, %5C).
//  - Path: percent-decodes once, but only escapes of characters that may
//    stand unescaped in a path segment (RFC 3986 pchar: letters, digits,
//    "-._~!$&'()*+,;=:@"), so %2e is '.', %41 is 'A'. Every other escape
//    (space, '%', '?', '#', non-ASCII bytes, ...) stays an escape, with
//    upper-case hex digits. Then empty segments ("//") are dropped, '.' and
//    '..' segments are resolved (never above the root: "/../x" is "/x"),
//    and a trailing '/' is kept (as RFC 3986 does, also after a final '.'
//    or '..': "/a/b/.." is "/a/"). Case is kept.
//  - The result's path starts with '/', has no empty, '.' or '..'
//    segments and no raw control characters, and is its own normal form:
//    normalise_target(path) gives the same path again.
//  - The query (after the first '?') is returned as given, not decoded.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace enclaver::http {

struct Target {
  std::string path;   // normalised, as described above
  std::string query;  // verbatim, without the '?'; empty when there is none
};

Result<Target> normalise_target(std::string_view target);

}  // namespace enclaver::http
