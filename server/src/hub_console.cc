// The hub console's work (hub_console.h): each call answers JSON and an HTTP status.
#include "hub_console.h"

#include <algorithm>
#include <ctime>

#include <spdlog/spdlog.h>

#include "outpost/base/text.h"
#include "outpost/sync/enrolment.h"
#include "outpost/sync/manifest.h"
#include "outpost/sync/manifest_diff.h"
#include "outpost/sync/node.h"
#include "outpost/sync/publish.h"
#include "outpost/sync/review.h"
#include "outpost/sync/usage.h"

namespace outpost {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

HubAnswer Error(const Status& st) {
  int status = HubStatusOf(st);
  if (status == 500) spdlog::error("hub console: {}", st.message());
  return {status, {{"error", st.message()}}};
}

json ChangesJson(const std::vector<ManifestFileChange>& changes) {
  json out = json::array();
  for (const auto& c : changes) {
    out.push_back({{"path", c.path}, {"old_size", c.old_size}, {"new_size", c.new_size}});
  }
  return out;
}

json ReviewItemJson(const ReviewItem& r) {
  return {{"id", r.id},           {"site", r.site_name},   {"channel", r.channel_id},
          {"path", r.path},       {"version", r.version},  {"kind", r.kind},
          {"title", r.title},     {"description", r.description},
          {"language", r.language}, {"grade", r.grade},   {"subject", r.subject},
          {"size", r.size},       {"mime", r.mime},        {"excerpt", r.excerpt},
          {"seen_at", r.seen_at}, {"state", ReviewStateName(r.state)},
          {"reason", r.reason},   {"adopted_channel", r.adopted_channel},
          {"adopted_topic", r.adopted_topic}, {"adopted_path", r.adopted_path},
          {"adopted_version", r.adopted_version}};
}

}  // namespace

int HubStatusOf(const Status& st) {
  switch (st.code()) {
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kBusy:
    case StatusCode::kChanged: return 409;
    case StatusCode::kDenied: return 403;
    default: return 500;
  }
}

std::string HubAnswer::Error() const {
  return body.is_object() && body.contains("error") && body["error"].is_string()
             ? body["error"].get<std::string>()
             : std::string();
}

// ---- The publishing job.

struct HubConsole::Job {
  std::string folder, channel;
  std::string state = "running";  // "running", "done", "failed"
  int64_t started_at = 0, finished_at = 0;
  ImportProgress progress;
  std::string error;
  PublishResult result;
};

HubConsole::HubConsole(fs::path data, fs::path publish_root, BlobStore* store, Catalog* catalog)
    : data_(std::move(data)),
      publish_root_(publish_root.empty() ? data_ / "publish" : std::move(publish_root)),
      store_(store),
      catalog_(catalog) {}

HubConsole::~HubConsole() { WaitForPublish(); }

void HubConsole::WaitForPublish() {
  std::thread worker;
  {
    std::lock_guard lock(mu_);
    worker = std::move(worker_);
  }
  if (worker.joinable()) worker.join();
}

Result<std::unique_ptr<SyncDb>> HubConsole::OpenDb() {
  NodePaths paths(data_);
  auto db = SyncDb::Open(paths.sync_db);
  if (!db) return db.error();
  if (!(*db)->OwnRoot()) return NotAHub(paths);
  return db;
}

std::vector<std::string> HubConsole::PublishFolders() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(publish_root_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || !IsValidUtf8(name)) continue;
    if (!it->is_directory(ec)) continue;
    names.push_back(std::move(name));
    if (names.size() >= kMaxPublishFolders) break;
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<fs::path> HubConsole::ResolvePublishFolder(std::string_view name) const {
  auto refuse = [&] {
    return InvalidArgument("\"" + EscapeInvalidUtf8(name.substr(0, 200)) +
                           "\" is not a folder of the publish root " + publish_root_.string());
  };
  if (name.empty() || name.size() > 255 || name[0] == '.' || !IsValidUtf8(name) ||
      name.find_first_of(std::string_view("/\\\0", 3)) != std::string_view::npos) {
    return refuse();
  }
  std::error_code ec;
  fs::path root = fs::canonical(publish_root_, ec);
  if (ec) return NotFound("the publish root " + publish_root_.string() + " is not there");
  fs::path folder = fs::canonical(root / fs::path(std::string(name)), ec);
  if (ec || folder.parent_path() != root || !fs::is_directory(folder, ec)) return refuse();
  return folder;
}

