// The route table and its handlers (routes.h), in three groups: pages and their view-models,
// the small JSON API, and bytes (web-ui assets, files by path or hash, files inside app zips).
#include "routes.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <string_view>

#include <spdlog/spdlog.h>

#include "account_routes.h"
#include "box_pages.h"
#include "hub_pages.h"
#include "upload_routes.h"
#include "usage_routes.h"
#include "material_routes.h"
#include "policy_routes.h"
#include "teacher_pages.h"
#include "job_routes.h"
#include "app.h"
#include "delivery.h"
#include "pager.h"
#include "portal.h"
#include "http/http_transport.h"
#include "outpost/base/file.h"
#include "outpost/base/text.h"
#include "outpost/content/sniff.h"
#include "outpost/content/zip_archive.h"

namespace outpost {

namespace {

using http::BodySink;
using http::Request;
using http::Response;

// The most a streamed request may carry; each route's own limit is smaller (an upload's
// length is checked against UploadLimits before a byte is taken).
constexpr uint64_t kMaxStreamedBody = 64ull << 30;

// A catalog path from a URL path tail: must be valid UTF-8 with no empty, "." or ".."
// segments (the catalog would not find those anyway; refusing them early is clearer).
bool CleanPath(const std::string& path) { return path.empty() || IsSafeEntryPath(path); }

// A channel the coordinator hid from learners (box_settings.h): its files are 404 too.
bool Hidden(const App& app, const std::string& channel) {
  return app.settings().Current()->Hidden(channel);
}

// A page's twin under /api/v1 answers the page's view-model as JSON.
bool IsApi(const Request& req) { return req.path.starts_with("/api/"); }

// A file inside an app's zip that cannot be given: a short text (a broken image, not a page).
void ZipEntryNotFound(Response& res, int status) {
  res.status = status;
  res.set_content("Not found", "text/plain; charset=utf-8");
}

// ---- Pages (and their view-models under /api/v1). On an event loop, a page is answered only
// from the page cache; it is rendered on a worker.

// A page of a list: `?page=N` (pager.h); 0 for a value that names no page.
int64_t PageOf(const Request& req) { return ParsePageNumber(req.get_param_value("page")); }

bool Home(App& app, const Request& req, Response& res, bool on_loop) {
  if (on_loop) return app.FastCachedPage(req, res);
  bool json = IsApi(req);
  RequestLanguage lang = app.LanguageOf(req);
  std::optional<PageKey> key;
  if (!json && !(key = app.CachedPage(req, lang.code, res))) return true;
  auto view = app.views().Home(lang.view, PageOf(req));
  if (!view) {
    app.NotFound(req, res, json);
  } else if (json) {
    app.SendJson(req, res, *view);
  } else {
    app.SendPage(req, res, "home", std::move(*view), lang, 200, &*key);
  }
  return true;
}

bool Topic(App& app, const Request& req, Response& res, bool on_loop) {
  if (on_loop) return app.FastCachedPage(req, res);
  bool json = IsApi(req);
  std::string channel = req.matches[1], path = req.matches[2];
  while (!path.empty() && path.back() == '/') path.pop_back();
  RequestLanguage lang = app.LanguageOf(req);
  std::optional<PageKey> key;
  if (!json && !(key = app.CachedPage(req, lang.code, res))) return true;
  auto view =
      CleanPath(path) ? app.views().Topic(lang.view, channel, path, PageOf(req)) : std::nullopt;
  if (!view) {
    app.NotFound(req, res, json);
  } else if (json) {
    app.SendJson(req, res, *view);
  } else {
    app.SendPage(req, res, "topic", std::move(*view), lang, 200, &*key);
  }
  return true;
}

// A resource page; POSTed, an exercise's answers (form fields q0, q1, ...), checked on the box.
// A page opened is counted (App::CountView), from the page cache too.
bool Resource(App& app, const Request& req, Response& res, bool on_loop) {
  if (on_loop) {
    if (!app.FastCachedPage(req, res)) return false;
    app.CountView(req, res);
    return true;
  }
  bool json = IsApi(req), posted = req.method == "POST";
  std::string channel = req.matches[1], path = req.matches[2];
  RequestLanguage lang = app.LanguageOf(req);
  std::optional<PageKey> key;
  if (!json && !posted && !(key = app.CachedPage(req, lang.code, res))) {
    app.CountView(req, res);
    return true;
  }
  std::map<std::string, std::string> answers;
  if (posted) {
    for (const auto& [k, v] : req.params) answers[k] = v;
  }
  auto view = CleanPath(path) && !path.empty()
                  ? app.views().Resource(lang.view, channel, path, posted ? &answers : nullptr)
                  : std::optional<nlohmann::json>();
  if (!view) {  // an exercise whose file cannot be read whole: never a page made without it
    spdlog::error("serving {}: {}", RequestTarget(req), view.error().message());
    app.BoxTrouble(req, res, json, 500);
  } else if (!*view) {
    app.NotFound(req, res, json);
  } else if (json) {
    app.SendJson(req, res, **view);
  } else {
    app.SendPage(req, res, "resource", std::move(**view), lang, 200, key ? &*key : nullptr);
  }
  if (!posted) app.CountView(req, res);
  return true;
}

SearchRequest SearchRequestOf(const Request& req) {
  SearchRequest request;
  request.query = SanitizeUtf8(req.get_param_value("q").substr(0, 200));
  request.filters.channel_id = req.get_param_value("channel");
  request.filters.language = req.get_param_value("language");
  request.filters.kind = req.get_param_value("kind");
  request.filters.grade = req.get_param_value("grade");
  return request;
}

// Searches wait briefly at the gate (search_gate.h); past it the answer is "busy", a 503.
bool Search(App& app, const Request& req, Response& res, bool) {
  RequestLanguage lang = app.LanguageOf(req);
  SearchRequest request = SearchRequestOf(req);
  nlohmann::json view;
  int status = 200;
  if (auto ticket = app.EnterSearch(app.search_wait())) {
    view = app.views().Search(lang.view, request);
    // A damaged catalog may have lost what was searched for: never "no results" then.
    if (view["empty"] == true && app.catalog_damaged()) {
      app.BoxTrouble(req, res, IsApi(req));
      return true;
    }
  } else {
    view = app.views().SearchBusy(lang.view, request);
    status = 503;
    res.set_header("Retry-After", "1");
  }
  if (IsApi(req)) {
    app.SendJson(req, res, view, status);
  } else {
    app.SendPage(req, res, "search", std::move(view), lang, status);
  }
  return true;
}

// ---- The JSON API that has no page.

// Suggestions as you type never wait at the search gate.
bool Suggest(App& app, const Request& req, Response& res, bool) {
  std::string q = SanitizeUtf8(req.get_param_value("q").substr(0, 100));
  auto ticket = app.EnterSearch(std::chrono::milliseconds(0));
  if (!ticket) {
    res.set_header("Retry-After", "1");
    nlohmann::json busy = {{"query", q}, {"suggestions", nlohmann::json::array()}, {"busy", true}};
    app.SendJson(req, res, busy, 503);
    return true;
  }
  app.SendJson(req, res, app.views().Suggest(q));
  return true;
}

bool Channels(App& app, const Request& req, Response& res, bool) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : app.catalog()->Channels()) {
    if (Hidden(app, c.id)) continue;
    out.push_back({{"id", c.id},
                   {"version", c.served_version},
                   {"title", c.meta.title},
                   {"language", c.meta.language},
                   {"files", c.files},
                   {"bytes", c.bytes},
                   {"url", TopicUrl(c.id, "")}});
  }
  app.SendJson(req, res, out);
  return true;
}

