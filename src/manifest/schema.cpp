#include "manifest/schema.hpp"

#include <algorithm>
#include <array>
#include <tuple>
#include <string_view>

#include "manifest/values.hpp"
#include "policy/policy.hpp"

namespace enclaver::manifest::detail {
namespace {

using Keys = std::span<const std::string_view>;

constexpr std::array<std::string_view, 15> kRootKeys{
    "version", "name", "target", "sources", "signature", "defaults", "ingress", "egress",
    "kms_proxy", "api", "aux_api", "helios_rpc", "storage", "vsock_ports", "clock_sync"};

// Reads one schema section; owns the reader, the output and the port plan so
// that each section reads as a list of fields.
class SectionReader {
 public:
  SectionReader(YamlReader& r, Manifest& m, PortPlan& ports) : r_(r), m_(m), ports_(ports) {}

  void root(const YAML::Node& node) {
    if (!node.IsMap()) {
      r_.error(node, "", "the manifest must be a mapping with at least `version`, `name`, `target` and `sources`; got " +
                             describe(node));
      return;
    }
    r_.expect_map(node, "", kRootKeys);
    if (auto v = required(node, "", "version", "must be \"v1\"")) {
      if (auto s = r_.string(*v, "version"); s && *s != "v1")
        r_.error(*v, "version", "unsupported manifest version " + *s + "; expected \"v1\"");
    }
    if (auto v = required(node, "", "name", "the app's name, goes into the EIF metadata")) set(m_.name, r_.string(*v, "name"));
    if (auto v = required(node, "", "target", "the tag of the release image, e.g. my-app:enclave"))
      image_ref(*v, "target", m_.target);
    if (auto v = required(node, "", "sources", "a mapping with at least `app`, the app image")) sources(*v);
    if (auto v = r_.find(node, "signature")) signature(*v);
    if (auto v = r_.find(node, "defaults")) defaults(*v);
    if (auto v = r_.find(node, "ingress")) ingress(*v);
    if (auto v = r_.find(node, "egress")) egress(*v);
    if (auto v = r_.find(node, "kms_proxy")) kms_proxy(*v);
    if (auto v = r_.find(node, "api")) api(*v);
    aux_api(node);
    if (auto v = r_.find(node, "helios_rpc")) helios_rpc(*v);
    if (auto v = r_.find(node, "storage")) storage(*v);
    if (auto v = r_.find(node, "vsock_ports")) vsock_ports(*v);
    if (auto v = r_.find(node, "clock_sync")) clock_sync(*v);
    vsock_port_uses(node);
  }

 private:
  std::optional<YAML::Node> required(const YAML::Node& map, const std::string& path, std::string_view key,
                                     std::string_view what) {
    auto v = r_.find(map, key);
    if (!v) r_.required_missing(map, path, key, what);
    return v;
  }

  template <class T, class U>
  static void set(T& field, const std::optional<U>& value) {
    if (value) field = static_cast<T>(*value);
  }

  void image_ref(const YAML::Node& node, const std::string& path, std::string& out) {
    auto s = r_.string(node, path);
    if (!s) return;
    if (auto problem = values::check_image_reference(*s)) r_.error(node, path, *problem);
    else out = *s;
  }

  void tcp_port(const YAML::Node& node, const std::string& path, std::uint16_t& out) {
    if (auto p = r_.port(node, path)) {
      out = *p;
      ports_.enclave_tcp.push_back({*p, path, node.Mark(), false});
    }
  }

  void sources(const YAML::Node& node) {
    static constexpr std::array<std::string_view, 3> keys{"app", "odyn", "sleeve"};
    if (!r_.expect_map(node, "sources", keys)) return;
    if (auto v = required(node, "sources", "app", "the app image")) image_ref(*v, "sources.app", m_.sources.app);
    if (auto v = r_.find(node, "odyn")) {
      if (auto s = r_.string(*v, "sources.odyn")) {
        if (values::is_local_path(*s)) m_.sources.odyn = *s;
        else if (auto problem = values::check_image_reference(*s))
          r_.error(*v, "sources.odyn", *problem + " (or a local path starting with /, ./ or ../)");
        else m_.sources.odyn = *s;
      }
    }
    if (auto v = r_.find(node, "sleeve")) {
      std::string s;
      image_ref(*v, "sources.sleeve", s);
      if (!s.empty()) m_.sources.sleeve = s;
    }
  }

