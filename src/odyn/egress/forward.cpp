#include "odyn/egress/forward.hpp"

#include <algorithm>
#include <cctype>

#include <boost/beast/http/rfc7230.hpp>

namespace enclaver::odyn::egress::detail {

void drop_hop_by_hop(http::fields& fields) {
  std::vector<std::string> names;
  // Fields the Connection header names are hop-by-hop too.
  for (auto connection = fields.equal_range(http::field::connection); connection.first != connection.second;
       ++connection.first)
    for (auto token : http::token_list(connection.first->value())) names.emplace_back(token);
  for (const auto& field : fields) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (name.rfind("proxy-", 0) == 0) names.push_back(name);
  }
  for (const char* name : {"connection", "keep-alive", "te", "trailer", "upgrade"}) names.emplace_back(name);
  for (const auto& name : names) {
    // Framing stays, whatever a Connection header names.
    if (boost::beast::iequals(name, "transfer-encoding") || boost::beast::iequals(name, "content-length") ||
        boost::beast::iequals(name, "host"))
      continue;
    fields.erase(name);
  }
}

}  // namespace enclaver::odyn::egress::detail
