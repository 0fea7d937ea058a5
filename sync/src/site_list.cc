// The hub's view of its sites (site_list.h).
#include "outpost/sync/site_list.h"

#include <algorithm>
#include <array>
#include <map>

namespace outpost {

namespace {

void Compare(const std::map<std::string, uint64_t>& latest, SiteStatus* s) {
  s->behind = 0;
  for (ServedChannel& c : s->served) {
    auto hub = latest.find(c.channel_id);
    c.latest = hub == latest.end() ? 0 : hub->second;
    c.behind = c.version < c.latest;
    s->behind += c.behind ? 1 : 0;
  }
}

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
  for (const auto& [id, version] : r.served) s.served.push_back({id, version, 0, false});
  Compare(latest, &s);
  s.errors_logged = r.errors_logged;
  if (!r.errors.empty()) s.last_error = r.errors.back();
  return s;
}

}  // namespace

std::map<std::string, uint64_t> HubLatest(Catalog* catalog) {
  std::map<std::string, uint64_t> latest;
  for (const ChannelInfo& c : catalog->Channels()) {
    if (c.served_version > 0) latest[c.id] = static_cast<uint64_t>(c.served_version);
  }
  return latest;
}

void CompareServed(const std::map<std::string, uint64_t>& latest, std::vector<SiteStatus>* sites) {
  for (SiteStatus& s : *sites) Compare(latest, &s);
}

std::vector<SiteStatus> ListSites(SyncDb* db, Catalog* catalog) {
  std::map<std::string, uint64_t> latest = HubLatest(catalog);
  std::vector<SiteRow> rows = db->SiteRows();
  std::vector<SiteStatus> out;
  out.reserve(rows.size());
  for (auto& row : rows) out.push_back(FromRow(std::move(row), latest));
  return out;
}

