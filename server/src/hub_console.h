// HubConsole: what the hub console's pages and JSON routes (hub_pages.h) do on a hub, as
// functions that return JSON and an HTTP status, so that a page and its /api/v1/hub twin can
// never differ (docs/hub-console.md). Each opens the hub's sync.db for its own call, as the
// CLI's `outpost hub …` commands do, and calls the same sync functions they call: Publish
// (publish.h), Enrol (enrolment.h), SyncDb::RevokePeer, the review (review.h), and
// DiffManifests (manifest_diff.h) over the signed manifests the catalog keeps.
//
// Publishing a folder can take minutes: it runs on a thread of its own, one at a time, and its
// state (running, done, failed, with its progress) is what GET /api/v1/hub/publish answers.
// Only subfolders of the publish root (server.toml `publish_root`, default DATA/publish) can be
// published, named by their folder name: never a path from the request (ResolvePublishFolder).
//
// Thread-safety: thread-safe. The publishing thread is joined by the destructor.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "outpost/base/status.h"
#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/site_list.h"
#include "outpost/sync/sync_db.h"

namespace outpost {

// An answer: the status (200, 201, 202, or the error's: 400, 404, 409, 500) and its JSON
// ({"error": "..."} for an error).
struct HubAnswer {
  int status = 200;
  nlohmann::json body;
  bool ok() const { return status < 300; }
  std::string Error() const;
};

// The most subfolders of the publish root the console lists.
inline constexpr size_t kMaxPublishFolders = 1000;

class HubConsole {
 public:
  // `store` and `catalog` must outlive it. `publish_root` "" means DATA/publish.
  HubConsole(std::filesystem::path data, std::filesystem::path publish_root, BlobStore* store,
             Catalog* catalog);
  ~HubConsole();

  const std::filesystem::path& publish_root() const { return publish_root_; }
  // The publishable folders: the root's subfolders whose names do not start with '.', sorted,
  // at most kMaxPublishFolders.
  std::vector<std::string> PublishFolders() const;
  // The folder named `name` under the root: one path segment, not hidden, a folder whose real
  // path (symbolic links followed) is directly inside the root's. kInvalidArgument otherwise.
  Result<std::filesystem::path> ResolvePublishFolder(std::string_view name) const;

  // ---- What each route does.
  HubAnswer Summary();                            // counts for the console's home
  HubAnswer Channels();                           // every channel with its versions
  HubAnswer Diff(const std::string& channel, int64_t from, int64_t to);
  HubAnswer PublishState();                       // the folders, and the last publish
  HubAnswer StartPublish(const std::string& folder, const std::string& channel);  // 202
  HubAnswer Enrolments();                         // live codes and enrolled sites
  // 201 {"name", "code", "expires_at", "address"}; with `file`, the enrolment file's bytes are
  // put there too (the route sends them as an attachment).
  HubAnswer Enrol(const std::string& name, int valid_days, std::string* file = nullptr);
  HubAnswer Revoke(const std::string& site);
  HubAnswer Review();                             // pending items, and the channels to adopt into
  HubAnswer Adopt(int64_t id, const std::string& channel, const std::string& topic);
  HubAnswer Decline(int64_t id, const std::string& reason);
  // One page of the table of schools (site_list.h): {"count", "matched", "page", "pages",
  // "per_page", "sort", "order", "filter", "q", "now", "silent_after_days", "sites": [SiteJson]}.
  // The schools are read from sync.db once and kept until sync.db or the hub's served versions
  // change (SyncDb::DataVersion), so a page of 10,000 schools costs a sort, not a read.
  HubAnswer Sites(const SiteQuery& query);
  // Views per channel per day summed across the schools' reports, for the `days` days up to
  // today: {"days", "from", "to", "total", "channels": [{"id", "title", "total",
  // "daily": [{"day", "views"}]}]}, by views, most first.
  HubAnswer Usage(int days);

  // Tests: waits until no publish is running.
  void WaitForPublish();

 private:
  struct Job;
  Result<std::unique_ptr<SyncDb>> OpenDb();
  void RunPublish(std::filesystem::path folder, std::string channel);
  nlohmann::json JobJson();

  std::filesystem::path data_, publish_root_;
  BlobStore* store_;
  Catalog* catalog_;
  std::mutex mu_;
  std::unique_ptr<Job> job_;  // guarded by mu_; null before the first publish
  std::thread worker_;        // the last publish's thread (joined before the next starts)
  std::mutex review_mu_;      // one review decision at a time in this process
  // The table of schools, cached (Sites).
  Result<std::shared_ptr<const std::vector<SiteStatus>>> CurrentSites();
  std::mutex sites_mu_;
  std::unique_ptr<SyncDb> sites_db_;  // kept open: its DataVersion says when the cache is stale
  int64_t sites_version_ = -1;
  std::map<std::string, uint64_t> sites_latest_;
  std::shared_ptr<const std::vector<SiteStatus>> sites_;
};

// A status for an error: 400 invalid, 404 not found, 409 exists or busy, 403 denied, else 500.
int HubStatusOf(const Status& st);

}  // namespace outpost
