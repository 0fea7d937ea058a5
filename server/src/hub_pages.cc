// The hub console's pages and JSON routes (hub_pages.h), over HubConsole (hub_console.h).
#include "hub_pages.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include "app.h"
#include "http/http_message.h"
#include "http/url.h"
#include "outpost/base/text.h"
#include "outpost/sync/node.h"
#include "pager.h"
#include "svg_chart.h"

namespace outpost::hub_pages {

namespace {

using http::Request;
using http::Response;
using nlohmann::json;

constexpr size_t kMaxField = 2048;  // a form or JSON field is cut to this before it goes on

std::string Param(const Request& req, const char* name) {
  return SanitizeUtf8(req.get_param_value(name).substr(0, kMaxField));
}

int64_t Number(const std::string& text) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
    return 0;
  return std::strtoll(text.c_str(), nullptr, 10);
}

// "530 B", "48 kB", "12.3 MB", "1.2 GB".
std::string SizeText(uint64_t bytes) {
  if (bytes < 1000) return std::to_string(bytes) + " B";
  if (bytes < 1000 * 1000) return std::to_string((bytes + 500) / 1000) + " kB";
  char buf[32];
  double mb = static_cast<double>(bytes) / 1e6;
  if (mb < 1000) std::snprintf(buf, sizeof buf, "%.1f MB", mb);
  else std::snprintf(buf, sizeof buf, "%.1f GB", mb / 1000);
  return buf;
}

std::string DateText(int64_t unix_seconds) {
  return unix_seconds > 0 ? UtcMinute(unix_seconds) : std::string();
}

// The console is a hub's: on a box every route of it is "not found".
HubConsole* HubOr404(App& app, const Request& req, Response& res) {
  if (app.hub()) return app.hub();
  app.NotFound(req, res, req.path.starts_with("/api/"));
  return nullptr;
}

// ---- JSON.

void SendAnswer(App& app, const Request& req, Response& res, const HubAnswer& answer) {
  app.SendJson(req, res, answer.body, answer.status);
  res.headers.erase("Cache-Control");
  res.set_header("Cache-Control", "no-store");
}

std::optional<json> BodyObject(App& app, const Request& req, Response& res) {
  auto body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    SendAnswer(app, req, res, {400, {{"error", "the body must be a JSON object"}}});
    return std::nullopt;
  }
  return body;
}

std::string Field(const json& body, const char* name) {
  auto it = body.find(name);
  return it != body.end() && it->is_string() ? SanitizeUtf8(it->get<std::string>().substr(0, kMaxField))
                                             : std::string();
}

// ---- Pages.

// A page of the console: the frame's fields (title, breadcrumb, the session, the nav's
// current entry), sent no-store.
void SendHubPage(App& app, const Request& req, Response& res, const std::string& page,
                 const std::string& title_key, json view, int status = 200) {
  RequestLanguage lang = app.LanguageOf(req);
  const ViewLanguage& t = lang.view;
  std::string title = t.T(title_key);
  view["page_title"] = title;
  view["private"] = true;
  json crumbs = json::array({{{"title", t.T("hub_title")}, {"url", "/admin/hub/"}}});
  if (page != "hub_home") crumbs.push_back({{"title", title}, {"url", ""}});
  view["breadcrumb"] = crumbs;
  if (auto session = app.SessionOf(req)) {
    view["session"] = {{"name", session->name}, {"csrf", session->csrf}, {"hub", true},
                       {"hub_admin", session->role == Role::kHubAdmin}};
    view["hub_admin"] = session->role == Role::kHubAdmin;
  }
  view["nav_" + page] = true;
  std::string done = Param(req, "done");
  if (!done.empty() && done.size() < 40 && !view.contains("notice")) {
    std::string text = t.T("hub_done_" + done);
    if (text != "hub_done_" + done) view["notice"] = text;
  }
  app.SendPage(req, res, page, std::move(view), lang, status);
  res.headers.erase("Cache-Control");
  res.set_header("Cache-Control", "no-store");
}

