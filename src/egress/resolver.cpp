#include "egress/resolver.hpp"

#include <algorithm>
#include <memory>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>


namespace enclaver::egress {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

policy::IpAddress from_asio(const asio::ip::address& address) {
  if (address.is_v4()) {
    auto b = address.to_v4().to_bytes();
    return policy::IpAddress::v4(b[0], b[1], b[2], b[3]);
  }
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    auto b = asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_bytes();
    return policy::IpAddress::v4(b[0], b[1], b[2], b[3]);
  }
  policy::IpAddress ip;
  ip.v6 = true;
  ip.bytes = v6.to_bytes();  // the scope id, if any, is dropped: we dial what we checked
  return ip;
}

void add_unique(Addresses& addresses, const policy::IpAddress& ip) {
  if (std::find(addresses.begin(), addresses.end(), ip) == addresses.end()) addresses.push_back(ip);
}

std::string lower_without_dot(std::string_view name) {
  std::string out(name);
  if (!out.empty() && out.back() == '.') out.pop_back();
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

// What a pending lookup shares with its completion handler, which may run
// after the tunnel has given up on it.
struct Pending {
  explicit Pending(const asio::any_io_executor& executor) : resolver(executor), done(executor) {}
  tcp::resolver resolver;
  asio::steady_timer done;
  std::optional<Resolution> result;
};

}  // namespace

asio::awaitable<Resolution> SystemResolver::resolve(std::string name, std::chrono::steady_clock::duration timeout) {
  auto pending = std::make_shared<Pending>(co_await asio::this_coro::executor);
  pending->resolver.async_resolve(
      name, "", tcp::resolver::numeric_service,
      [pending, name](const boost::system::error_code& ec, const tcp::resolver::results_type& results) {
        if (pending->result) return;
        if (ec) {
          pending->result = DialError{kEhostunreach, "cannot resolve " + name + ": " + ec.message(), false};
        } else {
          Addresses addresses;
          for (const auto& entry : results) add_unique(addresses, from_asio(entry.endpoint().address()));
          if (addresses.empty())
            pending->result = DialError{kEhostunreach, "cannot resolve " + name + ": no address", false};
          else
            pending->result = std::move(addresses);
        }
        pending->done.cancel();
      });
  if (!pending->result) {
    pending->done.expires_after(timeout);
    boost::system::error_code ec;
    co_await pending->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!pending->result) {
    pending->result = DialError{kEtimedout, "resolving " + name + " timed out", true};
    pending->resolver.cancel();
  }
  co_return *pending->result;
}

Result<StaticResolver> StaticResolver::parse(std::string_view hosts) {
  StaticResolver table;
  std::size_t number = 0;
  while (!hosts.empty()) {
    ++number;
    const auto end = hosts.find('\n');
    std::string_view line = hosts.substr(0, end);
    hosts = end == std::string_view::npos ? std::string_view{} : hosts.substr(end + 1);
    if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    std::vector<std::string_view> words;
    for (std::size_t i = 0; i < line.size();) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      const std::size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
      if (i > start) words.push_back(line.substr(start, i - start));
    }
    if (words.empty()) continue;
    const std::string where = "hosts line " + std::to_string(number) + ": ";
    auto address = policy::parse_ip(words[0]);
    if (!address) return make_error(where + "\"" + std::string(words[0]) + "\" is not an IP address");
    if (words.size() < 2) return make_error(where + "an address without a name");
    for (std::size_t i = 1; i < words.size(); ++i) add_unique(table.names_[lower_without_dot(words[i])], *address);
  }
  return table;
}

Addresses StaticResolver::lookup(std::string_view name) const {
  auto it = names_.find(lower_without_dot(name));
  return it == names_.end() ? Addresses{} : it->second;
}

asio::awaitable<Resolution> StaticResolver::resolve(std::string name, std::chrono::steady_clock::duration) {
  Addresses addresses = lookup(name);
  if (addresses.empty()) co_return DialError{kEhostunreach, "cannot resolve " + name + ": not in the static hosts table", false};
  co_return addresses;
}

}  // namespace enclaver::egress