json HubConsole::JobJson() {
  if (!job_) return nullptr;
  json out = {{"folder", job_->folder},
              {"channel", job_->channel},
              {"state", job_->state},
              {"started_at", job_->started_at},
              {"finished_at", job_->finished_at},
              {"files_done", job_->progress.files_done},
              {"files_total", job_->progress.files_total},
              {"bytes_done", job_->progress.bytes_done},
              {"bytes_total", job_->progress.bytes_total}};
  if (job_->state == "failed") out["error"] = job_->error;
  if (job_->state == "done") {
    out["result"] = {{"channel", job_->result.channel_id},
                     {"version", job_->result.version},
                     {"new_version", job_->result.new_version},
                     {"manifest", job_->result.manifest_hash.Hex()}};
  }
  return out;
}

HubAnswer HubConsole::PublishState() {
  json folders = PublishFolders();
  std::lock_guard lock(mu_);
  return {200, {{"root", publish_root_.string()}, {"folders", folders}, {"last", JobJson()}}};
}

HubAnswer HubConsole::StartPublish(const std::string& folder, const std::string& channel) {
  auto path = ResolvePublishFolder(folder);
  if (!path) return Error(path.error());
  if (!channel.empty() && !IsValidSiteName(channel)) {
    return Error(InvalidArgument("a channel id is a-z, 0-9 and '-'"));
  }
  std::lock_guard lock(mu_);
  if (job_ && job_->state == "running") {
    return Error({StatusCode::kBusy, "a publish is running already: " + job_->folder});
  }
  if (worker_.joinable()) worker_.join();  // finished: its state is in job_
  job_ = std::make_unique<Job>();
  job_->folder = folder;
  job_->channel = channel;
  job_->started_at = Now();
  worker_ = std::thread([this, p = *path, channel] { RunPublish(p, channel); });
  return {202, {{"last", JobJson()}}};
}

void HubConsole::RunPublish(fs::path folder, std::string channel) {
  ImportOptions options;
  options.channel_id = channel;
  options.progress = [this](const ImportProgress& p) {
    std::lock_guard lock(mu_);
    job_->progress = p;
  };
  Result<PublishResult> r = InvalidArgument("not run");
  try {
    r = Publish(NodePaths(data_), store_, catalog_, folder, options);
  } catch (const std::exception& e) {
    r = Internal(std::string("publishing stopped: ") + e.what());
  }
  std::lock_guard lock(mu_);
  job_->finished_at = Now();
  if (r) {
    job_->state = "done";
    job_->result = *r;
    spdlog::info("hub console: published {} as {} version {}", folder.string(), r->channel_id,
                 r->version);
  } else {
    job_->state = "failed";
    job_->error = r.error().message();
    spdlog::warn("hub console: publishing {} failed: {}", folder.string(), r.error().message());
  }
}

// ---- Channels and versions.

HubAnswer HubConsole::Summary() {
  auto db = OpenDb();
  if (!db) return Error(db.error());
  (void)RefreshReview(db->get(), catalog_);
  size_t sites = 0;
  for (const auto& p : (*db)->Peers()) sites += p.revoked_at == 0 && p.role == "site";
  return {200,
          {{"channels", catalog_->Channels().size()},
           {"pending_review", (*db)->ReviewItems(/*all=*/false).size()},
           {"pending_enrolments", (*db)->PendingEnrolments().size()},
           {"sites", sites}}};
}

HubAnswer HubConsole::Channels() {
  auto db = OpenDb();
  if (!db) return Error(db.error());
  auto site_channels = (*db)->SiteChannels();
  json out = json::array();
  for (const auto& c : catalog_->Channels()) {
    json versions = json::array();
    for (int64_t v : catalog_->Versions(c.id)) {
      versions.push_back({{"version", v},
                          {"served", v == c.served_version},
                          {"signed", catalog_->ManifestEnvelope(c.id, v).has_value()}});
    }
    out.push_back({{"id", c.id}, {"title", c.meta.title}, {"language", c.meta.language},
                   {"served_version", c.served_version}, {"files", c.files},
                   {"bytes", c.bytes}, {"from_site", site_channels.contains(c.id)},
                   {"versions", versions}});
  }
  return {200, {{"channels", out}}};
}

