#include "egress/tunnel_codec.hpp"

#include <algorithm>
#include <vector>

#include <nlohmann/json.hpp>

namespace enclaver::egress {
namespace {

using nlohmann::json;

std::string frame(const std::string& body) {
  std::string out;
  out.reserve(body.size() + 2);
  out.push_back(static_cast<char>(body.size() & 0xff));
  out.push_back(static_cast<char>((body.size() >> 8) & 0xff));
  out.append(body);
  return out;
}

// JSON text of a string, as serde_json writes it (UTF-8 kept, control
// characters escaped). Throws json::type_error on bytes that are not UTF-8.
std::string quote(std::string_view text) { return json(std::string(text)).dump(); }
std::string quote_lossy(std::string_view text) {
  return json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::replace);
}

// Parses one JSON value strictly: the whole text, and no object with the
// same key twice (nlohmann would keep the last one silently, which lets two
// readers of one frame see different hosts).
Result<json> parse_strict(std::string_view text) {
  std::vector<std::vector<std::string>> keys;  // per open container
  bool duplicate = false;
  std::string duplicated;
  json::parser_callback_t watch = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        keys.emplace_back();
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case json::parse_event_t::key:
        if (!keys.empty() && parsed.is_string()) {
          const auto& key = parsed.get_ref<const std::string&>();
          auto& seen = keys.back();
          if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
            if (!duplicate) duplicated = key;
            duplicate = true;
          } else {
            seen.push_back(key);
          }
        }
        break;
      default:
        break;
    }
    return true;
  };
  json value;
  try {
    value = json::parse(text.begin(), text.end(), watch);
  } catch (const json::exception& e) {
    return make_error(std::string("not JSON: ") + e.what());
  }
  if (duplicate) return make_error("key \"" + duplicated + "\" appears twice");
  return value;
}

const char* type_name(const json& value) {
  if (value.is_number_float()) return "a fractional number";
  if (value.is_number_unsigned()) return "a non-negative integer";
  if (value.is_number_integer()) return "a negative integer";
  return value.type_name();
}

// An object with exactly `fields`, in any order.
std::optional<Error> exact_fields(const json& object, std::initializer_list<const char*> fields, std::string_view what) {
  if (!object.is_object()) return make_error(std::string(what) + " must be an object, not " + type_name(object));
  for (const char* field : fields)
    if (!object.contains(field)) return make_error(std::string(what) + " has no \"" + field + "\"");
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& key = it.key();  // not a structured binding: clang 14 cannot capture one
    if (std::find_if(fields.begin(), fields.end(), [&key](const char* f) { return key == f; }) == fields.end())
      return make_error(std::string(what) + " has an unknown field " + quote_lossy(key));
  }
  return std::nullopt;
}

}  // namespace

Result<std::string> encode_request(const TunnelRequest& request) {
  if (request.host.empty()) return make_error("the host is empty");
  if (request.host.size() > kMaxRequestHost)
    return make_error("the host is " + std::to_string(request.host.size()) + " bytes long, more than " +
                      std::to_string(kMaxRequestHost));
  if (request.port == 0) return make_error("port 0 cannot be dialled");
  std::string host;
  try {
    host = quote(request.host);
  } catch (const json::exception&) {
    return make_error("the host is not UTF-8");
  }
  // Field order as upstream's serde struct writes it.
  std::string body = "{\"host\":" + host + ",\"port\":" + std::to_string(request.port) + "}";
  if (body.size() > kMaxFrame) return make_error("the request does not fit in a frame");
  return frame(body);
}

std::string encode_response(const TunnelResponse& response) {
  if (response.ok()) return frame("\"Ok\"");
  // Escaping may grow the message up to six times: cut until the frame fits.
  std::size_t limit = kMaxErrorMessage;
  for (;;) {
    std::string message = response.error->message.substr(0, limit);
    std::string body = "{\"Err\":{\"os_code\":" + std::to_string(response.error->os_code) +
                       ",\"message\":" + quote_lossy(message) + "}}";
    if (body.size() <= kMaxFrame) return frame(body);
    limit /= 2;
  }
}

