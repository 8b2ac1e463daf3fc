// DockerEngine: a client of the Docker Engine API over the engine's Unix
// socket (DOCKER_HOST, parsed by parse_docker_host), for `enclaver build`
// (inspect, pull, export, load, tag, build, remove images) and
// `enclaver run` (create, attach, start, wait for, kill, remove containers).
// No docker CLI is involved.
//
// Calls. Each call is a coroutine on the executor the engine was made with,
// and opens its own connection (the engine is local: connecting costs
// little, and concurrent calls - streaming a container's output while
// waiting for it - need no coordination). Names are image references
// ("app:1", "registry:5000/app@sha256:...") or IDs; container IDs or names.
// The first call asks GET /version and negotiates the API version (see
// api_version.hpp); every later request goes to /v<version>/...
//
// Errors. Everything that goes wrong with the engine is an EngineError
// (engine_error.hpp): the engine's own message, the HTTP status, and which
// call. not_found() tells a missing image or container from other
// failures. Local files named by the caller fail with std::system_error;
// a producer's or sink's own exceptions pass through as they are.
//
// Cancellation. Every call may be cancelled through its completion's
// cancellation slot (e.g. `co_await (engine.wait_container(id) || timer)`):
// it then ends with boost::system::system_error(operation_aborted), its
// connection closed. The engine does not undo what it already did (a pull
// cut short goes on in the engine; a cancelled wait leaves the container
// running). Mind that awaitable_operators' `||` completes with the first
// call to *succeed*: a call that fails is only seen once the other ends.
//
// g++ 12: do not write braced temporaries inside a co_await expression
// (`co_await engine.build_image(BuildOptions{}, ...)`): it miscompiles them
// (crashes in free()). Name the value first.
//
// Threading. A DockerEngine holds no lock: use it from one thread (or one
// strand). It must outlive its calls, and ContainerOutput and
// ContainerExit objects their own.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "common/byte_sink.hpp"
#include "image/engine/address.hpp"
#include "image/engine/api_version.hpp"
#include "image/engine/engine_error.hpp"
#include "image/engine/log_stream.hpp"
#include "image/engine/progress.hpp"
#include "image/engine/requests.hpp"
#include "image/engine/responses.hpp"
#include "image/engine/upload_source.hpp"

namespace boost::beast::http {
enum class verb;  // kept out of this header: Beast is the implementation's
}

namespace enclaver::image::engine {

namespace detail {
class ResponseStream;
}

// Called with each piece of a container's output, in order; which stream
// it came from (stdout or stderr; a TTY container's output is all stdout).
using OutputHandler = std::function<void(OutputStream, std::span<const std::uint8_t>)>;

// A container's output, attached (attach_container). Attach before
// starting the container so that nothing it prints is missed.
class ContainerOutput {
 public:
  ContainerOutput(std::unique_ptr<detail::ResponseStream> stream, bool tty);
  ~ContainerOutput();
  ContainerOutput(ContainerOutput&&) noexcept;
  ContainerOutput& operator=(ContainerOutput&&) noexcept;

  // Passes the output to `handler` until the container's streams end (it
  // exited, or was removed). Once only. A malformed stream or the
  // engine's own error frame is an EngineError (stream).
  boost::asio::awaitable<void> stream(OutputHandler handler);

 private:
  std::unique_ptr<detail::ResponseStream> stream_;
  bool tty_;
};

// When a wait returns (begin_wait): the engine's conditions.
enum class WaitCondition {
  not_running,  // at once if the container is not running (created, exited)
  next_exit,    // at its next exit: wait before starting it
  removed,      // once it is removed (after its exit, with AutoRemove)
};

// A wait the engine has accepted (begin_wait).
class ContainerExit {
 public:
  ContainerExit(std::unique_ptr<detail::ResponseStream> stream);
  ~ContainerExit();
  ContainerExit(ContainerExit&&) noexcept;
  ContainerExit& operator=(ContainerExit&&) noexcept;

  // The container's exit code once the condition is met (128+N when killed
  // by signal N). Once only. An error the engine reports meanwhile is an
  // EngineError (stream).
  boost::asio::awaitable<int> exit_code();

 private:
  std::unique_ptr<detail::ResponseStream> stream_;
};

class DockerEngine {
 public:
  DockerEngine(boost::asio::any_io_executor executor, EngineAddress address);

  const EngineAddress& address() const { return address_; }

  // ---- the engine ----------------------------------------------------------
  // GET /version: the engine's release and API versions.
  boost::asio::awaitable<EngineVersion> version();
  // The negotiated API version (asks the engine the first time). An engine
  // too old (or too new) is an EngineError (protocol) saying what to upgrade.
  boost::asio::awaitable<ApiVersion> api_version();

