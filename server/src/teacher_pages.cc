// The teachers' and coordinators' pages (teacher_pages.h). Each handler reads its form, calls
// the API handler that does the work (CallApi) and turns the answer into a redirect or a page.
// The view-models are built here, not in Views (views.h): they are a session's, never cached,
// and made from the API's JSON rather than from the catalog.
#include "teacher_pages.h"

#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "account_routes.h"
#include "app.h"
#include "http/http_message.h"
#include "http/url.h"
#include "material_routes.h"
#include "outpost/base/text.h"
#include "upload_routes.h"

namespace outpost::teacher_pages {

namespace {

using http::Request;
using http::Response;
using nlohmann::json;

// A form field longer than this is cut before it goes anywhere; the API checks the rest.
constexpr size_t kMaxField = 8192;

// The fields a teacher gives a material, as the form and the API name them.
constexpr const char* kMaterialFields[] = {"title", "description", "language",
                                           "grade", "subject",     "license"};

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

std::string Param(const Request& req, const char* name) {
  return SanitizeUtf8(req.get_param_value(name).substr(0, kMaxField));
}

// A hub account's home: the hub console (hub_pages.h).
constexpr char kHubHome[] = "/admin/hub/";

// Where to go after logging in: `back` if it is a path on this box, else "my materials" (the
// hub console for a hub's account, `hub_role`).
std::string After(const Request& req, bool hub_role) {
  std::string back = Param(req, "back");
  if (back.empty()) return hub_role ? kHubHome : "/teach/";
  return LocalPath(back);
}

// ---- Calling the API in process.

struct ApiAnswer {
  int status = 500;
  json body;  // the answer's JSON (discarded if it was not JSON)
  http::Headers headers;
  std::string Error() const {
    return body.is_object() && body.contains("error") && body["error"].is_string()
               ? body["error"].get<std::string>()
               : std::string();
  }
};

// Runs `handler` as if `body` (null: a GET) had been posted to it by the same browser, with
// `named` as its route's first group (the material a /api/v1/materials/NAMED/... route names).
// Only the cookie and the language go along; the page's route has already checked the access
// and the CSRF token.
ApiAnswer CallApi(App& app, RouteHandler handler, const Request& req, const json& body,
                  const std::string& named = "") {
  Request call;
  call.method = body.is_null() ? "GET" : "POST";
  call.path = "/api/v1/" + named;
  call.target = PercentEncode(call.path, /*keep_slash=*/true);
  call.version = req.version;
  call.remote_addr = req.remote_addr;
  for (const char* header : {"Cookie", "Accept-Language"}) {
    if (req.has_header(header)) call.headers.emplace(header, req.get_header_value(header));
  }
  if (!body.is_null()) call.body = body.dump();
  call.matches.push_back(call.path);
  call.matches.push_back(std::string_view(call.path).substr(call.path.size() - named.size()));
  Response res;
  handler(app, call, res, /*on_loop=*/false);
  ApiAnswer answer;
  answer.status = res.status;
  answer.headers = res.headers;
  std::string_view text = res.body_view ? *res.body_view : std::string_view(res.body);
  answer.body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return answer;
}

void CopyCookie(const ApiAnswer& answer, Response& res) {
  auto it = answer.headers.find("Set-Cookie");
  if (it != answer.headers.end()) res.set_header("Set-Cookie", it->second);
}

// ---- Answering.

// A session's page: never kept by the browser, a proxy or the page cache.
void SendPrivate(App& app, const Request& req, Response& res, const std::string& page, json view,
                 const RequestLanguage& lang, int status) {
  app.SendPage(req, res, page, std::move(view), lang, status);
  res.headers.erase("Cache-Control");
  res.set_header("Cache-Control", "no-store");
}

std::string Fill(std::string text, const std::string& key, const std::string& value) {
  std::string mark = "{" + key + "}";
  if (size_t at = text.find(mark); at != std::string::npos) text.replace(at, mark.size(), value);
  return text;
}

// A form the API refused is shown again with why: 422, unless the box is busy or broken (the
// API's 429, 500 or 503 go through). Never the API's 401 or 403, which say "log in" or "not
// your role" about a route, while the route let this request through.
int FormStatus(int api_status) { return api_status == 429 || api_status >= 500 ? api_status : 422; }

std::string Minutes(int64_t seconds) {
  return std::to_string((std::max<int64_t>(seconds, 1) + 59) / 60);
}

// The fields of every page here: its title, the breadcrumb, and who is logged in (the layout
// shows the name and the logout button, with the CSRF token it posts).
json Frame(const RequestLanguage& lang, const std::optional<Session>& session,
           const std::string& title, bool under_teach = false) {
  const ViewLanguage& t = lang.view;
  json crumbs = json::array({{{"title", t.T("home")}, {"url", "/"}}});
  if (under_teach) crumbs.push_back({{"title", t.T("teach_title")}, {"url", "/teach/"}});
  crumbs.push_back({{"title", title}, {"url", ""}});
  json view = {{"page_title", title}, {"breadcrumb", crumbs}, {"private", true}};
  if (session) {
    view["session"] = {{"name", session->name},
                       {"csrf", session->csrf},
                       {"coordinator", session->role == Role::kCoordinator}};
  }
  return view;
}

// ---- Logging in.

std::string RetryAfter(const ApiAnswer& answer) {
  auto it = answer.headers.find("Retry-After");
  return Minutes(it == answer.headers.end() ? 60 : std::strtoll(it->second.c_str(), nullptr, 10));
}

// What to tell someone whose login (or setup code) was refused, in their language.
std::string LoginError(App& app, const ViewLanguage& t, const ApiAnswer& answer,
                       const std::string& name) {
  if (answer.status == 429) return Fill(t.T("login_wait"), "minutes", RetryAfter(answer));
  if (answer.status == 503) return t.T("accounts_unavailable");
  auto account = app.accounts() ? app.accounts()->Find(name) : std::nullopt;
  if (account && account->locked_until > Now()) {
    return Fill(t.T("login_locked"), "minutes", Minutes(account->locked_until - Now()));
  }
  if (account && account->disabled_at != 0) return t.T("login_disabled");
  return t.T("login_wrong");
}

// Whether a login or first-run form was posted from this box's own pages. Another site's page
// (or a lesson's script in its sandbox, whose origin is "null") could otherwise log a teacher's
// browser into an account of its choosing, and what the teacher then uploads would be its.
// Browsers send Origin with every POST; a client without one (a script) is not a browser.
bool FromThisBox(const Request& req) {
  if (!req.has_header("Origin")) return true;
  std::string origin = req.get_header_value("Origin");
  for (const char* scheme : {"http://", "https://"}) {
    if (origin.starts_with(scheme))
      return origin.substr(std::string_view(scheme).size()) == req.get_header_value("Host");
  }
  return false;
}

void SendLoginView(App& app, const Request& req, Response& res, int status,
                   const std::string& error, const std::string& name, const std::string& back) {
  RequestLanguage lang = app.LanguageOf(req);
  json view = Frame(lang, std::nullopt, lang.view.T("login_title"));
  view["back"] = back;
  view["name"] = name;
  if (!error.empty()) view["error"] = error;
  view["setup"] = app.accounts() && !app.accounts()->HasCoordinator();
  SendPrivate(app, req, res, "login", std::move(view), lang, status);
}

void SendSetupView(App& app, const Request& req, Response& res, int status,
                   const std::string& error, const std::string& detail) {
  RequestLanguage lang = app.LanguageOf(req);
  json view = Frame(lang, std::nullopt, lang.view.T("setup_title"));
  view["name"] = Param(req, "name");
  if (!error.empty()) view["error"] = error;
  if (!detail.empty()) view["detail"] = detail;
  SendPrivate(app, req, res, "setup", std::move(view), lang, status);
}

}  // namespace

void SendLogin(App& app, const Request& req, Response& res, int status) {
  SendLoginView(app, req, res, status, "", "", RequestTarget(req));
}

bool LoginPage(App& app, const Request& req, Response& res, bool) {
  if (auto session = app.SessionOf(req)) {
    return SeeOther(res, After(req, IsHubRole(session->role))), true;
  }
  if (app.accounts() && !app.accounts()->HasCoordinator()) return SeeOther(res, "/setup"), true;
  SendLoginView(app, req, res, 200, "", "", Param(req, "back"));
  return true;
}

bool LoginForm(App& app, const Request& req, Response& res, bool) {
  if (!FromThisBox(req)) return SendLoginView(app, req, res, 403, "", "", ""), true;
  std::string name = Param(req, "name");
  json body = {{"name", name}, {"password", Param(req, "password")}};
  ApiAnswer answer = CallApi(app, account_routes::Login, req, body);
  if (answer.status == 200) {
    CopyCookie(answer, res);
    auto role = RoleFromName(answer.body.is_object() ? answer.body.value("role", "") : "");
    SeeOther(res, After(req, role && IsHubRole(*role)));
    return true;
  }
  RequestLanguage lang = app.LanguageOf(req);
  SendLoginView(app, req, res, FormStatus(answer.status), LoginError(app, lang.view, answer, name),
                name, Param(req, "back"));
  return true;
}

bool SetupPage(App& app, const Request& req, Response& res, bool) {
  if (!app.accounts() || app.accounts()->HasCoordinator()) return SeeOther(res, "/login"), true;
  SendSetupView(app, req, res, 200, "", "");
  return true;
}

bool SetupForm(App& app, const Request& req, Response& res, bool) {
  if (!FromThisBox(req)) return SendSetupView(app, req, res, 403, "", ""), true;
  json body = {{"code", Param(req, "code")},
               {"name", Param(req, "name")},
               {"password", Param(req, "password")}};
  ApiAnswer answer = CallApi(app, account_routes::SetUp, req, body);
  if (answer.status == 200) {
    CopyCookie(answer, res);
    SeeOther(res, app.is_hub() ? kHubHome : "/teach/");
    return true;
  }
  RequestLanguage lang = app.LanguageOf(req);
  const ViewLanguage& t = lang.view;
  std::string error = answer.status == 400   ? t.T("setup_invalid")
                      : answer.status == 403 ? t.T("setup_wrong_code")
                                             : LoginError(app, t, answer, "");
  SendSetupView(app, req, res, FormStatus(answer.status), error,
                answer.status == 400 ? answer.Error() : std::string());
  return true;
}

bool LogoutForm(App& app, const Request& req, Response& res, bool) {
  ApiAnswer answer = CallApi(app, account_routes::Logout, req, json::object());
  CopyCookie(answer, res);
  SeeOther(res, "/login");
  return true;
}

namespace {

// ---- The school's materials.

std::string Encoded(const std::string& path) { return PercentEncode(path, /*keep_slash=*/false); }

// What the hub decided on a material, as a sentence: "" if nothing yet.
std::string ReviewLine(const ViewLanguage& t, const json& review) {
  std::string state = review.value("state", "");
  if (state == "declined") return t.T("review_declined") + " " + review.value("reason", "");
  if (state == "adopted") {
    std::string where = review.value("topic", "");
    return t.T("review_adopted") + " " + review.value("channel", "") +
           (where.empty() ? "" : " / " + where);
  }
  return "";
}

// The materials under `node` of the school channel's tree (GET /api/v1/materials), each with
// the titles of the topics above it ("Grade 5 / Science"), which is also how a move names them.
void MaterialRows(const ViewLanguage& t, const json& node, const std::string& topic, json* rows) {
  if (!node.is_object() || !node.contains("children")) return;
  for (const json& c : node["children"]) {
    std::string title = c.value("title", ""), kind = c.value("kind", "other");
    if (kind == "topic") {
      MaterialRows(t, c, topic.empty() ? title : topic + " / " + title, rows);
      continue;
    }
    std::string path = c.value("path", "");
    rows->push_back({{"title", title},
                     {"topic", topic},
                     {"path", path},
                     {"kind", kind},
                     {"kind_label", t.T("kind_" + kind)},
                     {"language", c.value("language", "")},
                     {"description", c.value("description", "")},
                     {"grade", c.value("grade", "")},
                     {"subject", c.value("subject", "")},
                     {"license", c.value("license", "")},
                     {"url", c.value("url", "")},
                     {"review", ReviewLine(t, c.value("review", json::object()))},
                     {"edit_url", "/teach/edit?path=" + Encoded(path)},
                     {"delete_url", "/teach/delete?path=" + Encoded(path)}});
  }
}

struct Library {
  ApiAnswer answer;  // GET /api/v1/materials
  json rows = json::array();
  json topics = json::array();  // [{"title"}], for the topic fields' suggestions
};

Library ReadLibrary(App& app, const Request& req, const ViewLanguage& t) {
  Library lib;
  lib.answer = CallApi(app, material_routes::List, req, nullptr);
  if (lib.answer.status != 200) return lib;
  MaterialRows(t, lib.answer.body.value("tree", json::object()), "", &lib.rows);
  for (const json& topic : lib.answer.body.value("topics", json::array())) {
    lib.topics.push_back({{"title", topic.value("title", "")}});
  }
  return lib;
}

// The account's finished uploads, each with a form to place it (the ids of its fields are
// made from the upload's id, so several forms can share the page).
json WaitingUploads(App& app, const Request& req, const RequestLanguage& lang) {
  ApiAnswer answer = CallApi(app, upload_routes::List, req, nullptr);
  json waiting = json::array();
  if (answer.status != 200) return waiting;
  for (const json& u : answer.body.value("uploads", json::array())) {
    if (!u.value("finished", false)) continue;
    std::string name = u.value("filename", "");
    size_t dot = name.rfind('.');
    waiting.push_back({{"id", u.value("id", "")},
                       {"filename", name},
                       {"title", dot == std::string::npos || dot == 0 ? name : name.substr(0, dot)},
                       {"kind_label", lang.view.T("kind_" + u.value("kind", "other"))},
                       {"size_label", SizeLabel(u.value("length", uint64_t{0}))},
                       {"form_id", "p" + u.value("id", "")},
                       {"description", ""},
                       {"grade", ""},
                       {"subject", ""},
                       {"license", ""},
                       {"language", lang.code}});
  }
  return waiting;
}

// What the last change did (?done=...): only these words, each a translated sentence.
std::string Notice(const Request& req, const ViewLanguage& t) {
  std::string done = req.get_param_value("done");
  for (const char* known : {"placed", "uploaded", "edited", "moved", "deleted"}) {
    if (done == known) return t.T(std::string("done_") + known);
  }
  return "";
}

// "my materials", with `error` (and the API's own words, `detail`) after a refused change.
void SendTeach(App& app, const Request& req, Response& res, int status, const std::string& error,
               const std::string& detail) {
  RequestLanguage lang = app.LanguageOf(req);
  auto session = app.SessionOf(req);
  json view = Frame(lang, session, lang.view.T("teach_title"));
  Library lib = ReadLibrary(app, req, lang.view);
  if (lib.answer.status != 200) {
    view["error"] = lang.view.T("materials_unavailable");
    view["detail"] = lib.answer.Error();
    status = lib.answer.status;
  }
  view["materials"] = lib.rows;
  view["topics"] = lib.topics;
  view["channel_url"] = lib.answer.body.value("url", "");
  view["waiting"] = WaitingUploads(app, req, lang);
  std::string csrf = session ? session->csrf : "";
  view["upload_form"] =
      "/api/v1/uploads/form?back=" + Encoded("/teach/?done=uploaded") + "&csrf=" + Encoded(csrf);
  if (std::string notice = Notice(req, lang.view); !notice.empty()) view["notice"] = notice;
  if (!error.empty()) view["error"] = error;
  if (!detail.empty()) view["detail"] = detail;
  SendPrivate(app, req, res, "teach", std::move(view), lang, status);
}

// The material at `path`, as MaterialRows made it; null if there is none.
json FindRow(App& app, const Request& req, const ViewLanguage& t, const std::string& path,
             json* topics) {
  Library lib = ReadLibrary(app, req, t);
  if (topics) *topics = lib.topics;
  for (const json& row : lib.rows) {
    if (row["path"] == path) return row;
  }
  return nullptr;
}

// The edit page (`page` "teach_edit") or the delete confirmation ("teach_delete") of the
// material at ?path= (or the form's `path`), with `error` after a refused change.
void SendMaterialPage(App& app, const Request& req, Response& res, const std::string& page,
                      int status, const std::string& error, const std::string& detail) {
  RequestLanguage lang = app.LanguageOf(req);
  json topics;
  json row = FindRow(app, req, lang.view, Param(req, "path"), &topics);
  if (row.is_null()) return app.NotFound(req, res, false);
  std::string title = lang.view.T(page == "teach_edit" ? "edit_title" : "delete_title");
  json view = Frame(lang, app.SessionOf(req), Fill(title, "title", row["title"]), true);
  row["form_id"] = "e";
  view["material"] = row;
  view["topics"] = topics;
  if (!error.empty()) view["error"] = error;
  if (!detail.empty()) view["detail"] = detail;
  SendPrivate(app, req, res, page, std::move(view), lang, status);
}

// A change refused by the materials API, in the teacher's language (the API's own message,
// which names the field, goes beside it).
std::string ChangeError(const ViewLanguage& t, int status) {
  if (status == 404) return t.T("change_not_found");
  if (status == 409) return t.T("change_conflict");
  if (status == 507) return t.T("change_disk_full");
  if (status == 400) return t.T("change_invalid");
  return t.T("change_failed");
}

json MaterialBody(const Request& req) {
  json body = json::object();
  for (const char* field : kMaterialFields) {
    if (req.has_param(field)) body[field] = Param(req, field);
  }
  return body;
}

// Runs a change of the material the form names, then back to "my materials", or the page the
// form was on with the error.
void ChangeMaterial(App& app, const Request& req, Response& res, RouteHandler handler,
                    const json& body, const char* done, const std::string& page) {
  ApiAnswer answer = CallApi(app, handler, req, body, Param(req, "path"));
  if (answer.status == 200) return SeeOther(res, std::string("/teach/?done=") + done);
  RequestLanguage lang = app.LanguageOf(req);
  SendMaterialPage(app, req, res, page, FormStatus(answer.status),
                   ChangeError(lang.view, answer.status), answer.Error());
}

}  // namespace

bool TeachPage(App& app, const Request& req, Response& res, bool) {
  SendTeach(app, req, res, 200, "", "");
  return true;
}

bool PlaceForm(App& app, const Request& req, Response& res, bool) {
  json body = MaterialBody(req);
  body["upload"] = Param(req, "upload");
  body["topic"] = Param(req, "topic");
  ApiAnswer answer = CallApi(app, material_routes::Add, req, body);
  if (answer.status == 201) return SeeOther(res, "/teach/?done=placed"), true;
  RequestLanguage lang = app.LanguageOf(req);
  SendTeach(app, req, res, FormStatus(answer.status), ChangeError(lang.view, answer.status),
            answer.Error());
  return true;
}

bool EditPage(App& app, const Request& req, Response& res, bool) {
  SendMaterialPage(app, req, res, "teach_edit", 200, "", "");
  return true;
}

bool EditForm(App& app, const Request& req, Response& res, bool) {
  ChangeMaterial(app, req, res, material_routes::Edit, MaterialBody(req), "edited", "teach_edit");
  return true;
}

bool MoveForm(App& app, const Request& req, Response& res, bool) {
  json body = {{"topic", Param(req, "topic")}};
  ChangeMaterial(app, req, res, material_routes::Move, body, "moved", "teach_edit");
  return true;
}

bool DeletePage(App& app, const Request& req, Response& res, bool) {
  SendMaterialPage(app, req, res, "teach_delete", 200, "", "");
  return true;
}

bool DeleteForm(App& app, const Request& req, Response& res, bool) {
  ChangeMaterial(app, req, res, material_routes::Delete, json::object(), "deleted", "teach_delete");
  return true;
}

namespace {

// ---- The coordinator's accounts.

// "2026-12-07", or "" for never.
std::string Day(int64_t unix_seconds) {
  if (unix_seconds <= 0) return "";
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  char out[16];
  if (!gmtime_r(&t, &tm) || std::strftime(out, sizeof out, "%Y-%m-%d", &tm) == 0) return "";
  return out;
}

json AccountRows(App& app, const Request& req, const ViewLanguage& t, const std::string& me) {
  ApiAnswer list = CallApi(app, account_routes::ListUsers, req, nullptr);
  json rows = json::array();
  if (list.status != 200 || !list.body.is_array()) return rows;
  for (const json& a : list.body) {
    std::string name = a.value("name", ""), state = a.value("state", "active");
    rows.push_back({{"name", name},
                    {"role_label", t.T("role_" + a.value("role", "teacher"))},
                    {"state_label", t.T("state_" + state)},
                    {"may_disable", state != "disabled" && name != me},
                    {"last_login", Day(a.value("last_login", int64_t{0}))}});
  }
  return rows;
}

void SendAccounts(App& app, const Request& req, Response& res, int status, const std::string& error,
                  const std::string& detail) {
  RequestLanguage lang = app.LanguageOf(req);
  const ViewLanguage& t = lang.view;
  auto session = app.SessionOf(req);
  json view = Frame(lang, session, t.T("accounts_title"), true);
  view["accounts"] = AccountRows(app, req, t, session ? session->name : "");
  std::string done = req.get_param_value("done");
  for (const char* known : {"added", "disabled", "reset"}) {
    if (done == known) view["notice"] = t.T(std::string("done_account_") + known);
  }
  if (!error.empty()) view["error"] = error;
  if (!detail.empty()) view["detail"] = detail;
  SendPrivate(app, req, res, "teach_accounts", std::move(view), lang, status);
}

// Runs an accounts API handler with `body` for the account the form names, then back to the
// list, or the list with the error.
void ChangeAccount(App& app, const Request& req, Response& res, RouteHandler handler,
                   const json& body, int ok_status, const char* done) {
  ApiAnswer answer = CallApi(app, handler, req, body, Param(req, "name"));
  if (answer.status == ok_status) return SeeOther(res, std::string("/teach/accounts?done=") + done);
  RequestLanguage lang = app.LanguageOf(req);
  const ViewLanguage& t = lang.view;
  std::string error = answer.status == 409   ? t.T("account_exists")
                      : answer.status == 404 ? t.T("change_not_found")
                      : answer.status == 400 ? t.T("change_invalid")
                                             : t.T("change_failed");
  SendAccounts(app, req, res, FormStatus(answer.status), error, answer.Error());
}

}  // namespace

bool AccountsPage(App& app, const Request& req, Response& res, bool) {
  SendAccounts(app, req, res, 200, "", "");
  return true;
}

bool AddAccountForm(App& app, const Request& req, Response& res, bool) {
  json body = {{"name", Param(req, "name")},
               {"role", Param(req, "role")},
               {"password", Param(req, "password")}};
  ChangeAccount(app, req, res, account_routes::AddUser, body, 201, "added");
  return true;
}

bool DisableAccountForm(App& app, const Request& req, Response& res, bool) {
  ChangeAccount(app, req, res, account_routes::DisableUser, json::object(), 200, "disabled");
  return true;
}

bool ResetAccountForm(App& app, const Request& req, Response& res, bool) {
  json body = {{"password", Param(req, "password")}};
  ChangeAccount(app, req, res, account_routes::ResetUser, body, 200, "reset");
  return true;
}

}  // namespace outpost::teacher_pages
