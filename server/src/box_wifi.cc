#include "outpost/server/box_wifi.h"

#include <kainjow/mustache.hpp>

#include <algorithm>
#include <charconv>
#include <optional>

#include "outpost/webui/embedded.h"

namespace outpost {

namespace mustache = kainjow::mustache;

namespace {

constexpr size_t kMaxSsidBytes = 32;      // IEEE 802.11
constexpr size_t kMaxInterfaceBytes = 15;  // Linux: IFNAMSIZ - 1
constexpr size_t kMaxDnsNameBytes = 253;
constexpr size_t kMaxDnsLabelBytes = 63;

// Whether `s` is well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF), and
// has no control character (C0, DEL, C1).
bool IsPrintableUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    if (c < 0x20 || c == 0x7f) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : -1;
    if (more < 0 || c > 0xf4 || i + more >= s.size()) return false;
    uint32_t cp = c & (0x3f >> more);
    for (int k = 1; k <= more; ++k) {
      unsigned char d = s[i + k];
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    bool overlong = (more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000);
    if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    if (cp >= 0x80 && cp <= 0x9f) return false;  // C1 controls
    i += more + 1;
  }
  return true;
}

bool HasEdgeSpace(std::string_view s) {
  return !s.empty() && (s.front() == ' ' || s.back() == ' ');
}

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// "1".."255" style decimal without sign or leading zeros; nullopt otherwise.
std::optional<uint32_t> ParseDecimal(std::string_view s, uint32_t max) {
  if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

std::optional<uint32_t> ParseIpv4(std::string_view s) {
  uint32_t out = 0;
  for (int part = 0; part < 4; ++part) {
    size_t dot = part < 3 ? s.find('.') : s.size();
    if (dot == std::string_view::npos) return std::nullopt;
    auto v = ParseDecimal(s.substr(0, dot), 255);
    if (!v) return std::nullopt;
    out = (out << 8) | *v;
    s.remove_prefix(std::min(dot + 1, s.size()));
  }
  return out;
}

bool IsPrivate(uint32_t a) {
  return (a >> 24) == 10 || (a >> 20) == ((172u << 4) | 1) || (a >> 16) == ((192u << 8) | 168);
}

}  // namespace

Status CheckSsid(std::string_view ssid) {
  if (ssid.empty() || ssid.size() > kMaxSsidBytes) {
    return InvalidArgument("--ssid must be 1 to 32 bytes (this one is " +
                           std::to_string(ssid.size()) + "; a letter outside ASCII takes 2 to 4)");
  }
  if (!IsPrintableUtf8(ssid)) {
    return InvalidArgument("--ssid must be UTF-8 text without control characters (no newline, "
                           "no tab)");
  }
  if (HasEdgeSpace(ssid)) return InvalidArgument("--ssid must not begin or end with a space");
  return Status::Ok();
}

Status CheckCountry(std::string_view country) {
  bool ok = country.size() == 2 && std::all_of(country.begin(), country.end(),
                                               [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!ok) {
    return InvalidArgument("--country must be the two capital letters of the country the box is "
                           "in (ISO 3166, for example KE, FR, JP): radio rules differ by country");
  }
  return Status::Ok();
}

Status CheckChannel(int channel, std::string_view country) {
  if (channel == 14) {
    if (country == "JP") return Status::Ok();
    return InvalidArgument("--channel 14 is allowed in Japan only (--country JP)");
  }
  int last = (country == "US" || country == "CA") ? 11 : 13;
  if (channel < 1 || channel > last) {
    return InvalidArgument("--channel must be a 2.4 GHz channel from 1 to " +
                           std::to_string(last) + (country.empty() ? "" : " in " +
                           std::string(country)) + " (1, 6 and 11 do not overlap)");
  }
  return Status::Ok();
}

Status CheckInterfaceName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxInterfaceBytes && name != "." && name != ".." &&
            std::all_of(name.begin(), name.end(), [](char c) {
              return IsAsciiAlnum(c) || c == '-' || c == '_' || c == '.';
            });
  if (!ok) {
    return InvalidArgument("--interface must be a network interface name: 1 to 15 letters, "
                           "digits, '-', '_' or '.' (for example wlan0)");
  }
  return Status::Ok();
}

Status CheckDnsName(std::string_view name) {
  std::string why = "must be a DNS name such as outpost.lan: labels of 1 to 63 letters, "
                    "digits and '-' (not first or last), joined by dots, at most 253 in all, "
                    "not all digits";
  if (name.empty() || name.size() > kMaxDnsNameBytes) return InvalidArgument(why);
  bool all_digits_or_dots = true;
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = std::min(name.find('.', start), name.size());
    std::string_view label = name.substr(start, dot - start);
    if (label.empty() || label.size() > kMaxDnsLabelBytes || label.front() == '-' ||
        label.back() == '-') {
      return InvalidArgument(why);
    }
    for (char c : label) {
      if (!IsAsciiAlnum(c) && c != '-') return InvalidArgument(why);
      if (!(c >= '0' && c <= '9')) all_digits_or_dots = false;
    }
    start = dot + 1;
  }
  if (all_digits_or_dots) return InvalidArgument(why);  // it would read as an address
  return Status::Ok();
}