// A form the console refused: 422 with why (or the answer's own 409 or 5xx).
int FormStatus(int status) { return status == 409 || status >= 500 ? status : 422; }

json SizesOf(json changes) {
  for (auto& c : changes) {
    c["old_size_text"] = SizeText(c.value("old_size", uint64_t{0}));
    c["new_size_text"] = SizeText(c.value("new_size", uint64_t{0}));
  }
  return changes;
}

}  // namespace

// ---- Pages.

bool HomePage(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  HubAnswer summary = hub->Summary();
  if (!summary.ok()) return SendAnswer(app, req, res, summary), true;
  SendHubPage(app, req, res, "hub_home", "hub_title", summary.body);
  return true;
}

bool ChannelsPage(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  HubAnswer answer = hub->Channels();
  json view = answer.body;
  for (auto& c : view["channels"]) {
    c["size_text"] = SizeText(c.value("bytes", uint64_t{0}));
    c["comparable"] = c["versions"].size() >= 2;
    auto& versions = c["versions"];
    for (size_t i = 0; i < versions.size(); ++i) {
      versions[i]["is_older"] = i == 1;  // the default "from": the version before the newest
      versions[i]["is_newest"] = i == 0;
    }
  }
  SendHubPage(app, req, res, "hub_channels", "hub_channels", view, answer.status);
  return true;
}

bool DiffPage(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  std::string channel = Param(req, "channel");
  int64_t from = Number(Param(req, "from")), to = Number(Param(req, "to"));
  HubAnswer answer = hub->Diff(channel, from, to);
  json view = {{"channel", channel}, {"from", from}, {"to", to}};
  if (!answer.ok()) {
    view["error"] = answer.Error();
  } else {
    view = answer.body;
    for (const char* list : {"added", "removed", "changed"}) {
      view[list] = SizesOf(view[list]);
      view[std::string("has_") + list] = !view[list].empty();
    }
    view["nothing"] = view["added"].empty() && view["removed"].empty() && view["changed"].empty();
    int64_t change = view.value("size_change", int64_t{0});
    view["size_change_text"] = (change < 0 ? "−" : "+") +
                               SizeText(static_cast<uint64_t>(change < 0 ? -change : change));
  }
  SendHubPage(app, req, res, "hub_diff", "hub_diff", view, answer.ok() ? 200 : answer.status);
  return true;
}

bool PublishPage(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  json view = hub->PublishState().body;
  json& last = view["last"];
  if (last.is_object()) {
    last[last.value("state", "")] = true;
    last["size_text"] = SizeText(last.value("bytes_done", uint64_t{0})) + " / " +
                        SizeText(last.value("bytes_total", uint64_t{0}));
  }
  view["no_folders"] = view["folders"].empty();
  SendHubPage(app, req, res, "hub_publish", "hub_publish", view);
  return true;
}

bool PublishForm(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  HubAnswer answer = hub->StartPublish(Param(req, "folder"), Param(req, "channel"));
  if (answer.ok()) return SeeOther(res, "/admin/hub/publish"), true;
  json view = hub->PublishState().body;
  view["error"] = answer.Error();
  view["no_folders"] = view["folders"].empty();
  SendHubPage(app, req, res, "hub_publish", "hub_publish", view, FormStatus(answer.status));
  return true;
}

bool ReviewPage(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  HubAnswer answer = hub->Review();
  json view = answer.ok() ? answer.body : json{{"error", answer.Error()}};
  if (answer.ok()) {
    for (auto& item : view["items"]) item["size_text"] = SizeText(item.value("size", uint64_t{0}));
    view["nothing"] = view["items"].empty();
    view["no_channels"] = view["channels"].empty();
  }
  SendHubPage(app, req, res, "hub_review", "hub_review", view, answer.ok() ? 200 : answer.status);
  return true;
}