// /lang/CODE?back=PATH: the interface language in a cookie, then back where the learner was.
bool ChooseLanguage(App& app, const Request& req, Response& res, bool) {
  std::string code = req.matches[1];
  if (app.i18n().Known(code)) {
    res.set_header("Set-Cookie",
                   "lang=" + code + "; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly");
  }
  res.set_redirect(LocalPath(req.get_param_value("back")), 303);
  res.set_header("Cache-Control", "no-store");
  return true;
}

// ---- Bytes.

// Web-ui assets are in memory: always answered on the event loop (a missing one gets the 404
// page from a worker, through the error handler).
bool Asset(App& app, const Request& req, Response& res, bool) {
  auto file = app.assets().ResolveStatic(req.path);
  if (!file) {
    res.status = 404;
    return true;
  }
  struct Held {
    AssetFile file;
    std::shared_ptr<const CompressedVariants> variants;
  };
  auto keep = std::make_shared<Held>(Held{*file, app.AssetVariants(*file)});
  MemoryReply reply;
  reply.data = keep->file.bytes;
  reply.tag = keep->file.hash;
  reply.mime = keep->file.mime;
  reply.immutable = true;
  reply.owner = keep;
  ServeMemory(req, res, reply, keep->variants.get());
  return true;
}

// On the event loop when the path is in the path cache and no compressed variant has to be
// made first; otherwise on a worker.
bool FileByPath(App& app, const Request& req, Response& res, bool on_loop) {
  std::string channel = req.matches[1], path = req.matches[2];
  std::optional<FileRef> file;
  if (CleanPath(path) && !Hidden(app, channel)) {
    auto found = app.FindFile(channel, path, /*may_wait=*/!on_loop);
    if (!found) return false;
    file = std::move(*found);
  }
  if (!file) {
    app.FileNotFound(req, res);
    return true;
  }
  return app.ServeBlobFile(req, res, file->blob, file->mime, /*immutable=*/false,
                           req.has_param("download") ? file->name : "", !on_loop);
}