Status CheckPassphrase(std::string_view passphrase) {
  if (passphrase.empty()) return Status::Ok();
  bool printable = std::all_of(passphrase.begin(), passphrase.end(),
                               [](char c) { return c >= 0x20 && c < 0x7f; });
  if (passphrase.size() < 8 || passphrase.size() > 63 || !printable ||
      HasEdgeSpace(passphrase)) {
    return InvalidArgument("the passphrase must be 8 to 63 printable ASCII characters, not "
                           "beginning or ending with a space (WPA2)");
  }
  return Status::Ok();
}

std::string Ipv4Text(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

Result<Ipv4Net> ParseWifiAddress(std::string_view text) {
  std::string why = "--address must be the box's private IPv4 address on the Wi-Fi with a "
                    "prefix from /24 to /30, for example 10.42.0.1/24 (10.x, 172.16-31.x or "
                    "192.168.x; not the network's first or last address)";
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return InvalidArgument(why);
  auto address = ParseIpv4(text.substr(0, slash));
  auto prefix = ParseDecimal(text.substr(slash + 1), 32);
  if (!address || !prefix || *prefix < 24 || *prefix > 30) return InvalidArgument(why);
  Ipv4Net net{*address, static_cast<int>(*prefix)};
  if (!IsPrivate(net.address) || net.address == net.network() ||
      net.address == net.broadcast()) {
    return InvalidArgument(why);
  }
  return net;
}

Status CheckWifiOptions(const WifiOptions& o) {
  OUTPOST_RETURN_IF_ERROR(CheckSsid(o.ssid));
  if (o.backend != "hostapd" && o.backend != "networkmanager") {
    return InvalidArgument("--backend must be hostapd or networkmanager");
  }
  if (!o.country.empty() || o.backend == "hostapd") {
    OUTPOST_RETURN_IF_ERROR(CheckCountry(o.country));
  }
  OUTPOST_RETURN_IF_ERROR(CheckChannel(o.channel, o.country));
  OUTPOST_RETURN_IF_ERROR(CheckInterfaceName(o.interface));
  auto net = ParseWifiAddress(o.address);
  if (!net) return net.error();
  if (Status st = CheckDnsName(o.name); !st.ok()) return InvalidArgument("--name " + st.message());
  return CheckPassphrase(o.passphrase);
}

namespace {

// A GKeyFile string value (NetworkManager's keyfile): a backslash doubled. Checked values
// carry no control character and no edge space, so nothing else needs escaping.
std::string KeyfileString(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// An SSID in a keyfile: as text, or, if it holds ';' or '\' (list and escape characters of
// GKeyFile), as its bytes in decimal, each followed by ';', which NetworkManager also reads.
std::string KeyfileSsid(std::string_view ssid) {
  if (ssid.find_first_of(";\\") == std::string_view::npos) return std::string(ssid);
  std::string out;
  for (unsigned char c : ssid) out += std::to_string(c) + ";";
  return out;
}

mustache::data WifiData(const WifiOptions& o, const Ipv4Net& net) {
  // The DHCP range: the larger side of the subnet around the box's own address.
  uint32_t first = net.network() + 1, last = net.broadcast() - 1;
  bool above = (last - net.address) >= (net.address - first);
  mustache::data d;
  d.set("ssid", o.ssid);
  d.set("nm_ssid", KeyfileSsid(o.ssid));
  d.set("channel", std::to_string(o.channel));
  d.set("country", o.country);
  d.set("interface", o.interface);
  d.set("address", Ipv4Text(net.address));
  d.set("prefix", std::to_string(net.prefix));
  d.set("netmask", Ipv4Text(net.mask()));
  d.set("range_start", Ipv4Text(above ? net.address + 1 : first));
  d.set("range_end", Ipv4Text(above ? last : net.address - 1));
  d.set("name", o.name);
  d.set("open", mustache::data(o.passphrase.empty()));
  d.set("passphrase", o.passphrase);
  d.set("nm_passphrase", KeyfileString(o.passphrase));
  return d;
}

Result<WifiFile> RenderOne(const std::string& tmpl, const mustache::data& data, std::string path,
                           int mode) {
  std::string logical = "box/" + tmpl + ".mustache";
  auto files = webui::EmbeddedFiles();
  auto it = std::find_if(files.begin(), files.end(),
                         [&](const webui::EmbeddedFile& f) { return f.path == logical; });
  if (it == files.end()) return Internal("no template " + logical + " in the binary");
  mustache::mustache m{std::string(it->bytes)};
  // No escaping: every value was checked to carry nothing the file's format treats specially.
  m.set_custom_escape([](const std::string& s) { return s; });
  if (!m.is_valid()) return Internal(logical + ": " + m.error_message());
  return WifiFile{std::move(path), mode, m.render(data)};
}

}  // namespace

Result<std::vector<WifiFile>> RenderWifiFiles(const WifiOptions& o) {
  OUTPOST_RETURN_IF_ERROR(CheckWifiOptions(o));
  auto net = ParseWifiAddress(o.address);
  mustache::data data = WifiData(o, *net);
  struct Spec {
    const char* tmpl;
    std::string path;
    int mode;
  };
  std::vector<Spec> specs;
  if (o.backend == "hostapd") {
    specs = {{"hostapd.conf", "/etc/hostapd/hostapd.conf", 0600},
             {"dnsmasq.conf", "/etc/dnsmasq.d/outpost-wifi.conf", 0644},
             {"interfaces", "/etc/network/interfaces.d/outpost-" + o.interface, 0644}};
  } else {
    specs = {{"nmconnection", "/etc/NetworkManager/system-connections/outpost-wifi.nmconnection",
              0600},
             {"nm-dnsmasq.conf", "/etc/NetworkManager/dnsmasq-shared.d/outpost-wifi.conf", 0644}};
  }
  specs.push_back({"avahi.service", "/etc/avahi/services/outpost.service", 0644});
  std::vector<WifiFile> out;
  for (const Spec& s : specs) {
    auto file = RenderOne(s.tmpl, data, s.path, s.mode);
    if (!file) return file.error();
    out.push_back(std::move(*file));
  }
  return out;
}

Status WriteWifiFiles(Env* env, const std::filesystem::path& root,
                      const std::vector<WifiFile>& files) {
  for (const WifiFile& f : files) {
    std::filesystem::path path = root / std::filesystem::path(f.path).relative_path();
    OUTPOST_RETURN_IF_ERROR(env->CreateDirs(path.parent_path()));
    OUTPOST_RETURN_IF_ERROR(WriteFileAtomically(env, path, f.text, f.mode == 0600));
  }
  return Status::Ok();
}

namespace {

std::string_view TrimmedStart(std::string_view s) {
  return s.substr(std::min(s.find_first_not_of(" \t"), s.size()));
}

// Whether a TOML line sets the bare key `key` ("key = ...", spaces allowed around '=').
bool SetsKey(std::string_view line, std::string_view key) {
  if (!line.starts_with(key)) return false;
  std::string_view rest = TrimmedStart(line.substr(key.size()));
  return rest.starts_with("=");
}

}  // namespace

std::string WithPortalName(std::string_view toml, std::string_view name) {
  std::string line = "portal_name = \"" + std::string(name) + "\"\n";
  std::string out;
  bool placed = false, in_table = false;
  for (size_t i = 0; i < toml.size();) {
    size_t end = std::min(toml.find('\n', i), toml.size());
    std::string_view text = toml.substr(i, end - i);
    i = end + 1;
    std::string_view trimmed = TrimmedStart(text);
    if (trimmed.starts_with("[")) {
      if (!placed) out += line;
      placed = in_table = true;
    } else if (!in_table && SetsKey(trimmed, "portal_name")) {
      if (!placed) out += line;
      placed = true;
      continue;
    }
    out += std::string(text) + "\n";
  }
  if (!placed) out += line;
  return out;
}

std::vector<std::string> WifiNextSteps(const WifiOptions& o) {
  if (o.backend == "networkmanager") {
    return {"nmcli connection reload", "nmcli connection up outpost-wifi",
            "systemctl enable --now avahi-daemon", "systemctl restart outpost"};
  }
  return {"systemctl unmask hostapd",
          "ifup " + o.interface + "   # or reboot",
          // Debian's dnsmasq service would otherwise offer itself as the box's own resolver
          // (through resolvconf), on lo, where this configuration does not answer.
          "grep -q '^DNSMASQ_EXCEPT=' /etc/default/dnsmasq || "
          "echo 'DNSMASQ_EXCEPT=\"lo\"' >> /etc/default/dnsmasq",
          "systemctl enable --now hostapd dnsmasq avahi-daemon",
          "systemctl restart hostapd dnsmasq avahi-daemon outpost"};
}

}  // namespace outpost