  // ---- images --------------------------------------------------------------
  // GET /images/{name}/json. A missing image: EngineError with not_found().
  boost::asio::awaitable<ImageInfo> inspect_image(std::string name);
  // The same, with nullopt for a missing image.
  boost::asio::awaitable<std::optional<ImageInfo>> find_image(std::string name);
  // POST /images/create?fromImage=...&tag=...: pulls `reference` ("latest"
  // when it names no tag), reporting the engine's progress to `progress`
  // (may be empty). Registry failures are the engine's message.
  boost::asio::awaitable<void> pull_image(std::string reference, ProgressHandler progress = {});
  // The image, pulled first when the engine does not have it.
  boost::asio::awaitable<ImageInfo> ensure_image(std::string reference, ProgressHandler progress = {});
  // GET /images/{name}/get: the image as a `docker save` tar archive,
  // streamed into `sink` as it arrives.
  boost::asio::awaitable<void> export_image(std::string name, ByteSink& sink);
  // The same into a file (created or truncated; removed if the export fails).
  boost::asio::awaitable<void> export_image(std::string name, std::filesystem::path file);
  // POST /images/load with a `docker save` tar archive from `producer`
  // (streamed, chunked) or a file. Returns what the engine loaded: the
  // references ("app:1") of tagged images, the IDs of untagged ones.
  boost::asio::awaitable<std::vector<std::string>> load_image(Producer producer, ProgressHandler progress = {});
  boost::asio::awaitable<std::vector<std::string>> load_image(std::filesystem::path archive, ProgressHandler progress = {});
  // POST /images/{source}/tag: `target` ("app:2", "latest" when untagged)
  // now names the image `source` names.
  boost::asio::awaitable<void> tag_image(std::string source, std::string target);
  // DELETE /images/{name}: untags it, and deletes it once untagged. `force`
  // also removes it while containers use it.
  boost::asio::awaitable<void> remove_image(std::string name, bool force = false);
  // POST /build (the classic builder) with a tar build context from
  // `producer` or a file, its Dockerfile at options.dockerfile. Build
  // output comes to `progress` as stream events. Returns the image ID.
  boost::asio::awaitable<std::string> build_image(BuildOptions options, Producer context, ProgressHandler progress = {});
  boost::asio::awaitable<std::string> build_image(BuildOptions options, std::filesystem::path context,
                                                  ProgressHandler progress = {});

  // ---- containers ----------------------------------------------------------
  // POST /containers/create. A missing image is not pulled: not_found().
  boost::asio::awaitable<CreatedContainer> create_container(ContainerSpec spec);
  // POST /containers/{id}/attach (stdout, stderr, stream): returns once the
  // engine has attached, before any output.
  boost::asio::awaitable<ContainerOutput> attach_container(std::string id);
  // POST /containers/{id}/start (starting a running container is no error).
  boost::asio::awaitable<void> start_container(std::string id);
  // POST /containers/{id}/wait?condition=...: returns once the engine has
  // accepted the wait; ContainerExit::exit_code() then waits.
  boost::asio::awaitable<ContainerExit> begin_wait(std::string id, WaitCondition condition);
  // Both at once: the exit code of a container (already started) once it
  // is not running.
  boost::asio::awaitable<int> wait_container(std::string id);
  // POST /containers/{id}/kill?signal=...: "SIGTERM", "SIGKILL", "15". A
  // container that is not running: conflict().
  boost::asio::awaitable<void> kill_container(std::string id, std::string signal = "SIGKILL");
  // DELETE /containers/{id}?v=1: `force` kills it first if it runs.
  boost::asio::awaitable<void> remove_container(std::string id, bool force = false);
  // GET /containers/{id}/json, the whole answer (.State.Status, .Config, ...).
  boost::asio::awaitable<nlohmann::json> inspect_container(std::string id);

 private:
  // A call with a small JSON (or empty) body and answer; the answer's body.
  boost::asio::awaitable<std::string> call(boost::beast::http::verb method, std::string path, Query query, std::string body, std::string what,
                                           unsigned also_ok = 0);
  // A call whose answer is read as a stream, its status checked.
  boost::asio::awaitable<std::unique_ptr<detail::ResponseStream>> open(boost::beast::http::verb method, std::string path, Query query,
                                                                       std::string body, std::string what);
  boost::asio::awaitable<std::vector<std::string>> load(UploadSource& source, ProgressHandler progress);
  boost::asio::awaitable<std::string> build(const BuildOptions& options, UploadSource& source, ProgressHandler progress);

  boost::asio::any_io_executor executor_;
  EngineAddress address_;
  std::optional<ApiVersion> api_;
};

}  // namespace enclaver::image::engine
