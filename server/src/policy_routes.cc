// The link policy's handlers (policy_routes.h). The form and the JSON share one reading of the
// fields (ApplyFields), so a page can never store what the API refuses, or the reverse; the
// form's strings (megabytes, "22:00-06:00, 12:30-13:00") are turned into the API's fields first.
#include "policy_routes.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>

#include <spdlog/spdlog.h>

#include "app.h"
#include "outpost/base/text.h"
#include "outpost/sync/link_scheduler.h"
#include "outpost/sync/sync_db.h"

namespace outpost::policy_routes {

namespace {

using http::Request;
using http::Response;
using json = nlohmann::json;

// Field -> {"code", "message"}: the code names the page's translated message
// ("policy_error_" + code), the message is the API's English one.
using Errors = std::map<std::string, std::pair<std::string, std::string>>;

constexpr size_t kMaxFormField = 1000;

void ReadCount(const json& body, const char* name, uint64_t max, uint64_t* out, Errors* errors) {
  auto it = body.find(name);
  if (it == body.end()) return;
  if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() == 0)) {
    (*errors)[name] = {"number", std::string(name) + " must be a whole number, 0 or more"};
  } else if (it->get<uint64_t>() > max) {
    (*errors)[name] = {"too_large", std::string(name) + " is too large"};
  } else {
    *out = it->get<uint64_t>();
  }
}

void ReadWindows(const json& body, LinkPolicy* policy, Errors* errors) {
  auto it = body.find("windows");
  if (it == body.end()) return;
  std::string text;
  if (it->is_string()) {
    text = it->get<std::string>();
  } else if (it->is_array() && it->size() <= kMaxWindows) {
    for (const json& w : *it) text += (w.is_string() ? w.get<std::string>() : "?") + ",";
  } else {
    text = "?";
  }
  auto windows = ParseWindows(text.substr(0, kMaxFormField));
  if (!windows) {
    (*errors)["windows"] = {"windows", "windows: " + windows.error().message()};
  } else {
    policy->windows = std::move(*windows);
  }
}

void ReadSchedule(const json& body, LinkPolicy* policy, Errors* errors) {
  if (auto it = body.find("auto_sync"); it != body.end()) {
    if (it->is_boolean()) policy->auto_sync = it->get<bool>();
    else (*errors)["auto_sync"] = {"boolean", "auto_sync must be true or false"};
  }
  if (auto it = body.find("interval_minutes"); it != body.end()) {
    bool whole = it->is_number_integer();
    int64_t v = whole ? it->get<int64_t>() : 0;
    if (!whole || v < kMinSyncInterval || v > kMaxSyncInterval) {
      (*errors)["interval_minutes"] = {"interval", "interval_minutes is from " +
                                                       std::to_string(kMinSyncInterval) + " to " +
                                                       std::to_string(kMaxSyncInterval)};
    } else {
      policy->interval_minutes = static_cast<int>(v);
    }
  }
}

// Changes `policy` by the fields `body` names; the errors of the wrong ones.
Errors ApplyFields(const json& body, LinkPolicy* policy) {
  Errors errors;
  ReadCount(body, "rate_limit_kbps", kMaxRateLimitKbps, &policy->rate_limit_kbps, &errors);
  ReadCount(body, "day_budget_bytes", kMaxBudgetBytes, &policy->day_budget_bytes, &errors);
  ReadCount(body, "month_budget_bytes", kMaxBudgetBytes, &policy->month_budget_bytes, &errors);
  ReadWindows(body, policy, &errors);
  ReadSchedule(body, policy, &errors);
  return errors;
}

SyncDb* Db(App& app, const Request& req, Response& res) {
  if (app.sync_db()) return app.sync_db();
  res.set_header("Cache-Control", "no-store");
  app.SendJson(req, res, {{"error", "sync.db cannot be opened on this box (see its log)"}}, 503);
  return nullptr;
}

const char* PeriodName(BudgetPeriod p) {
  return p == BudgetPeriod::kDay ? "day" : p == BudgetPeriod::kMonth ? "month" : "none";
}

json PolicyJson(SyncDb* db, const LocalTime& now) {
  LinkPolicy p = db->GetLinkPolicy();
  DailyUsage used = UsageThisMonth(db, now);
  Budget budget = BudgetLeft(p, used, now);
  json windows = json::array();
  for (const auto& w : p.windows) windows.push_back(FormatWindow(w));
  return {{"rate_limit_kbps", p.rate_limit_kbps},
          {"day_budget_bytes", p.day_budget_bytes},
          {"month_budget_bytes", p.month_budget_bytes},
          {"windows", windows},
          {"auto_sync", p.auto_sync},
          {"interval_minutes", p.interval_minutes},
          {"day", now.Day()},
          {"utc_offset_seconds", now.utc_offset},
          {"used_today_bytes", UsedOn(used, now.Day())},
          {"used_month_bytes", UsedInMonth(used, now.Month())},
          {"budget_period", PeriodName(budget.period)},
          {"budget_left_bytes", budget.period == BudgetPeriod::kNone ? json() : json(budget.left)},
          {"budget_spent", budget.spent()},
          {"allowed_now", Allowed(p, now)},
          {"next_window_start", NextWindowStart(p, now)}};
}

