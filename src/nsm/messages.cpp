#include "nsm/messages.hpp"

#include <array>
#include <limits>
#include <utility>

#include "cbor/cbor.hpp"
#include "common/text.hpp"

namespace enclaver::nsm {

namespace {

using cbor::Value;

struct CodeInfo {
  ErrorCode code;
  std::string_view name;
  std::string_view meaning;
};

constexpr std::array<CodeInfo, kErrorCodeCount> kCodes{{
    {ErrorCode::Success, "Success", "no error"},
    {ErrorCode::InvalidArgument, "InvalidArgument", "an argument of the request is invalid"},
    {ErrorCode::InvalidIndex, "InvalidIndex", "PCR index out of range"},
    {ErrorCode::InvalidResponse, "InvalidResponse", "the response does not match the request"},
    {ErrorCode::ReadOnlyIndex, "ReadOnlyIndex", "the PCR is locked (read-only)"},
    {ErrorCode::InvalidOperation, "InvalidOperation", "the request is malformed or not supported"},
    {ErrorCode::BufferTooSmall, "BufferTooSmall", "the output buffer is too small"},
    {ErrorCode::InputTooLarge, "InputTooLarge", "the request or one of its inputs is too large"},
    {ErrorCode::InternalError, "InternalError", "internal error in the NSM or its transport"},
}};

// --- encoding helpers --------------------------------------------------------

Value field_map(std::initializer_list<std::pair<const char*, Value>> fields) {
  cbor::Map m;
  m.reserve(fields.size());
  for (const auto& [k, v] : fields) m.push_back({Value::text(k), v});
  return Value::map(std::move(m));
}

Value variant(const char* name, Value inner) {
  cbor::Map m;
  m.push_back({Value::text(name), std::move(inner)});
  return Value::map(std::move(m));
}

Value optional_bytes(const std::optional<Bytes>& b) { return b ? Value::bytes(*b) : Value::null(); }

Value to_value(const Request& r) {
  return std::visit(
      [](const auto& m) -> Value {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, request::DescribePCR>) {
          return variant("DescribePCR", field_map({{"index", Value::unsigned_integer(m.index)}}));
        } else if constexpr (std::is_same_v<T, request::ExtendPCR>) {
          return variant("ExtendPCR",
                         field_map({{"index", Value::unsigned_integer(m.index)}, {"data", Value::bytes(m.data)}}));
        } else if constexpr (std::is_same_v<T, request::LockPCR>) {
          return variant("LockPCR", field_map({{"index", Value::unsigned_integer(m.index)}}));
        } else if constexpr (std::is_same_v<T, request::LockPCRs>) {
          return variant("LockPCRs", field_map({{"range", Value::unsigned_integer(m.range)}}));
        } else if constexpr (std::is_same_v<T, request::DescribeNSM>) {
          return Value::text("DescribeNSM");
        } else if constexpr (std::is_same_v<T, request::Attestation>) {
          return variant("Attestation", field_map({{"user_data", optional_bytes(m.user_data)},
                                                   {"nonce", optional_bytes(m.nonce)},
                                                   {"public_key", optional_bytes(m.public_key)}}));
        } else {
          static_assert(std::is_same_v<T, request::GetRandom>);
          return Value::text("GetRandom");
        }
      },
      r);
}

Value to_value(const Response& r) {
  return std::visit(
      [](const auto& m) -> Value {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, response::DescribePCR>) {
          return variant("DescribePCR", field_map({{"lock", Value::boolean(m.lock)}, {"data", Value::bytes(m.data)}}));
        } else if constexpr (std::is_same_v<T, response::ExtendPCR>) {
          return variant("ExtendPCR", field_map({{"data", Value::bytes(m.data)}}));
        } else if constexpr (std::is_same_v<T, response::LockPCR>) {
          return Value::text("LockPCR");
        } else if constexpr (std::is_same_v<T, response::LockPCRs>) {
          return Value::text("LockPCRs");
        } else if constexpr (std::is_same_v<T, response::DescribeNSM>) {
          cbor::Array locked;
          locked.reserve(m.locked_pcrs.size());
          for (auto i : m.locked_pcrs) locked.push_back(Value::unsigned_integer(i));
          Value digest = text::first_invalid_utf8(m.digest) ? Value::text("SHA384") : Value::text(m.digest);
          Value module_id = text::first_invalid_utf8(m.module_id) ? Value::text("") : Value::text(m.module_id);
          return variant("DescribeNSM", field_map({{"version_major", Value::unsigned_integer(m.version_major)},
                                                   {"version_minor", Value::unsigned_integer(m.version_minor)},
                                                   {"version_patch", Value::unsigned_integer(m.version_patch)},
                                                   {"module_id", std::move(module_id)},
                                                   {"max_pcrs", Value::unsigned_integer(m.max_pcrs)},
                                                   {"locked_pcrs", Value::array(std::move(locked))},
                                                   {"digest", std::move(digest)}}));
        } else if constexpr (std::is_same_v<T, response::Attestation>) {
          return variant("Attestation", field_map({{"document", Value::bytes(m.document)}}));
        } else if constexpr (std::is_same_v<T, response::GetRandom>) {
          return variant("GetRandom", field_map({{"random", Value::bytes(m.random)}}));
        } else {
          static_assert(std::is_same_v<T, response::Error>);
          return variant("Error", Value::text(error_code_name(m.code)));
        }
      },
      r);
}

