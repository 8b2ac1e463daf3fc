// DockerEngine: the engine's version and the image calls.
#include "image/engine/docker_engine.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "image/engine/http.hpp"

namespace enclaver::image::engine {

namespace asio = boost::asio;
using detail::http::verb;

namespace {

// Feeds a streamed JSON-lines answer to `progress` until it ends. An error
// line is the engine's failure after its 200: EngineError (stream).
asio::awaitable<void> follow_progress(detail::ResponseStream& response, const ProgressHandler& progress) {
  ProgressDecoder decoder;
  auto raise = [&](const ProgressError& e) {
    response.close();
    throw EngineError(e.reported_by_engine ? EngineErrorKind::stream : EngineErrorKind::protocol, response.call(), 0,
                      e.message);
  };
  for (;;) {
    auto piece = co_await response.read_some();
    if (piece.empty()) break;
    if (auto e = decoder.feed({reinterpret_cast<const char*>(piece.data()), piece.size()}, progress)) raise(*e);
  }
  if (auto e = decoder.finish(progress)) raise(*e);
}

// Writes to a file we created: blocking writes (a local disk).
class FileSink final : public ByteSink {
 public:
  explicit FileSink(const std::filesystem::path& path)
      : path_(path), fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot create " + path.string());
  }
  ~FileSink() override {
    if (fd_ >= 0) ::close(fd_);
  }
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  void write(std::span<const std::uint8_t> bytes) override {
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw std::system_error(errno, std::generic_category(), "cannot write " + path_.string());
      bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
  }
  // close(2) reports delayed write errors (NFS, quotas).
  void close() {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw std::system_error(errno, std::generic_category(), "cannot write " + path_.string());
  }

 private:
  std::filesystem::path path_;
  int fd_;
};

}  // namespace

DockerEngine::DockerEngine(asio::any_io_executor executor, EngineAddress address)
    : executor_(std::move(executor)), address_(std::move(address)) {}

asio::awaitable<std::string> DockerEngine::call(verb method, std::string path, Query query, std::string body,
                                                std::string what, unsigned also_ok) {
  const ApiVersion api = co_await api_version();
  auto socket = co_await detail::connect(address_, what);
  auto request = detail::make_request(method, target(api, path, query), std::move(body));
  auto response = co_await detail::round_trip(socket, request, what);
  detail::check_status(response.result_int(), response.body(), what, also_ok);
  co_return std::move(response.body());
}

asio::awaitable<std::unique_ptr<detail::ResponseStream>> DockerEngine::open(verb method, std::string path, Query query,
                                                                            std::string body, std::string what) {
  const ApiVersion api = co_await api_version();
  auto socket = co_await detail::connect(address_, what);
  auto request = detail::make_request(method, target(api, path, query), std::move(body));
  if (auto [ec, n] = co_await detail::http::async_write(socket, request, asio::as_tuple(asio::use_awaitable)); ec) {
    if (ec == asio::error::operation_aborted) throw boost::system::system_error(ec);
    throw EngineError(EngineErrorKind::connection, what, 0, "sending the request: " + ec.message());
  }
  auto response = std::make_unique<detail::ResponseStream>(std::move(socket), what);
  co_await response->read_header();
  co_await response->throw_unless_ok();
  co_return response;
}

// ---- the engine --------------------------------------------------------------

asio::awaitable<EngineVersion> DockerEngine::version() {
  const std::string what = "asking the Docker engine at " + address_.describe() + " for its version";
  auto socket = co_await detail::connect(address_, what);
  // Unversioned: the one request every engine answers the same way.
  auto request = detail::make_request(verb::get, target(std::nullopt, "/version"));
  auto response = co_await detail::round_trip(socket, request, what);
  detail::check_status(response.result_int(), response.body(), what);
  auto parsed = parse_version_response(response.body());
  if (!parsed) throw EngineError(EngineErrorKind::protocol, what, 0, parsed.error().message);
  co_return std::move(*parsed);
}

asio::awaitable<ApiVersion> DockerEngine::api_version() {
  if (api_) co_return *api_;
  const EngineVersion engine = co_await version();
  auto chosen = negotiate(engine);
  if (!chosen)
    throw EngineError(EngineErrorKind::protocol, "negotiating the API version with the Docker engine at " + address_.describe(),
                      0, chosen.error().message);
  api_ = *chosen;
  co_return *api_;
}

// ---- images ------------------------------------------------------------------

asio::awaitable<ImageInfo> DockerEngine::inspect_image(std::string name) {
  const std::string what = "inspecting image " + name;
  const std::string body = co_await call(verb::get, "/images/" + encode_path(name) + "/json", {}, {}, what);
  auto info = parse_image_inspect(body);
  if (!info) throw EngineError(EngineErrorKind::protocol, what, 0, info.error().message);
  co_return std::move(*info);
}

asio::awaitable<std::optional<ImageInfo>> DockerEngine::find_image(std::string name) {
  try {
    co_return co_await inspect_image(std::move(name));
  } catch (const EngineError& e) {
    if (!e.not_found()) throw;
  }
  co_return std::nullopt;
}