json ErrorsJson(const Errors& errors) {
  json out = json::object();
  for (const auto& [field, e] : errors) out[field] = e.second;
  return out;
}

// Stores `body`'s changes to the policy; the errors, or one under "" if storing failed.
Errors Store(SyncDb* db, const json& body) {
  LinkPolicy policy = db->GetLinkPolicy();
  Errors errors = ApplyFields(body, &policy);
  if (!errors.empty()) return errors;
  Status st = db->SetLinkPolicy(policy);
  if (!st.ok()) errors[""] = {"store", st.message()};
  else spdlog::info("link policy changed: {}", body.dump());
  return errors;
}

}  // namespace

bool GetPolicy(App& app, const Request& req, Response& res, bool) {
  SyncDb* db = Db(app, req, res);
  if (!db) return true;
  res.set_header("Cache-Control", "no-store");
  app.SendJson(req, res, PolicyJson(db, LocalTime::Now()));
  return true;
}

bool PutPolicy(App& app, const Request& req, Response& res, bool) {
  SyncDb* db = Db(app, req, res);
  if (!db) return true;
  res.set_header("Cache-Control", "no-store");
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    app.SendJson(req, res, {{"error", "the body must be a JSON object"}}, 400);
    return true;
  }
  Errors errors = Store(db, body);
  if (errors.count("")) {
    spdlog::error("{}: {}", RequestTarget(req), errors[""].second);
    app.SendJson(req, res, {{"error", errors[""].second}}, 500);
  } else if (!errors.empty()) {
    app.SendJson(req, res,
                 {{"error", errors.begin()->second.second}, {"errors", ErrorsJson(errors)}}, 400);
  } else {
    app.SendJson(req, res, PolicyJson(db, LocalTime::Now()));
  }
  return true;
}

}  // namespace outpost::policy_routes

