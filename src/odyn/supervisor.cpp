#include "odyn/supervisor.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "init/init_lib.hpp"
#include "manifest/load.hpp"
#include "nsm/client.hpp"
#include "crypto/eth.hpp"
#include "odyn/api/start.hpp"
#include "odyn/bootstrap/bootstrap.hpp"
#include "odyn/clock_sync.hpp"
#include "odyn/console/console.hpp"
#include "egress/tunnel_client.hpp"
#include "odyn/egress/proxy.hpp"
#include "odyn/ingress.hpp"
#include "odyn/launch/image_config.hpp"
#include "odyn/launch/launcher.hpp"
#include "odyn/status_board.hpp"

namespace enclaver::odyn {
namespace {

using boost::asio::use_awaitable;
using namespace boost::asio::experimental::awaitable_operators;

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

class Supervisor {
 public:
  Supervisor(boost::asio::io_context& io, const SupervisorOptions& options, std::ostream& err)
      : io_(io),
        options_(options),
        err_(err),
        console_(io.get_executor(), options.log_ring_bytes, false),
        board_(io.get_executor()),
        children_(io, SIGCHLD),
        forwarded_(io, SIGTERM, SIGINT, SIGHUP),
        app_ended_(io),
        kill_timer_(io) {
    forwarded_.add(SIGUSR1);
    forwarded_.add(SIGUSR2);
    app_ended_.expires_at(boost::asio::steady_timer::time_point::max());
  }

  int run() {
    boost::asio::co_spawn(io_, main(), [this](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          err_ << "[odyn] fatal: " << ex.what() << "\n";
        }
        exit_code_ = 1;
      }
      console_.stop();
      board_.stop();
      io_.stop();
    });
    reap_children();
    forward_signals();
    io_.run();
    return exit_code_;
  }

 private:
  // odyn's own line: into the log stream, and onto its console (which the
  // console's echo does itself in debug mode).
  void say(const std::string& text) {
    console_.log(text);
    if (!console_.echo()) err_ << "[odyn] " << text << "\n" << std::flush;
  }

  // Reports a fatal error on the status stream and waits (bounded) for the host to read it.
  boost::asio::awaitable<void> fatal(const std::string& error) {
    say("fatal: " + error);
    board_.set(status::Fatal{error});
    exit_code_ = 1;
    co_await bounded(board_.delivered() && console_.delivered(), options_.final_status_wait);
  }

  boost::asio::awaitable<void> bounded(boost::asio::awaitable<void> work, std::chrono::milliseconds limit) {
    boost::asio::steady_timer timer(io_, limit);
    boost::system::error_code ignored;
    co_await (std::move(work) || timer.async_wait(boost::asio::redirect_error(use_awaitable, ignored)));
  }

  boost::asio::awaitable<void> main() {
    auto loaded = manifest::load_manifest_file(options_.manifest.string());
    manifest::VsockPorts ports = loaded.ok() ? loaded.manifest->vsock_ports : manifest::VsockPorts{};
    board_.serve(options_.vsock.listen(io_.get_executor(), ports.status_port));
    board_.on_request([this](std::string_view request) {
      if (request != "stop") return say("ignored a request on the status stream: not \"stop\"");
      say("the host asks the enclave to stop");
      stop_or_forward(SIGTERM);
    });
    console_.serve(options_.vsock.listen(io_.get_executor(), ports.app_log_port));
    say("status on " + transport::to_string(transport::VsockAddress{transport::kCidAny, ports.status_port}) + ", log on " +
        transport::to_string(transport::VsockAddress{transport::kCidAny, ports.app_log_port}) + " (" + options_.vsock.describe() + ")");
    if (!loaded.ok()) {
      std::string all;
      for (const auto& d : loaded.diagnostics) {
        say(d.to_string());
        all += (all.empty() ? "" : "; ") + d.to_string();
      }
      co_await fatal("the manifest is invalid: " + all);
      co_return;
    }
    manifest_ = std::move(*loaded.manifest);

    if (auto up = bring_loopback_up(); !up) {
      co_await fatal(up.error().message);
      co_return;
    }
    use_nsm();
    // architecture.md's order: egress, (KMS,) the API, then ingress last, so
    // that nothing from outside arrives before the services it may need.
    for (auto start : {&Supervisor::start_egress, &Supervisor::start_api, &Supervisor::start_ingress})
      if (auto started = (this->*start)(); !started) {
        co_await fatal(started.error().message);
        co_return;
      }
    if (manifest_->clock_sync.enabled) {
      ClockSyncOptions clock;
      clock.host = {transport::kCidParent, manifest_->vsock_ports.clock_sync_port};
      clock.interval = std::chrono::seconds(manifest_->clock_sync.interval_secs);
      clock.log = [this](const std::string& line) { say(line); };
      boost::asio::co_spawn(io_, run_clock_sync(options_.vsock, clock), boost::asio::detached);
    }

    if (auto launched = launch(); !launched) {
      co_await fatal(launched.error().message);
      co_return;
    }
    boost::system::error_code ignored;
    while (!app_status_) co_await app_ended_.async_wait(boost::asio::redirect_error(use_awaitable, ignored));

    int status = *app_status_;
    if (WIFSIGNALED(status)) {
      board_.set(status::Signaled{WTERMSIG(status)});
      say("the app was killed by signal " + std::to_string(WTERMSIG(status)));
    } else {
      board_.set(status::Exited{WEXITSTATUS(status)});
      say("the app exited with code " + std::to_string(WEXITSTATUS(status)));
    }
    exit_code_ = init::shell_exit_code(status);
    // Its last words: the pipe may stay open in a grandchild, so not forever.
    co_await bounded(console_.drained(), std::chrono::milliseconds(500));
    co_await bounded(board_.delivered() && console_.delivered(), options_.final_status_wait);
  }

