// odyn's half of the ingress (wire.md, "Ingress"): for each ingress entry of
// the manifest, accept on vsock (cid any, listen_port) and relay each
// connection to the app at 127.0.0.1:listen_port. With `tls`, odyn
// terminates TLS with the certificate the build put at
// <tls_dir>/<port>/cert.pem and key.pem, and the app sees plaintext.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "common/result.hpp"
#include "manifest/manifest.hpp"
#include "transport/vsock.hpp"

namespace enclaver::odyn {

inline constexpr const char* kTlsServerDir = "/etc/enclaver/tls/server";

struct IngressOptions {
  transport::Vsock vsock = transport::Vsock::native();
  std::filesystem::path tls_dir = kTlsServerDir;
  std::function<void(const std::string&)> log;  // odyn's [odyn] lines
};

// Listens on every port before returning, so that the first error (a
// certificate that does not load, a port that cannot be bound) is known and
// nothing is left half-started: on error, no listener stays open. Closing
// the returned acceptors stops the ingress.
Result<std::vector<std::shared_ptr<transport::Acceptor>>> start_ingress(boost::asio::any_io_executor executor,
                                                                        const std::vector<manifest::Ingress>& ingress,
                                                                        const IngressOptions& options);

}  // namespace enclaver::odyn
