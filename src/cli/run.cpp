// `enclaver run`: starts a release image through the engine. Its entrypoint
// is the sleeve (enclaver-run), which launches the enclave:
//   - on a Nitro host, with /dev/nitro_enclaves passed in;
//   - with --simulate (or when this machine has no Nitro device, said so),
//     privileged, with the simulator backend; the simulator's root CA lives
//     on the host (sim_state_dir) so that attestation documents can be
//     verified after the container is gone.
// Host networking: the engine may have no bridge, and the sleeve's ingress
// listeners are then the host's ports (-p picks other host ports or an
// address). The container's output is streamed as it comes, Ctrl-C (SIGINT,
// SIGTERM) stops the enclave gracefully (the app gets SIGTERM), a second one
// kills the container; the exit code is the sleeve's, i.e. the app's.
#include <csignal>
#include <iostream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>

#include "cli/build.hpp"
#include "cli/commands.hpp"
#include "cli/engine_session.hpp"
#include "image/layers/release_archive.hpp"
#include "manifest/load.hpp"

namespace enclaver::cli {
namespace {

namespace fs = std::filesystem;
using image::engine::OutputStream;

// Linux capability names by number, as the engine spells them (capability(7)).
constexpr const char* kCapabilities[] = {
    "CHOWN",        "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER",         "FSETID",       "KILL",          "SETGID",
    "SETUID",       "SETPCAP",      "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN",   "NET_RAW",
    "IPC_LOCK",     "IPC_OWNER",    "SYS_MODULE",      "SYS_RAWIO",       "SYS_CHROOT",   "SYS_PTRACE",    "SYS_PACCT",
    "SYS_ADMIN",    "SYS_BOOT",     "SYS_NICE",        "SYS_RESOURCE",    "SYS_TIME",     "SYS_TTY_CONFIG", "MKNOD",
    "LEASE",        "AUDIT_WRITE",  "AUDIT_CONTROL",   "SETFCAP",         "MAC_OVERRIDE", "MAC_ADMIN",     "SYSLOG",
    "WAKE_ALARM",   "BLOCK_SUSPEND", "AUDIT_READ",     "PERFMON",         "BPF",          "CHECKPOINT_RESTORE"};

// The simulator needs what --privileged gives: every capability (namespaces,
// mounts, pivot_root), no seccomp or AppArmor filter, an unmasked /proc
// (mounting a new procfs is refused over a masked one). --privileged asks
// the kernel for every capability, which fails on a machine that lacks one
// (containers in containers often lack SYS_RESOURCE): there, ask for all
// this machine has and lift the filters one by one.
void simulator_privileges(image::engine::ContainerSpec& spec, std::uint64_t capabilities, std::ostream& err) {
  std::vector<std::string> missing;
  for (std::size_t cap = 0; cap < std::size(kCapabilities); ++cap)
    if (!(capabilities & (std::uint64_t{1} << cap))) missing.push_back(kCapabilities[cap]);
  if (missing.empty()) {
    spec.privileged = true;
    return;
  }
  std::string names;
  for (const auto& m : missing) names += (names.empty() ? "CAP_" : ", CAP_") + m;
  err << "enclaver run: this machine does not grant " << names
      << ": the container gets every other capability instead of --privileged\n";
  spec.cap_add = {"ALL"};
  spec.cap_drop = missing;
  spec.security_opt = {"seccomp=unconfined", "apparmor=unconfined", "label=disable"};
  spec.unmasked_paths = true;
}

// The sleeve's arguments for these options.
std::vector<std::string> sleeve_args(const RunOptions& o, bool simulate) {
  std::vector<std::string> args;
  if (simulate) args.insert(args.end(), {"--simulate", "--sim-root", "/var/lib/enclaver-sim/sim-root.pem"});
  if (o.cpu_count) args.insert(args.end(), {"--cpu-count", std::to_string(*o.cpu_count)});
  if (o.memory_mb) args.insert(args.end(), {"--memory", std::to_string(*o.memory_mb)});
  if (o.debug_mode) args.push_back("--debug-mode");
  for (const auto& p : o.publish) args.insert(args.end(), {"--publish", p});
  return args;
}

boost::asio::awaitable<int> run_container(image::engine::DockerEngine& engine, image::engine::ContainerSpec spec,
                                          std::ostream& out, std::ostream& err) {
  auto executor = co_await boost::asio::this_coro::executor;
  auto created = co_await engine.create_container(spec);
  const std::string id = created.id;
  int code = 1;
  std::exception_ptr failure;
  try {
    auto output = co_await engine.attach_container(id);
    auto exit = co_await engine.begin_wait(id, image::engine::WaitCondition::next_exit);
    co_await engine.start_container(id);
    // Ctrl-C: the sleeve stops the enclave gracefully; again: kill.
    boost::asio::signal_set signals(executor, SIGINT, SIGTERM);
    int interrupts = 0;
    std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec, int) {
      if (ec) return;
      const char* signal = ++interrupts == 1 ? "SIGTERM" : "SIGKILL";
      err << "enclaver run: " << (interrupts == 1 ? "stopping the enclave (again to kill it)" : "killing the container") << "\n";
      boost::asio::co_spawn(
          executor,
          [&engine, id, signal]() -> boost::asio::awaitable<void> {
            try {
              co_await engine.kill_container(id, signal);
            } catch (const std::exception&) {
              // Already gone: the wait reports how it ended.
            }
          },
          boost::asio::detached);
      signals.async_wait(on_signal);
    };
    signals.async_wait(on_signal);
    co_await output.stream([&](OutputStream stream, std::span<const std::uint8_t> bytes) {
      auto& to = stream == OutputStream::stderr_ ? err : out;
      to.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
      to.flush();
    });
    code = co_await exit.exit_code();
    signals.cancel();
  } catch (...) {
    failure = std::current_exception();
  }
  try {
    co_await engine.remove_container(id, /*force=*/true);
  } catch (const std::exception& e) {
    err << "enclaver run: could not remove container " << id.substr(0, 12) << ": " << e.what() << "\n";
  }
  if (failure) std::rethrow_exception(failure);
  co_return code;
}

}  // namespace

