#include "sleeve/sim_backend.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include "sleeve/sim/simulated_enclave.hpp"

namespace enclaver::sleeve {
namespace {

void print_banner(const sim::SimulatedEnclave& enclave, const sim::EnclaveOptions& options, const eif::EifInfo& info,
                  std::ostream& err) {
  err << "enclaver-run: SIMULATED enclave: Linux namespaces on this machine, not a Nitro enclave and not a security boundary\n"
      << "enclaver-run: enclave CID " << enclave.cid() << " (PID " << enclave.pid() << " on the host), " << options.cpu_count
      << " CPUs, " << options.memory_mb << " MiB" << (options.debug_mode ? ", debug mode" : "") << "\n";
  print_measurements(err, info.measurements);
  if (options.debug_mode) err << "enclaver-run: debug mode: attestation documents carry zeros for PCR0/1/2/8, as on Nitro\n";
  const auto& nsm = enclave.nsm();
  err << "enclaver-run: NSM " << nsm.module_id << "; simulator root " << (nsm.root_created ? "created at " : "")
      << nsm.root_path.string() << " (verify its documents with: enclaver verify-attestation --root " << nsm.root_path.string()
      << " DOC)\n"
      << "enclaver-run: vsock directory " << enclave.host_vsock().directory().string() << " (host side is CID 3)\n";
  for (const auto& notice : enclave.notices()) err << "enclaver-run: notice: " << notice << "\n";
  err.flush();
}

class Simulated final : public Enclave {
 public:
  Simulated(std::unique_ptr<sim::SimulatedEnclave> enclave, std::uint64_t memory_mb)
      : enclave_(std::move(enclave)), memory_mb_(memory_mb) {}
  std::uint32_t cid() const override { return enclave_->cid(); }
  const transport::Vsock& host_vsock() const override { return enclave_->host_vsock(); }
  // PID 1 (odyn) gets SIGTERM as on `docker stop`, SIGKILL after the grace.
  boost::asio::awaitable<void> stop(std::chrono::milliseconds grace) override {
    boost::asio::co_spawn(co_await boost::asio::this_coro::executor, enclave_->terminate(grace), boost::asio::detached);
  }
  boost::asio::awaitable<EnclaveEnd> wait() override {
    auto exit = co_await enclave_->wait();
    co_return EnclaveEnd{exit.exit_code(), exit.describe(memory_mb_)};
  }
  // The simulated enclave cleans up after itself (its destructor).
  boost::asio::awaitable<void> release() override { co_return; }

 private:
  std::unique_ptr<sim::SimulatedEnclave> enclave_;
  std::uint64_t memory_mb_;
};

}  // namespace

boost::asio::awaitable<std::unique_ptr<Enclave>> SimulatorBackend::launch(const LaunchRequest& request, const BeforeRun& before_run,
                                                                          std::ostream& err) {
  sim::EnclaveOptions options;
  options.eif = request.eif;
  options.cpu_count = request.cpu_count;
  options.memory_mb = request.memory_mb;
  options.debug_mode = request.debug_mode;
  options.cid = request.cid;
  options.nsm_root = options_.nsm_root;
  options.module_id = options_.module_id;
  auto enclave = sim::SimulatedEnclave::launch(co_await boost::asio::this_coro::executor, options, *request.info, before_run);
  print_banner(*enclave, options, *request.info, err);
  co_return std::make_unique<Simulated>(std::move(enclave), options.memory_mb);
}

}  // namespace enclaver::sleeve