HubAnswer HubConsole::Diff(const std::string& channel, int64_t from, int64_t to) {
  auto manifest_of = [&](int64_t v) -> Result<Manifest> {
    auto envelope = catalog_->ManifestEnvelope(channel, v);
    if (!envelope) {
      return NotFound(channel + " has no signed version " + std::to_string(v) +
                      " on this hub (only signed versions can be compared)");
    }
    return DecodeEnvelopeManifest(*envelope);
  };
  auto a = manifest_of(from);
  if (!a) return Error(a.error());
  auto b = manifest_of(to);
  if (!b) return Error(b.error());
  ManifestDiff d = DiffManifests(*a, *b);
  return {200,
          {{"channel", channel}, {"from", from}, {"to", to},
           {"added", ChangesJson(d.added)}, {"removed", ChangesJson(d.removed)},
           {"changed", ChangesJson(d.changed)}, {"added_bytes", d.added_bytes},
           {"removed_bytes", d.removed_bytes}, {"size_change", d.size_change}}};
}

// ---- Schools: enrolment and revoking.

HubAnswer HubConsole::Enrolments() {
  auto db = OpenDb();
  if (!db) return Error(db.error());
  json pending = json::array(), sites = json::array();
  for (const auto& e : (*db)->PendingEnrolments()) {
    pending.push_back({{"name", e.site_name}, {"created_at", e.created_at},
                       {"expires_at", e.expires_at}});
  }
  for (const auto& p : (*db)->Peers()) {
    if (p.role != "site") continue;
    sites.push_back({{"name", p.name}, {"key", p.key.Hex()},
                     {"state", p.revoked_at ? "revoked" : "active"},
                     {"enrolled_at", p.enrolled_at}, {"revoked_at", p.revoked_at},
                     {"last_seen", p.last_seen}});
  }
  return {200, {{"pending", pending}, {"sites", sites}, {"address", (*db)->OwnAddress()}}};
}

HubAnswer HubConsole::Enrol(const std::string& name, int valid_days, std::string* file) {
  if (valid_days < 1 || valid_days > 365) {
    return Error(InvalidArgument("a code works for 1 to 365 days"));
  }
  auto db = OpenDb();
  if (!db) return Error(db.error());
  EnrolRequest request;
  request.site_name = name;
  request.ttl_seconds = int64_t{valid_days} * 24 * 60 * 60;
  request.file_bytes = file != nullptr;
  auto r = outpost::Enrol(NodePaths(data_), db->get(), request);
  if (!r) return Error(r.error());
  if (file) *file = std::move(r->file);
  spdlog::info("hub console: enrolment {} made for {}", file ? "file" : "code", name);
  return {201, {{"name", name}, {"code", r->code}, {"expires_at", r->expires_at},
                {"address", r->address}}};
}

HubAnswer HubConsole::Revoke(const std::string& site) {
  auto db = OpenDb();
  if (!db) return Error(db.error());
  auto before = (*db)->PendingEnrolments().size();
  Status st = (*db)->RevokePeer(site);
  if (!st.ok()) return Error(st);
  size_t cancelled = before - (*db)->PendingEnrolments().size();
  spdlog::info("hub console: revoked {} ({} code(s) cancelled)", site, cancelled);
  return {200, {{"name", site}, {"state", "revoked"}, {"cancelled_codes", cancelled}}};
}

// ---- The review list.

HubAnswer HubConsole::Review() {
  auto db = OpenDb();
  if (!db) return Error(db.error());
  Status st = RefreshReview(db->get(), catalog_);
  if (!st.ok()) return Error(st);
  json items = json::array(), channels = json::array();
  for (const auto& r : (*db)->ReviewItems(/*all=*/false)) items.push_back(ReviewItemJson(r));
  auto site_channels = (*db)->SiteChannels();
  for (const auto& c : catalog_->Channels()) {
    if (!site_channels.contains(c.id)) channels.push_back({{"id", c.id}, {"title", c.meta.title}});
  }
  return {200, {{"items", items}, {"channels", channels}}};
}

