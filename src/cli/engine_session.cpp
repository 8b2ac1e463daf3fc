#include "cli/engine_session.hpp"

#include <chrono>
#include <cstdio>
#include <map>

namespace enclaver::cli {
namespace {

image::engine::EngineAddress address_of(const std::string& docker_host) {
  auto address = image::engine::parse_docker_host(docker_host);
  if (!address) throw std::runtime_error(address.error().message);
  return *address;
}

}  // namespace

EngineSession::EngineSession(boost::asio::io_context& io, const std::string& docker_host, std::ostream& err, bool progress)
    : io_(io), engine_(io.get_executor(), address_of(docker_host)), err_(err), progress_(progress) {}

void EngineSession::save(const std::string& reference, const std::filesystem::path& file) {
  // A pull reports each layer's steps; one line per layer and step is enough.
  std::map<std::string, std::string> shown;
  image::engine::ProgressHandler on_progress;
  if (progress_) {
    on_progress = [this, &shown](const image::engine::ProgressEvent& e) {
      if (e.kind != image::engine::ProgressEvent::Kind::status || e.status.empty()) return;
      auto& last = shown[e.id];
      if (last == e.status) return;
      last = e.status;
      err_ << "enclaver build: pull " << (e.id.empty() ? "" : e.id + ": ") << e.status << "\n" << std::flush;
    };
  }
  auto info = run_to_completion(io_, engine_.ensure_image(reference, on_progress));
  const auto started = std::chrono::steady_clock::now();
  run_to_completion(io_, engine_.export_image(reference, file));
  if (progress_) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    char line[160];
    std::snprintf(line, sizeof line, "saved %s (%s, %.1f MB in %.1f s)", reference.c_str(), info.id.substr(0, 19).c_str(),
                  static_cast<double>(std::filesystem::file_size(file)) / 1e6, seconds);
    err_ << "enclaver build: " << line << "\n" << std::flush;
  }
}

std::vector<std::string> EngineSession::load(image::engine::Producer producer) {
  return run_to_completion(io_, engine_.load_image(std::move(producer)));
}

}  // namespace enclaver::cli