// A blob has no name: its type comes from its first bytes (thumbnails are images).
std::string SniffedMime(const std::filesystem::path& path) {
  uint8_t head[kSniffBytes];
  ssize_t n = 0;
  if (int fd = OpenForReadingNoAtime(path.c_str()); fd >= 0) {
    n = ::pread(fd, head, sizeof head, 0);
    ::close(fd);
  }
  return DetectKind("", {head, static_cast<size_t>(std::max<ssize_t>(n, 0))}).mime;
}

// Only what a served version names (a file or a thumbnail): the store also holds older and
// staged versions, withdrawn ones until gc, and at a hub the schools' uploads.
bool Blob(App& app, const Request& req, Response& res, bool on_loop) {
  auto hash = Hash::FromHex(req.matches[1]);
  auto served = hash ? app.catalog()->IsServedBlob(*hash) : Result<bool>(false);
  if (!served) {
    (void)Catalog::TakeReadError();  // the same error, answered here
    app.ReadFailed(req, res, served.error());
    return true;
  }
  if (!*served || !app.store()->Contains(*hash)) {
    app.FileNotFound(req, res);
    return true;
  }
  std::string mime = SniffedMime(app.store()->PathOf(*hash));
  return app.ServeBlobFile(req, res, *hash, mime, /*immutable=*/true, "", !on_loop);
}

// "path/to/app.zip/inner/path": the blob of the first prefix that is an HTML5 app of `channel`,
// and the path inside it.
struct AppEntry {
  Hash zip;
  std::string inner;
};
std::optional<AppEntry> FindAppEntry(Catalog* catalog, const std::string& channel,
                                     const std::string& rest) {
  for (size_t pos = rest.find('/'); pos != std::string::npos; pos = rest.find('/', pos + 1)) {
    std::string zip_path = rest.substr(0, pos);
    if (!CleanPath(zip_path)) break;
    auto node = catalog->NodeByPath(channel, zip_path);
    if (node && node->kind == NodeKind::kApp && node->blob) {
      return AppEntry{*node->blob, rest.substr(pos + 1)};
    }
  }
  return std::nullopt;
}