  // Two path fields that go together: both or neither.
  template <class Out>
  void file_pair(const YAML::Node& node, const std::string& path, std::string_view a, std::string_view b,
                 std::string_view what, std::optional<Out>& out, std::string Out::*fa, std::string Out::*fb) {
    const std::array<std::string_view, 2> keys{a, b};
    if (!r_.expect_map(node, path, keys)) return;
    auto va = r_.find(node, a), vb = r_.find(node, b);
    if (!va || !vb) {
      const std::string_view missing = va ? b : a;
      if (!va && !vb) r_.error(node, path, std::string(what) + ": give both `" + std::string(a) + "` and `" + std::string(b) + "`, or remove the section");
      else r_.error(node, child_path(path, missing), "`" + std::string(a) + "` and `" + std::string(b) +
                                                       "` go together: give both or neither (" + std::string(what) + ")");
      return;
    }
    auto sa = r_.string(*va, child_path(path, a));
    auto sb = r_.string(*vb, child_path(path, b));
    if (sa && sb) {
      Out value;
      value.*fa = *sa;
      value.*fb = *sb;
      out = value;
    }
  }

  void signature(const YAML::Node& node) {
    file_pair(node, "signature", "certificate", "key", "PEM certificate and key that sign the EIF", m_.signature,
              &Signature::certificate, &Signature::key);
  }

  void defaults(const YAML::Node& node) {
    static constexpr std::array<std::string_view, 2> keys{"cpu_count", "memory_mb"};
    if (!r_.expect_map(node, "defaults", keys)) return;
    if (auto v = r_.find(node, "cpu_count")) set(m_.defaults.cpu_count, r_.integer(*v, "defaults.cpu_count", 1, 4096));
    if (auto v = r_.find(node, "memory_mb")) set(m_.defaults.memory_mb, r_.integer(*v, "defaults.memory_mb", 64, 1ull << 24));
  }

  void ingress(const YAML::Node& node) {
    auto items = r_.sequence(node, "ingress");
    if (!items) return;
    static constexpr std::array<std::string_view, 2> keys{"listen_port", "tls"};
    for (std::size_t i = 0; i < items->size(); ++i) {
      const YAML::Node& item = (*items)[i];
      const std::string path = index_path("ingress", i);
      if (!r_.expect_map(item, path, keys)) continue;
      Ingress entry;
      if (auto v = required(item, path, "listen_port", "the app's port inside the enclave"))
        tcp_port(*v, child_path(path, "listen_port"), entry.listen_port);
      if (auto v = r_.find(item, "tls"))
        file_pair(*v, child_path(path, "tls"), "cert_file", "key_file", "PEM certificate chain and key for TLS",
                  entry.tls, &TlsFiles::cert_file, &TlsFiles::key_file);
      m_.ingress.push_back(entry);
    }
  }

  void patterns(const YAML::Node& node, const std::string& path, std::vector<std::string>& out) {
    auto items = r_.sequence(node, path);
    if (!items) return;
    for (std::size_t i = 0; i < items->size(); ++i) {
      const std::string item_path = index_path(path, i);
      auto s = r_.string((*items)[i], item_path);
      if (!s) continue;
      auto pattern = policy::parse_pattern(*s);
      if (!pattern) r_.error((*items)[i], item_path, pattern.error().message);
      else out.push_back(*s);
    }
  }

  void egress(const YAML::Node& node) {
    static constexpr std::array<std::string_view, 3> keys{"proxy_port", "allow", "deny"};
    if (!r_.expect_map(node, "egress", keys)) return;
    Egress e;
    std::optional<YAML::Node> port_node = r_.find(node, "proxy_port");
    if (port_node) set(e.proxy_port, r_.port(*port_node, "egress.proxy_port"));
    if (auto v = r_.find(node, "allow")) patterns(*v, "egress.allow", e.allow);
    if (auto v = r_.find(node, "deny")) patterns(*v, "egress.deny", e.deny);
    // The proxy binds its port only when egress is on.
    if (e.enabled()) ports_.enclave_tcp.push_back({e.proxy_port, "egress.proxy_port", (port_node ? *port_node : node).Mark(), !port_node});
    m_.egress = e;
  }

