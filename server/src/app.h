// App: what the learner app's route handlers (routes.h) share, and the ways they answer.
//
// It holds the served library (Catalog, BlobStore), the view-models (Views), the templates
// (Renderer), the translations (I18n), the web-ui assets, the search gate and three caches:
// rendered pages and file paths, both until the catalog changes, and the compressed variants of
// the built-in assets. Its Send* functions give every answer of a kind the same headers: a page
// gets the box's own Content-Security-Policy, imported content the sandbox (AddContentHeaders).
//
// Thread-safety: handlers call it from the event loops and the workers at once. Everything in
// it is immutable after construction (views, renderer, assets, translations) or thread-safe
// (the catalog, the store, the caches, the gate).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "assets.h"
#include "catalog_health.h"
#include "compression_cache.h"
#include "auth.h"
#include "hot_files.h"
#include "hub_console.h"
#include "outpost/server/accounts.h"
#include "outpost/server/box_settings.h"
#include "http/http_message.h"
#include "i18n.h"
#include "jobs.h"
#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/server/config.h"
#include "outpost/sync/sync_db.h"
#include "outpost/sync/usage.h"
#include "page_cache.h"
#include "render.h"
#include "search_gate.h"
#include "uploads.h"
#include "view_counter.h"
#include "views.h"

namespace outpost {

// The interface language of one request (the `lang` cookie, then Accept-Language).
struct RequestLanguage {
  std::string code;                              // "fr"
  std::shared_ptr<const nlohmann::json> strings;  // its translation catalog
  ViewLanguage view;                             // what a view needs; points into `strings`
};

// The key and catalog generation under which a rendered page may be kept.
struct PageKey {
  std::string key;
  uint64_t generation;
};

// The request's path and query, percent-encoded: safe to log, and a page cache key.
std::string RequestTarget(const http::Request& req);

// A file of the served version, as /c/CHANNEL/PATH finds it.
struct FileRef {
  Hash blob;
  std::string mime;
  std::string name;  // the file name, for downloads
};

// Headers for imported content: with `sandbox` (content that can run script, an app's files)
// a Content-Security-Policy that gives it an opaque origin; and CORS, so that apps in their
// sandbox may fetch the box's files.
void AddContentHeaders(http::Response& res, bool sandbox);

// A form's answer (post, then redirect): 303 to `where`, never kept by a cache.
void SeeOther(http::Response& res, const std::string& where);

class App {
 public:
  // `store` and `catalog` must outlive the App. `sync_db` too, if given: the process's one
  // connection to DATA/sync/sync.db (SQLite's POSIX locks are per process: a second connection
  // opened and closed beside one in use would drop its locks). None given: the App opens its own.
  App(const ServerConfig& config, BlobStore* store, Catalog* catalog, SyncDb* sync_db = nullptr);
  ~App();

  BlobStore* store() const { return store_; }
  Catalog* catalog() const { return catalog_; }
  Views& views() { return views_; }
  const I18n& i18n() const { return i18n_; }
  const Assets& assets() const { return assets_; }
  // A ticket to run a search, or an empty one if none came free within `wait` (search_gate.h).
  SearchGate::Ticket EnterSearch(std::chrono::milliseconds wait) { return search_gate_.Enter(wait); }
  std::chrono::milliseconds search_wait() const { return search_wait_; }

  RequestLanguage LanguageOf(const http::Request& req) const;
  // The box's name for the captive portal (ServerConfig::portal_name, portal.h); "" for none.
  const std::string& portal_name() const { return portal_name_; }
  // Whether the data folder was a hub when the server started (`outpost hub init`): its
  // accounts are then publishers and hub admins, and the hub console answers (hub_pages.h).
  bool is_hub() const { return is_hub_; }
  // The hub console's work (hub_console.h); null on a box.
  HubConsole* hub() const { return hub_.get(); }

  // ---- The coordinator's console (box_pages.h).
  // Hidden channels and the default language (box_settings.h): never null.
  BoxSettings& settings() const { return *settings_; }
  // Since the App was made (the server's start).
  std::chrono::steady_clock::duration uptime() const {
    return std::chrono::steady_clock::now() - started_;
  }

  // ---- Accounts (accounts.h, auth.h).
  // The account store, or null if DATA/accounts.db could not be opened (logged at start).
  AccountStore* accounts() const { return accounts_.get(); }
  // Teachers' uploads not yet placed (DATA/uploads), or null if the folder could not be opened.
  UploadStore* uploads() const { return uploads_.get(); }
  // DATA/sync/sync.db (the link policy, policy_routes.h), or null if it could not be opened
  // (logged at start).
  SyncDb* sync_db() const { return sync_db_; }
  LoginLimiter& login_limiter() const { return login_limiter_; }
  // The console's long actions: a sync, a stick written or read (jobs.h).
  Jobs& jobs() const { return *jobs_; }
  // The session cookie's value ("" if none), and the live session it names.
  std::string SessionToken(const http::Request& req) const;
  std::optional<Session> SessionOf(const http::Request& req) const;