// /app/CHANNEL/ZIP/INNER: a file inside an HTML5 app's zip, read from the zip (never unpacked
// to disk) and served from memory, always in the sandbox.
bool AppFile(App& app, const Request& req, Response& res, bool) {
  auto entry = Hidden(app, req.matches[1])
                   ? std::nullopt
                   : FindAppEntry(app.catalog(), req.matches[1], req.matches[2]);
  if (!entry || !IsSafeEntryPath(entry->inner)) {
    app.FileNotFound(req, res);
    return true;
  }
  auto zip = ZipArchive::Open(app.store()->PathOf(entry->zip));
  auto bytes = zip ? (*zip)->Read(entry->inner) : Result<std::string>(zip.error());
  if (!bytes) {
    ZipEntryNotFound(res, bytes.error().code() == StatusCode::kNotFound ? 404 : 500);
    return true;
  }
  struct Held {
    std::string data, tag, mime;
  };
  auto held = std::make_shared<Held>();
  held->data = std::move(*bytes);
  held->tag = Hash::Of(held->data).Hex();
  held->mime = AssetMimeType(entry->inner);
  AddContentHeaders(res, /*sandbox=*/true);
  MemoryReply reply;
  reply.data = held->data;
  reply.tag = held->tag;
  reply.mime = held->mime;
  reply.owner = held;
  ServeMemory(req, res, reply, nullptr);
  return true;
}

constexpr bool kLoopFirst = true, kWorker = false;
constexpr Access kAnyone = Access::kAnyone, kLoggedIn = Access::kLoggedIn,
                 kCoordinator = Access::kCoordinator, kAccount = Access::kAccount,
                 kPublisher = Access::kPublisher, kHubAdmin = Access::kHubAdmin;