HubAnswer HubConsole::Adopt(int64_t id, const std::string& channel, const std::string& topic) {
  std::lock_guard lock(review_mu_);
  auto db = OpenDb();
  if (!db) return Error(db.error());
  if (Status st = RefreshReview(db->get(), catalog_); !st.ok()) return Error(st);
  AdoptRequest request{id, channel, topic, {}};
  auto r = AdoptReviewItem(NodePaths(data_), store_, catalog_, db->get(), request);
  if (!r) return Error(r.error());
  return {200, {{"item", ReviewItemJson(r->item)}, {"path", r->path},
                {"channel", r->published.channel_id}, {"version", r->published.version}}};
}

HubAnswer HubConsole::Decline(int64_t id, const std::string& reason) {
  std::lock_guard lock(review_mu_);
  auto db = OpenDb();
  if (!db) return Error(db.error());
  auto r = DeclineReviewItem(db->get(), id, reason);
  if (!r) return Error(r.error());
  return {200, {{"item", ReviewItemJson(*r)}}};
}

// ---- The table of schools, and their usage.

Result<std::shared_ptr<const std::vector<SiteStatus>>> HubConsole::CurrentSites() {
  std::lock_guard lock(sites_mu_);
  if (!sites_db_) {
    auto db = OpenDb();
    if (!db) return db.error();
    sites_db_ = std::move(*db);
  }
  int64_t version = sites_db_->DataVersion();
  std::map<std::string, uint64_t> latest = HubLatest(catalog_);
  if (!sites_ || version != sites_version_) {
    sites_ = std::make_shared<const std::vector<SiteStatus>>(ListSites(sites_db_.get(), catalog_));
    sites_version_ = version;
    sites_latest_ = std::move(latest);
  } else if (latest != sites_latest_) {
    auto copy = std::make_shared<std::vector<SiteStatus>>(*sites_);
    CompareServed(latest, copy.get());
    sites_ = std::move(copy);
    sites_latest_ = std::move(latest);
  }
  return sites_;
}

HubAnswer HubConsole::Sites(const SiteQuery& query) {
  auto sites = CurrentSites();
  if (!sites) return Error(sites.error());
  SitePage page = QuerySites(**sites, query);
  json rows = json::array();
  for (const SiteStatus* s : page.rows) rows.push_back(SiteJson(*s, query.now));
  return {200, {{"count", page.count}, {"matched", page.matched}, {"page", query.page},
                {"pages", page.pages}, {"per_page", query.per_page},
                {"sort", std::string(SiteSortName(query.sort))}, {"order", query.descending ? "desc" : "asc"},
                {"filter", std::string(SiteFilterName(query.filter))}, {"q", query.name_contains},
                {"now", query.now}, {"silent_after_days", kSilentAfterSeconds / 86400},
                {"sites", rows}}};
}

HubAnswer HubConsole::Usage(int days) {
  auto db = OpenDb();
  if (!db) return Error(db.error());
  int64_t to = UnixDay(Now()), from = to - days + 1;
  std::map<std::string, std::map<std::string, uint64_t>> by_channel;  // channel -> day -> views
  for (const ReportedUsage& u : (*db)->UsageAcrossSites(DayString(from), DayString(to))) {
    by_channel[u.channel_id][u.day] += u.views;
  }
  std::map<std::string, std::string> titles;
  for (const auto& c : catalog_->Channels()) titles[c.id] = c.meta.title;
  json channels = json::array();
  uint64_t total = 0;
  for (const auto& [id, views_by_day] : by_channel) {
    json daily = json::array();
    uint64_t sum = 0;
    for (int64_t day = from; day <= to; ++day) {
      auto it = views_by_day.find(DayString(day));
      uint64_t views = it == views_by_day.end() ? 0 : it->second;
      sum += views;
      daily.push_back({{"day", DayString(day)}, {"views", views}});
    }
    total += sum;
    auto title = titles.find(id);
    channels.push_back({{"id", id}, {"title", title == titles.end() ? id : title->second},
                        {"total", sum}, {"daily", daily}});
  }
  std::stable_sort(channels.begin(), channels.end(), [](const json& a, const json& b) {
    return a["total"].get<uint64_t>() > b["total"].get<uint64_t>();
  });
  return {200, {{"days", days}, {"from", DayString(from)}, {"to", DayString(to)},
                {"total", total}, {"channels", channels}}};
}

}  // namespace outpost