  void kms_proxy(const YAML::Node& node) {
    static constexpr std::array<std::string_view, 2> keys{"listen_port", "endpoints"};
    if (!r_.expect_map(node, "kms_proxy", keys)) return;
    KmsProxy k;
    if (auto v = required(node, "kms_proxy", "listen_port", "the KMS proxy's port inside the enclave"))
      tcp_port(*v, "kms_proxy.listen_port", k.listen_port);
    if (auto v = r_.find(node, "endpoints")) {
      if (!v->IsMap()) r_.error(*v, "kms_proxy.endpoints", "expected a mapping of region to endpoint, got " + describe(*v));
      else {
        r_.expect_map(*v, "kms_proxy.endpoints", {});  // reports duplicates; every key is checked below
        for (const auto& kv : *v) {
          if (!kv.first.IsScalar()) continue;
          const std::string region = kv.first.Scalar();
          const std::string path = child_path("kms_proxy.endpoints", region);
          if (auto problem = values::check_region(region)) { r_.error(kv.first, path, *problem); continue; }
          auto endpoint = r_.string(kv.second, path);
          if (!endpoint) continue;
          if (auto problem = values::check_kms_endpoint(*endpoint)) r_.error(kv.second, path, *problem);
          else k.endpoints.emplace(region, *endpoint);
        }
      }
    }
    m_.kms_proxy = k;
  }

  void api(const YAML::Node& node) {
    static constexpr std::array<std::string_view, 1> keys{"listen_port"};
    if (!r_.expect_map(node, "api", keys)) return;
    Api a;
    if (auto v = required(node, "api", "listen_port", "the internal API's port inside the enclave"))
      tcp_port(*v, "api.listen_port", a.listen_port);
    m_.api = a;
  }

  // aux_api is on whenever the API is; its port defaults to the API's + 1.
  void aux_api(const YAML::Node& root) {
    static constexpr std::array<std::string_view, 1> keys{"listen_port"};
    auto node = r_.find(root, "aux_api");
    std::optional<YAML::Node> port_node;
    if (node && !r_.is_null(*node)) {
      if (!r_.expect_map(*node, "aux_api", keys)) return;
      port_node = r_.find(*node, "listen_port");
    }
    AuxApi aux;
    if (port_node) {
      tcp_port(*port_node, "aux_api.listen_port", aux.listen_port);
      m_.aux_api = aux;
      return;
    }
    if (!m_.api) {
      if (node) r_.error(*node, "aux_api.listen_port", "missing `listen_port`: without an `api` section there is no default (api port + 1)");
      return;
    }
    if (m_.api->listen_port == 0) return;  // the api port was already reported
    if (m_.api->listen_port == 65535) {
      r_.error(node ? *node : root, "aux_api.listen_port",
               "api.listen_port is 65535, so the default aux_api port (api port + 1) does not exist; set aux_api.listen_port");
      return;
    }
    aux.listen_port = static_cast<std::uint16_t>(m_.api->listen_port + 1);
    auto api_node = r_.find(root, "api");
    ports_.enclave_tcp.push_back({aux.listen_port, "aux_api.listen_port", (node ? *node : *api_node).Mark(), true});
    m_.aux_api = aux;
  }