// In the order they are matched.
const Route kRoutes[] = {
    // Pages, and their view-models under /api/v1.
    {"GET", "/", kLoopFirst, Home, kAnyone},
    {"GET", R"(/t/([a-z0-9-]+)/?(.*))", kLoopFirst, Topic, kAnyone},
    {"GET", R"(/api/v1/t/([a-z0-9-]+)/?(.*))", kWorker, Topic, kAnyone},
    {"GET", R"(/r/([a-z0-9-]+)/(.+))", kLoopFirst, Resource, kAnyone},
    {"POST", R"(/r/([a-z0-9-]+)/(.+))", kWorker, Resource, kAnyone},
    {"GET", R"(/api/v1/r/([a-z0-9-]+)/(.+))", kWorker, Resource, kAnyone},
    {"POST", R"(/api/v1/r/([a-z0-9-]+)/(.+))", kWorker, Resource, kAnyone},
    {"GET", "/search", kWorker, Search, kAnyone},
    {"GET", "/api/v1/search", kWorker, Search, kAnyone},
    // The rest of the API.
    {"GET", "/api/v1/suggest", kWorker, Suggest, kAnyone},
    {"GET", "/api/v1/home", kWorker, Home, kAnyone},
    {"GET", "/api/v1/channels", kWorker, Channels, kAnyone},
    {"GET", R"(/lang/([a-zA-Z-]{2,16}))", kWorker, ChooseLanguage, kAnyone},
    // Accounts (account_routes.h, docs/accounts.md).
    {"POST", "/api/v1/login", kWorker, account_routes::Login, kAnyone},
    {"POST", "/api/v1/setup", kWorker, account_routes::SetUp, kAnyone},
    {"POST", "/api/v1/logout", kWorker, account_routes::Logout, kAccount},
    {"GET", "/api/v1/me", kWorker, account_routes::Me, kAccount},
    {"GET", "/api/v1/users", kWorker, account_routes::ListUsers, kCoordinator},
    {"POST", "/api/v1/users", kWorker, account_routes::AddUser, kCoordinator},
    {"POST", R"(/api/v1/users/([a-z0-9._-]+)/disable)", kWorker, account_routes::DisableUser,
     kCoordinator},
    {"POST", R"(/api/v1/users/([a-z0-9._-]+)/reset)", kWorker, account_routes::ResetUser,
     kCoordinator},
    // Uploads: tus 1.0 (upload_routes.h, docs/web-api.md "Uploads").
    {"OPTIONS", "/api/v1/uploads", kWorker, upload_routes::Options, kLoggedIn},
    {"POST", "/api/v1/uploads", kWorker, upload_routes::Create, kLoggedIn},
    {"GET", "/api/v1/uploads", kWorker, upload_routes::List, kLoggedIn},
    {"GET", R"(/api/v1/uploads/([0-9a-f]{32}))", kWorker, upload_routes::Show, kLoggedIn},
    {"DELETE", R"(/api/v1/uploads/([0-9a-f]{32}))", kWorker, upload_routes::Remove, kLoggedIn},
    {"PATCH", R"(/api/v1/uploads/([0-9a-f]{32}))", kWorker, nullptr, kLoggedIn,
     upload_routes::Append},
    {"POST", "/api/v1/uploads/form", kWorker, nullptr, kLoggedIn, upload_routes::Form},
    // Teachers' materials (material_routes.h, docs/web-api.md).
    {"GET", "/api/v1/materials", kWorker, material_routes::List, kLoggedIn},
    {"POST", "/api/v1/materials", kWorker, material_routes::Add, kLoggedIn},
    {"POST", R"(/api/v1/materials/(.+)/edit)", kWorker, material_routes::Edit, kLoggedIn},
    {"POST", R"(/api/v1/materials/(.+)/move)", kWorker, material_routes::Move, kLoggedIn},
    {"POST", R"(/api/v1/materials/(.+)/delete)", kWorker, material_routes::Delete, kLoggedIn},
    // The console's long actions (job_routes.h, docs/console-actions.md).
    {"GET", "/admin/sync", kWorker, job_routes::SyncPage, kCoordinator},
    {"POST", "/admin/sync", kWorker, job_routes::SyncForm, kCoordinator},
    {"POST", "/admin/jobs/cancel", kWorker, job_routes::CancelForm, kCoordinator},
    {"GET", "/admin/usb", kWorker, job_routes::UsbPage, kCoordinator},
    {"POST", "/admin/usb/write", kWorker, job_routes::UsbWriteForm, kCoordinator},
    {"POST", "/admin/usb/continue", kWorker, job_routes::UsbContinueForm, kCoordinator},
    {"POST", "/admin/usb/read", kWorker, job_routes::UsbReadForm, kCoordinator},
    {"GET", "/api/v1/admin/jobs", kWorker, job_routes::JobsJson, kCoordinator},
    {"POST", "/api/v1/admin/sync", kWorker, job_routes::StartSyncJson, kCoordinator},
    {"DELETE", "/api/v1/admin/sync", kWorker, job_routes::CancelJson, kCoordinator},
    {"POST", "/api/v1/admin/jobs/cancel", kWorker, job_routes::CancelJson, kCoordinator},
    {"GET", "/api/v1/admin/drives", kWorker, job_routes::DrivesJson, kCoordinator},
    {"POST", "/api/v1/admin/usb/export", kWorker, job_routes::UsbExportJson, kCoordinator},
    {"POST", "/api/v1/admin/usb/import", kWorker, job_routes::UsbImportJson, kCoordinator},
    // Teachers' and coordinators' pages (teacher_pages.h): plain forms over the APIs above.
    {"GET", "/login", kWorker, teacher_pages::LoginPage, kAnyone},
    {"POST", "/login", kWorker, teacher_pages::LoginForm, kAnyone},
    {"GET", "/setup", kWorker, teacher_pages::SetupPage, kAnyone},
    {"POST", "/setup", kWorker, teacher_pages::SetupForm, kAnyone},
    {"POST", "/logout", kWorker, teacher_pages::LogoutForm, kAccount},
    {"GET", "/teach/?", kWorker, teacher_pages::TeachPage, kLoggedIn},
    {"POST", "/teach/place", kWorker, teacher_pages::PlaceForm, kLoggedIn},
    {"GET", "/teach/edit", kWorker, teacher_pages::EditPage, kLoggedIn},
    {"POST", "/teach/edit", kWorker, teacher_pages::EditForm, kLoggedIn},
    {"POST", "/teach/move", kWorker, teacher_pages::MoveForm, kLoggedIn},
    {"GET", "/teach/delete", kWorker, teacher_pages::DeletePage, kLoggedIn},
    {"POST", "/teach/delete", kWorker, teacher_pages::DeleteForm, kLoggedIn},
    {"GET", "/teach/accounts", kWorker, teacher_pages::AccountsPage, kCoordinator},
    {"POST", "/teach/accounts", kWorker, teacher_pages::AddAccountForm, kCoordinator},
    {"POST", "/teach/accounts/disable", kWorker, teacher_pages::DisableAccountForm, kCoordinator},
    {"POST", "/teach/accounts/reset", kWorker, teacher_pages::ResetAccountForm, kCoordinator},
    // The coordinator's console: usage (usage_routes.h).
    {"GET", "/admin/usage", kWorker, usage_routes::Page, kCoordinator},
    {"POST", "/admin/usage/sharing", kWorker, usage_routes::SharingForm, kCoordinator},
    {"GET", "/api/v1/admin/usage", kWorker, usage_routes::Json, kCoordinator},
    {"POST", "/api/v1/admin/usage/sharing", kWorker, usage_routes::SetSharing, kCoordinator},
    // The coordinator's console, the box's half (box_pages.h, docs/console.md).
    {"GET", "/admin/?", kWorker, box_pages::OverviewPage, kCoordinator},
    {"GET", "/admin/channels", kWorker, box_pages::ChannelsPage, kCoordinator},
    {"POST", "/admin/channels/visibility", kWorker, box_pages::VisibilityForm, kCoordinator},
    {"POST", "/admin/channels/language", kWorker, box_pages::LanguageForm, kCoordinator},
    {"GET", "/admin/health", kWorker, box_pages::HealthPage, kCoordinator},
    {"GET", "/api/v1/admin/status", kWorker, box_pages::StatusJson, kCoordinator},
    // The coordinator's console: the link policy (policy_routes.h).
    {"GET", "/api/v1/admin/policy", kWorker, policy_routes::GetPolicy, kCoordinator},
    {"PUT", "/api/v1/admin/policy", kWorker, policy_routes::PutPolicy, kCoordinator},
    {"GET", "/admin/sync/policy", kWorker, policy_routes::PolicyPage, kCoordinator},
    {"POST", "/admin/sync/policy", kWorker, policy_routes::PolicyForm, kCoordinator},
    // The hub console, on a hub only (hub_pages.h, docs/hub-console.md).
    {"GET", "/admin/hub/?", kWorker, hub_pages::HomePage, kPublisher},
    {"GET", "/admin/hub/channels", kWorker, hub_pages::ChannelsPage, kPublisher},
    {"GET", "/admin/hub/diff", kWorker, hub_pages::DiffPage, kPublisher},
    {"GET", "/admin/hub/publish", kWorker, hub_pages::PublishPage, kPublisher},
    {"POST", "/admin/hub/publish", kWorker, hub_pages::PublishForm, kPublisher},
    {"GET", "/admin/hub/review", kWorker, hub_pages::ReviewPage, kPublisher},
    {"POST", "/admin/hub/review/adopt", kWorker, hub_pages::AdoptForm, kPublisher},
    {"POST", "/admin/hub/review/decline", kWorker, hub_pages::DeclineForm, kPublisher},
    {"GET", "/admin/hub/sites", kWorker, hub_pages::SitesPage, kPublisher},
    {"GET", "/admin/hub/usage", kWorker, hub_pages::UsagePage, kPublisher},
    {"GET", "/admin/hub/schools", kWorker, hub_pages::SchoolsPage, kHubAdmin},
    {"POST", "/admin/hub/enrol", kWorker, hub_pages::EnrolForm, kHubAdmin},
    {"GET", "/admin/hub/revoke", kWorker, hub_pages::RevokePage, kHubAdmin},
    {"POST", "/admin/hub/revoke", kWorker, hub_pages::RevokeForm, kHubAdmin},
    {"GET", "/api/v1/hub/summary", kWorker, hub_pages::SummaryApi, kPublisher},
    {"GET", "/api/v1/hub/channels", kWorker, hub_pages::ChannelsApi, kPublisher},
    {"GET", R"(/api/v1/hub/channels/([a-z0-9-]+)/diff)", kWorker, hub_pages::DiffApi, kPublisher},
    {"GET", "/api/v1/hub/publish", kWorker, hub_pages::PublishStateApi, kPublisher},
    {"POST", "/api/v1/hub/publish", kWorker, hub_pages::PublishApi, kPublisher},
    {"GET", "/api/v1/hub/review", kWorker, hub_pages::ReviewApi, kPublisher},
    {"POST", R"(/api/v1/hub/review/([0-9]{1,18})/adopt)", kWorker, hub_pages::AdoptApi,
     kPublisher},
    {"POST", R"(/api/v1/hub/review/([0-9]{1,18})/decline)", kWorker, hub_pages::DeclineApi,
     kPublisher},
    {"GET", "/api/v1/hub/sites", kWorker, hub_pages::SitesApi, kPublisher},
    {"GET", "/api/v1/hub/usage", kWorker, hub_pages::UsageApi, kPublisher},
    {"GET", "/api/v1/hub/enrolments", kWorker, hub_pages::EnrolmentsApi, kHubAdmin},
    {"POST", "/api/v1/hub/enrolments", kWorker, hub_pages::EnrolApi, kHubAdmin},
    {"POST", R"(/api/v1/hub/sites/([a-z0-9-]+)/revoke)", kWorker, hub_pages::RevokeApi,
     kHubAdmin},
    // Bytes.
    {"GET", R"(/static/(.+))", kLoopFirst, Asset, kAnyone},
    {"GET", R"(/c/([a-z0-9-]+)/(.+))", kLoopFirst, FileByPath, kAnyone},
    {"GET", R"(/blob/([0-9a-f]{64}))", kLoopFirst, Blob, kAnyone},
    {"GET", R"(/app/([a-z0-9-]+)/(.+))", kWorker, AppFile, kAnyone},
};