Result<TunnelRequest> parse_request(std::string_view text) {
  auto value = parse_strict(text);
  if (!value) return Error{"bad tunnel request: " + value.error().message};
  if (auto error = exact_fields(*value, {"host", "port"}, "the request"))
    return Error{"bad tunnel request: " + error->message};
  const json& host = value->at("host");
  const json& port = value->at("port");
  if (!host.is_string()) return make_error(std::string("bad tunnel request: host must be a string, not ") + type_name(host));
  if (!port.is_number_unsigned())
    return make_error(std::string("bad tunnel request: port must be an integer 1..65535, not ") + type_name(port));
  const auto port_number = port.get<std::uint64_t>();
  if (port_number == 0 || port_number > 65535)
    return make_error("bad tunnel request: port " + std::to_string(port_number) + " is not in 1..65535");
  TunnelRequest request{host.get<std::string>(), static_cast<std::uint16_t>(port_number)};
  if (request.host.empty()) return make_error("bad tunnel request: the host is empty");
  if (request.host.size() > kMaxRequestHost) return make_error("bad tunnel request: the host is too long");
  return request;
}

Result<TunnelResponse> parse_response(std::string_view text) {
  auto value = parse_strict(text);
  if (!value) return Error{"bad tunnel response: " + value.error().message};
  if (value->is_string()) {
    if (value->get_ref<const std::string&>() == "Ok") return TunnelResponse{};
    return make_error("bad tunnel response: the string " + quote_lossy(value->get<std::string>()) + " is not \"Ok\"");
  }
  if (!value->is_object() || value->size() != 1)
    return make_error("bad tunnel response: expected \"Ok\" or {\"Err\":{...}}");
  // {"Ok":null} is serde's other spelling of the unit variant "Ok".
  if (value->contains("Ok")) {
    if (!value->at("Ok").is_null()) return make_error("bad tunnel response: \"Ok\" carries a value");
    return TunnelResponse{};
  }
  if (!value->contains("Err")) return make_error("bad tunnel response: expected \"Ok\" or {\"Err\":{...}}");
  const json& err = value->at("Err");
  if (auto error = exact_fields(err, {"os_code", "message"}, "Err")) return Error{"bad tunnel response: " + error->message};
  const json& code = err.at("os_code");
  const json& message = err.at("message");
  if (!code.is_number_integer())
    return make_error(std::string("bad tunnel response: os_code must be an integer, not ") + type_name(code));
  const auto number = code.get<std::int64_t>();
  if (code.is_number_unsigned() ? code.get<std::uint64_t>() > 0x7fffffffu : number < -0x7fffffffLL - 1)
    return make_error("bad tunnel response: os_code is out of range");
  if (!message.is_string())
    return make_error(std::string("bad tunnel response: message must be a string, not ") + type_name(message));
  DialError error{static_cast<int>(number), message.get<std::string>(), number == kEtimedout};
  return TunnelResponse{std::move(error)};
}

std::size_t FrameReader::feed(std::string_view chunk) {
  std::size_t used = 0;
  while (used < chunk.size()) {
    if (state_ == State::header) {
      header_[header_got_++] = static_cast<unsigned char>(chunk[used++]);
      if (header_got_ < 2) continue;
      length_ = static_cast<std::size_t>(header_[0]) | (static_cast<std::size_t>(header_[1]) << 8);
      if (length_ == 0) {
        state_ = State::failed;
        error_ = "empty frame";
      } else if (length_ > max_) {
        state_ = State::failed;
        error_ = "frame of " + std::to_string(length_) + " bytes, more than the limit of " + std::to_string(max_);
      } else {
        state_ = State::body;
        payload_.reserve(length_);
      }
    } else if (state_ == State::body) {
      const std::size_t n = std::min(chunk.size() - used, length_ - payload_.size());
      payload_.append(chunk.substr(used, n));
      used += n;
      if (payload_.size() == length_) state_ = State::complete;
    } else {
      break;
    }
  }
  return used;
}

std::size_t FrameReader::wanted() const {
  switch (state_) {
    case State::header: return 2 - header_got_;
    case State::body: return length_ - payload_.size();
    default: return 0;
  }
}

}  // namespace enclaver::egress
