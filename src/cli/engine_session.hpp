// The CLI's use of the Docker engine: DockerEngine's coroutines run one at a
// time to completion on the CLI's io_context, with what the engine reports
// (pull progress) shown to the user. Errors are the engine's (EngineError,
// with its message) or std::runtime_error.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "image/engine/docker_engine.hpp"

namespace enclaver::cli {

// Runs `task` on `io` until it completes; its result or exception.
template <class T>
T run_to_completion(boost::asio::io_context& io, boost::asio::awaitable<T> task) {
  auto result = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.restart();
  io.run();
  return result.get();
}

class EngineSession {
 public:
  // `docker_host`: DOCKER_HOST's value ("" = the default socket).
  EngineSession(boost::asio::io_context& io, const std::string& docker_host, std::ostream& err, bool progress);

  image::engine::DockerEngine& engine() { return engine_; }

  // The image `reference` (pulled first when the engine lacks it), saved as
  // a `docker save` archive at `file`.
  void save(const std::string& reference, const std::filesystem::path& file);
  // Streams the archive `producer` writes into POST /images/load; what the
  // engine loaded.
  std::vector<std::string> load(image::engine::Producer producer);

 private:
  boost::asio::io_context& io_;
  image::engine::DockerEngine engine_;
  std::ostream& err_;
  bool progress_;
};

}  // namespace enclaver::cli
