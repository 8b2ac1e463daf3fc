#include "sleeve/nitro/nitro_backend.hpp"

#include <algorithm>
#include <optional>

#include "sleeve/nitro/command.hpp"
#include "sleeve/nitro/nitro_cli.hpp"
#include "transport/accept.hpp"

namespace enclaver::sleeve {
namespace {

using namespace std::chrono_literals;

std::string failure(const std::vector<std::string>& argv, const CommandResult& r) {
  std::string text = argv[0] + " " + argv[1] + " failed (exit code " + std::to_string(r.exit_code) + ")";
  if (!r.err.empty()) text += ":\n" + r.err;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

class NitroEnclave final : public Enclave {
 public:
  NitroEnclave(nitro::LaunchedEnclave launched, NitroOptions options, std::uint16_t status_port, std::ostream& err)
      : launched_(std::move(launched)), options_(std::move(options)), status_port_(status_port), err_(err) {}

  std::uint32_t cid() const override { return launched_.cid; }
  const transport::Vsock& host_vsock() const override { return options_.host_vsock; }

  boost::asio::awaitable<void> stop(std::chrono::milliseconds grace) override {
    const bool asked = co_await request_stop(options_.host_vsock, {launched_.cid, status_port_});
    if (!asked) err_ << "enclaver-run: odyn did not take the stop request; terminating the enclave\n";
    // odyn's own grace, then a margin for the final status to reach us;
    // wait() terminates the enclave when that has passed.
    terminate_at_ = std::chrono::steady_clock::now() + (asked ? grace + 5s : 0ms);
  }

  boost::asio::awaitable<EnclaveEnd> wait() override {
    bool complained = false;
    while (!gone_) {
      if (terminate_at_ && std::chrono::steady_clock::now() >= *terminate_at_) {
        co_await terminate();
        break;
      }
      co_await transport::sleep_for(options_.poll_interval);
      try {
        auto r = co_await run_command(nitro::describe_enclaves_argv(), options_.command_timeout);
        if (r.exit_code != 0) throw std::runtime_error(failure(nitro::describe_enclaves_argv(), r));
        auto listed = nitro::parse_describe_enclaves(r.out);
        if (!listed) throw std::runtime_error(listed.error().message);
        gone_ = std::none_of(listed->begin(), listed->end(),
                             [&](const auto& e) { return e.id == launched_.id && e.state == "RUNNING"; });
        complained = false;
      } catch (const std::exception& e) {
        if (!complained) err_ << "enclaver-run: cannot watch the enclave: " << e.what() << "\n";
        complained = true;
      }
    }
    co_return EnclaveEnd{1, "is no longer running (nitro-cli describe-enclaves)"};
  }

  boost::asio::awaitable<void> release() override {
    if (!terminated_) co_await terminate();
  }

 private:
  boost::asio::awaitable<void> terminate() {
    if (terminated_) co_return;
    terminated_ = true;
    const auto argv = nitro::terminate_enclave_argv(launched_.id);
    try {
      auto r = co_await run_command(argv, options_.command_timeout);
      if (r.exit_code != 0) err_ << "enclaver-run: " << failure(argv, r) << "\n";
      else err_ << "enclaver-run: enclave " << launched_.id << " terminated\n";
    } catch (const std::exception& e) {
      err_ << "enclaver-run: cannot terminate enclave " << launched_.id << ": " << e.what() << "\n";
    }
    gone_ = true;
  }

  nitro::LaunchedEnclave launched_;
  NitroOptions options_;
  std::uint16_t status_port_;
  std::ostream& err_;
  bool gone_ = false, terminated_ = false;
  std::optional<std::chrono::steady_clock::time_point> terminate_at_;
};

}  // namespace

boost::asio::awaitable<std::unique_ptr<Enclave>> NitroBackend::launch(const LaunchRequest& request, const BeforeRun& before_run,
                                                                      std::ostream& err) {
  if (before_run) before_run(options_.host_vsock);
  nitro::RunEnclaveRequest run{request.eif, request.cpu_count, request.memory_mb, request.debug_mode, request.cid};
  const auto argv = nitro::run_enclave_argv(run);
  CommandResult r;
  try {
    r = co_await run_command(argv, options_.command_timeout);
  } catch (const std::system_error& e) {
    if (e.code() == std::errc::no_such_file_or_directory)
      throw std::runtime_error("nitro-cli is not installed: on a Nitro host install aws-nitro-enclaves-cli; "
                               "elsewhere run the enclave in the simulator (--simulate)");
    throw;
  }
  if (r.exit_code != 0) throw std::runtime_error(failure(argv, r));
  auto launched = nitro::parse_run_enclave(r.out);
  if (!launched) throw std::runtime_error(launched.error().message);
  err << "enclaver-run: Nitro enclave " << launched->id << ", CID " << launched->cid << ", " << launched->cpus << " CPUs, "
      << launched->memory_mib << " MiB" << (request.debug_mode ? ", debug mode (nitro-cli console --enclave-id " + launched->id + ")" : "")
      << "\n";
  print_measurements(err, request.info->measurements);
  err.flush();
  co_return std::make_unique<NitroEnclave>(std::move(*launched), options_, request.status_port, err);
}

}  // namespace enclaver::sleeve
