// The coordinator's console, the box's half (box_pages.h). The view-models are built here from
// BoxStatus (box_status.h) and the settings (box_settings.h); the templates are
// web-ui/templates/admin_{overview,channels,health}.mustache.
#include "box_pages.h"

#include <cstdio>
#include <ctime>
#include <string>

#include "app.h"
#include "outpost/base/text.h"
#include "outpost/sync/box_status.h"
#include "outpost/sync/error_log.h"
#include "outpost/sync/node.h"
#include "outpost/sync/sync_db.h"

namespace outpost::box_pages {

namespace {

using http::Request;
using http::Response;
using nlohmann::json;

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

std::string Fill(std::string text, const std::string& key, const std::string& value) {
  std::string mark = "{" + key + "}";
  if (size_t at = text.find(mark); at != std::string::npos) text.replace(at, mark.size(), value);
  return text;
}

// A value put into a sentence (a size, a date), isolated left to right (U+2066 ... U+2069) so
// that "83.9 GB" does not read "GB 83.9" inside an Arabic sentence.
std::string Ltr(const std::string& value) { return "\u2066" + value + "\u2069"; }

// A message in its own direction (U+2068 ... U+2069): the log's English in an Arabic sentence.
std::string Isolated(const std::string& text) { return "\u2068" + text + "\u2069"; }

// A size, in GB from 10 GB on (a disk, the memory), else SizeLabel's.
std::string Size(uint64_t bytes) {
  if (bytes < 10'000'000'000ull) return SizeLabel(bytes);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GB", static_cast<double>(bytes) / 1e9);
  return buf;
}

// "2026-12-07 19:45 UTC": the same in every language (digits and all).
std::string DateLabel(int64_t unix_seconds) { return UtcMinute(unix_seconds); }

// The box's status, read through the server's own connection to sync.db (app.h).
BoxStatus ReadStatus(App& app) {
  NodePaths paths(app.store()->root());
  return ReadBoxStatus(paths, app.catalog(), app.sync_db(), Now());
}

// The fields of every console page: title, breadcrumb, the session (the layout's logout form),
// and the nav's flag for this page.
json Frame(const RequestLanguage& lang, const Session& session, const std::string& title,
           const char* nav_flag) {
  const ViewLanguage& t = lang.view;
  json crumbs = json::array({{{"title", t.T("home")}, {"url", "/"}},
                             {{"title", t.T("box_console")}, {"url", "/admin/"}}});
  if (std::string(nav_flag) != "nav_overview") crumbs.push_back({{"title", title}, {"url", ""}});
  json view = {{"page_title", title}, {"breadcrumb", crumbs}, {"private", true}, {nav_flag, true}};
  view["session"] = {{"name", session.name}, {"csrf", session.csrf}, {"coordinator", true}};
  view["csrf"] = session.csrf;
  return view;
}

void SendPrivate(App& app, const Request& req, Response& res, const std::string& page, json view,
                 const RequestLanguage& lang) {
  app.SendPage(req, res, page, std::move(view), lang, 200);
  res.headers.erase("Cache-Control");
  res.set_header("Cache-Control", "no-store");
}

// The disk, as the overview and the health page show it.
json DiskView(const ViewLanguage& t, const DiskStatus& disk, uint64_t next_sync_bytes) {
  json view = {{"known", disk.known},
               {"free_label", Size(disk.free_bytes)},
               {"total_label", Size(disk.total_bytes)},
               {"warning", disk.warning}};
  uint64_t percent = disk.total_bytes ? disk.free_bytes * 100 / disk.total_bytes : 0;
  view["free_percent"] = percent;
  view["free_text"] = Fill(Fill(Fill(t.T("box_disk_free"), "free", Ltr(Size(disk.free_bytes))),
                                "total", Ltr(Size(disk.total_bytes))),
                           "percent", std::to_string(percent));
  if (disk.warning_reason == "low") {
    view["warning_text"] = Fill(t.T("box_disk_warning_low"), "percent",
                                std::to_string(kLowDiskPercent));
  } else if (disk.warning) {
    view["warning_text"] = Fill(t.T("box_disk_warning_sync"), "size", Ltr(Size(next_sync_bytes)));
  }
  return view;
}

json ChannelRow(const ViewLanguage& t, const ChannelStatus& c, bool hidden) {
  json row = {{"id", c.id},
              {"title", c.title.empty() ? c.id : c.title},
              {"served_version", c.served_version},
              {"staged_version", c.staged_version},
              {"size_label", Size(c.bytes)},
              {"hub_version", c.hub_version},
              {"behind", c.behind},
              {"next_sync_label", Size(c.next_sync_bytes)},
              {"served", c.served_version > 0},
              {"hidden", hidden}};
  row["served_text"] = c.served_version > 0
                           ? Fill(t.T("box_version"), "n", std::to_string(c.served_version))
                           : t.T("box_not_served");
  if (c.staged_version) {
    row["staged_text"] = Fill(t.T("box_staged"), "n", std::to_string(c.staged_version));
  }
  if (c.behind) {
    row["behind_text"] = Fill(Fill(t.T("box_behind"), "n", std::to_string(c.hub_version)),
                              "size", Ltr(Size(c.next_sync_bytes)));
  }
  return row;
}

// The last sync, in words: "never synced" or "last synced on DATE, N days ago", its result.
json SyncView(const ViewLanguage& t, const BoxStatus& s) {
  json view = {{"joined", s.joined},
               {"channels_behind", s.channels_behind},
               {"next_sync_label", Size(s.next_sync_bytes)},
               {"up_to_date", s.channels_behind == 0}};
  if (!s.joined) view["joined_text"] = t.T("box_not_joined");
  if (!s.last_sync) {
    view["last_text"] = t.T("box_never_synced");
    view["never"] = true;
  } else {
    const SyncRun& r = *s.last_sync;
    std::string when = Fill(t.T("box_last_synced"), "date", Ltr(DateLabel(r.finished_at)));
    view["last_text"] = Fill(when, "days", std::to_string(s.days_since_sync));
    view["ok"] = r.ok && r.complete;
    view["result_text"] = r.ok && r.complete ? t.T("box_sync_complete")
                          : r.ok ? Fill(t.T("box_sync_partial"), "why", Isolated(r.message))
                                 : Fill(t.T("box_sync_failed"), "why", Isolated(r.message));
  }
  // Nothing is known of the hub before a sync (or a stick): no "up to date" then.
  if (s.channels_behind == 0 && !s.last_sync) return view;
  view["behind_text"] = s.channels_behind == 0
                            ? t.T("box_up_to_date")
                            : Fill(Fill(t.T("box_channels_behind"), "n",
                                        std::to_string(s.channels_behind)),
                                   "size", Ltr(Size(s.next_sync_bytes)));
  return view;
}

// Links to the console's sections, each with a line on what it is for.
json Sections(const ViewLanguage& t) {
  json out = json::array();
  for (const char* name : {"sync", "usb", "channels", "usage", "health"}) {
    std::string n = name;
    out.push_back({{"url", "/admin/" + n},
                   {"title", t.T("admin_" + n)},
                   {"text", t.T("box_section_" + n)}});
  }
  return out;
}

}  // namespace

bool OverviewPage(App& app, const Request& req, Response& res, bool) {
  auto session = app.SessionOf(req);
  if (!session) return SeeOther(res, "/login"), true;  // ended since CheckAccess saw it
  RequestLanguage lang = app.LanguageOf(req);
  const ViewLanguage& t = lang.view;
  BoxStatus status = ReadStatus(app);
  auto settings = app.settings().Current();
  json view = Frame(lang, *session, t.T("box_console"), "nav_overview");
  json channels = json::array();
  for (const ChannelStatus& c : status.channels) {
    channels.push_back(ChannelRow(t, c, settings->Hidden(c.id)));
  }
  view["channels"] = channels;
  view["no_channels"] = channels.empty();
  view["content_label"] = Size(status.content_bytes);
  view["staging_label"] = Size(status.staging_bytes);
  view["staging"] = status.staging_bytes > 0;
  view["disk"] = DiskView(t, status.disk, status.next_sync_bytes);
  view["sync"] = SyncView(t, status);
  view["sections"] = Sections(t);
  SendPrivate(app, req, res, "admin_overview", std::move(view), lang);
  return true;
}

// ---- Channels: shown or hidden, and the default language.

bool ChannelsPage(App& app, const Request& req, Response& res, bool) {
  auto session = app.SessionOf(req);
  if (!session) return SeeOther(res, "/login"), true;
  RequestLanguage lang = app.LanguageOf(req);
  const ViewLanguage& t = lang.view;
  auto settings = app.settings().Current();
  json view = Frame(lang, *session, t.T("admin_channels"), "nav_channels");
  json channels = json::array();
  for (const ChannelInfo& c : app.catalog()->Channels()) {
    bool hidden = settings->Hidden(c.id);
    channels.push_back({{"id", c.id},
                        {"title", c.meta.title.empty() ? c.id : c.meta.title},
                        {"hidden", hidden},
                        {"state_text", t.T(hidden ? "box_hidden" : "box_shown")},
                        {"button_text", t.T(hidden ? "box_show" : "box_hide")},
                        {"next", hidden ? "0" : "1"},
                        {"size_label", Size(static_cast<uint64_t>(c.bytes))}});
  }
  view["channels"] = channels;
  view["no_channels"] = channels.empty();
  json languages = json::array();
  for (const UiLanguage& l : app.i18n().Languages()) {
    languages.push_back({{"code", l.code},
                         {"name", l.name},
                         {"selected", l.code == settings->default_language}});
  }
  view["ui_languages"] = languages;
  std::string saved = req.get_param_value("saved");
  if (saved == "hidden" || saved == "shown" || saved == "language") {
    view["saved_text"] = t.T("box_saved_" + saved);
  }
  SendPrivate(app, req, res, "admin_channels", std::move(view), lang);
  return true;
}

bool VisibilityForm(App& app, const Request& req, Response& res, bool) {
  std::string channel = req.get_param_value("channel").substr(0, 64);
  bool hidden = req.get_param_value("hidden") == "1";
  if (!IsValidChannelId(channel) || !app.catalog()->Channel(channel)) {
    res.status = 422;
    res.set_content("no such channel", "text/plain; charset=utf-8");
    return true;
  }
  if (Status st = app.settings().SetHidden(channel, hidden); !st.ok()) {
    app.ReadFailed(req, res, st);  // logged, and the trouble page
    return true;
  }
  SeeOther(res, std::string("/admin/channels?saved=") + (hidden ? "hidden" : "shown"));
  return true;
}

bool LanguageForm(App& app, const Request& req, Response& res, bool) {
  std::string code = req.get_param_value("language").substr(0, 16);
  if (!app.i18n().Known(code)) {
    res.status = 422;
    res.set_content("no such language", "text/plain; charset=utf-8");
    return true;
  }
  if (Status st = app.settings().SetDefaultLanguage(code); !st.ok()) {
    app.ReadFailed(req, res, st);
    return true;
  }
  SeeOther(res, "/admin/channels?saved=language");
  return true;
}

// ---- Health.

namespace {

// "3 days, 4 h 12 min" as the strings put it.
std::string UptimeText(const ViewLanguage& t, std::chrono::steady_clock::duration up) {
  int64_t minutes = std::chrono::duration_cast<std::chrono::minutes>(up).count();
  std::string text = t.T("box_uptime_value");
  text = Fill(text, "days", std::to_string(minutes / (24 * 60)));
  text = Fill(text, "hours", std::to_string(minutes / 60 % 24));
  return Fill(text, "minutes", std::to_string(minutes % 60));
}

// Recent errors from the log: the place where the persistent error log (RecentErrors, written
// by another part of issue 16) is wired. Empty until then.
// How many of the log's newest warnings and errors the health page shows.
constexpr size_t kShownErrors = 20;

// The newest warnings and errors of DATA/errors.log (error_log.h), newest first.
json RecentErrorsView(App& app) {
  json out = json::array();
  auto errors = RecentErrors(NodePaths(app.store()->root()), kShownErrors);
  for (auto it = errors.rbegin(); it != errors.rend(); ++it) {
    out.push_back({{"time", DateLabel(it->time)}, {"level", it->level}, {"message", it->message}});
  }
  return out;
}

}  // namespace

bool HealthPage(App& app, const Request& req, Response& res, bool) {
  auto session = app.SessionOf(req);
  if (!session) return SeeOther(res, "/login"), true;
  RequestLanguage lang = app.LanguageOf(req);
  const ViewLanguage& t = lang.view;
  BoxStatus status = ReadStatus(app);
  json view = Frame(lang, *session, t.T("admin_health"), "nav_health");
  view["uptime_text"] = UptimeText(t, app.uptime());
  view["rss_label"] = Size(ReadProcessRss());
  view["memory_known"] = status.memory.known;
  view["memory_text"] = Fill(Fill(t.T("box_memory_value"), "available",
                                  Ltr(Size(status.memory.available_bytes))),
                             "total", Ltr(Size(status.memory.total_bytes)));
  view["disk"] = DiskView(t, status.disk, status.next_sync_bytes);
  view["software_version"] = status.software_version;
  view["recent_errors"] = RecentErrorsView(app);  // [{"time": "...", "message": "..."}]
  view["no_errors"] = view["recent_errors"].empty();
  view["catalog_damaged"] = app.catalog_damaged();
  SendPrivate(app, req, res, "admin_health", std::move(view), lang);
  return true;
}

// ---- JSON.

json StatusView(App& app) {
  BoxStatus status = ReadStatus(app);
  json out = BoxStatusJson(status);
  auto settings = app.settings().Current();
  for (auto& c : out["channels"]) c["hidden"] = settings->Hidden(c["id"].get<std::string>());
  out["default_language"] = settings->default_language;
  out["process"] = {
      {"uptime_seconds", std::chrono::duration_cast<std::chrono::seconds>(app.uptime()).count()},
      {"rss_bytes", ReadProcessRss()}};
  out["catalog_damaged"] = app.catalog_damaged();
  out["recent_errors"] = RecentErrorsView(app);
  return out;
}

bool StatusJson(App& app, const Request& req, Response& res, bool) {
  app.SendJson(req, res, StatusView(app));
  res.headers.erase("Cache-Control");
  res.set_header("Cache-Control", "no-store");
  return true;
}

}  // namespace outpost::box_pages