  void helios_rpc(const YAML::Node& node) {
    static constexpr std::array<std::string_view, 7> keys{"enabled", "kind", "listen_port", "network",
                                                          "execution_rpc", "consensus_rpc", "checkpoint"};
    if (!r_.expect_map(node, "helios_rpc", keys)) return;
    HeliosRpc h;
    if (auto v = r_.find(node, "enabled")) set(h.enabled, r_.boolean(*v, "helios_rpc.enabled"));
    auto field = [&](std::string_view key) -> std::optional<YAML::Node> {
      if (h.enabled) return required(node, "helios_rpc", key, "required when helios_rpc.enabled is true");
      return r_.find(node, key);
    };
    if (auto v = field("kind")) {
      if (auto s = r_.string(*v, "helios_rpc.kind")) {
        if (*s != "ethereum" && *s != "opstack") r_.error(*v, "helios_rpc.kind", "expected `ethereum` or `opstack`, got " + *s);
        else h.kind = *s;
      }
    }
    std::optional<YAML::Node> port_node = r_.find(node, "listen_port");
    if (port_node) set(h.listen_port, r_.port(*port_node, "helios_rpc.listen_port"));
    if (auto v = field("network")) network(*v, h);
    if (auto v = field("execution_rpc")) url(*v, "helios_rpc.execution_rpc", h.execution_rpc);
    if (auto v = r_.find(node, "consensus_rpc")) {
      std::string s;
      url(*v, "helios_rpc.consensus_rpc", s);
      if (!s.empty()) h.consensus_rpc = s;
    }
    if (auto v = r_.find(node, "checkpoint")) {
      if (auto s = r_.string(*v, "helios_rpc.checkpoint")) {
        auto cp = values::normalize_checkpoint(*s);
        if (cp.error) r_.error(*v, "helios_rpc.checkpoint", *cp.error);
        else h.checkpoint = cp.prefix;
      }
    }
    if (h.enabled)
      ports_.enclave_tcp.push_back({h.listen_port, "helios_rpc.listen_port", (port_node ? *port_node : node).Mark(), !port_node});
    m_.helios_rpc = h;
  }

  void network(const YAML::Node& v, HeliosRpc& h) {
    auto s = r_.string(v, "helios_rpc.network");
    if (!s) return;
    static constexpr std::array<std::string_view, 3> ethereum{"mainnet", "sepolia", "holesky"};
    static constexpr std::array<std::string_view, 6> opstack{"op-mainnet", "base", "base-sepolia", "worldchain", "zora", "unichain"};
    const Keys known = h.kind == "opstack" ? Keys(opstack) : Keys(ethereum);
    if (h.kind.empty() || std::find(known.begin(), known.end(), *s) != known.end()) { h.network = *s; return; }
    std::string message = "unknown " + h.kind + " network " + *s + "; expected one of:";
    for (auto k : known) message += " " + std::string(k);
    r_.error(v, "helios_rpc.network", message);
  }

  void url(const YAML::Node& v, const std::string& path, std::string& out) {
    auto s = r_.string(v, path);
    if (!s) return;
    if (auto problem = values::check_http_url(*s)) r_.error(v, path, *problem);
    else out = *s;
  }

  void storage(const YAML::Node& node) {
    static constexpr std::array<std::string_view, 1> keys{"s3"};
    if (!r_.expect_map(node, "storage", keys)) return;
    auto s3node = r_.find(node, "s3");
    if (!s3node) return;
    static constexpr std::array<std::string_view, 4> s3keys{"enabled", "bucket", "prefix", "region"};
    if (!r_.expect_map(*s3node, "storage.s3", s3keys)) return;
    S3Storage s3;
    if (auto v = r_.find(*s3node, "enabled")) set(s3.enabled, r_.boolean(*v, "storage.s3.enabled"));
    auto bucket = s3.enabled ? required(*s3node, "storage.s3", "bucket", "required when storage.s3.enabled is true")
                             : r_.find(*s3node, "bucket");
    if (bucket) {
      if (auto s = r_.string(*bucket, "storage.s3.bucket")) {
        if (auto problem = values::check_bucket(*s)) r_.error(*bucket, "storage.s3.bucket", *problem);
        else s3.bucket = *s;
      }
    }
    if (auto v = r_.find(*s3node, "prefix"); v && !r_.is_null(*v)) {
      if (auto s = r_.string(*v, "storage.s3.prefix", /*allow_empty=*/true)) {
        auto p = values::normalize_s3_prefix(*s);
        if (p.error) r_.error(*v, "storage.s3.prefix", *p.error);
        else s3.prefix = p.prefix;
      }
    }
    if (auto v = r_.find(*s3node, "region")) {
      if (auto s = r_.string(*v, "storage.s3.region")) {
        if (auto problem = values::check_region(*s)) r_.error(*v, "storage.s3.region", *problem);
        else s3.region = *s;
      }
    }
    m_.s3 = s3;
  }