// The answer for a request a route does not let through.
void Refuse(App& app, const Request& req, Response& res, int status, const std::string& why) {
  res = Response{};
  res.set_header("Cache-Control", "no-store");
  if (IsApi(req)) return app.SendJson(req, res, {{"error", why}}, status);
  // A page that needs a session, asked for without one: the login page, back here after.
  if (status == 401 && req.method != "POST") return teacher_pages::SendLogin(app, req, res, 401);
  RequestLanguage lang = app.LanguageOf(req);
  const ViewLanguage& t = lang.view;
  std::string code = std::to_string(status);
  nlohmann::json view = {
      {"page_title", t.T("error_" + code + "_title")},
      {"message", t.T("error_" + code + "_text")},
      {"status", status},
      {"breadcrumb", nlohmann::json::array({{{"title", t.T("home")}, {"url", "/"}}})}};
  app.SendPage(req, res, "error", view, lang, status);
}

// Why a session of the wrong role is refused.
std::string WhoMay(Access access) {
  switch (access) {
    case Access::kLoggedIn: return "only a teacher or a coordinator may do this";
    case Access::kPublisher: return "only a publisher or a hub admin may do this";
    case Access::kHubAdmin: return "only a hub admin may do this";
    default: return "only a coordinator may do this";
  }
}