namespace {

// The review page again with why a decision was refused.
void ReviewRefused(App& app, const Request& req, Response& res, HubConsole* hub,
                   const HubAnswer& refused) {
  json view = hub->Review().body;
  for (auto& item : view["items"]) item["size_text"] = SizeText(item.value("size", uint64_t{0}));
  view["nothing"] = view["items"].empty();
  view["error"] = refused.Error();
  SendHubPage(app, req, res, "hub_review", "hub_review", view, FormStatus(refused.status));
}

}  // namespace

bool AdoptForm(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  HubAnswer answer =
      hub->Adopt(Number(Param(req, "id")), Param(req, "channel"), Param(req, "topic"));
  if (answer.ok()) return SeeOther(res, "/admin/hub/review?done=adopted"), true;
  ReviewRefused(app, req, res, hub, answer);
  return true;
}

bool DeclineForm(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  HubAnswer answer = hub->Decline(Number(Param(req, "id")), Param(req, "reason"));
  if (answer.ok()) return SeeOther(res, "/admin/hub/review?done=declined"), true;
  ReviewRefused(app, req, res, hub, answer);
  return true;
}

namespace {

json SchoolsView(HubConsole* hub) {
  HubAnswer answer = hub->Enrolments();
  json view = answer.ok() ? answer.body : json{{"error", answer.Error()}};
  for (auto& p : view["pending"]) p["expires_text"] = DateText(p.value("expires_at", int64_t{0}));
  for (auto& s : view["sites"]) {
    s["last_seen_text"] = DateText(s.value("last_seen", int64_t{0}));
    s["active"] = s.value("state", "") == "active";
  }
  view["no_pending"] = view["pending"].empty();
  view["no_sites"] = view["sites"].empty();
  return view;
}

}  // namespace

bool SchoolsPage(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  SendHubPage(app, req, res, "hub_schools", "hub_schools", SchoolsView(hub));
  return true;
}

bool EnrolForm(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  std::string name = Param(req, "name"), days = Param(req, "days");
  bool file = Param(req, "make") == "file";
  std::string bytes;
  HubAnswer answer = hub->Enrol(name, days.empty() ? 7 : static_cast<int>(Number(days)),
                                file ? &bytes : nullptr);
  if (answer.ok() && file) {
    res.status = 200;
    res.set_content(std::move(bytes), "application/octet-stream");
    res.set_header("Content-Disposition", "attachment; filename=\"" + name + ".opef\"");
    res.set_header("Cache-Control", "no-store");
    return true;
  }
  json view = SchoolsView(hub);
  if (answer.ok()) {
    view["made"] = {{"name", name}, {"code", answer.body["code"]},
                    {"expires_text", DateText(answer.body.value("expires_at", int64_t{0}))}};
  } else {
    view["error"] = answer.Error();
    view["name"] = name;
  }
  SendHubPage(app, req, res, "hub_schools", "hub_schools", view,
              answer.ok() ? 200 : FormStatus(answer.status));
  return true;
}

bool RevokePage(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  std::string site = Param(req, "site");
  json view = {{"site", site}};
  if (!IsValidSiteName(site)) view["error"] = app.LanguageOf(req).view.T("hub_no_such_school");
  SendHubPage(app, req, res, "hub_revoke", "hub_revoke", view, view.contains("error") ? 404 : 200);
  return true;
}

bool RevokeForm(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  std::string site = Param(req, "site");
  HubAnswer answer = hub->Revoke(site);
  if (answer.ok()) return SeeOther(res, "/admin/hub/schools?done=revoked"), true;
  json view = {{"site", site}, {"error", answer.Error()}};
  SendHubPage(app, req, res, "hub_revoke", "hub_revoke", view, FormStatus(answer.status));
  return true;
}

// ---- JSON.

bool SummaryApi(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  return SendAnswer(app, req, res, hub->Summary()), true;
}