  void vsock_ports(const YAML::Node& node) {
    static constexpr std::array<std::string_view, 4> keys{"status_port", "app_log_port", "http_egress_port", "clock_sync_port"};
    if (!r_.expect_map(node, "vsock_ports", keys)) return;
    // vsock ports are 32-bit; 0xFFFFFFFF is VMADDR_PORT_ANY.
    auto read = [&](std::string_view key, std::uint32_t& out) {
      if (auto v = r_.find(node, key)) set(out, r_.integer(*v, child_path("vsock_ports", key), 1, 0xFFFFFFFEull));
    };
    read("status_port", m_.vsock_ports.status_port);
    read("app_log_port", m_.vsock_ports.app_log_port);
    read("http_egress_port", m_.vsock_ports.http_egress_port);
    read("clock_sync_port", m_.vsock_ports.clock_sync_port);
  }

  // Odyn listens on vsock for status, logs and every ingress port; the
  // sleeve listens on the host's CID for egress tunnels and clock sync.
  void vsock_port_uses(const YAML::Node& root) {
    auto section = r_.find(root, "vsock_ports");
    auto mark_of = [&](std::string_view key) -> std::pair<YAML::Mark, bool> {
      if (section && section->IsMap())
        if (auto v = r_.find(*section, key)) return {v->Mark(), false};
      return {(section ? *section : root).Mark(), true};
    };
    auto add = [&](std::vector<PortUse>& to, std::string_view key, std::uint32_t port) {
      auto [mark, defaulted] = mark_of(key);
      to.push_back({port, child_path("vsock_ports", key), mark, defaulted});
    };
    add(ports_.enclave_vsock, "status_port", m_.vsock_ports.status_port);
    add(ports_.enclave_vsock, "app_log_port", m_.vsock_ports.app_log_port);
    for (const PortUse& use : ports_.enclave_tcp)
      if (use.path.starts_with("ingress[")) ports_.enclave_vsock.push_back(use);
    add(ports_.host_vsock, "http_egress_port", m_.vsock_ports.http_egress_port);
    add(ports_.host_vsock, "clock_sync_port", m_.vsock_ports.clock_sync_port);
  }

  void clock_sync(const YAML::Node& node) {
    static constexpr std::array<std::string_view, 2> keys{"enabled", "interval_secs"};
    if (!r_.expect_map(node, "clock_sync", keys)) return;
    if (auto v = r_.find(node, "enabled")) set(m_.clock_sync.enabled, r_.boolean(*v, "clock_sync.enabled"));
    if (auto v = r_.find(node, "interval_secs"))
      set(m_.clock_sync.interval_secs, r_.integer(*v, "clock_sync.interval_secs", 1, 7 * 24 * 3600));
  }

  YamlReader& r_;
  Manifest& m_;
  PortPlan& ports_;
};

// The port belongs to whichever use comes first in the file; later ones are
// reported, whatever order the sections were read in.
void check_space(YamlReader& r, std::vector<PortUse> uses, std::string_view space, bool space_is_vsock = false) {
  std::stable_sort(uses.begin(), uses.end(), [](const PortUse& a, const PortUse& b) {
    return std::tie(a.mark.line, a.mark.column) < std::tie(b.mark.line, b.mark.column);
  });
  for (std::size_t i = 0; i < uses.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (uses[i].port != uses[j].port) continue;
      // Two ingress entries sharing a port are one problem, reported in the TCP space.
      if (uses[i].path.starts_with("ingress[") && uses[j].path.starts_with("ingress[") && space_is_vsock) continue;
      const PortUse& first = uses[j];
      std::string message = "port " + std::to_string(uses[i].port) + (uses[i].defaulted ? " (the default)" : "") +
                            " is already used by " + first.path +
                            (first.defaulted ? " (by default)" : " on line " + std::to_string(first.mark.line + 1)) + "; " +
                            std::string(space);
      r.error(uses[i].mark, uses[i].path, message);
      break;
    }
  }
}

}  // namespace

void read_manifest(YamlReader& r, const YAML::Node& root, Manifest& out, PortPlan& ports) {
  SectionReader(r, out, ports).root(root);
}

void check_port_collisions(YamlReader& r, const PortPlan& ports) {
  check_space(r, ports.enclave_tcp, "every service inside the enclave needs its own TCP port");
  check_space(r, ports.enclave_vsock,
              "odyn listens on vsock for status, logs and every ingress port, so these must all differ", true);
  check_space(r, ports.host_vsock, "the sleeve listens on both, so they must differ");
}

}  // namespace enclaver::manifest::detail
