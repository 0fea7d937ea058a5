// Node: the layout of a data folder for sync, and the names and addresses its records hold.
// The operations on a node live beside their headers (node.h lists them).
#include "outpost/sync/node.h"

#include <algorithm>
#include <cctype>

#include "outpost/base/text.h"

namespace outpost {

namespace fs = std::filesystem;

namespace {

bool ValidHost(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::none_of(host.begin(), host.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= ' ' || u == 0x7f || c == '/' || c == '@' || c == '[' || c == ']';
  });
}

bool ValidBracketedHost(std::string_view host) {
  if (!host.ends_with(']') || host.size() < 3) return false;
  std::string_view inner = host.substr(1, host.size() - 2);
  return std::all_of(inner.begin(), inner.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
  });
}

bool ValidPort(std::string_view port) {
  if (port.empty() || port.size() > 5 || port[0] == '0') return false;
  int value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return value >= 1 && value <= 65535;
}

}  // namespace

NodePaths::NodePaths(const fs::path& data_folder)
    : data(data_folder),
      keys(data_folder / "keys"),
      node_key(keys / "node.key"),
      root_key(keys / "root.key"),
      publisher_key(keys / "publisher.key"),
      sync_dir(data_folder / "sync"),
      trust_list(sync_dir / "trust.optl"),
      sync_db(sync_dir / "sync.db"),
      staging(data_folder / "staging"),
      trust_lock(sync_dir / "trust.lock") {}

bool IsValidSiteName(std::string_view name) { return IsValidChannelId(name); }

bool IsValidSyncAddress(std::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = address.substr(0, colon), port = address.substr(colon + 1);
  if (host.starts_with('[')) {
    if (!ValidBracketedHost(host)) return false;
  } else if (!ValidHost(host) || host.find(':') != std::string_view::npos) {
    return false;
  }
  return ValidPort(port);
}

Status NotAHub(const NodePaths& paths) {
  return NotFound(paths.data.string() + " is not a hub: run outpost hub init --data " +
                  paths.data.string() + " first");
}

}  // namespace outpost