int run(const RunOptions& o, std::ostream& out, std::ostream& err) {
  try {
    std::string image = o.image;
    if (image.empty()) {
      auto loaded = manifest::load_manifest_file(o.manifest);
      if (!loaded.ok()) {
        for (const auto& d : loaded.diagnostics) err << d.to_string() << "\n";
        err << "enclaver run: no image given and the manifest " << o.manifest << " is not valid\n";
        return kExitInvalid;
      }
      image = image::release_tag(loaded.manifest->target);
    }
    bool simulate = o.simulate;
    if (!simulate && !o.nitro_device) {
      err << "enclaver run: no Nitro Enclaves device here (/dev/nitro_enclaves): running the enclave in the simulator "
             "(not a security boundary)\n";
      simulate = true;
    }
    image::engine::ContainerSpec spec;
    spec.image = image;
    spec.cmd = sleeve_args(o, simulate);
    spec.network_mode = "host";
    spec.labels = {{"dev.enclaver.run", "1"}};
    if (simulate) {
      simulator_privileges(spec, o.capabilities, err);
      fs::create_directories(o.sim_state_dir);
      spec.binds.push_back(fs::absolute(o.sim_state_dir).string() + ":/var/lib/enclaver-sim");
    } else {
      spec.devices.push_back("/dev/nitro_enclaves");
    }
    boost::asio::io_context io;
    EngineSession session(io, o.docker_host, err, true);
    return run_to_completion(io, run_container(session.engine(), std::move(spec), out, err));
  } catch (const std::exception& e) {
    err << "enclaver run: " << e.what() << "\n";
    return kExitInvalid;
  }
}

}  // namespace enclaver::cli