namespace {

nlohmann::json ReportJson(const SiteStatus& s) {
  nlohmann::json served = nlohmann::json::array();
  for (const auto& c : s.served) {
    served.push_back({{"channel", c.channel_id}, {"version", c.version}, {"latest", c.latest},
                      {"behind", c.behind}});
  }
  nlohmann::json last_error = nullptr;
  if (s.last_error) {
    last_error = {{"time", s.last_error->time}, {"level", s.last_error->level},
                  {"message", s.last_error->message}};
  }
  return {{"reported_at", s.reported_at}, {"received_at", s.report_received_at},
          {"via", s.report_via}, {"software", s.software}, {"disk_total", s.disk_total},
          {"disk_free", s.disk_free}, {"served", served}, {"behind", s.behind},
          {"errors", s.errors_logged}, {"last_error", last_error}};
}

constexpr std::array<std::string_view, 8> kSortNames = {
    "name", "state", "last_seen", "via", "behind", "software", "disk_free", "errors"};
constexpr std::array<std::string_view, 4> kFilterNames = {"all", "behind", "silent", "errors"};

// <0, 0, >0 as a's key is before, as, after b's (ascending).
int CompareKey(const SiteStatus& a, const SiteStatus& b, SiteSort sort) {
  auto three_way = [](const auto& x, const auto& y) { return x < y ? -1 : (y < x ? 1 : 0); };
  switch (sort) {
    case SiteSort::kName: return 0;
    case SiteSort::kState: return three_way(a.peer.revoked_at != 0, b.peer.revoked_at != 0);
    case SiteSort::kLastSeen: return three_way(a.peer.last_seen, b.peer.last_seen);
    case SiteSort::kLastVia: return a.peer.last_via.compare(b.peer.last_via);
    case SiteSort::kBehind: return three_way(a.behind, b.behind);
    case SiteSort::kSoftware: return a.software.compare(b.software);
    case SiteSort::kDiskFree: return three_way(a.disk_free, b.disk_free);
    case SiteSort::kErrors: return three_way(a.errors_logged, b.errors_logged);
  }
  return 0;
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool ContainsFolded(std::string_view text, std::string_view folded_needle) {
  auto it = std::search(text.begin(), text.end(), folded_needle.begin(), folded_needle.end(),
                        [](char t, char n) { return Lower(t) == n; });
  return it != text.end() || folded_needle.empty();
}

bool Passes(const SiteStatus& s, const SiteQuery& q, std::string_view needle) {
  if (s.peer.role != "site") return false;
  if (!ContainsFolded(s.peer.name, needle)) return false;
  switch (q.filter) {
    case SiteFilter::kAll: return true;
    case SiteFilter::kBehind: return s.behind > 0;
    case SiteFilter::kSilent: return SiteIsSilent(s, q.now);
    case SiteFilter::kErrors: return s.errors_logged > 0;
  }
  return true;
}

}  // namespace

nlohmann::json SiteJson(const SiteStatus& s, int64_t now) {
  const PeerInfo& p = s.peer;
  return {{"name", p.name}, {"key", p.key.Hex()}, {"role", p.role},
          {"state", p.revoked_at ? "revoked" : "active"},
          {"enrolled_at", p.enrolled_at}, {"revoked_at", p.revoked_at},
          {"last_seen", p.last_seen}, {"last_via", p.last_via}, {"silent", SiteIsSilent(s, now)},
          {"channels", s.channels}, {"report", s.reported ? ReportJson(s) : nlohmann::json(nullptr)}};
}

bool SiteIsSilent(const SiteStatus& s, int64_t now) {
  if (s.peer.revoked_at != 0 || s.peer.role != "site") return false;
  return s.peer.last_seen == 0 || now - s.peer.last_seen > kSilentAfterSeconds;
}

std::optional<SiteSort> ParseSiteSort(std::string_view text) {
  for (size_t i = 0; i < kSortNames.size(); ++i) {
    if (kSortNames[i] == text) return static_cast<SiteSort>(i);
  }
  return std::nullopt;
}

std::string_view SiteSortName(SiteSort sort) { return kSortNames[static_cast<size_t>(sort)]; }

std::optional<SiteFilter> ParseSiteFilter(std::string_view text) {
  for (size_t i = 0; i < kFilterNames.size(); ++i) {
    if (kFilterNames[i] == text) return static_cast<SiteFilter>(i);
  }
  return std::nullopt;
}

std::string_view SiteFilterName(SiteFilter filter) {
  return kFilterNames[static_cast<size_t>(filter)];
}

SitePage QuerySites(const std::vector<SiteStatus>& sites, const SiteQuery& q) {
  std::string needle(q.name_contains);
  for (char& c : needle) c = Lower(c);
  SitePage page;
  std::vector<const SiteStatus*> matched;
  matched.reserve(sites.size());
  for (const SiteStatus& s : sites) {
    page.count += s.peer.role == "site" ? 1 : 0;
    if (Passes(s, q, needle)) matched.push_back(&s);
  }
  page.matched = matched.size();
  int64_t per_page = std::clamp<int64_t>(q.per_page, 1, kMaxSitesPerPage);
  page.pages = std::max<int64_t>(1, (static_cast<int64_t>(matched.size()) + per_page - 1) / per_page);
  int64_t first = (std::max<int64_t>(q.page, 1) - 1) * per_page;
  if (first >= static_cast<int64_t>(matched.size())) return page;
  auto before = [&](const SiteStatus* a, const SiteStatus* b) {
    int key = CompareKey(*a, *b, q.sort);
    if (key != 0) return q.descending ? key > 0 : key < 0;
    int name = a->peer.name.compare(b->peer.name);
    if (name != 0) return q.sort == SiteSort::kName && q.descending ? name > 0 : name < 0;
    return a->peer.key.bytes < b->peer.key.bytes;
  };
  auto end = matched.begin() + std::min<int64_t>(first + per_page, static_cast<int64_t>(matched.size()));
  std::partial_sort(matched.begin(), end, matched.end(), before);
  page.rows.assign(matched.begin() + first, end);
  return page;
}

}  // namespace outpost
