#include "odyn/ingress.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "transport/forward.hpp"
#include "transport/tls_forward.hpp"

namespace enclaver::odyn {
namespace {

struct Listener {
  std::uint16_t port = 0;
  std::shared_ptr<transport::Acceptor> acceptor;
  std::shared_ptr<const transport::TlsServerContext> tls;
};

// The app's end: TCP to 127.0.0.1:port, a leg that stays on the machine.
auto app_connector(boost::asio::any_io_executor executor, std::uint16_t port) {
  return [executor, port]() -> boost::asio::awaitable<boost::asio::ip::tcp::socket> {
    boost::asio::ip::tcp::socket socket(executor);
    socket.open(boost::asio::ip::tcp::v4());
    transport::use_local_buffers(socket);
    co_await socket.async_connect({boost::asio::ip::address_v4::loopback(), port}, boost::asio::use_awaitable);
    co_return socket;
  };
}

void serve(boost::asio::any_io_executor executor, const Listener& listener, const IngressOptions& options) {
  const std::string name = "ingress " + std::to_string(listener.port);
  const std::string app = "127.0.0.1:" + std::to_string(listener.port);
  auto log = options.log;
  transport::ForwardEvents events;
  events.unreachable = [log, name, app](const std::string& error) {
    log(name + ": the app does not accept on " + app + " (" + error + "); connections are closed until it does");
  };
  events.reachable = [log, name] { log(name + ": the app accepts connections now"); };
  auto acceptor = listener.acceptor;
  auto connect = app_connector(executor, listener.port);
  if (!listener.tls) {
    boost::asio::co_spawn(
        executor, [acceptor, connect, events]() { return transport::forward_connections(*acceptor, connect, events); },
        boost::asio::detached);
    log(name + ": " + transport::to_string(transport::VsockAddress{transport::kCidAny, listener.port}) + " -> " + app);
    return;
  }
  transport::TlsForwardOptions tls_options;
  tls_options.handshake_failed = [log, name](const std::string& error) { log(name + ": " + error); };
  auto tls = listener.tls;
  boost::asio::co_spawn(
      executor,
      [acceptor, tls, connect, events, tls_options]() {
        return transport::forward_tls_connections(*acceptor, tls, connect, events, tls_options);
      },
      boost::asio::detached);
  log(name + ": " + transport::to_string(transport::VsockAddress{transport::kCidAny, listener.port}) +
      " -> TLS terminated -> " + app);
}

}  // namespace

Result<std::vector<std::shared_ptr<transport::Acceptor>>> start_ingress(boost::asio::any_io_executor executor,
                                                                        const std::vector<manifest::Ingress>& ingress,
                                                                        const IngressOptions& options) {
  std::vector<Listener> listeners;
  for (const auto& entry : ingress) {
    Listener listener;
    listener.port = entry.listen_port;
    if (entry.tls) {
      const auto dir = options.tls_dir / std::to_string(entry.listen_port);
      auto context = transport::TlsServerContext::load(dir / "cert.pem", dir / "key.pem");
      if (!context) return make_error("ingress port " + std::to_string(entry.listen_port) + ": " + context.error().message);
      listener.tls = std::move(*context);
    }
    try {
      listener.acceptor = std::make_shared<transport::Acceptor>(options.vsock.listen(executor, entry.listen_port));
    } catch (const std::exception& e) {
      return make_error("ingress port " + std::to_string(entry.listen_port) + ": cannot listen on vsock: " + e.what());
    }
    listeners.push_back(std::move(listener));
  }
  std::vector<std::shared_ptr<transport::Acceptor>> acceptors;
  for (const auto& listener : listeners) {
    serve(executor, listener, options);
    acceptors.push_back(listener.acceptor);
  }
  return acceptors;
}

}  // namespace enclaver::odyn
