#include "image/engine/progress.hpp"

#include "image/engine/engine_error.hpp"

namespace enclaver::image::engine {

namespace {

std::string string_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::optional<std::uint64_t> count_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  // The engine sends -1 or 0 for "unknown" totals.
  if (it->is_number_unsigned()) return it->get<std::uint64_t>();
  const auto v = it->get<std::int64_t>();
  return v >= 0 ? std::optional<std::uint64_t>(static_cast<std::uint64_t>(v)) : std::nullopt;
}

}  // namespace

std::optional<ProgressError> ProgressDecoder::feed(std::string_view bytes, const ProgressHandler& handler) {
  if (error_) return error_;
  while (!bytes.empty()) {
    const auto nl = bytes.find('\n');
    const std::string_view piece = bytes.substr(0, nl);
    if (partial_.size() + piece.size() > max_line_) {
      error_ = ProgressError{"line " + std::to_string(lines_ + 1) + " of the engine's progress stream is longer than " +
                             std::to_string(max_line_) + " bytes"};
      return error_;
    }
    if (nl == std::string_view::npos) {
      partial_.append(piece);
      break;
    }
    bytes.remove_prefix(nl + 1);
    std::optional<ProgressError> failed;
    if (partial_.empty()) {
      failed = line(piece, handler);
    } else {
      partial_.append(piece);
      std::string whole = std::move(partial_);
      partial_.clear();
      failed = line(whole, handler);
    }
    if (failed) {
      error_ = std::move(failed);
      return error_;
    }
  }
  return std::nullopt;
}

std::optional<ProgressError> ProgressDecoder::finish(const ProgressHandler& handler) {
  if (error_) return error_;
  if (!partial_.empty()) {
    std::string last = std::move(partial_);
    partial_.clear();
    error_ = line(last, handler);
  }
  return error_;
}

std::optional<ProgressError> ProgressDecoder::line(std::string_view text, const ProgressHandler& handler) {
  ++lines_;
  if (text.find_first_not_of(" \t\r") == std::string_view::npos) return std::nullopt;
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object())
    return ProgressError{"line " + std::to_string(lines_) + " of the engine's progress stream is not a JSON object"};

  // errorDetail.message is the full message; "error" repeats it (older
  // engines send only "error").
  if (auto detail = j.find("errorDetail"); detail != j.end() && detail->is_object()) {
    std::string message = printable_message(string_field(*detail, "message"));
    if (message.empty()) message = printable_message(string_field(j, "error"));
    return ProgressError{message.empty() ? "the engine reported an error without a message" : message, true};
  }
  if (auto error = j.find("error"); error != j.end() && !error->is_null() && *error != "") {
    std::string message = error->is_string() ? printable_message(error->get_ref<const std::string&>()) : error->dump();
    return ProgressError{message.empty() ? "the engine reported an error without a message" : message, true};
  }

  ProgressEvent event;
  event.id = string_field(j, "id");
  if (auto aux = j.find("aux"); aux != j.end()) {
    event.kind = ProgressEvent::Kind::aux;
    event.aux = *aux;
  } else if (auto stream = j.find("stream"); stream != j.end() && stream->is_string()) {
    event.kind = ProgressEvent::Kind::stream;
    event.stream = stream->get<std::string>();
  } else {
    event.kind = ProgressEvent::Kind::status;
    event.status = string_field(j, "status");
    event.progress = string_field(j, "progress");
    if (auto detail = j.find("progressDetail"); detail != j.end() && detail->is_object()) {
      event.current = count_field(*detail, "current");
      event.total = count_field(*detail, "total");
      if (event.total == 0u) event.total.reset();
    }
  }
  if (handler) handler(event);
  return std::nullopt;
}

}  // namespace enclaver::image::engine
