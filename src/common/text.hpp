// Small text utilities shared by parsers and command-line front ends.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace enclaver::text {

// Damerau-Levenshtein distance (optimal string alignment): a transposition
// counts as one edit, so "ingerss" is 1 away from "ingress".
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word`, if it is close enough to be a plausible
// misspelling (at most 2 edits, and fewer than half the word's length).
std::optional<std::string> nearest(std::string_view word, std::span<const std::string_view> candidates);

// Offset of the first byte that is not part of valid UTF-8 (overlongs,
// surrogates and code points above U+10FFFF are invalid), or nullopt.
std::optional<std::size_t> first_invalid_utf8(std::string_view bytes);

// 1-based line and column (in bytes) of `offset` within `bytes`.
struct LineColumn {
  std::size_t line = 1;
  std::size_t column = 1;
};
LineColumn line_column(std::string_view bytes, std::size_t offset);

// Quotes a value for a message: printable ASCII as is, the rest escaped, and
// long values shortened, so that hostile input cannot garble a terminal.
std::string quote(std::string_view value, std::size_t max_len = 80);

// The pieces of `text` between `separator`s: "a,,b" gives {"a", "", "b"},
// "" gives {""}. Views into `text`.
std::vector<std::string_view> split(std::string_view text, char separator);

}  // namespace enclaver::text