  // Seeds the RNG, and learns whether this is a debug enclave: Nitro (and
  // the simulator) read PCR0 as zeros then, and only then is the enclave's
  // console readable, so the app's output is copied there too.
  void use_nsm() {
    auto transport = nsm::open_transport(options_.nsm_socket);
    if (!transport) {
      say("no NSM, the kernel RNG is not seeded from it: " + transport.error().message);
      nsm_.unavailable = transport.error().message;
      return;
    }
    nsm_.client = std::make_unique<nsm::Client>(std::move(*transport));
    nsm::Client& client = *nsm_.client;
    if (auto seeded = seed_kernel_rng(client); !seeded) say(seeded.error().message);
    auto pcr0 = client.describe_pcr(0);
    if (pcr0 && !pcr0->data.empty() && std::all_of(pcr0->data.begin(), pcr0->data.end(), [](auto b) { return b == 0; })) {
      console_.set_echo(true);
      say("debug enclave (PCR0 reads zeros): the app's output goes to the enclave console too");
    }
  }

  Result<bool> start_ingress() {
    IngressOptions ingress;
    ingress.vsock = options_.vsock;
    ingress.tls_dir = options_.tls_dir;
    ingress.log = [this](const std::string& line) { say(line); };
    auto acceptors = odyn::start_ingress(io_.get_executor(), manifest_->ingress, ingress);
    if (!acceptors) return acceptors.error();
    acceptors_ = std::move(*acceptors);
    return true;
  }

  // The app's HTTP(S) proxy (egress.md): the policy checked here, then a
  // tunnel per connection to the host side, which checks it again.
  Result<bool> start_egress() {
    if (!manifest_->egress_enabled()) return true;
    const auto& egress = *manifest_->egress;
    auto policy = policy::Policy::create(egress.allow, egress.deny);
    if (!policy) return make_error("egress policy: " + policy.error().message);
    const transport::VsockAddress host_side{transport::kCidParent, manifest_->vsock_ports.http_egress_port};
    odyn::egress::ProxyOptions proxy;
    proxy.port = egress.proxy_port;
    proxy.extra_ca_file = options_.extra_ca_file;
    proxy.log = [this](const std::string& line) { say(line); };
    proxy.dialer = [vsock = options_.vsock, host_side](std::string host,
                                                        std::uint16_t port) -> boost::asio::awaitable<odyn::egress::DialResult> {
      auto tunnel = co_await ::enclaver::egress::open_tunnel(vsock, host_side, std::move(host), port, std::chrono::seconds(30));
      if (auto* socket = std::get_if<transport::Socket>(&tunnel)) co_return odyn::egress::DialResult(std::move(*socket));
      auto error = std::get<::enclaver::egress::DialError>(std::move(tunnel));  // one type on both sides
      co_return odyn::egress::DialResult(std::move(error));
    };
    auto started = odyn::egress::EgressProxy::start(io_.get_executor(), *policy, std::move(proxy));
    if (!started) return make_error("egress proxy: " + started.error().message);
    egress_proxy_ = *started;
    say("egress proxy on 127.0.0.1:" + std::to_string(egress.proxy_port) + " -> " + transport::to_string(host_side));
    return true;
  }

  // The internal and aux APIs (api.md), with the NSM handed over to them.
  Result<bool> start_api() {
    if (!manifest_->api) return true;
    api::ApiOptions options;
    options.port = manifest_->api->listen_port;
    options.aux_port = manifest_->aux_api ? manifest_->aux_api->listen_port : static_cast<std::uint16_t>(options.port + 1);
    options.log = [this](const std::string& line) { say(line); };
    auto started = api::start_api(io_.get_executor(), std::move(nsm_), options);
    if (!started) return started.error();
    api_ = std::move(*started);
    say("internal API on 127.0.0.1:" + std::to_string(options.port) + ", aux API on 127.0.0.1:" + std::to_string(options.aux_port) +
        "; Ethereum address " + crypto::checksum_address(api_.services->eth_key().address()));
    return true;
  }

