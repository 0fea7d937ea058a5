// The hub's view of every school it enrolled (`outpost hub sites`, and the hub's console): each
// peer with how and when it was last seen and what its newest report says, its served versions
// set against the hub's own, so a table of 10,000 schools is one read of sync.db and one of the
// catalog.
//
// Thread-safety: as SyncDb's and Catalog's (both thread-safe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "outpost/content/catalog.h"
#include "outpost/sync/sync_db.h"

namespace outpost {

// One channel a site serves, against the hub.
struct ServedChannel {
  std::string channel_id;
  uint64_t version = 0;  // the site's
  uint64_t latest = 0;   // the hub's served version; 0: the hub does not serve it (the site's own)
  bool behind = false;   // version < latest
};

struct SiteStatus {
  PeerInfo peer;                      // name, key, role, enrolled/revoked, last_seen, last_via
  std::vector<std::string> channels;  // the channels it publishes here
  bool reported = false;              // the fields below come from a report
  int64_t reported_at = 0, report_received_at = 0;
  std::string report_via;             // how the stored report's latest copy came
  std::string software;
  uint64_t disk_total = 0, disk_free = 0;
  std::vector<ServedChannel> served;  // by channel id
  int behind = 0;                     // how many of them are behind the hub
  uint32_t errors_logged = 0;         // in the site's last 7 days
  std::optional<ReportedError> last_error;
};

// Every peer of the hub, by name; `catalog` is the hub's (its served versions are the latest).
std::vector<SiteStatus> ListSites(SyncDb* db, Catalog* catalog);

}  // namespace outpost
