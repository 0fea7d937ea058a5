// `box`: setting up the machine Outpost runs on. `box wifi` writes the configuration of the
// box's own Wi-Fi (an access point, DHCP and DNS for the phones on it, a name they can type,
// DNS-SD) from the templates of server/box_wifi.h, and the captive portal's `portal_name` into
// the server's settings file; it prints the commands that start it all rather than running
// them (docs/wifi.md).
#pragma once

#include "common.h"

namespace outpost::cli {

// Registers `box` with `wifi`.
void AddBoxCommands(CLI::App& app, CommandTable& table);

}  // namespace outpost::cli