bool ChannelsApi(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  return SendAnswer(app, req, res, hub->Channels()), true;
}

bool DiffApi(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  HubAnswer answer =
      hub->Diff(req.matches[1], Number(Param(req, "from")), Number(Param(req, "to")));
  return SendAnswer(app, req, res, answer), true;
}

bool PublishStateApi(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  return SendAnswer(app, req, res, hub->PublishState()), true;
}

bool PublishApi(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  auto body = BodyObject(app, req, res);
  if (!body) return true;
  return SendAnswer(app, req, res, hub->StartPublish(Field(*body, "folder"), Field(*body, "channel"))),
         true;
}

bool ReviewApi(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  return SendAnswer(app, req, res, hub->Review()), true;
}

bool AdoptApi(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  auto body = BodyObject(app, req, res);
  if (!body) return true;
  HubAnswer answer =
      hub->Adopt(Number(req.matches[1]), Field(*body, "channel"), Field(*body, "topic"));
  return SendAnswer(app, req, res, answer), true;
}

bool DeclineApi(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  auto body = BodyObject(app, req, res);
  if (!body) return true;
  return SendAnswer(app, req, res, hub->Decline(Number(req.matches[1]), Field(*body, "reason"))),
         true;
}

bool EnrolmentsApi(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  return SendAnswer(app, req, res, hub->Enrolments()), true;
}

// POST /api/v1/hub/enrolments {"name", "valid_days" (default 7), "file": false}: the code as
// JSON (201), or with "file": true the enrolment file itself as an attachment (200).
bool EnrolApi(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  auto body = BodyObject(app, req, res);
  if (!body) return true;
  auto days = body->value("valid_days", json(7));
  bool file = body->value("file", json(false)) == json(true);
  std::string name = Field(*body, "name"), bytes;
  HubAnswer answer = hub->Enrol(name, days.is_number_integer() ? days.get<int>() : 0,
                                file ? &bytes : nullptr);
  if (!answer.ok() || !file) return SendAnswer(app, req, res, answer), true;
  res.status = 200;
  res.set_content(std::move(bytes), "application/octet-stream");
  res.set_header("Content-Disposition", "attachment; filename=\"" + name + ".opef\"");
  res.set_header("Cache-Control", "no-store");
  return true;
}

bool RevokeApi(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  return SendAnswer(app, req, res, hub->Revoke(req.matches[1])), true;
}

// ---- The table of schools, and their usage.