// --- decoding helpers --------------------------------------------------------

cbor::DecodeOptions decode_options(std::size_t max_size) {
  cbor::DecodeOptions o;
  o.max_depth = 8;                 // deepest legal message: map / map / array / uint = 4
  o.max_items = max_size + 1;      // every item takes at least one byte
  o.max_string_size = max_size;
  o.allow_indefinite = true;       // serde_cbor accepts them
  o.allow_duplicate_keys = false;
  return o;
}

class Fields {
 public:
  Fields(const char* prefix, std::string_view variant, const Value& inner) : prefix_(prefix), variant_(variant), inner_(inner) {}

  Error err(std::string_view what) const {
    return make_error(std::string(prefix_) + std::string(variant_) + ": " + std::string(what));
  }

  Result<bool> check_map() const {
    if (!inner_.is(cbor::Kind::Map)) return err("expected a map of fields, got a " + std::string(cbor::kind_name(inner_.kind())));
    return true;
  }

  Result<std::uint16_t> u16(const char* key) const {
    const Value* v = inner_.find(key);
    if (!v) return err(std::string("missing field \"") + key + "\"");
    auto u = v->as_unsigned();
    if (!u) return err(std::string("field \"") + key + "\" must be an unsigned integer, got a " + std::string(cbor::kind_name(v->kind())));
    if (*u > std::numeric_limits<std::uint16_t>::max()) return err(std::string("field \"") + key + "\" out of range (" + std::to_string(*u) + " > 65535)");
    return static_cast<std::uint16_t>(*u);
  }

  Result<bool> boolean(const char* key) const {
    const Value* v = inner_.find(key);
    if (!v) return err(std::string("missing field \"") + key + "\"");
    auto b = v->as_bool();
    if (!b) return err(std::string("field \"") + key + "\" must be a boolean, got a " + std::string(cbor::kind_name(v->kind())));
    return *b;
  }

  Result<std::string> text(const char* key) const {
    const Value* v = inner_.find(key);
    if (!v) return err(std::string("missing field \"") + key + "\"");
    const std::string* t = v->as_text();
    if (!t) return err(std::string("field \"") + key + "\" must be a text string, got a " + std::string(cbor::kind_name(v->kind())));
    return *t;
  }

  // lenient: text accepted too (QEMU's module does this for requests).
  Result<Bytes> bytes(const char* key, bool lenient) const {
    const Value* v = inner_.find(key);
    if (!v) return err(std::string("missing field \"") + key + "\"");
    return bytes_of(key, *v, lenient);
  }

  // Missing or null -> nullopt.
  Result<std::optional<Bytes>> optional_bytes(const char* key, bool lenient) const {
    const Value* v = inner_.find(key);
    if (!v || v->is_null()) return std::optional<Bytes>();
    auto b = bytes_of(key, *v, lenient);
    if (!b) return b.error();
    return std::optional<Bytes>(std::move(*b));
  }