// A publisher or hub admin on a page of the box's console (/admin/, /admin/usage …) at a hub:
// their console is the hub's, so they are sent there rather than shown a 403.
bool IsHubAccountOnABoxPage(App& app, const Request& req, Role role) {
  return app.hub() && (role == Role::kPublisher || role == Role::kHubAdmin) &&
         (req.method == "GET" || req.method == "HEAD") && req.path.starts_with("/admin") &&
         !req.path.starts_with("/admin/hub/") && (req.path.size() == 6 || req.path[6] == '/');
}

}  // namespace

std::span<const Route> Routes() { return kRoutes; }

// A `back=` target must be a path on this box: "/..." but not "//host" or "/\host".
std::string LocalPath(const std::string& back) {
  if (back.empty() || back[0] != '/' || back.size() > 2048) return "/";
  if (back.size() > 1 && (back[1] == '/' || back[1] == '\\')) return "/";
  for (unsigned char c : back) {
    if (c < 0x20 || c == 0x7f || c == '\\') return "/";
  }
  return back;
}

bool CheckAccess(App& app, const Route& route, const Request& req, Response& res) {
  if (route.access == Access::kAnyone) return true;
  if (route.access == Access::kUnset) {
    Refuse(app, req, res, 403, "this route has no access rule");
    return false;
  }
  auto session = app.SessionOf(req);
  if (!session) {
    Refuse(app, req, res, 401, "log in first");
    return false;
  }
  if (!RoleMayUse(route.access, session->role)) {
    if (IsHubAccountOnABoxPage(app, req, session->role)) {
      SeeOther(res, "/admin/hub/");
      return false;
    }
    Refuse(app, req, res, 403, WhoMay(route.access));
    return false;
  }
  std::string given = req.has_header("X-CSRF-Token") ? req.get_header_value("X-CSRF-Token")
                                                      : req.get_param_value("csrf");
  std::string_view method = route.method;
  bool reads = method == "GET" || method == "HEAD" || method == "OPTIONS";
  if (!reads && !SameToken(given, session->csrf)) {
    Refuse(app, req, res, 403, "missing or wrong CSRF token (X-CSRF-Token)");
    return false;
  }
  return true;
}