namespace {

constexpr int kUsageDays = 30;

// The table's query from the request's parameters; nullopt (with why) for a value it does not
// know: an unknown sort, order or filter, a page that is not 1 … 999999, per_page not 1 … 1000.
std::optional<SiteQuery> SiteQueryOf(const Request& req, std::string* why) {
  SiteQuery q;
  q.now = static_cast<int64_t>(std::time(nullptr));
  std::string sort = Param(req, "sort"), order = Param(req, "order"), filter = Param(req, "filter");
  auto parsed_sort = ParseSiteSort(sort.empty() ? "name" : sort);
  auto parsed_filter = ParseSiteFilter(filter.empty() ? "all" : filter);
  q.page = ParsePageNumber(Param(req, "page"));
  std::string per_page = Param(req, "per_page");
  q.per_page = per_page.empty() ? 100 : Number(per_page);
  q.name_contains = SanitizeUtf8(Param(req, "q").substr(0, 100));  // not cut inside a character
  if (!parsed_sort) {
    *why = "sort must be one of name, state, last_seen, via, behind, software, disk_free, errors";
  } else if (!order.empty() && order != "asc" && order != "desc") {
    *why = "order must be asc or desc";
  } else if (!parsed_filter) {
    *why = "filter must be one of all, behind, silent, errors";
  } else if (q.page < 1) {
    *why = "page must be a number from 1 to 999999";
  } else if (q.per_page < 1 || q.per_page > kMaxSitesPerPage) {
    *why = "per_page must be 1 to 1000";
  }
  if (!why->empty()) return std::nullopt;
  q.sort = *parsed_sort;
  q.filter = *parsed_filter;
  q.descending = order == "desc";
  return q;
}

// The table's URL with `q`'s parameters (those not at their default), `sort`/`order`/`page`
// as given.
std::string SitesUrl(const SiteQuery& q, SiteSort sort, bool descending, int64_t page) {
  std::string url = "/admin/hub/sites?sort=" + std::string(SiteSortName(sort)) +
                    "&order=" + (descending ? "desc" : "asc");
  if (q.filter != SiteFilter::kAll) url += "&filter=" + std::string(SiteFilterName(q.filter));
  if (!q.name_contains.empty()) url += "&q=" + PercentEncode(q.name_contains, false);
  if (q.per_page != 100) url += "&per_page=" + std::to_string(q.per_page);
  if (page > 1) url += "&page=" + std::to_string(page);
  return url;
}

std::string Fill(std::string text, const std::string& value) {
  if (size_t at = text.find("{n}"); at != std::string::npos) text.replace(at, 3, value);
  return text;
}

// The column headings: each a link that sorts by it (again: the other way round).
json SiteColumns(const SiteQuery& q, const ViewLanguage& t) {
  json columns = json::array();
  for (int i = 0; i <= static_cast<int>(SiteSort::kErrors); ++i) {
    auto sort = static_cast<SiteSort>(i);
    std::string name(SiteSortName(sort));
    bool current = sort == q.sort;
    json c = {{"label", t.T("hubtbl_col_" + name)},
              {"url", SitesUrl(q, sort, current && !q.descending, 1)}};
    if (current) {
      c["aria_sort"] = q.descending ? "descending" : "ascending";
      c["arrow"] = q.descending ? "▼" : "▲";
    }
    columns.push_back(c);
  }
  return columns;
}

// A row of the page: only what hub_sites.mustache shows (the renderer converts every field it
// is given, so the full JSON of 100 schools would cost more than the table itself).
json SiteRowView(const json& s, int64_t now, const ViewLanguage& t) {
  int64_t seen = s.value("last_seen", int64_t{0});
  json row = {{"name", s["name"]}, {"silent", s["silent"]},
              {"revoked", s.value("state", "") == "revoked"},
              {"last_seen_text", seen ? DateText(seen) : t.T("hubtbl_never")}};
  if (seen) {  // "2026-12-07" and "23:59 UTC", each kept on one line
    std::string text = DateText(seen);
    size_t space = text.find(' ');
    row["seen_day"] = text.substr(0, space);
    row["seen_time"] = space == std::string::npos ? "" : text.substr(space + 1);
  }
  if (s.value("silent", false) && seen) {
    row["silent_text"] = Fill(t.T("hubtbl_silent_days"), std::to_string((now - seen) / 86400));
  }
  std::string via = s.value("last_via", "");
  if (seen && (via == "link" || via == "stick")) row["via_text"] = t.T("hubtbl_via_" + via);
  const json& r = s["report"];
  if (!r.is_object()) return row;
  int behind = r.value("behind", 0), errors = r.value("errors", 0);
  row["report"] = {{"served", r["served"]}};
  row["disk_free_text"] = SizeText(r.value("disk_free", uint64_t{0}));
  row["software"] = r.value("software", "");
  row["errors"] = errors;
  row["has_errors"] = errors > 0;
  if (behind > 0) row["behind_text"] = Fill(t.T("hubtbl_behind_n"), std::to_string(behind));
  row["up_to_date"] = behind == 0 && !r["served"].empty();
  if (r["last_error"].is_object()) row["last_error_text"] = r["last_error"].value("message", "");
  return row;
}

json SitesView(const json& answer, const SiteQuery& q, const ViewLanguage& t) {
  json view = {{"q", answer["q"]}, {"sites", json::array()}};
  for (const json& s : answer["sites"]) view["sites"].push_back(SiteRowView(s, q.now, t));
  view["columns"] = SiteColumns(q, t);
  json filters = json::array();
  for (int i = 0; i <= static_cast<int>(SiteFilter::kErrors); ++i) {
    auto f = static_cast<SiteFilter>(i);
    std::string name(SiteFilterName(f));
    filters.push_back(
        {{"value", name}, {"label", t.T("hubtbl_filter_" + name)}, {"selected", f == q.filter}});
  }
  view["filters"] = filters;
  view["sort_value"] = std::string(SiteSortName(q.sort));
  view["order_value"] = q.descending ? "desc" : "asc";
  view["no_rows"] = view["sites"].empty();
  int64_t pages = answer.value("pages", int64_t{1});
  view["page_label"] = Fill(Fill(t.T("hubtbl_page_of"), std::to_string(q.page)), std::to_string(pages));
  view["matched_label"] = Fill(Fill(t.T("hubtbl_matched"), std::to_string(answer.value("matched", 0))),
                               std::to_string(answer.value("count", 0)));
  if (q.page > 1) view["prev"] = SitesUrl(q, q.sort, q.descending, std::min(q.page - 1, pages));
  if (q.page < pages) view["next"] = SitesUrl(q, q.sort, q.descending, q.page + 1);
  view["paged"] = pages > 1 || q.page > 1;
  return view;
}

std::string UsageChart(const json& channel, size_t index, const ViewLanguage& t, bool rtl) {
  BarChartSpec spec{.id = "hub-chart-" + std::to_string(index),
                    .title = Fill(t.T("hubtbl_usage_chart"), channel["title"].get<std::string>()),
                    .description = Fill(t.T("hubtbl_usage_total"), std::to_string(channel["total"].get<uint64_t>())),
                    .bars = {},
                    .rtl = rtl};
  return DailyViewsChart(std::move(spec), channel["daily"],
                         [&](uint64_t views) { return Fill(t.T("hubtbl_views_n"), std::to_string(views)); });
}

}  // namespace