  Result<std::vector<std::uint16_t>> u16_array(const char* key) const {
    const Value* v = inner_.find(key);
    if (!v) return err(std::string("missing field \"") + key + "\"");
    const cbor::Array* a = v->as_array();
    if (!a) return err(std::string("field \"") + key + "\" must be an array of integers, got a " + std::string(cbor::kind_name(v->kind())));
    std::vector<std::uint16_t> out;
    out.reserve(a->size());
    for (const Value& e : *a) {
      auto u = e.as_unsigned();
      if (!u || *u > std::numeric_limits<std::uint16_t>::max())
        return err(std::string("field \"") + key + "\" must hold unsigned integers up to 65535");
      out.push_back(static_cast<std::uint16_t>(*u));
    }
    return out;
  }

 private:
  Result<Bytes> bytes_of(const char* key, const Value& v, bool lenient) const {
    if (const Bytes* b = v.as_bytes()) return *b;
    if (lenient) {
      if (const std::string* t = v.as_text()) return Bytes(t->begin(), t->end());
    }
    return err(std::string("field \"") + key + "\" must be a byte string, got a " + std::string(cbor::kind_name(v.kind())));
  }

  const char* prefix_;
  std::string_view variant_;
  const Value& inner_;
};

// Splits a message into (name, inner value or nullptr for a unit variant).
struct Shape {
  std::string name;
  const Value* inner = nullptr;
};

Result<Shape> shape_of(const char* prefix, const Value& v) {
  if (const std::string* t = v.as_text()) return Shape{*t, nullptr};
  const cbor::Map* m = v.as_map();
  if (!m) return make_error(std::string(prefix) + "expected a text string or a one-entry map, got a " + std::string(cbor::kind_name(v.kind())));
  if (m->size() != 1) return make_error(std::string(prefix) + "expected a one-entry map, got " + std::to_string(m->size()) + " entries");
  const std::string* name = (*m)[0].key.as_text();
  if (!name) return make_error(std::string(prefix) + "the variant name must be a text string, got a " + std::string(cbor::kind_name((*m)[0].key.kind())));
  return Shape{*name, &(*m)[0].value};
}

Error unknown(const char* prefix, std::string_view name, bool unit_form) {
  return make_error(std::string(prefix) + "unknown " + (unit_form ? "unit" : "struct") + " variant " + text::quote(name));
}

template <class T>
Result<Value> decode_bytes(const char* prefix, std::span<const std::uint8_t> data, std::size_t max) {
  if (data.size() > max)
    return make_error(std::string(prefix) + "too large: " + std::to_string(data.size()) + " bytes, the limit is " + std::to_string(max));
  auto v = cbor::decode(data, decode_options(max));
  if (!v) return make_error(std::string(prefix) + v.error().message);
  return std::move(*v);
}

