// The hub's view of its sites (site_list.h).
#include "outpost/sync/site_list.h"

#include <map>

namespace outpost {

namespace {

SiteStatus FromRow(SiteRow row, const std::map<std::string, uint64_t>& latest) {
  SiteStatus s;
  s.peer = std::move(row.peer);
  s.channels = std::move(row.channels);
  if (!row.report) return s;
  const StoredSiteReport& r = *row.report;
  s.reported = true;
  s.reported_at = r.reported_at;
  s.report_received_at = r.received_at;
  s.report_via = r.via;
  s.software = r.software;
  s.disk_total = r.disk_total;
  s.disk_free = r.disk_free;
  for (const auto& [id, version] : r.served) {
    auto hub = latest.find(id);
    uint64_t newest = hub == latest.end() ? 0 : hub->second;
    s.served.push_back({id, version, newest, version < newest});
    s.behind += version < newest ? 1 : 0;
  }
  s.errors_logged = r.errors_logged;
  if (!r.errors.empty()) s.last_error = r.errors.back();
  return s;
}

}  // namespace

std::vector<SiteStatus> ListSites(SyncDb* db, Catalog* catalog) {
  std::map<std::string, uint64_t> latest;
  for (const ChannelInfo& c : catalog->Channels()) {
    if (c.served_version > 0) latest[c.id] = static_cast<uint64_t>(c.served_version);
  }
  std::vector<SiteRow> rows = db->SiteRows();
  std::vector<SiteStatus> out;
  out.reserve(rows.size());
  for (auto& row : rows) out.push_back(FromRow(std::move(row), latest));
  return out;
}

}  // namespace outpost