bool SitesPage(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  std::string why;
  auto query = SiteQueryOf(req, &why);
  RequestLanguage lang = app.LanguageOf(req);
  if (!query) {
    SendHubPage(app, req, res, "hub_sites", "hubtbl_title", {{"error", why}, {"no_rows", true}}, 400);
    return true;
  }
  HubAnswer answer = hub->Sites(*query);
  if (!answer.ok()) return SendAnswer(app, req, res, answer), true;
  SendHubPage(app, req, res, "hub_sites", "hubtbl_title", SitesView(answer.body, *query, lang.view));
  return true;
}

bool UsagePage(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  HubAnswer answer = hub->Usage(kUsageDays);
  if (!answer.ok()) return SendAnswer(app, req, res, answer), true;
  RequestLanguage lang = app.LanguageOf(req);
  bool rtl = app.i18n().Dir(lang.code) == "rtl";
  json view = answer.body;
  size_t i = 0;
  for (json& c : view["channels"]) c["chart"] = UsageChart(c, i++, lang.view, rtl);
  view["no_channels"] = view["channels"].empty();
  view["period_label"] = Fill(lang.view.T("hubtbl_usage_period"), std::to_string(kUsageDays));
  SendHubPage(app, req, res, "hub_usage", "hubtbl_usage_title", view);
  return true;
}

bool SitesApi(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  std::string why;
  auto query = SiteQueryOf(req, &why);
  if (!query) return SendAnswer(app, req, res, {400, {{"error", why}}}), true;
  return SendAnswer(app, req, res, hub->Sites(*query)), true;
}

bool UsageApi(App& app, const Request& req, Response& res, bool) {
  HubConsole* hub = HubOr404(app, req, res);
  if (!hub) return true;
  return SendAnswer(app, req, res, hub->Usage(kUsageDays)), true;
}

}  // namespace outpost::hub_pages