#define NSM_TRY(var, expr)            \
  auto var##_r = (expr);              \
  if (!var##_r) return var##_r.error(); \
  auto var = std::move(*var##_r)

}  // namespace

std::string_view error_code_name(ErrorCode code) {
  auto i = static_cast<std::size_t>(code);
  return i < kCodes.size() ? kCodes[i].name : std::string_view("Unknown");
}

std::string_view error_code_meaning(ErrorCode code) {
  auto i = static_cast<std::size_t>(code);
  return i < kCodes.size() ? kCodes[i].meaning : std::string_view("unknown error code");
}

std::optional<ErrorCode> error_code_from_name(std::string_view name) {
  for (const auto& c : kCodes)
    if (c.name == name) return c.code;
  return std::nullopt;
}

std::string_view name_of(const Request& r) {
  static constexpr std::array<std::string_view, 7> names{"DescribePCR", "ExtendPCR", "LockPCR", "LockPCRs",
                                                         "DescribeNSM", "Attestation", "GetRandom"};
  return names[r.index()];
}

std::string_view name_of(const Response& r) {
  static constexpr std::array<std::string_view, 8> names{"DescribePCR", "ExtendPCR", "LockPCR", "LockPCRs",
                                                         "DescribeNSM", "Attestation", "GetRandom", "Error"};
  return names[r.index()];
}

std::vector<std::uint8_t> encode(const Request& request) { return cbor::encode(to_value(request)); }
std::vector<std::uint8_t> encode(const Response& response) { return cbor::encode(to_value(response)); }

Result<Request> decode_request(std::span<const std::uint8_t> data) {
  static constexpr const char* P = "NSM request: ";
  NSM_TRY(value, decode_bytes<Request>(P, data, kMaxRequestSize));
  NSM_TRY(shape, shape_of(P, value));
  const std::string& name = shape.name;
  if (!shape.inner) {
    if (name == "DescribeNSM") return Request(request::DescribeNSM{});
    if (name == "GetRandom") return Request(request::GetRandom{});
    return unknown(P, name, true);
  }
  Fields f(P, name, *shape.inner);
  if (name == "DescribePCR" || name == "ExtendPCR" || name == "LockPCR" || name == "LockPCRs" || name == "Attestation") {
    NSM_TRY(ok, f.check_map());
    (void)ok;
  }
  if (name == "DescribePCR") {
    NSM_TRY(index, f.u16("index"));
    return Request(request::DescribePCR{index});
  }
  if (name == "ExtendPCR") {
    NSM_TRY(index, f.u16("index"));
    NSM_TRY(bytes, f.bytes("data", true));
    return Request(request::ExtendPCR{index, std::move(bytes)});
  }
  if (name == "LockPCR") {
    NSM_TRY(index, f.u16("index"));
    return Request(request::LockPCR{index});
  }
  if (name == "LockPCRs") {
    NSM_TRY(range, f.u16("range"));
    return Request(request::LockPCRs{range});
  }
  if (name == "Attestation") {
    NSM_TRY(user_data, f.optional_bytes("user_data", true));
    NSM_TRY(nonce, f.optional_bytes("nonce", true));
    NSM_TRY(public_key, f.optional_bytes("public_key", true));
    return Request(request::Attestation{std::move(user_data), std::move(nonce), std::move(public_key)});
  }
  return unknown(P, name, false);
}

Result<Response> decode_response(std::span<const std::uint8_t> data) {
  static constexpr const char* P = "NSM response: ";
  NSM_TRY(value, decode_bytes<Response>(P, data, kMaxResponseSize));
  NSM_TRY(shape, shape_of(P, value));
  const std::string& name = shape.name;
  if (!shape.inner) {
    if (name == "LockPCR") return Response(response::LockPCR{});
    if (name == "LockPCRs") return Response(response::LockPCRs{});
    return unknown(P, name, true);
  }
  Fields f(P, name, *shape.inner);
  if (name == "Error") {
    const std::string* code = shape.inner->as_text();
    if (!code) return f.err("the error code must be a text string, got a " + std::string(cbor::kind_name(shape.inner->kind())));
    auto c = error_code_from_name(*code);
    if (!c) return f.err("unknown error code " + text::quote(*code));
    return Response(response::Error{*c});
  }
  if (name == "DescribePCR" || name == "ExtendPCR" || name == "DescribeNSM" || name == "Attestation" || name == "GetRandom") {
    NSM_TRY(ok, f.check_map());
    (void)ok;
  }
  if (name == "DescribePCR") {
    NSM_TRY(lock, f.boolean("lock"));
    NSM_TRY(bytes, f.bytes("data", false));
    return Response(response::DescribePCR{lock, std::move(bytes)});
  }
  if (name == "ExtendPCR") {
    NSM_TRY(bytes, f.bytes("data", false));
    return Response(response::ExtendPCR{std::move(bytes)});
  }
  if (name == "DescribeNSM") {
    response::DescribeNSM d;
    NSM_TRY(major, f.u16("version_major"));
    NSM_TRY(minor, f.u16("version_minor"));
    NSM_TRY(patch, f.u16("version_patch"));
    NSM_TRY(module_id, f.text("module_id"));
    NSM_TRY(max_pcrs, f.u16("max_pcrs"));
    NSM_TRY(locked, f.u16_array("locked_pcrs"));
    NSM_TRY(digest, f.text("digest"));
    d.version_major = major;
    d.version_minor = minor;
    d.version_patch = patch;
    d.module_id = std::move(module_id);
    d.max_pcrs = max_pcrs;
    d.locked_pcrs = std::move(locked);
    d.digest = std::move(digest);
    return Response(std::move(d));
  }
  if (name == "Attestation") {
    NSM_TRY(doc, f.bytes("document", false));
    return Response(response::Attestation{std::move(doc)});
  }
  if (name == "GetRandom") {
    NSM_TRY(random, f.bytes("random", false));
    return Response(response::GetRandom{std::move(random)});
  }
  return unknown(P, name, false);
}

}  // namespace enclaver::nsm
