// Result<T>: a value or an Error, for layers that report failures as values
// (parsers, validators, codecs). Programs and I/O layers may throw instead;
// each layer documents which it uses. A small stand-in for C++23
// std::expected, which g++ 12 offers only in C++23 mode.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace enclaver {

struct Error {
  std::string message;  // says what failed and, where it helps, what to do
};

template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit on purpose
  Result(Error error) : v_(std::move(error)) {}      // NOLINT: implicit on purpose

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

inline Error make_error(std::string message) { return Error{std::move(message)}; }

}  // namespace enclaver
