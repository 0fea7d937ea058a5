// The hub's view of every school it enrolled (`outpost hub sites`, and the hub's console): each
// peer with how and when it was last seen and what its newest report says, its served versions
// set against the hub's own, so a table of 10,000 schools is one read of sync.db and one of the
// catalog.
//
// Thread-safety: as SyncDb's and Catalog's (both thread-safe).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

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

// The hub's served version of each channel it serves (the "latest" ListSites compares with).
std::map<std::string, uint64_t> HubLatest(Catalog* catalog);
// `sites`' served versions compared again with `latest` (after a publish on the hub).
void CompareServed(const std::map<std::string, uint64_t>& latest, std::vector<SiteStatus>* sites);

// One site as JSON: the fields of `outpost hub sites --json` (docs/cli.md) and of
// GET /api/v1/hub/sites (docs/web-api.md), plus "silent" as of `now` (SiteIsSilent).
nlohmann::json SiteJson(const SiteStatus& site, int64_t now);

// ---- The hub's table of schools: sorted, filtered, a page at a time (docs/hub-console.md).

// A school not seen for this long is silent (so is one never seen).
inline constexpr int64_t kSilentAfterSeconds = 14 * 24 * 60 * 60;
// The most rows one page of the table has.
inline constexpr int64_t kMaxSitesPerPage = 1000;

// An active school with role "site" not seen since `now` - kSilentAfterSeconds, or never.
bool SiteIsSilent(const SiteStatus& site, int64_t now);

enum class SiteSort { kName, kState, kLastSeen, kLastVia, kBehind, kSoftware, kDiskFree, kErrors };
enum class SiteFilter { kAll, kBehind, kSilent, kErrors };

// "name", "state", "last_seen", "via", "behind", "software", "disk_free", "errors".
std::optional<SiteSort> ParseSiteSort(std::string_view text);
std::string_view SiteSortName(SiteSort sort);
// "all", "behind", "silent", "errors".
std::optional<SiteFilter> ParseSiteFilter(std::string_view text);
std::string_view SiteFilterName(SiteFilter filter);

struct SiteQuery {
  SiteSort sort = SiteSort::kName;
  bool descending = false;
  SiteFilter filter = SiteFilter::kAll;
  std::string name_contains;  // matched without regard to ASCII case; "" matches every name
  int64_t page = 1;           // from 1
  int64_t per_page = 100;     // 1 … kMaxSitesPerPage
  int64_t now = 0;            // for "silent"
};

struct SitePage {
  size_t count = 0;    // schools in all
  size_t matched = 0;  // schools the filter lets through
  int64_t pages = 1;   // at least 1
  std::vector<const SiteStatus*> rows;  // this page's, sorted (ties by name); point into `sites`
};

// The page `query` asks for of the schools (peers with role "site") among `sites`; a page past
// the last is empty.
SitePage QuerySites(const std::vector<SiteStatus>& sites, const SiteQuery& query);

}  // namespace outpost