  Result<pid_t> launch() {
    ImageConfig image;
    if (auto text = init::read_file(options_.image_config)) {
      auto parsed = parse_image_config(*text);
      if (!parsed) return parsed.error();
      image = std::move(*parsed);
    } else {
      image.cmd = options_.fallback_argv;
      image.env = options_.own_environment;
    }
    auto argv = app_argv(image);
    if (!argv) return make_error(argv.error().message + " (" + options_.image_config.string() + " is missing and no command follows --)");
    auto spec = parse_user_spec(image.user);
    if (!spec) return spec.error();
    // A minimal image may have neither file: numeric users still resolve.
    auto text_or_empty = [](const std::filesystem::path& path) {
      auto text = init::read_file(path);
      return text ? std::move(*text) : std::string();
    };
    auto identity = resolve_identity(*spec, text_or_empty(options_.etc / "passwd"), text_or_empty(options_.etc / "group"));
    if (!identity) return identity.error();
    LaunchSpec launch;
    launch.argv = std::move(*argv);
    launch.env = app_environment(image.env, *manifest_, *identity);
    launch.identity = *identity;
    launch.working_dir = image.working_dir.empty() ? "/" : image.working_dir;
    launch.output_fd = console_.app_output_fd();
    auto pid = launch_app(launch);
    console_.close_app_output_fd();
    if (!pid) return pid;
    app_ = *pid;
    board_.set(status::Running{*pid});
    auto since_start = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - options_.started);
    char elapsed[32];
    std::snprintf(elapsed, sizeof elapsed, "%.1f", since_start.count());
    say("started the app (pid " + std::to_string(*pid) + ", " + elapsed + " ms after odyn started): " + join(launch.argv));
    return pid;
  }

  // PID 1 reaps every child, the app's orphans included.
  void reap_children() {
    children_.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      int status = 0;
      pid_t pid;
      while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0)
        if (pid == app_) {
          app_status_ = status;
          app_ = -1;
          kill_timer_.cancel();
          app_ended_.cancel();
        }
      reap_children();
    });
  }

  void forward_signals() {
    forwarded_.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      stop_or_forward(sig);
      forward_signals();
    });
  }

  // A signal to odyn goes to the app; SIGTERM and SIGINT also start the
  // grace period, after which the app is killed.
  void stop_or_forward(int sig) {
    if (app_ <= 0) {
      // Nothing to forward to: stopping before the app started, or after it ended.
      if (!app_status_) exit_code_ = 128 + sig;
      if (sig == SIGTERM || sig == SIGINT) {
        console_.stop();
        board_.stop();
        io_.stop();
      }
      return;
    }
    ::kill(app_, sig);
    if ((sig == SIGTERM || sig == SIGINT) && !killing_) {
      killing_ = true;
      say("forwarded " + std::string(::sigabbrev_np(sig)) + " to the app; SIGKILL in " + std::to_string(options_.grace.count()) +
          " ms if it is still running");
      kill_timer_.expires_after(options_.grace);
      kill_timer_.async_wait([this](const boost::system::error_code& timer_ec) {
        if (timer_ec || app_ <= 0) return;
        say("the app did not stop within the grace period: SIGKILL");
        ::kill(-app_, SIGKILL);  // its whole process group
        ::kill(app_, SIGKILL);
      });
    }
  }

  boost::asio::io_context& io_;
  const SupervisorOptions& options_;
  std::ostream& err_;
  Console console_;
  StatusBoard board_;
  boost::asio::signal_set children_;
  boost::asio::signal_set forwarded_;
  boost::asio::steady_timer app_ended_;
  boost::asio::steady_timer kill_timer_;
  std::optional<manifest::Manifest> manifest_;
  std::vector<std::shared_ptr<transport::Acceptor>> acceptors_;
  std::shared_ptr<odyn::egress::EgressProxy> egress_proxy_;
  api::NsmHandle nsm_;  // until the API takes it
  api::ApiServers api_;
  pid_t app_ = -1;
  std::optional<int> app_status_;
  bool killing_ = false;
  int exit_code_ = 1;
};

}  // namespace

int run_supervisor(const SupervisorOptions& options, std::ostream& err) {
  boost::asio::io_context io;
  Supervisor supervisor(io, options, err);
  return supervisor.run();
}

}  // namespace enclaver::odyn
