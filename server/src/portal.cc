#include "portal.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace outpost {

namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// "1.2.3.4": four dot-separated runs of 1 to 3 digits (the value does not matter here: a
// numeric Host is the box reached by address, never a name the portal takes over).
bool IsIpv4Literal(std::string_view h) {
  int parts = 0;
  size_t digits = 0;
  for (char c : h) {
    if (c == '.') {
      if (digits == 0) return false;
      ++parts, digits = 0;
    } else if (c >= '0' && c <= '9' && digits < 3) {
      ++digits;
    } else {
      return false;
    }
  }
  return parts == 3 && digits > 0;
}

// The Host without its port: "[v6]:80" -> "[v6]", "name:80" -> "name".
std::string_view WithoutPort(std::string_view host) {
  if (host.starts_with("[")) {
    size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  size_t colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

}  // namespace

bool IsOwnHost(std::string_view host, std::string_view portal_name) {
  std::string_view h = WithoutPort(host);
  if (h.ends_with(".")) h.remove_suffix(1);
  if (h.empty() || h.starts_with("[")) return true;  // no Host, or an IPv6 literal
  if (IsIpv4Literal(h) || IEquals(h, "localhost") || IEquals(h, portal_name)) return true;
  return h.size() > 6 && IEquals(h.substr(h.size() - 6), ".local");
}

bool PortalRedirect(std::string_view portal_name, const http::Request& req, http::Response& res) {
  if (portal_name.empty() || IsOwnHost(req.get_header_value("Host"), portal_name)) return false;
  std::string home = "http://" + std::string(portal_name) + "/";
  res = http::Response{};
  res.status = 302;
  res.set_header("Location", home);
  // Never kept: once the phone is off this Wi-Fi, the same URL must reach the real site.
  res.set_header("Cache-Control", "no-store, no-cache, must-revalidate");
  res.set_header("Expires", "0");
  res.set_content("<!doctype html><title>Outpost</title><a href=\"" + home + "\">" + home +
                      "</a>\n",
                  "text/html; charset=utf-8");
  return true;
}

}  // namespace outpost