  // ---- Pages and JSON.
  // Sends the cached page and returns nullopt, or returns the key to cache the page under.
  std::optional<PageKey> CachedPage(const http::Request& req, const std::string& code,
                                    http::Response& res) const;
  // On an event loop: answers from the page cache without waiting, or returns false.
  bool FastCachedPage(const http::Request& req, http::Response& res) const;
  // Renders templates/`page` with the frame's fields added; keeps it under `cache` if given.
  // Pages and JSON go out gzip- or zstd-compressed when the client takes it, with an ETag per
  // coding (page_cache.h); a cached page keeps its variants, so it is compressed once.
  void SendPage(const http::Request& req, http::Response& res, const std::string& page,
                nlohmann::json view, const RequestLanguage& lang, int status = 200,
                const PageKey* cache = nullptr) const;
  void SendJson(const http::Request& req, http::Response& res, const nlohmann::json& view,
                int status = 200) const;
  // The 404 page (or {"error": "not found"} with `json`); on a damaged catalog, which may have
  // lost what was asked, BoxTrouble's page instead.
  void NotFound(const http::Request& req, http::Response& res, bool json) const;
  // A file that is not there: a short text (a broken image, not a page); on a damaged catalog,
  // BoxTrouble's page instead.
  void FileNotFound(const http::Request& req, http::Response& res) const;
  // The "something is wrong with this box" page (or {"error": "this box has a problem"} with
  // `json`), with `status` (503: the catalog; 500: a file the catalog names cannot be read),
  // in place of whatever `res` held.
  void BoxTrouble(const http::Request& req, http::Response& res, bool json,
                  int status = 503) const;

  // ---- The catalog's health (catalog_health.h).
  // Damaged, as the last check or a failed read found it.
  bool catalog_damaged() const { return health_->damaged(); }
  // After a handler: if one of its catalog reads failed (Catalog::TakeReadError), logs it and
  // answers BoxTrouble's page instead of what the handler made of the missing rows.
  void AnswerReadErrors(const http::Request& req, http::Response& res) const;
  // A read that failed: logs it and answers BoxTrouble's page.
  void ReadFailed(const http::Request& req, http::Response& res, const Status& error) const;

  // ---- Files.
  // The file at CHANNEL/PATH of the served version, through the path cache. With !may_wait
  // (on an event loop) it answers only from the cache: nullopt when that would need the
  // catalog; else the file, or nullopt inside for "no such file".
  std::optional<std::optional<FileRef>> FindFile(const std::string& channel,
                                                 const std::string& path, bool may_wait);
  // Serves a stored blob (ranges, ETags, compression: delivery.h). False only with !may_wait,
  // when answering needs a worker (see FileReply::may_wait).
  bool ServeBlobFile(const http::Request& req, http::Response& res, const Hash& hash,
                     const std::string& mime, bool immutable, const std::string& download_name,
                     bool may_wait) const;
  // Answers the error page for a blob the store cannot give, logging why; true.
  bool BlobTrouble(const http::Request& req, http::Response& res, const Hash& hash,
                   const Status& why) const;
  // A built-in asset's compressed variants, made once (none for assets read from disk).
  std::shared_ptr<const CompressedVariants> AssetVariants(const AssetFile& file);

  // ---- Usage (view_counter.h, outpost/sync/usage.h).
  // DATA/usage.db, or null if it could not be opened (logged at start).
  UsageStore* usage() const { return usage_.get(); }
  // Whether views are being counted (count_views, and usage.db opened).
  bool counting_views() const { return view_counter_ != nullptr; }
  // Counts `req` as a view if it is one: a GET (not HEAD) of a resource page (not its JSON
  // twin) answered 200 or 304 in `res`, while counting is on (ServerConfig::count_views).
  void CountView(const http::Request& req, const http::Response& res) const;
  // Adds the views counted so far to usage.db now (the console does, before it reads).
  Status FlushViews() const;

  // How many times a page or view has been compressed since start (tests, stats).
  uint64_t page_compressions() const { return page_compressions_.load(); }

 private:
  // Sends `page` in the coding the client prefers, with its ETag (304 when If-None-Match names
  // it). False only with !may_make, when that coding's variant is still to be made.
  bool SendRendered(const http::Request& req, http::Response& res,
                    std::shared_ptr<const RenderedPage> page, int status, bool may_make) const;
  void OpenUsage(const ServerConfig& config);
  std::string PageKeyOf(const std::string& code, const http::Request& req) const;
  std::optional<FileRef> LookUpFile(const std::string& channel, const std::string& path) const;

  BlobStore* store_;
  Catalog* catalog_;
  std::unique_ptr<CatalogHealth> health_;
  Assets assets_;
  I18n i18n_;
  Renderer renderer_;
  Views views_;
  SearchGate search_gate_;
  std::string portal_name_;
  std::chrono::milliseconds search_wait_;
  std::unique_ptr<BoxSettings> settings_;
  std::chrono::steady_clock::time_point started_;
  bool is_hub_ = false;
  std::unique_ptr<HubConsole> hub_;
  std::unique_ptr<CompressionCache> compression_;
  std::unique_ptr<AccountStore> accounts_;
  std::unique_ptr<UploadStore> uploads_;
  std::unique_ptr<SyncDb> own_sync_db_;
  SyncDb* sync_db_ = nullptr;
  mutable LoginLimiter login_limiter_;
  mutable PageCache pages_;
  mutable HotFiles hot_files_;  // small blobs, checked and held in memory
  mutable std::atomic<uint64_t> page_compressions_{0};
  std::unique_ptr<UsageStore> usage_;
  std::unique_ptr<ViewCounter> view_counter_;  // after usage_: its last flush goes there

  // /c/CHANNEL/PATH -> the blob and type, until the catalog changes: file requests (a video's
  // ranges, a page's images) then skip the catalog entirely.
  std::mutex files_mu_;
  uint64_t files_generation_ = 0;
  std::unordered_map<std::string, std::optional<FileRef>> files_;

  std::mutex variants_mu_;
  std::map<std::string, std::shared_ptr<const CompressedVariants>> variants_;  // by asset hash

  // Last: destroyed first, so a running job is cancelled and joined while the rest still holds.
  std::unique_ptr<Jobs> jobs_;
};

}  // namespace outpost