asio::awaitable<void> DockerEngine::pull_image(std::string reference, ProgressHandler progress) {
  const std::string what = "pulling image " + reference;
  auto ref = split_reference(reference);
  if (!ref) throw EngineError(EngineErrorKind::protocol, what, 0, ref.error().message);
  // A digest goes where the tag would: the engine takes either there.
  Query query{{"fromImage", ref->repository}, {"tag", ref->digest.empty() ? ref->tag : ref->digest}};
  auto response = co_await open(verb::post, "/images/create", std::move(query), {}, what);
  co_await follow_progress(*response, progress);
}

asio::awaitable<ImageInfo> DockerEngine::ensure_image(std::string reference, ProgressHandler progress) {
  if (auto found = co_await find_image(reference)) co_return std::move(*found);
  co_await pull_image(reference, std::move(progress));
  co_return co_await inspect_image(reference);
}

asio::awaitable<void> DockerEngine::export_image(std::string name, ByteSink& sink) {
  auto response = co_await open(verb::get, "/images/" + encode_path(name) + "/get", {}, {}, "exporting image " + name);
  for (;;) {
    auto piece = co_await response->read_some();
    if (piece.empty()) break;
    sink.write(piece);
  }
}

asio::awaitable<void> DockerEngine::export_image(std::string name, std::filesystem::path file) {
  try {
    FileSink sink(file);
    co_await export_image(std::move(name), sink);
    sink.close();
  } catch (...) {
    // No half archive left behind for a later step to trip on.
    std::error_code ignored;
    std::filesystem::remove(file, ignored);
    throw;
  }
}

asio::awaitable<std::vector<std::string>> DockerEngine::load(UploadSource& source, ProgressHandler progress) {
  const std::string what = "loading an image archive";
  const ApiVersion api = co_await api_version();
  // Queries are named variables throughout: g++ 12 miscompiles braced
  // initialiser lists of string literals inside a co_await expression.
  const Query query{{"quiet", "0"}};
  auto response = co_await detail::upload(address_, target(api, "/images/load", query), "application/x-tar", source, what);
  std::vector<std::string> loaded;
  co_await follow_progress(response, [&](const ProgressEvent& event) {
    if (auto name = loaded_image(event)) loaded.push_back(std::move(*name));
    if (progress) progress(event);
  });
  co_return loaded;
}

asio::awaitable<std::vector<std::string>> DockerEngine::load_image(Producer producer, ProgressHandler progress) {
  auto source = producer_source(executor_, std::move(producer));
  co_return co_await load(*source, std::move(progress));
}

asio::awaitable<std::vector<std::string>> DockerEngine::load_image(std::filesystem::path archive, ProgressHandler progress) {
  auto source = file_source(archive);
  co_return co_await load(*source, std::move(progress));
}

asio::awaitable<void> DockerEngine::tag_image(std::string source, std::string target_reference) {
  const std::string what = "tagging image " + source + " as " + target_reference;
  auto ref = split_reference(target_reference);
  if (!ref || !ref->digest.empty())
    throw EngineError(EngineErrorKind::protocol, what, 0, ref ? "a tag cannot name a digest" : ref.error().message);
  Query query{{"repo", ref->repository}, {"tag", ref->tag}};
  co_await call(verb::post, "/images/" + encode_path(source) + "/tag", std::move(query), {}, what);
}

asio::awaitable<void> DockerEngine::remove_image(std::string name, bool force) {
  Query query{{"force", force ? "1" : "0"}};
  co_await call(verb::delete_, "/images/" + encode_path(name), std::move(query), {}, "removing image " + name);
}

asio::awaitable<std::string> DockerEngine::build(const BuildOptions& options, UploadSource& source, ProgressHandler progress) {
  const std::string what = options.tags.empty() ? "building an image" : "building image " + options.tags.front();
  const ApiVersion api = co_await api_version();
  auto response = co_await detail::upload(address_, target(api, "/build", build_query(options)), "application/x-tar", source, what);
  std::string id;
  co_await follow_progress(response, [&](const ProgressEvent& event) {
    // The aux ID is authoritative; "Successfully built" is older engines'.
    if (auto built = built_image_id(event); built && (id.empty() || event.kind == ProgressEvent::Kind::aux)) id = *built;
    if (progress) progress(event);
  });
  if (id.empty()) throw EngineError(EngineErrorKind::protocol, what, 0, "the engine's build output named no image ID");
  co_return id;
}

asio::awaitable<std::string> DockerEngine::build_image(BuildOptions options, Producer context, ProgressHandler progress) {
  auto source = producer_source(executor_, std::move(context));
  co_return co_await build(options, *source, std::move(progress));
}

asio::awaitable<std::string> DockerEngine::build_image(BuildOptions options, std::filesystem::path context,
                                                       ProgressHandler progress) {
  auto source = file_source(context);
  co_return co_await build(options, *source, std::move(progress));
}

}  // namespace enclaver::image::engine
