// The Sync and USB stick pages of the console and their JSON (job_routes.h). Every number a
// page shows comes from a JobSnapshot (jobs.h); the page words come from the translations
// (web-ui/i18n, keys jobs_*), so a result reads in the coordinator's language.

#include "job_routes.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>

#include <nlohmann/json.hpp>

#include "app.h"
#include "policy_routes.h"
#include "jobs.h"
#include "outpost/base/text.h"
#include "outpost/sync/bundle_export.h"

namespace outpost::job_routes {

using http::Request;
using http::Response;
using nlohmann::json;

namespace {

std::string Mb(uint64_t bytes) { return BytesForPeople(bytes); }

constexpr size_t kMaxField = 4096;  // a mount point; longer is not one the box lists

std::string Param(const Request& req, const char* name) {
  return SanitizeUtf8(req.get_param_value(name).substr(0, kMaxField));
}

std::string Figure(const ViewLanguage& t, const std::string& text);

std::string Fill(const ViewLanguage& t, std::string text, const std::string& key,
                 const std::string& raw) {
  std::string value = Figure(t, raw);
  std::string mark = "{" + key + "}";
  for (size_t at = text.find(mark); at != std::string::npos; at = text.find(mark, at)) {
    text.replace(at, mark.size(), value);
    at += value.size();
  }
  return text;
}

// A figure put into a right-to-left sentence is isolated (U+2068 ... U+2069), so that "2.5 MB"
// keeps its order beside Arabic words and punctuation.
std::string Figure(const ViewLanguage& t, const std::string& text) {
  return t.T("_dir") == "rtl" ? "\u2068" + text + "\u2069" : text;
}

std::string When(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  char out[32];
  if (!gmtime_r(&t, &tm) || std::strftime(out, sizeof out, "%Y-%m-%d %H:%M UTC", &tm) == 0) {
    return "";
  }
  return out;
}

uint64_t Field(const json& fields, const char* name) {
  auto it = fields.find(name);
  if (it == fields.end() || !it->is_number_integer()) return 0;
  return it->is_number_unsigned() ? it->get<uint64_t>()
                                  : static_cast<uint64_t>(std::max<int64_t>(0, it->get<int64_t>()));
}

// The result of an ended job, in the page's language.
std::string ResultLine(const ViewLanguage& t, const JobSnapshot& job) {
  const JobResult& r = *job.result;
  if (r.state == "failed") return t.T("jobs_failed");
  std::string key = std::string("jobs_") + JobKindName(job.kind) + "_" + r.state;
  if (job.kind == JobKind::kStickImport && Field(r.fields, "volumes") == 0) {
    key = "jobs_stick_import_none";
  }
  std::string budget = r.fields.value("budget", "");
  if (job.kind == JobKind::kSync && r.state == "incomplete" &&
      (budget == "day" || budget == "month")) {
    // The policy's budget stopped it, or left none to start it.
    bool started = !r.fields.contains("started") || r.fields["started"] != false;
    key = (started ? "jobs2_sync_budget_" : "jobs2_sync_not_started_") + budget;
  }
  if (job.kind == JobKind::kStickExport && r.state == "cancelled" &&
      Field(r.fields, "volumes") > 0) {
    key = "jobs2_stick_export_cancelled";  // Continue finishes it
  }
  std::string line = t.T(key);
  uint64_t channels = Field(r.fields, "channels_updated");
  if (job.kind == JobKind::kStickExport) {
    channels = r.fields.value("channels", json::array()).size();
  }
  line = Fill(t, line, "channels", std::to_string(channels));
  uint64_t bytes = job.kind == JobKind::kSync ? Field(r.fields, "bytes_received")
                                              : Field(r.fields, "bytes");
  line = Fill(t, line, "mb", Mb(bytes));
  return Fill(t, line, "left", Mb(Field(r.fields, "remaining_bytes")));
}

// A running job's progress, as the page shows it and the script updates it.
json ProgressView(const ViewLanguage& t, const JobSnapshot& job) {
  const JobProgress& p = job.progress;
  json v = {{"phase", t.T("jobs_phase_" + p.phase)},
            {"bytes", p.bytes_total ? Fill(t, Fill(t, t.T("jobs_of"), "done", Mb(p.bytes_done)),
                                           "total", Mb(p.bytes_total))
                                    : Mb(p.bytes_done)},
            {"cancel_requested", job.cancel_requested}, {"has_total", p.bytes_total > 0},
            {"max", p.bytes_total}, {"value", std::min(p.bytes_done, p.bytes_total)}};
  if (p.files_total) {
    v["files"] = Fill(t, Fill(t, t.T("jobs_files"), "done", std::to_string(p.files_done)), "total",
                      std::to_string(p.files_total));
  }
  if (job.rate_bytes_per_second > 0) {
    v["rate"] = Mb(static_cast<uint64_t>(job.rate_bytes_per_second)) + "/s";
  }
  if (job.seconds_left) {
    v["left"] = Fill(t, t.T("jobs_left"), "minutes", std::to_string((*job.seconds_left + 59) / 60));
  }
  v["started"] = When(job.started_at);
  return v;
}

json JobView(const ViewLanguage& t, const JobSnapshot& job) {
  json v = {{"kind", JobKindName(job.kind)}, {"running", job.running},
            {"automatic", job.trigger == "schedule"}, {"cancellable", true},
            {"back", job.kind == JobKind::kSync ? "sync" : "usb"}};
  if (job.running) {
    v["progress"] = ProgressView(t, job);
    return v;
  }
  v["result"] = ResultLine(t, job);
  v["state"] = job.result->state;
  v["ok"] = job.result->state == "done";
  if (job.result->state == "failed") v["detail"] = job.result->sentence;
  v["ended"] = When(job.ended_at);
  return v;
}

// The frame every console page shares: its title, breadcrumb, who is logged in.
json Frame(App& app, const Request& req, const ViewLanguage& t, const std::string& title) {
  json crumbs = json::array({{{"title", t.T("home")}, {"url", "/"}},
                             {{"title", t.T("admin_nav")}, {"url", "/admin/"}},
                             {{"title", title}, {"url", ""}}});
  json view = {{"page_title", title}, {"breadcrumb", crumbs}, {"private", true}};
  if (auto session = app.SessionOf(req)) {
    view["session"] = {{"name", session->name},
                       {"csrf", session->csrf},
                       {"coordinator", session->role == Role::kCoordinator}};
  }
  return view;
}

// The notice a form's redirect asks for (?done=started|busy|cancelled|...).
void AddNotice(const Request& req, const ViewLanguage& t, json* view) {
  std::string done = req.get_param_value("done");
  for (const char* known : {"started", "cancelling", "none"}) {
    if (done == known) (*view)["notice"] = t.T(std::string("jobs_done_") + known);
  }
  if (done == "busy") (*view)["error"] = t.T("jobs_busy");
  if (done == "no_drive") (*view)["error"] = t.T("jobs_no_drive");
  if (done == "failed") (*view)["error"] = t.T("jobs_start_failed");
}

void SendPrivate(App& app, const Request& req, Response& res, const std::string& page, json view,
                 const RequestLanguage& lang, int status = 200) {
  app.SendPage(req, res, page, std::move(view), lang, status);
  res.headers.erase("Cache-Control");
  res.set_header("Cache-Control", "no-store");
}

// Where a form goes after starting a job: its page, with what happened.
std::string AfterStart(const Result<JobId>& started, const std::string& page) {
  if (started) return page + "?done=started";
  if (started.error().code() == StatusCode::kBusy) return page + "?done=busy";
  if (started.error().code() == StatusCode::kNotFound) return page + "?done=no_drive";
  return page + "?done=failed";
}

int StatusOf(const Status& error) {
  switch (error.code()) {
    case StatusCode::kBusy: return 409;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kInvalidArgument: return 400;
    default: return 500;
  }
}

}  // namespace

// ---- Pages.

bool SyncPage(App& app, const Request& req, Response& res, bool) {
  RequestLanguage lang = app.LanguageOf(req);
  const ViewLanguage& t = lang.view;
  json view = Frame(app, req, t, t.T("jobs_sync_title"));
  view["nav_sync"] = true;
  view["jobs_page"] = "/admin/sync";
  if (auto job = app.jobs().Latest(JobKind::kSync)) view["job"] = JobView(t, *job);
  if (auto current = app.jobs().Current(); current && current->kind != JobKind::kSync) {
    view["other_running"] = true;
  }
  view["idle"] = !app.jobs().Current().has_value();
  AddNotice(req, t, &view);
  json policy = policy_routes::PolicyView(app, t);  // the link policy's form, below
  if (!policy.contains("notice")) policy["notice"] = false;  // not the sync's, shown again
  view["policy"] = std::move(policy);
  SendPrivate(app, req, res, "admin_sync", std::move(view), lang);
  return true;
}

bool SyncForm(App& app, const Request&, Response& res, bool) {
  SeeOther(res, AfterStart(app.jobs().StartSync({}), "/admin/sync"));
  return true;
}

bool CancelForm(App& app, const Request& req, Response& res, bool) {
  std::string back = req.get_param_value("back") == "usb" ? "/admin/usb" : "/admin/sync";
  SeeOther(res, back + (app.jobs().Cancel() ? "?done=cancelling" : "?done=none"));
  return true;
}

bool UsbPage(App& app, const Request& req, Response& res, bool) {
  RequestLanguage lang = app.LanguageOf(req);
  const ViewLanguage& t = lang.view;
  json view = Frame(app, req, t, t.T("jobs_usb_title"));
  view["nav_usb"] = true;
  view["jobs_page"] = "/admin/usb";
  json drives = json::array();
  for (const auto& d : app.jobs().Drives()) {
    drives.push_back({{"mount", d.mount_point.string()},
                      {"label", d.label.empty() ? d.mount_point.filename().string() : d.label},
                      {"free", Fill(t, Fill(t, t.T("jobs_drive_free"), "free", Mb(d.free_bytes)),
                                    "total", Mb(d.total_bytes))},
                      {"read_only", d.read_only}});
  }
  for (size_t i = 0; i < drives.size(); ++i) drives[i]["index"] = i;
  if (!drives.empty()) drives[0]["first"] = true;
  view["has_drives"] = !drives.empty();
  view["drives"] = drives;
  view["unfinished"] = !UnfinishedExports(app.jobs().paths()).empty();
  if (auto job = app.jobs().Latest(JobKind::kStickExport)) view["job"] = JobView(t, *job);
  if (auto current = app.jobs().Current(); current && current->kind == JobKind::kSync) {
    view["other_running"] = true;
  }
  view["idle"] = !app.jobs().Current().has_value();
  AddNotice(req, t, &view);
  SendPrivate(app, req, res, "admin_usb", std::move(view), lang);
  return true;
}

bool UsbWriteForm(App& app, const Request& req, Response& res, bool) {
  SeeOther(res, AfterStart(app.jobs().StartStickExport(Param(req, "drive"), false), "/admin/usb"));
  return true;
}

bool UsbContinueForm(App& app, const Request& req, Response& res, bool) {
  SeeOther(res, AfterStart(app.jobs().StartStickExport(Param(req, "drive"), true), "/admin/usb"));
  return true;
}

bool UsbReadForm(App& app, const Request& req, Response& res, bool) {
  SeeOther(res, AfterStart(app.jobs().StartStickImport(Param(req, "drive")), "/admin/usb"));
  return true;
}

// ---- JSON.

bool JobsJson(App& app, const Request& req, Response& res, bool) {
  RequestLanguage lang = app.LanguageOf(req);
  json out = {{"current", nullptr}, {"sync", nullptr}, {"stick", nullptr}};
  if (auto job = app.jobs().Current()) {
    out["current"] = job->ToJson();
    out["current"]["view"] = JobView(lang.view, *job);
  }
  if (auto job = app.jobs().Latest(JobKind::kSync)) out["sync"] = job->ToJson();
  if (auto job = app.jobs().Latest(JobKind::kStickExport)) out["stick"] = job->ToJson();
  app.SendJson(req, res, out);
  res.set_header("Cache-Control", "no-store");
  return true;
}

bool StartSyncJson(App& app, const Request& req, Response& res, bool) {
  auto started = app.jobs().StartSync({});
  if (!started) {
    app.SendJson(req, res, {{"error", started.error().message()}}, StatusOf(started.error()));
    return true;
  }
  app.SendJson(req, res, {{"job", *started}}, 202);
  return true;
}

bool CancelJson(App& app, const Request& req, Response& res, bool) {
  if (!app.jobs().Cancel()) {
    app.SendJson(req, res, {{"error", "no job is running"}}, 409);
    return true;
  }
  app.SendJson(req, res, {{"cancelling", true}}, 202);
  return true;
}

bool DrivesJson(App& app, const Request& req, Response& res, bool) {
  json drives = json::array();
  for (const auto& d : app.jobs().Drives()) {
    drives.push_back({{"mount_point", d.mount_point.string()}, {"device", d.device},
                      {"label", d.label}, {"filesystem", d.filesystem},
                      {"read_only", d.read_only}, {"free_bytes", d.free_bytes},
                      {"total_bytes", d.total_bytes}});
  }
  json unfinished = json::array();
  for (const auto& u : UnfinishedExports(app.jobs().paths())) {
    unfinished.push_back({{"bundle", u.bundle_id}, {"volumes", u.volumes}, {"bytes", u.bytes},
                          {"created_at", u.created_at}});
  }
  app.SendJson(req, res, {{"drives", drives}, {"unfinished_exports", unfinished}});
  res.set_header("Cache-Control", "no-store");
  return true;
}

namespace {

// {"drive": MOUNT_POINT, "continue": false}: the drive, or "" with a 400 sent.
std::string DriveOf(App& app, const Request& req, Response& res, bool* resume) {
  if (req.body.size() > kMaxField) {
    app.SendJson(req, res, {{"error", "the body is too large"}}, 413);
    return "";
  }
  auto body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("drive") || !body["drive"].is_string() ||
      body["drive"].get<std::string>().empty()) {
    app.SendJson(req, res, {{"error", "give {\"drive\": a mount point the box lists}"}}, 400);
    return "";
  }
  auto again = body.find("continue");
  if (resume) *resume = again != body.end() && again->is_boolean() && again->get<bool>();
  return body["drive"].get<std::string>();
}

void AnswerStart(App& app, const Request& req, Response& res, const Result<JobId>& started) {
  if (!started) {
    app.SendJson(req, res, {{"error", started.error().message()}}, StatusOf(started.error()));
  } else {
    app.SendJson(req, res, {{"job", *started}}, 202);
  }
}

}  // namespace

bool UsbExportJson(App& app, const Request& req, Response& res, bool) {
  bool resume = false;
  std::string drive = DriveOf(app, req, res, &resume);
  if (drive.empty()) return true;
  AnswerStart(app, req, res, app.jobs().StartStickExport(drive, resume));
  return true;
}

bool UsbImportJson(App& app, const Request& req, Response& res, bool) {
  std::string drive = DriveOf(app, req, res, nullptr);
  if (drive.empty()) return true;
  AnswerStart(app, req, res, app.jobs().StartStickImport(drive));
  return true;
}

}  // namespace outpost::job_routes
