// The usage page and its JSON (usage_routes.h). The view-model is made from usage.db
// (outpost/sync/usage.h) and the catalog's titles; the page adds one chart per channel and
// the strings of the interface language.
#include "usage_routes.h"

#include <ctime>
#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "app.h"
#include "svg_chart.h"
#include "views.h"

namespace outpost::usage_routes {

namespace {

using http::Request;
using http::Response;
using nlohmann::json;

constexpr size_t kTopResources = 10;  // per channel

// ?days=N: 7, 30 or 90; anything else is 30.
int DaysOf(const Request& req) {
  std::string days = req.get_param_value("days");
  return days == "7" ? 7 : days == "90" ? 90 : 30;
}

int64_t Today() { return UnixDay(static_cast<int64_t>(std::time(nullptr))); }

// The catalog's channels, then any channel counted that the catalog no longer has: id -> title.
std::vector<std::pair<std::string, std::string>> ChannelsShown(
    App& app, const std::vector<UsageDayTotal>& daily) {
  std::vector<std::pair<std::string, std::string>> out;
  std::set<std::string> seen;
  for (const ChannelInfo& c : app.catalog()->Channels()) {
    out.emplace_back(c.id, c.meta.title.empty() ? c.id : c.meta.title);
    seen.insert(c.id);
  }
  for (const UsageDayTotal& d : daily) {
    if (seen.insert(d.channel).second) out.emplace_back(d.channel, d.channel);
  }
  return out;
}

json TopOf(App& app, const std::string& channel, int64_t from, int64_t to) {
  json top = json::array();
  auto rows = app.usage()->Top(channel, from, to, kTopResources);
  if (!rows) return top;
  for (const UsageResourceTotal& r : *rows) {
    auto node = app.catalog()->NodeByPath(r.channel, r.resource);
    bool known = node && !node->meta.title.empty();
    top.push_back({{"resource", r.resource},
                   {"title", known ? node->meta.title : r.resource},
                   {"url", node ? ResourceUrl(r.channel, r.resource) : ""},
                   {"views", r.views}});
  }
  return top;
}

json ChannelView(App& app, const std::string& id, const std::string& title,
                 const std::map<std::pair<std::string, int64_t>, uint64_t>& by_day, int64_t from,
                 int64_t to) {
  json daily = json::array();
  uint64_t total = 0;
  for (int64_t day = from; day <= to; ++day) {
    auto it = by_day.find({id, day});
    uint64_t views = it == by_day.end() ? 0 : it->second;
    total += views;
    daily.push_back({{"day", DayString(day)}, {"views", views}});
  }
  return {{"id", id}, {"title", title}, {"total", total}, {"daily", daily},
          {"top", total ? TopOf(app, id, from, to) : json::array()}};
}

// The view-model: what the JSON route answers, and the page's figures. Null if usage.db cannot
// be read.
json UsageView(App& app, int days) {
  if (!app.usage()) return nullptr;
  (void)app.FlushViews();  // a failure is logged by the counter; the page shows what is stored
  int64_t to = Today(), from = to - days + 1;
  auto daily = app.usage()->Daily("", from, to);
  if (!daily) {
    spdlog::error("usage page: {}", daily.error().message());
    return nullptr;
  }
  std::map<std::pair<std::string, int64_t>, uint64_t> by_day;
  uint64_t total = 0;
  for (const UsageDayTotal& d : *daily) {
    by_day[{d.channel, d.day}] = d.views;
    total += d.views;
  }
  json channels = json::array();
  for (const auto& [id, title] : ChannelsShown(app, *daily)) {
    channels.push_back(ChannelView(app, id, title, by_day, from, to));
  }
  return {{"days", days},        {"from", DayString(from)},
          {"to", DayString(to)}, {"total", total},
          {"counting", app.counting_views()},
          {"sharing", app.usage()->sharing()},
          {"min_shared_views", kMinSharedViews},
          {"retention_days", kUsageRetentionDays},
          {"channels", channels}};
}

std::string Fill(std::string text, const std::string& value) {
  if (size_t at = text.find("{n}"); at != std::string::npos) text.replace(at, 3, value);
  return text;
}

// The chart of one channel's days (labels "MM-DD"), named by the channel's title.
std::string ChartOf(const json& channel, size_t index, const ViewLanguage& t, bool rtl) {
  BarChartSpec spec{.id = "chart-" + std::to_string(index),
                    .title = Fill(t.T("usage_chart_title"), channel["title"].get<std::string>()),
                    .description = Fill(t.T("usage_chart_desc"), std::to_string(channel["total"].get<uint64_t>())),
                    .bars = {},
                    .rtl = rtl};
  return DailyViewsChart(std::move(spec), channel["daily"],
                         [&](uint64_t views) { return Fill(t.T("usage_views_n"), std::to_string(views)); });
}

// The page's own fields over the view-model: the frame, the period links, the charts.
void AddPageFields(json& view, const Request& req, const RequestLanguage& lang, bool rtl,
                   const std::optional<Session>& session) {
  const ViewLanguage& t = lang.view;
  view["page_title"] = t.T("usage_title");
  view["private"] = true;
  view["nav_usage"] = true;
  view["breadcrumb"] = json::array({{{"title", t.T("home")}, {"url", "/"}},
                                    {{"title", t.T("usage_title")}, {"url", ""}}});
  if (session) view["session"] = {{"name", session->name}, {"csrf", session->csrf},
                                  {"coordinator", session->role == Role::kCoordinator}};
  json periods = json::array();
  for (int d : {7, 30, 90}) {
    periods.push_back({{"days", d}, {"label", Fill(t.T("usage_days_n"), std::to_string(d))},
                       {"current", d == view["days"].get<int>()}});
  }
  view["periods"] = periods;
  view["period_label"] = Fill(t.T("usage_period"), std::to_string(view["days"].get<int>()));
  size_t i = 0;
  for (json& c : view["channels"]) {
    c["chart"] = ChartOf(c, i++, t, rtl);
    c["has_views"] = c["total"].get<uint64_t>() > 0;
  }
  std::string done = req.get_param_value("done");
  if (done == "on" || done == "off") view["notice"] = t.T("usage_done_sharing_" + done);
}

}  // namespace

bool Page(App& app, const Request& req, Response& res, bool) {
  RequestLanguage lang = app.LanguageOf(req);
  json view = UsageView(app, DaysOf(req));
  if (view.is_null()) {
    app.BoxTrouble(req, res, /*json=*/false, 503);
    return true;
  }
  AddPageFields(view, req, lang, app.i18n().Dir(lang.code) == "rtl", app.SessionOf(req));
  app.SendPage(req, res, "admin_usage", std::move(view), lang, 200);
  res.headers.erase("Cache-Control");
  res.set_header("Cache-Control", "no-store");
  return true;
}

bool SharingForm(App& app, const Request& req, Response& res, bool) {
  std::string want = req.get_param_value("sharing");
  if (want != "on" && want != "off") {  // not a form of ours: back to the page, unchanged
    SeeOther(res, "/admin/usage");
    return true;
  }
  if (!app.usage()) {
    app.BoxTrouble(req, res, /*json=*/false, 503);
    return true;
  }
  Status st = app.usage()->SetSharing(want == "on");
  if (!st.ok()) {
    spdlog::error("usage sharing switch: {}", st.message());
    app.BoxTrouble(req, res, /*json=*/false, 503);
    return true;
  }
  SeeOther(res, "/admin/usage?done=" + want);
  return true;
}

bool Json(App& app, const Request& req, Response& res, bool) {
  json view = UsageView(app, DaysOf(req));
  if (view.is_null()) {
    app.BoxTrouble(req, res, /*json=*/true, 503);
    return true;
  }
  app.SendJson(req, res, view);
  res.headers.erase("Cache-Control");
  res.set_header("Cache-Control", "no-store");
  return true;
}

bool SetSharing(App& app, const Request& req, Response& res, bool) {
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("sharing") || !body["sharing"].is_boolean()) {
    app.SendJson(req, res, {{"error", "expected {\"sharing\": true or false}"}}, 400);
    return true;
  }
  if (!app.usage()) {
    app.BoxTrouble(req, res, /*json=*/true, 503);
    return true;
  }
  Status st = app.usage()->SetSharing(body["sharing"].get<bool>());
  if (!st.ok()) {
    spdlog::error("usage sharing switch: {}", st.message());
    app.BoxTrouble(req, res, /*json=*/true, 503);
    return true;
  }
  app.SendJson(req, res, {{"sharing", body["sharing"]}});
  return true;
}

}  // namespace outpost::usage_routes
