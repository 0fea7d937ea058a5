// Box Wi-Fi: the files that turn a box's Wi-Fi card into an access point phones join, with a
// name they can type (`outpost box wifi`, docs/wifi.md).
//
//   WifiOptions o;
//   o.ssid = "School library"; o.country = "KE";
//   auto files = RenderWifiFiles(o);          // checks every value first
//   if (files) WriteWifiFiles(Env::Default(), "/", *files);
//
// Two backends. hostapd (the default): /etc/hostapd/hostapd.conf, a dnsmasq snippet in
// /etc/dnsmasq.d/ (DHCP and DNS on the Wi-Fi interface only), the interface's static address
// in /etc/network/interfaces.d/ (ifupdown: what Debian 12 runs out of the box). NetworkManager
// (Raspberry Pi OS since Bookworm): one .nmconnection (mode 0600: it may hold the passphrase)
// with ipv4.method=shared, and a snippet in NM's dnsmasq-shared.d for the names. Both: an Avahi
// service file (DNS-SD, "_http._tcp" on port 80) and nothing else.
//
// How text reaches a file: every value is checked (Check* below) against a rule that leaves out
// whatever a format treats specially: control characters (a newline would start a new hostapd
// line), edge spaces, and for the NetworkManager keyfile ';' and '\' in an SSID (written as a
// byte list then). The templates (web-ui/box/*.mustache, embedded in the binary) are rendered
// with no escaping at all, so what was checked is what is written.
//
// Thread-safety: plain functions over values.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/base/env.h"
#include "outpost/base/status.h"

namespace outpost {

struct WifiOptions {
  std::string ssid;                     // 1..32 bytes of UTF-8, no control characters
  int channel = 6;                      // 2.4 GHz: 1..13 (1..11 in US, CA), 14 in JP only
  std::string country;                  // ISO 3166 alpha-2; required by the hostapd backend
  std::string interface = "wlan0";
  std::string address = "10.42.0.1/24";  // the box on the Wi-Fi: a private IPv4, /24../30
  std::string name = "outpost.lan";     // the name phones type (DNS on the box)
  std::string backend = "hostapd";      // or "networkmanager"
  std::string passphrase;               // "": an open network (docs/wifi.md says why)
};

// Each rule on its own; InvalidArgument with a message that names the flag (CheckDnsName's
// says "must be ...", for the caller to put its flag or key before).
Status CheckSsid(std::string_view ssid);
Status CheckCountry(std::string_view country);
Status CheckChannel(int channel, std::string_view country);
Status CheckInterfaceName(std::string_view name);
Status CheckDnsName(std::string_view name);
Status CheckPassphrase(std::string_view passphrase);  // "" (open) or 8..63 printable ASCII

// An IPv4 address with its prefix, as numbers.
struct Ipv4Net {
  uint32_t address = 0;
  int prefix = 0;
  uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  uint32_t network() const { return address & mask(); }
  uint32_t broadcast() const { return network() | ~mask(); }
};
std::string Ipv4Text(uint32_t address);
// "10.42.0.1/24": a private (RFC 1918) host address, prefix 24..30, neither the network's
// address nor its broadcast.
Result<Ipv4Net> ParseWifiAddress(std::string_view text);

// Every rule above, for every field.
Status CheckWifiOptions(const WifiOptions& options);

// A file to write: its absolute path on the box, its mode, its bytes.
struct WifiFile {
  std::string path;  // "/etc/hostapd/hostapd.conf"
  int mode = 0644;   // 0644 or 0600
  std::string text;
};

// The files of `options.backend`, after CheckWifiOptions. Internal if a template is missing.
Result<std::vector<WifiFile>> RenderWifiFiles(const WifiOptions& options);

// Writes each file under `root` ("/" on the box): folders made as needed, each file a temp
// file, fsync, rename (Env's WriteFileAtomically), 0600 where the file says so.
Status WriteWifiFiles(Env* env, const std::filesystem::path& root,
                      const std::vector<WifiFile>& files);

// The server's settings file (TOML, server/config.h) with `portal_name = "NAME"` set: an
// existing portal_name line replaced, else the line added before the first table; every other
// line kept as it was. `name` must pass CheckDnsName.
std::string WithPortalName(std::string_view toml, std::string_view name);

// The commands to run after the files are written, one a line (systemctl ...).
std::vector<std::string> WifiNextSteps(const WifiOptions& options);

}  // namespace outpost
