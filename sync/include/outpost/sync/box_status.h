// BoxStatus: what a site holds and how far behind its hub it is, in one value, for the
// coordinator's console (/admin/, /admin/health, GET /api/v1/admin/status) and `outpost status
// --json`, which print the same facts because both call ReadBoxStatus (docs/console.md).
//
// Made from what is on disk, without the network: the catalog (each channel's served version,
// a staged version still being fetched, the served files' sizes), sync.db (the heads of the
// hub's last offer with their sizes, the last sync: SyncDb::HubHeads, LastSyncRun), the data
// folder's file system (statvfs) and the system's memory (/proc/meminfo). What only a running
// server knows (its uptime, its memory) the server adds itself.
//
// The disk warning: free space under 10 % of the data folder's file system, or under twice
// what the next sync is expected to fetch (kLowDiskPercent, kNextSyncMargin). Twice, because a
// sync stages chunks before it assembles the files from them.
//
// Thread-safety: ReadBoxStatus reads through the thread-safe Catalog and SyncDb; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "outpost/base/status.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/node.h"
#include "outpost/sync/sync_db.h"

namespace outpost {

inline constexpr uint64_t kLowDiskPercent = 10;
inline constexpr uint64_t kNextSyncMargin = 2;

// "0.1.0": this outpost's version (the project's, from CMake).
const char* SoftwareVersion();

struct ChannelStatus {
  std::string id, title, language;
  int64_t served_version = 0;  // 0: none served yet
  int64_t staged_version = 0;  // a newer version partly fetched (0: none)
  int64_t files = 0;           // of the served version
  uint64_t bytes = 0;          // their sizes
  uint64_t hub_version = 0;    // the hub's head at its last offer (0: never offered)
  bool behind = false;         // hub_version > served_version
  uint64_t next_sync_bytes = 0;  // behind: what the hub's offer listed for it
};

struct DiskStatus {
  bool known = false;  // statvfs answered
  uint64_t free_bytes = 0, total_bytes = 0;
  bool warning = false;
  std::string warning_reason;  // "low" (under 10 %) or "next_sync" (under twice the next sync)
};

struct MemoryStatus {
  bool known = false;  // /proc/meminfo was read
  uint64_t available_bytes = 0, total_bytes = 0;
};

struct BoxStatus {
  int64_t now = 0;  // unix seconds
  std::string software_version;
  std::vector<ChannelStatus> channels;  // by id; channels the hub offers and none is served too
  uint64_t content_bytes = 0;  // the channels' served files
  uint64_t staging_bytes = 0;  // DATA/staging: chunks fetched, not yet assembled
  DiskStatus disk;
  MemoryStatus memory;
  // Sync.
  bool joined = false;  // has a hub (outpost join)
  std::string hub_address, site_name;
  std::optional<SyncRun> last_sync;
  int64_t days_since_sync = -1;  // -1: never synced
  int channels_behind = 0;
  uint64_t next_sync_bytes = 0;
};

// The disk warning's rule (above): "low", "next_sync", or "" for none.
std::string DiskWarningReason(uint64_t free_bytes, uint64_t total_bytes, uint64_t next_sync_bytes);

// `db` may be null (sync.db could not be opened: nothing is known of the hub then).
BoxStatus ReadBoxStatus(const NodePaths& paths, Catalog* catalog, SyncDb* db, int64_t now);

// The system's memory (/proc/meminfo: MemAvailable, MemTotal).
MemoryStatus ReadSystemMemory();
// This process's resident set (/proc/self/status: VmRSS), 0 if unknown.
uint64_t ReadProcessRss();

// The JSON of docs/web-api.md, "GET /api/v1/admin/status" (without the server's "process").
nlohmann::json BoxStatusJson(const BoxStatus& status);

}  // namespace outpost
