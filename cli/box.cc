#include "box.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "outpost/base/env.h"
#include "outpost/base/file.h"
#include "outpost/server/box_wifi.h"

namespace outpost::cli {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxPassphraseFile = 256;
constexpr size_t kMaxSettingsFile = 1 << 20;

struct BoxWifiArgs {
  WifiOptions options;
  std::string passphrase_file;
  std::string root = "/";
  std::string settings = "/etc/outpost/outpost.toml";
  bool dry_run = false;
};

// The passphrase: the file's first line (a final "\n" or "\r\n" is not part of it).
Result<std::string> ReadPassphrase(const std::string& file) {
  auto text = ReadWholeFile(file, kMaxPassphraseFile);
  if (!text) return text.error();
  std::string p = *text;
  if (p.ends_with("\n")) p.pop_back();
  if (p.ends_with("\r")) p.pop_back();
  if (p.find('\n') != std::string::npos) {
    return InvalidArgument(file + ": the passphrase must be the file's only line");
  }
  return p;
}

// The server's settings file with portal_name set, every other line kept.
Result<WifiFile> SettingsWithPortal(const BoxWifiArgs& args) {
  fs::path on_disk = fs::path(args.root) / fs::path(args.settings).relative_path();
  std::string text;
  std::error_code ec;
  if (fs::exists(on_disk, ec)) {
    auto read = ReadWholeFile(on_disk, kMaxSettingsFile);
    if (!read) return read.error();
    text = std::move(*read);
  }
  return WifiFile{fs::path(args.settings).lexically_normal().string(), 0644,
                  WithPortalName(text, args.options.name)};
}

// The text as --dry-run shows it: the passphrase masked, so it is not left in a terminal's
// scroll-back or a log.
std::string Masked(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
    text.replace(at, secret.size(), "********");
  }
  return text;
}

void PrintPlan(const BoxWifiArgs& args, const std::vector<WifiFile>& files) {
  for (const WifiFile& f : files) {
    fs::path path = fs::path(args.root) / fs::path(f.path).relative_path();
    std::printf("==> %s (mode %04o)\n%s\n", path.string().c_str(), f.mode,
                Masked(f.text, args.options.passphrase).c_str());
  }
  std::printf("dry run: %zu files would be written; nothing was written\n", files.size());
}

int BoxWifi(BoxWifiArgs args) {
  if (!args.passphrase_file.empty()) {
    auto p = ReadPassphrase(args.passphrase_file);
    if (!p) return Fail(p.error());
    args.options.passphrase = *p;
  }
  auto files = RenderWifiFiles(args.options);
  if (!files) return Fail(files.error());
  auto settings = SettingsWithPortal(args);
  if (!settings) return Fail(settings.error());
  files->push_back(std::move(*settings));
  if (args.dry_run) {
    PrintPlan(args, *files);
    return kExitOk;
  }
  Status st = WriteWifiFiles(Env::Default(), args.root, *files);
  if (!st.ok()) return Fail(st);
  for (const WifiFile& f : *files) {
    fs::path path = fs::path(args.root) / fs::path(f.path).relative_path();
    std::printf("wrote %s\n", path.string().c_str());
  }
  std::printf("\nthe Wi-Fi \"%s\" (%s) will answer as http://%s/ once these run, as root:\n",
              args.options.ssid.c_str(),
              args.options.passphrase.empty() ? "open" : "WPA2", args.options.name.c_str());
  for (const std::string& step : WifiNextSteps(args.options)) {
    std::printf("  %s\n", step.c_str());
  }
  return kExitOk;
}

void AddWifiOptions(CLI::App* wifi, BoxWifiArgs* args) {
  WifiOptions& o = args->options;
  wifi->add_option("--ssid", o.ssid, "the network's name phones show (1 to 32 bytes)")
      ->required();
  wifi->add_option("--channel", o.channel, "2.4 GHz channel, 1 to 13 (14 in JP only; default 6)");
  wifi->add_option("--country", o.country,
                   "two capital letters: the country whose radio rules apply (required with "
                   "the hostapd backend)");
  wifi->add_option("--interface", o.interface, "the Wi-Fi interface (default wlan0)");
  wifi->add_option("--address", o.address,
                   "the box's address on its Wi-Fi, private IPv4 /24 to /30 (default "
                   "10.42.0.1/24)");
  wifi->add_option("--name", o.name, "the name phones type (default outpost.lan)");
  wifi->add_option("--backend", o.backend, "hostapd (default) or networkmanager");
  wifi->add_option("--passphrase-file", args->passphrase_file,
                   "a WPA2 passphrase (8 to 63 characters) read from this file; without it the "
                   "network is open (docs/wifi.md)");
  wifi->add_option("--root", args->root, "write under this folder instead of / (tests, images)");
  wifi->add_option("--settings", args->settings,
                   "the server's settings file that gets portal_name (default "
                   "/etc/outpost/outpost.toml, under --root)");
  wifi->add_flag("--dry-run", args->dry_run, "print every file it would write, write nothing");
}

}  // namespace

void AddBoxCommands(CLI::App& app, CommandTable& table) {
  auto* box = app.add_subcommand("box", "set up the machine Outpost runs on (its Wi-Fi)");
  box->require_subcommand(1);
  auto args = std::make_shared<BoxWifiArgs>();
  auto* wifi = table.AddMachineCommand(box, "wifi",
                                      "write the configuration of the box's own Wi-Fi, its name "
                                      "and captive portal (docs/wifi.md)",
                                      [args] { return BoxWifi(*args); });
  AddWifiOptions(wifi, args.get());
}

}  // namespace outpost::cli
