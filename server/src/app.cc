// The parts every route handler shares (app.h): languages, pages, JSON, the 404 page, stored
// files and the caches in front of them.
#include "app.h"

#include "outpost/sync/node.h"

#include <cctype>
#include <ctime>

#include <spdlog/spdlog.h>

#include "delivery.h"
#include "http/url.h"
#include "outpost/sync/node.h"
#include "outpost/sync/sync_db.h"

namespace outpost {

namespace {

constexpr const char* kHtml = "text/html; charset=utf-8";
constexpr const char* kJson = "application/json; charset=utf-8";

// Our own pages: scripts, styles and everything else from the box itself only.
constexpr const char* kPagePolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self'; frame-src 'self'; worker-src 'self' blob:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'";

// Imported content that can run script (HTML pages, SVG, HTML5 apps): a sandbox without
// allow-same-origin gives it an opaque origin, so its scripts cannot read the box's cookies or
// pages, nor call /api as the learner; and it may load only from the box.
constexpr const char* kContentPolicy =
    "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads; "
    "default-src 'self' data: blob: 'unsafe-inline' 'unsafe-eval'; frame-ancestors 'self'";

// The type and subtype of a Content-Type, lower-cased, without parameters or blanks: MIME types
// are case-insensitive, and a manifest from elsewhere may spell one as it likes.
std::string EssenceOf(std::string_view mime) {
  mime = mime.substr(0, mime.find(';'));
  std::string out;
  for (char c : mime) {
    if (c == ' ' || c == '\t') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Whether a browser may run script in it: HTML, and every XML type (XHTML, SVG, MathML, any
// "+xml"), since an XML document can carry XHTML script.
bool RunsScript(std::string_view mime) {
  std::string type = EssenceOf(mime);
  return type == "text/html" || type == "text/xml" || type == "application/xml" ||
         type.ends_with("+xml");
}

std::string CookieValue(const http::Request& req, std::string_view name) {
  std::string cookies = req.get_header_value("Cookie");
  size_t pos = 0;
  while (pos < cookies.size()) {
    size_t end = cookies.find(';', pos);
    if (end == std::string::npos) end = cookies.size();
    std::string_view item(cookies.data() + pos, end - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.size() > name.size() && item.starts_with(name) && item[name.size()] == '=') {
      return std::string(item.substr(name.size() + 1));
    }
    pos = end + 1;
  }
  return "";
}

std::string NegotiatedCode(const I18n& i18n, const http::Request& req,
                           const BoxSettingsData& settings) {
  return i18n.Negotiate(CookieValue(req, "lang"), req.get_header_value("Accept-Language"),
                        settings.default_language);
}

}  // namespace

// The path and query of the request: the language switcher's way back, cache keys, log lines.
std::string RequestTarget(const http::Request& req) {
  std::string target = PercentEncodePath(req.path);
  std::string query;
  for (const auto& [k, v] : req.params) {
    query += query.empty() ? "?" : "&";
    query += PercentEncode(k, false) + "=" + PercentEncode(v, false);
  }
  return target + query;
}

void SeeOther(http::Response& res, const std::string& where) {
  res.set_redirect(where, 303);
  res.set_header("Cache-Control", "no-store");
}

void AddContentHeaders(http::Response& res, bool sandbox) {
  if (sandbox) res.set_header("Content-Security-Policy", kContentPolicy);
  // Content is public to every learner; apps in their sandbox (an opaque origin) may fetch
  // their own files. /api sends no such header, so sandboxed script cannot read it.
  res.set_header("Access-Control-Allow-Origin", "*");
}

// When the views counted in memory go to usage.db: every hour, or after 1,000 views if that
// comes first, and at shutdown. Each flush rewrites the pages of today's rows, so flushing once
// a minute cost up to ~40 KB a minute in a busy class (docs/storage.md, "What a running box
// writes"; decision 59-power).
constexpr std::chrono::seconds kViewFlushInterval = std::chrono::hours(1);
constexpr uint64_t kViewFlushAfterViews = 1000;

// How often a running server checks its catalog (quick_check; docs/cli.md gives its cost).
// Where the console looks for removable drives: the system's own files, or the same paths
// under drives_root (tests stand a folder in for a stick).
DriveSources DriveSourcesOf(const ServerConfig& config) {
  DriveSources sources;
  if (config.drives_root.empty()) return sources;
  std::filesystem::path root = config.drives_root;
  sources.mounts = root / "proc/self/mounts";
  sources.sys_block = root / "sys/block";
  sources.by_label = root / "dev/disk/by-label";
  return sources;
}

constexpr std::chrono::seconds kCatalogCheckInterval = std::chrono::hours(1);

App::App(const ServerConfig& config, BlobStore* store, Catalog* catalog, SyncDb* sync_db)
    : store_(store),
      catalog_(catalog),
      health_(std::make_unique<CatalogHealth>(catalog->path(), kCatalogCheckInterval)),
      assets_(config.web_root.empty() ? Assets::Embedded() : Assets::FromDisk(config.web_root)),
      i18n_(&assets_),
      renderer_(&assets_),
      views_(catalog, store),
      search_gate_(config.max_searches),
      portal_name_(config.portal_name),
      search_wait_(config.search_wait_ms),
      settings_(std::make_unique<BoxSettings>(store->root() / "box-settings.json")),
      started_(std::chrono::steady_clock::now()),
      is_hub_(IsHub(NodePaths(store->root()))) {
  views_.set_settings(settings_.get());
  auto accounts = AccountStore::Open(store->root() / "accounts.db");
  if (accounts) {
    accounts_ = std::move(*accounts);
  } else {
    spdlog::error("no one can log in: {}", accounts.error().message());
  }
  sync_db_ = sync_db;
  if (!sync_db_) {
    auto own = SyncDb::Open(NodePaths(store->root()).sync_db);
    if (own) {
      own_sync_db_ = std::move(*own);
      sync_db_ = own_sync_db_.get();
    } else {
      spdlog::error("the link policy cannot be read or changed: {}", own.error().message());
    }
  }
  UploadLimits upload_limits;
  upload_limits.max_upload_bytes = static_cast<uint64_t>(config.max_upload_mb) << 20;
  upload_limits.reserve_bytes = static_cast<uint64_t>(config.upload_reserve_mb) << 20;
  auto uploads = UploadStore::Open(store->root() / "uploads", upload_limits);
  if (uploads) {
    uploads_ = std::move(*uploads);
    int expired = uploads_->RemoveExpired(static_cast<int64_t>(std::time(nullptr)));
    if (expired > 0) spdlog::info("removed {} upload(s) left idle too long", expired);
  } else {
    spdlog::error("teachers cannot upload: {}", uploads.error().message());
  }
  if (is_hub_) {
    hub_ = std::make_unique<HubConsole>(store->root(), config.publish_root, store, catalog);
  }
  auto cache = CompressionCache::Open(store->root() / "cache");
  if (cache) {
    compression_ = std::move(*cache);
  } else {
    spdlog::warn("text files will be sent uncompressed: {}", cache.error().message());
  }
  jobs_ = std::make_unique<Jobs>(store->root(), store, catalog, DriveSourcesOf(config), sync_db_);
  OpenUsage(config);
}

void App::OpenUsage(const ServerConfig& config) {
  auto usage = UsageStore::Open(store_->root() / "usage.db");
  if (!usage) {
    spdlog::error("views will not be counted: {}", usage.error().message());
    return;
  }
  usage_ = std::move(*usage);
  if (config.count_views) {
    view_counter_ = std::make_unique<ViewCounter>(usage_.get(), kViewFlushInterval,
                                                  std::function<int64_t()>{}, kViewFlushAfterViews);
  }
}

App::~App() = default;

void App::CountView(const http::Request& req, const http::Response& res) const {
  if (!view_counter_ || req.method != "GET" || req.matches.size() < 3) return;
  if ((res.status != 200 && res.status != 304) || req.path.starts_with("/api/")) return;
  if (Catalog::ReadFailed()) return;  // answered with the trouble page after the handler
  view_counter_->Count(req.matches[1], req.matches[2]);
}

Status App::FlushViews() const {
  return view_counter_ ? view_counter_->Flush() : Status::Ok();
}

std::string App::SessionToken(const http::Request& req) const {
  return CookieValue(req, kSessionCookie);
}

std::optional<Session> App::SessionOf(const http::Request& req) const {
  if (!accounts_) return std::nullopt;
  std::string token = SessionToken(req);
  return token.empty() ? std::nullopt : accounts_->FindSession(token);
}

RequestLanguage App::LanguageOf(const http::Request& req) const {
  RequestLanguage lang;
  lang.code = NegotiatedCode(i18n_, req, *settings_->Current());
  lang.strings = i18n_.SharedStrings(lang.code);
  lang.view.strings = lang.strings.get();
  lang.view.code = lang.code;
  const I18n* i18n = &i18n_;
  std::string ui = lang.code;
  lang.view.language_name = [i18n, ui](const std::string& tag) {
    return i18n->LanguageName(tag, ui);
  };
  return lang;
}

// ---- Pages and JSON

// A page is kept under its language, the settings' epoch and its target: hiding a channel
// starts a new epoch, so no page made before it (a home page listing the channel) is served
// after. The epoch is read before the page is made, so a page made while the settings change is
// kept under the old epoch, which no request asks for again.
std::string App::PageKeyOf(const std::string& code, const http::Request& req) const {
  return code + "|" + std::to_string(settings_->epoch()) + "|" + RequestTarget(req);
}

std::optional<PageKey> App::CachedPage(const http::Request& req, const std::string& code,
                                       http::Response& res) const {
  PageKey key{PageKeyOf(code, req), catalog_->Generation()};
  if (auto page = pages_.Get(key.key, key.generation)) {
    SendRendered(req, res, std::move(page), 200, /*may_make=*/true);
    return std::nullopt;
  }
  return key;
}

bool App::FastCachedPage(const http::Request& req, http::Response& res) const {
  std::optional<uint64_t> generation = catalog_->RecentGeneration();
  if (!generation) return false;
  std::string code = NegotiatedCode(i18n_, req, *settings_->Current());
  auto page = pages_.Get(PageKeyOf(code, req), *generation);
  return page && SendRendered(req, res, std::move(page), 200, /*may_make=*/false);
}

void App::SendPage(const http::Request& req, http::Response& res, const std::string& page,
                   nlohmann::json view, const RequestLanguage& lang, int status,
                   const PageKey* cache) const {
  view["lang"] = lang.code;
  view["dir"] = i18n_.Dir(lang.code);
  view["languages"] = i18n_.LanguageLinks(lang.code, RequestTarget(req));
  view["assets"] = assets_.FrameUrls();
  if (!view.contains("query")) view["query"] = "";
  auto html = renderer_.RenderPage(page, view, lang.strings, lang.code);
  if (!html) {
    spdlog::error("rendering {}: {}", page, html.error().message());
    res.status = 500;
    res.set_content("Internal error", "text/plain; charset=utf-8");
    return;
  }
  auto rendered = std::make_shared<const RenderedPage>(std::move(*html), kHtml);
  // A page made from a read that failed (a damaged catalog) is answered with the trouble page
  // after the handler, and never kept: the next request must fail the same way, not hit it.
  if (cache && status == 200 && !Catalog::ReadFailed()) {
    pages_.Put(cache->key, cache->generation, rendered);
  }
  SendRendered(req, res, std::move(rendered), status, /*may_make=*/true);
}

void App::SendJson(const http::Request& req, http::Response& res, const nlohmann::json& view,
                   int status) const {
  std::string json = view.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  SendRendered(req, res, std::make_shared<const RenderedPage>(std::move(json), kJson), status,
               /*may_make=*/true);
}

bool App::SendRendered(const http::Request& req, http::Response& res,
                       std::shared_ptr<const RenderedPage> page, int status, bool may_make) const {
  ContentEncoding encoding = NegotiateEncoding(req.get_header_value("Accept-Encoding"));
  auto variant = page->Variant(encoding, may_make, &page_compressions_);
  if (!variant) return false;
  if (!*variant) encoding = ContentEncoding::kIdentity;
  std::string_view bytes = *variant ? std::string_view(**variant) : page->body();
  std::string etag = MakeEtag(page->tag(), encoding);
  res.status = status;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("Vary", "Accept-Encoding, Accept-Language, Cookie");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("ETag", etag);
  if (page->mime() == kHtml) {
    res.set_header("Content-Security-Policy", kPagePolicy);
    res.set_header("Referrer-Policy", "same-origin");
  }
  if (status == 200 && IfNoneMatchMatches(req.get_header_value("If-None-Match"), etag)) {
    res.status = 304;  // with the Content-Length a 200 would carry (RFC 9110 8.6)
    res.set_header("Content-Length", std::to_string(bytes.size()));
    return true;
  }
  if (encoding != ContentEncoding::kIdentity) {
    res.set_header("Content-Encoding", std::string(EncodingToken(encoding)));
  }
  std::string_view mime = page->mime();
  res.set_content_view(bytes, std::move(page), mime);
  return true;
}

void App::NotFound(const http::Request& req, http::Response& res, bool json) const {
  if (catalog_damaged()) return BoxTrouble(req, res, json);
  RequestLanguage lang = LanguageOf(req);
  if (json) return SendJson(req, res, {{"error", "not found"}}, 404);
  const ViewLanguage& t = lang.view;
  nlohmann::json view = {
      {"page_title", t.T("error_404_title")},
      {"message", t.T("error_404_text")},
      {"status", 404},
      {"breadcrumb", nlohmann::json::array({{{"title", t.T("home")}, {"url", "/"}}})}};
  SendPage(req, res, "error", view, lang, 404);
}

void App::FileNotFound(const http::Request& req, http::Response& res) const {
  if (catalog_damaged()) return BoxTrouble(req, res, false);
  res.status = 404;
  res.set_content("Not found", "text/plain; charset=utf-8");
}

void App::BoxTrouble(const http::Request& req, http::Response& res, bool json, int status) const {
  res = http::Response{};
  res.set_header("Cache-Control", "no-store");
  if (json) return SendJson(req, res, {{"error", "this box has a problem"}}, status);
  RequestLanguage lang = LanguageOf(req);
  const ViewLanguage& t = lang.view;
  nlohmann::json view = {
      {"page_title", t.T("error_box_title")},
      {"message", t.T("error_box_text")},
      {"status", status},
      {"breadcrumb", nlohmann::json::array({{{"title", t.T("home")}, {"url", "/"}}})}};
  SendPage(req, res, "error", view, lang, status);
}

void App::AnswerReadErrors(const http::Request& req, http::Response& res) const {
  Status error = Catalog::TakeReadError();
  if (!error.ok()) ReadFailed(req, res, error);
}

void App::ReadFailed(const http::Request& req, http::Response& res, const Status& error) const {
  health_->ReadFailed(RequestTarget(req), error);
  BoxTrouble(req, res, req.path.starts_with("/api/"));
}

// ---- Files

std::optional<std::optional<FileRef>> App::FindFile(const std::string& channel,
                                                    const std::string& path, bool may_wait) {
  std::string key = channel + "/" + path;
  std::optional<uint64_t> recent = catalog_->RecentGeneration();
  if (!recent && !may_wait) return std::nullopt;
  uint64_t generation = recent ? *recent : catalog_->Generation();
  {
    std::lock_guard lock(files_mu_);
    if (generation != files_generation_) {
      files_.clear();
      files_generation_ = generation;
    }
    auto it = files_.find(key);
    if (it != files_.end()) return it->second;
  }
  if (!may_wait) return std::nullopt;
  std::optional<FileRef> ref = LookUpFile(channel, path);
  if (Catalog::ReadFailed()) return ref;  // not kept: "not found" may be "could not read"
  std::lock_guard lock(files_mu_);
  if (generation == files_generation_) {
    if (files_.size() > 20000) files_.clear();
    files_[key] = ref;
  }
  return ref;
}

std::optional<FileRef> App::LookUpFile(const std::string& channel, const std::string& path) const {
  auto node = catalog_->NodeByPath(channel, path);
  if (!node || !node->blob) return std::nullopt;
  size_t slash = node->path.rfind('/');
  return FileRef{*node->blob, node->mime,
                 slash == std::string::npos ? node->path : node->path.substr(slash + 1)};
}

bool App::ServeBlobFile(const http::Request& req, http::Response& res, const Hash& hash,
                        const std::string& mime, bool immutable, const std::string& download_name,
                        bool may_wait) const {
  AddContentHeaders(res, RunsScript(mime));
  HotFiles::Lookup hot = hot_files_.Find(hash);
  if (hot.state == HotFiles::State::kUnknown) {
    if (!may_wait) return false;  // a worker reads it, once, and keeps it if it is small
    auto loaded = hot_files_.Load(hash, store_->PathOf(hash), mime);
    if (!loaded) return BlobTrouble(req, res, hash, loaded.error());
    hot.file = std::move(*loaded);
  }
  if (hot.file) {
    ServeMemory(req, res,
                {.data = hot.file->bytes, .tag = hot.file->tag, .mime = mime,
                 .immutable = immutable, .download_name = download_name, .owner = hot.file},
                &hot.file->variants);
    return true;
  }
  FileReply reply;
  auto path = store_->PathOf(hash);
  reply.path = path;
  reply.hash = hash;
  reply.mime = mime;
  reply.immutable = immutable;
  reply.download_name = download_name;
  reply.may_wait = may_wait;
  Status st = ServeFile(req, res, reply, compression_.get());
  if (st.code() == StatusCode::kBusy && !may_wait) return false;
  if (!st.ok()) return BlobTrouble(req, res, hash, st);
  return true;
}

// The catalog names a blob the store cannot give whole (moved aside by verify, deleted, damaged,
// or a garbled hash): never bytes, the error page and a line that names both.
bool App::BlobTrouble(const http::Request& req, http::Response& res, const Hash& hash,
                      const Status& why) const {
  spdlog::error("serving {}: blob {}: {}", RequestTarget(req), hash.Hex(), why.message());
  BoxTrouble(req, res, false, 500);
  return true;
}

std::shared_ptr<const CompressedVariants> App::AssetVariants(const AssetFile& file) {
  if (assets_.from_disk()) return nullptr;
  std::lock_guard lock(variants_mu_);
  auto& slot = variants_[file.hash];
  if (!slot) {
    slot = std::make_shared<const CompressedVariants>(CompressedVariants::Make(file.bytes, file.mime));
  }
  return slot;
}

}  // namespace outpost