void AddRoutes(App* app, http::Transport* transport) {
  if (!app->portal_name().empty()) {
    transport->set_before_routing([app](const Request& req, Response& res) {
      return PortalRedirect(app->portal_name(), req, res);
    });
  }
  for (const Route& route : Routes()) {
    RouteHandler handler = route.handler;
    // A catalog read that fails in a handler is an error page and a log line, never what the
    // handler made of the rows it did not get (an empty list, a 404).
    http::Transport::Handler on_worker = [app, &route, handler](const Request& req,
                                                                 Response& res) {
      if (!CheckAccess(*app, route, req, res)) return;
      (void)Catalog::TakeReadError();  // left by other work on this thread: not this request's
      handler(*app, req, res, /*on_loop=*/false);
      app->AnswerReadErrors(req, res);
    };
    std::string_view method = route.method;
    if (route.stream) {
      StreamHandler open = route.stream;
      transport->Stream(
          route.method, route.pattern,
          [app, &route, open](const Request& req, Response& res) -> std::unique_ptr<BodySink> {
            if (!CheckAccess(*app, route, req, res)) return nullptr;
            return open(*app, req, res);
          },
          kMaxStreamedBody);
    } else if (method == "POST") {
      transport->Post(route.pattern, std::move(on_worker));
    } else if (method != "GET") {
      transport->Add(route.method, route.pattern, std::move(on_worker));
    } else if (route.loop_first && route.access == Access::kAnyone) {
      auto on_loop = [app, handler](const Request& req, Response& res) {
        return handler(*app, req, res, /*on_loop=*/true);
      };
      transport->Get(route.pattern, on_loop, std::move(on_worker));
    } else {
      transport->Get(route.pattern, std::move(on_worker));
    }
  }
}

}  // namespace outpost