namespace outpost::policy_routes {

namespace {

// "12.3 MB" (decimal megabytes, as the form's budgets are given).
std::string Mb(uint64_t bytes) {
  char out[48];
  std::snprintf(out, sizeof out, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return out;
}

// A budget in bytes as the form shows it in MB: "50", "0.5"; "0" for none.
std::string MbField(uint64_t bytes) {
  char out[48];
  std::snprintf(out, sizeof out, "%.6f", static_cast<double>(bytes) / 1e6);
  std::string s = out;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string Fill(std::string text, const std::string& key, const std::string& value) {
  std::string mark = "{" + key + "}";
  // Isolated left-to-right ("\u2066...\u2069"): "75.5 MB" and "22:00" stay whole in Arabic.
  std::string isolated = "\u2066" + value + "\u2069";
  if (size_t at = text.find(mark); at != std::string::npos) text.replace(at, mark.size(), isolated);
  return text;
}

std::string FormParam(const Request& req, const char* name) {
  return SanitizeUtf8(req.get_param_value(name).substr(0, kMaxFormField));
}

// A whole number typed in the form: "" is 0.
std::optional<uint64_t> FormCount(const std::string& text) {
  if (text.empty()) return 0;
  if (text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::strtoull(text.c_str(), nullptr, 10);
}

// Megabytes typed in the form ("50", "0.5"; "" is 0), in bytes.
std::optional<uint64_t> FormMegabytes(const std::string& text) {
  if (text.empty()) return 0;
  if (text.size() > 18 || text.find_first_not_of("0123456789.") != std::string::npos) {
    return std::nullopt;
  }
  char* end = nullptr;
  double mb = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(mb) || mb < 0) return std::nullopt;
  return static_cast<uint64_t>(std::llround(std::min(mb, 1e12) * 1e6));
}

// The form's strings as the API's fields, and the errors of those that are not numbers.
json FormFields(const Request& req, Errors* errors) {
  json body = {{"windows", FormParam(req, "windows")},
               {"auto_sync", FormParam(req, "auto_sync") == "1"}};
  auto count = [&](const char* name, const char* field, auto parse) {
    auto v = parse(FormParam(req, name));
    if (v) body[field] = *v;
    else (*errors)[field] = {"number", ""};
  };
  count("rate_limit_kbps", "rate_limit_kbps", FormCount);
  count("day_budget_mb", "day_budget_bytes", FormMegabytes);
  count("month_budget_mb", "month_budget_bytes", FormMegabytes);
  auto interval = FormCount(FormParam(req, "interval_minutes"));
  if (interval && *interval <= 100000) body["interval_minutes"] = static_cast<int64_t>(*interval);
  else (*errors)["interval_minutes"] = {"interval", ""};
  return body;
}

json FormValues(const LinkPolicy& p) {
  return {{"rate_limit_kbps", std::to_string(p.rate_limit_kbps)},
          {"day_budget_mb", MbField(p.day_budget_bytes)},
          {"month_budget_mb", MbField(p.month_budget_bytes)},
          {"windows", FormatWindows(p.windows)},
          {"auto_sync", p.auto_sync},
          {"interval_minutes", std::to_string(p.interval_minutes)}};
}

std::string BudgetLine(const ViewLanguage& t, const Budget& budget) {
  if (budget.period == BudgetPeriod::kNone) return t.T("policy_no_budget");
  if (budget.spent()) {
    return t.T(budget.period == BudgetPeriod::kDay ? "policy_spent_day" : "policy_spent_month");
  }
  return Fill(t.T(budget.period == BudgetPeriod::kDay ? "policy_left_day" : "policy_left_month"),
              "mb", Mb(budget.left));
}

std::string WindowLine(const ViewLanguage& t, const LinkPolicy& p, const LocalTime& now) {
  if (p.windows.empty()) return t.T("policy_any_time");
  if (Allowed(p, now)) return t.T("policy_window_open");
  LocalTime start{NextWindowStart(p, now), now.utc_offset};
  std::string key = start.Day() == now.Day() ? "policy_next_today" : "policy_next_tomorrow";
  int m = start.MinuteOfDay();
  char hhmm[16];
  std::snprintf(hhmm, sizeof hhmm, "%02d:%02d", m / 60 % 24, m % 60);
  return Fill(t.T(key), "time", hhmm);
}

json UsageView(SyncDb* db, const ViewLanguage& t, const LocalTime& now) {
  LinkPolicy p = db->GetLinkPolicy();
  DailyUsage used = UsageThisMonth(db, now);
  Budget budget = BudgetLeft(p, used, now);
  return {{"used_today", Mb(UsedOn(used, now.Day()))},
          {"used_month", Mb(UsedInMonth(used, now.Month()))},
          {"budget", BudgetLine(t, budget)},
          {"spent", budget.spent()},
          {"window", WindowLine(t, p, now)},
          {"auto_off", !p.auto_sync}};
}

}  // namespace

json PolicyView(App& app, const ViewLanguage& t, const json& posted, const json& errors) {
  SyncDb* db = app.sync_db();
  if (!db) return {{"unavailable", true}};
  json view = UsageView(db, t, LocalTime::Now());
  view["form"] = posted.is_null() ? FormValues(db->GetLinkPolicy()) : posted;
  if (errors.is_object() && !errors.empty()) view["errors"] = errors;
  return view;
}

namespace {

void SendPolicyPage(App& app, const Request& req, Response& res, int status, const json& posted,
                    const json& errors) {
  RequestLanguage lang = app.LanguageOf(req);
  const ViewLanguage& t = lang.view;
  auto session = app.SessionOf(req);
  std::string title = t.T("policy_title");
  json view = {{"page_title", title},
               {"private", true},
               {"nav_sync", true},
               {"breadcrumb", json::array({{{"title", t.T("home")}, {"url", "/"}},
                                           {{"title", t.T("admin_sync")}, {"url", "/admin/sync"}},
                                           {{"title", title}, {"url", ""}}})}};
  if (session) {
    view["session"] = {{"name", session->name},
                       {"csrf", session->csrf},
                       {"coordinator", session->role == Role::kCoordinator}};
  }
  view["policy"] = PolicyView(app, t, posted, errors);
  if (req.get_param_value("done") == "saved") view["policy"]["notice"] = t.T("policy_saved");
  app.SendPage(req, res, "admin_sync_policy", std::move(view), lang, status);
  res.headers.erase("Cache-Control");
  res.set_header("Cache-Control", "no-store");
}

}  // namespace

bool PolicyPage(App& app, const Request& req, Response& res, bool) {
  SendPolicyPage(app, req, res, 200, nullptr, nullptr);
  return true;
}

bool PolicyForm(App& app, const Request& req, Response& res, bool) {
  SyncDb* db = app.sync_db();
  Errors errors;
  json body = FormFields(req, &errors);
  if (db && errors.empty()) {
    errors = Store(db, body);
  } else if (db) {  // the fields that are numbers may be wrong too: say so at once
    LinkPolicy scratch = db->GetLinkPolicy();
    errors.merge(ApplyFields(body, &scratch));
  }
  if (db && errors.empty()) {
    SeeOther(res, "/admin/sync/policy?done=saved");
    return true;
  }
  RequestLanguage lang = app.LanguageOf(req);
  json shown = json::object();
  for (const auto& [field, e] : errors) {
    shown[field.empty() ? "store" : field] = lang.view.T("policy_error_" + e.first);
  }
  if (!db) shown["store"] = lang.view.T("policy_error_store");
  json posted = {{"rate_limit_kbps", FormParam(req, "rate_limit_kbps")},
                 {"day_budget_mb", FormParam(req, "day_budget_mb")},
                 {"month_budget_mb", FormParam(req, "month_budget_mb")},
                 {"windows", FormParam(req, "windows")},
                 {"auto_sync", FormParam(req, "auto_sync") == "1"},
                 {"interval_minutes", FormParam(req, "interval_minutes")}};
  SendPolicyPage(app, req, res, shown.contains("store") ? 500 : 422, posted, shown);
  return true;
}

}  // namespace outpost::policy_routes
