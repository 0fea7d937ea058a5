// The captive portal: with `portal_name` set (ServerConfig, `serve --portal-name`), a request
// whose Host is not this box is answered with a redirect to http://NAME/, so that a phone on
// the box's Wi-Fi (where every name resolves to the box: docs/wifi.md) shows its "sign in to
// the network" page with Outpost's home in it, and a learner who types another site's name
// lands on the lessons.
//
// The box's own Hosts, never redirected: the portal name (any case, with or without a port or
// a final dot), an IPv4 or IPv6 address literal, "localhost", a name under ".local" (mDNS:
// the box's own name on a LAN), and no Host at all (HTTP/1.0). Every method and path of a
// foreign Host is redirected, so no handler (least of all a teacher's or a coordinator's)
// runs under another site's name. The sync listener is not HTTP and is not affected.
//
// Thread-safety: plain functions.
#pragma once

#include <array>
#include <string_view>

#include "http/http_message.h"

namespace outpost {

// The connectivity checks a phone or a browser makes when it joins a network, by path (their
// hosts: docs/wifi.md). Answered like any foreign request; listed for the docs and the tests.
inline constexpr std::array<std::string_view, 10> kConnectivityCheckPaths = {
    "/generate_204",   "/gen_204",                       // Android, Chrome OS
    "/hotspot-detect.html", "/library/test/success.html",  // iOS, macOS
    "/connecttest.txt", "/ncsi.txt", "/redirect",         // Windows
    "/canonical.html", "/success.txt",                    // Firefox
    "/kindle-wifi/wifistub.html"};                        // Kindle

// Whether `host` (a Host header's value) names this box, `portal_name` being its name.
bool IsOwnHost(std::string_view host, std::string_view portal_name);

// With a non-empty `portal_name` and a request for a foreign Host: fills `res` with a 302 to
// http://`portal_name`/ that no cache keeps, and returns true. Otherwise false, `res` untouched.
bool PortalRedirect(std::string_view portal_name, const http::Request& req, http::Response& res);

}  // namespace outpost
