// DockerEngine: the container calls `enclaver run` makes, and the two
// long-lived answers (a container's output, its exit) they return.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "image/engine/docker_engine.hpp"
#include "image/engine/http.hpp"

namespace enclaver::image::engine {

namespace asio = boost::asio;
using detail::http::verb;

namespace {

// A system-error frame carries the engine's message; hold at most this much.
constexpr std::size_t kMaxSystemError = 64 * 1024;

const char* condition_name(WaitCondition condition) {
  switch (condition) {
    case WaitCondition::not_running: return "not-running";
    case WaitCondition::next_exit: return "next-exit";
    case WaitCondition::removed: return "removed";
  }
  return "not-running";
}

// Cancelling a stream closes its connection at once: the engine sees the
// client go (and stops attaching, or waiting), and no socket lingers until
// the object is destroyed.
template <class F>
asio::awaitable<void> closing_on_cancel(detail::ResponseStream& stream, F body) {
  try {
    co_await body();
  } catch (const boost::system::system_error& e) {
    if (e.code() == asio::error::operation_aborted) stream.close();
    throw;
  }
}

}  // namespace

// ---- ContainerOutput ---------------------------------------------------------

ContainerOutput::ContainerOutput(std::unique_ptr<detail::ResponseStream> stream, bool tty)
    : stream_(std::move(stream)), tty_(tty) {}
ContainerOutput::~ContainerOutput() = default;
ContainerOutput::ContainerOutput(ContainerOutput&&) noexcept = default;
ContainerOutput& ContainerOutput::operator=(ContainerOutput&&) noexcept = default;

asio::awaitable<void> ContainerOutput::stream(OutputHandler handler) {
  if (!stream_) throw std::logic_error("ContainerOutput::stream called twice");
  auto stream = std::move(stream_);
  LogDemuxer demuxer;
  std::string system_error;
  auto protocol_error = [&](const Error& e) {
    stream->close();
    throw EngineError(EngineErrorKind::protocol, stream->call(), 0, e.message);
  };
  co_await closing_on_cancel(*stream, [&]() -> asio::awaitable<void> {
    for (;;) {
      auto piece = co_await stream->read_some();
      if (piece.empty()) break;
      if (tty_) {
        handler(OutputStream::stdout_, piece);
        continue;
      }
      auto e = demuxer.feed(piece, [&](OutputStream which, std::span<const std::uint8_t> bytes) {
        if (which == OutputStream::system_error) {
          system_error.append(reinterpret_cast<const char*>(bytes.data()), std::min(bytes.size(), kMaxSystemError - system_error.size()));
          return;
        }
        handler(which, bytes);
      });
      if (e) protocol_error(*e);
    }
  });
  if (!tty_)
    if (auto e = demuxer.finish()) protocol_error(*e);
  if (!system_error.empty()) throw EngineError(EngineErrorKind::stream, stream->call(), 0, printable_message(system_error));
}

// ---- ContainerExit -----------------------------------------------------------

ContainerExit::ContainerExit(std::unique_ptr<detail::ResponseStream> stream) : stream_(std::move(stream)) {}
ContainerExit::~ContainerExit() = default;
ContainerExit::ContainerExit(ContainerExit&&) noexcept = default;
ContainerExit& ContainerExit::operator=(ContainerExit&&) noexcept = default;

asio::awaitable<int> ContainerExit::exit_code() {
  if (!stream_) throw std::logic_error("ContainerExit::exit_code called twice");
  auto stream = std::move(stream_);
  std::string body;
  co_await closing_on_cancel(*stream, [&]() -> asio::awaitable<void> {
    for (;;) {
      auto piece = co_await stream->read_some();
      if (piece.empty()) break;
      if (body.size() + piece.size() > detail::kMaxSmallBody)
        throw EngineError(EngineErrorKind::protocol, stream->call(), 0, "the engine's answer is too long");
      body.append(reinterpret_cast<const char*>(piece.data()), piece.size());
    }
  });
  auto parsed = parse_wait_response(body);
  if (!parsed) throw EngineError(EngineErrorKind::protocol, stream->call(), 0, parsed.error().message);
  if (!parsed->error.empty()) throw EngineError(EngineErrorKind::stream, stream->call(), 0, printable_message(parsed->error));
  co_return parsed->status_code;
}

// ---- DockerEngine's container calls ------------------------------------------

asio::awaitable<CreatedContainer> DockerEngine::create_container(ContainerSpec spec) {
  const std::string what = "creating a container from image " + spec.image;
  Query query;
  if (!spec.name.empty()) query.emplace_back("name", spec.name);
  const std::string body = co_await call(verb::post, "/containers/create", std::move(query), container_create_body(spec).dump(), what);
  auto created = parse_create_response(body);
  if (!created) throw EngineError(EngineErrorKind::protocol, what, 0, created.error().message);
  co_return std::move(*created);
}

asio::awaitable<ContainerOutput> DockerEngine::attach_container(std::string id) {
  // The stream's framing depends on the container's TTY: ask rather than
  // trust the caller (and API versions before 1.42 do not say in the
  // answer's Content-Type).
  const nlohmann::json container = co_await inspect_container(id);
  const bool tty = container.contains("Config") && container["Config"].value("Tty", false);

  const std::string what = "attaching to container " + id;
  const ApiVersion api = co_await api_version();
  auto socket = co_await detail::connect(address_, what);
  // (Queries are named variables: see DockerEngine::load.)
  const Query query{{"stream", "1"}, {"stdout", "1"}, {"stderr", "1"}};
  auto request = detail::make_request(verb::post, target(api, "/containers/" + encode_path(id) + "/attach", query));
  // As the docker CLI asks: the engine answers 101 and the connection
  // becomes the raw output stream.
  request.set(detail::http::field::connection, "Upgrade");
  request.set(detail::http::field::upgrade, "tcp");
  if (auto [ec, n] = co_await detail::http::async_write(socket, request, asio::as_tuple(asio::use_awaitable)); ec) {
    if (ec == asio::error::operation_aborted) throw boost::system::system_error(ec);
    throw EngineError(EngineErrorKind::connection, what, 0, "sending the request: " + ec.message());
  }
  auto response = std::make_unique<detail::ResponseStream>(std::move(socket), what);
  co_await response->read_header();
  co_await response->throw_unless_ok(101);
  co_return ContainerOutput(std::move(response), tty);
}

asio::awaitable<void> DockerEngine::start_container(std::string id) {
  // 304: already started.
  co_await call(verb::post, "/containers/" + encode_path(id) + "/start", {}, {}, "starting container " + id, 304);
}

asio::awaitable<ContainerExit> DockerEngine::begin_wait(std::string id, WaitCondition condition) {
  // The engine sends its header as soon as it is waiting (API 1.30 and
  // later), the body when the condition is met.
  Query query{{"condition", condition_name(condition)}};
  auto response = co_await open(verb::post, "/containers/" + encode_path(id) + "/wait", std::move(query), {},
                                "waiting for container " + id);
  co_return ContainerExit(std::move(response));
}

asio::awaitable<int> DockerEngine::wait_container(std::string id) {
  auto exit = co_await begin_wait(std::move(id), WaitCondition::not_running);
  co_return co_await exit.exit_code();
}

asio::awaitable<void> DockerEngine::kill_container(std::string id, std::string signal) {
  Query query{{"signal", signal}};
  co_await call(verb::post, "/containers/" + encode_path(id) + "/kill", std::move(query), {},
                "sending " + signal + " to container " + id);
}

asio::awaitable<void> DockerEngine::remove_container(std::string id, bool force) {
  Query query{{"v", "1"}, {"force", force ? "1" : "0"}};
  co_await call(verb::delete_, "/containers/" + encode_path(id), std::move(query), {},
                "removing container " + id);
}

asio::awaitable<nlohmann::json> DockerEngine::inspect_container(std::string id) {
  const std::string what = "inspecting container " + id;
  const std::string body = co_await call(verb::get, "/containers/" + encode_path(id) + "/json", {}, {}, what);
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) throw EngineError(EngineErrorKind::protocol, what, 0, "the engine's answer is not a JSON object");
  co_return j;
}

}  // namespace enclaver::image::engine
