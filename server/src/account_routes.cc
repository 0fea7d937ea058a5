// The accounts API's handlers (account_routes.h).
#include "account_routes.h"

#include <ctime>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "app.h"
#include "auth.h"
#include "http/http_message.h"
#include "outpost/server/accounts.h"

namespace outpost::account_routes {

namespace {

using http::Request;
using http::Response;

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

void Answer(App& app, const Request& req, Response& res, const nlohmann::json& body,
            int status = 200) {
  res.set_header("Cache-Control", "no-store");
  app.SendJson(req, res, body, status);
}

// The JSON object of a POST's body; nullopt (and a 400 answered) if it is not one.
std::optional<nlohmann::json> BodyObject(App& app, const Request& req, Response& res) {
  auto body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    Answer(app, req, res, {{"error", "the body must be a JSON object"}}, 400);
    return std::nullopt;
  }
  return body;
}

std::string Field(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The store, or a 503 answered when the box could not open accounts.db.
AccountStore* Accounts(App& app, const Request& req, Response& res) {
  if (app.accounts()) return app.accounts();
  Answer(app, req, res, {{"error", "accounts are unavailable on this box (see its log)"}}, 503);
  return nullptr;
}

// Refuses (429) an address that has tried too many wrong passwords lately.
bool AddressMayTry(App& app, const Request& req, Response& res) {
  int64_t wait = app.login_limiter().WaitFor(req.remote_addr, Now());
  if (wait == 0) return true;
  res.set_header("Retry-After", std::to_string(wait));
  Answer(app, req, res,
         {{"error", "too many wrong attempts from this device: try again in " +
                        std::to_string((wait + 59) / 60) + " minute(s)"}},
         429);
  return false;
}

nlohmann::json SessionJson(const Session& s) {
  return {{"name", s.name}, {"role", RoleName(s.role)}, {"csrf", s.csrf},
          {"expires_at", s.expires_at}};
}

void StartSession(App& app, const Request& req, Response& res, const Session& s) {
  res.set_header("Set-Cookie", SessionCookie(s.token, AccountStore::kSessionIdle.count()));
  Answer(app, req, res, SessionJson(s));
}

int StatusOf(const Status& st) {
  switch (st.code()) {
    case StatusCode::kDenied: return 403;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    default: return 500;
  }
}

void Refused(App& app, const Request& req, Response& res, const Status& st) {
  if (StatusOf(st) == 500) spdlog::error("{}: {}", RequestTarget(req), st.message());
  Answer(app, req, res, {{"error", st.message()}}, StatusOf(st));
}

}  // namespace

bool Login(App& app, const Request& req, Response& res, bool) {
  AccountStore* accounts = Accounts(app, req, res);
  if (!accounts || !AddressMayTry(app, req, res)) return true;
  auto body = BodyObject(app, req, res);
  if (!body) return true;
  auto session = accounts->Login(Field(*body, "name"), Field(*body, "password"));
  if (!session) {
    app.login_limiter().Failed(req.remote_addr, Now());
    Answer(app, req, res, {{"error", session.error().message()}}, 401);
    return true;
  }
  StartSession(app, req, res, *session);
  return true;
}

bool SetUp(App& app, const Request& req, Response& res, bool) {
  AccountStore* accounts = Accounts(app, req, res);
  if (!accounts || !AddressMayTry(app, req, res)) return true;
  auto body = BodyObject(app, req, res);
  if (!body) return true;
  std::string name = Field(*body, "name"), password = Field(*body, "password");
  Role first = app.is_hub() ? Role::kHubAdmin : Role::kCoordinator;
  Status st = accounts->SetUp(Field(*body, "code"), name, password, first);
  if (!st.ok()) {
    if (st.code() == StatusCode::kDenied) app.login_limiter().Failed(req.remote_addr, Now());
    Refused(app, req, res, st);
    return true;
  }
  spdlog::info("first {} {} created with the setup code", RoleName(first), name);
  auto session = accounts->Login(name, password);
  if (!session) return Refused(app, req, res, session.error()), true;
  StartSession(app, req, res, *session);
  return true;
}

bool Logout(App& app, const Request& req, Response& res, bool) {
  if (AccountStore* accounts = Accounts(app, req, res)) {
    accounts->Logout(app.SessionToken(req));
    res.set_header("Set-Cookie", ClearedSessionCookie());
    Answer(app, req, res, {{"ok", true}});
  }
  return true;
}

bool Me(App& app, const Request& req, Response& res, bool) {
  auto session = app.SessionOf(req);  // there is one: the route is kAccount
  if (session) Answer(app, req, res, SessionJson(*session));
  return true;
}

bool ListUsers(App& app, const Request& req, Response& res, bool) {
  AccountStore* accounts = Accounts(app, req, res);
  if (!accounts) return true;
  nlohmann::json list = nlohmann::json::array();
  int64_t now = Now();
  for (const Account& a : accounts->List()) {
    list.push_back({{"name", a.name}, {"role", RoleName(a.role)}, {"state", AccountState(a, now)},
                    {"created_at", a.created_at}, {"last_login", a.last_login},
                    {"disabled_at", a.disabled_at}, {"locked_until", a.locked_until}});
  }
  Answer(app, req, res, list);
  return true;
}

bool AddUser(App& app, const Request& req, Response& res, bool) {
  AccountStore* accounts = Accounts(app, req, res);
  auto body = accounts ? BodyObject(app, req, res) : std::nullopt;
  if (!body) return true;
  auto role = RoleFromName(Field(*body, "role"));
  if (!role || IsHubRole(*role) != app.is_hub()) {
    Status why = InvalidArgument(app.is_hub() ? "on a hub, role is publisher or hub-admin"
                                              : "role is coordinator or teacher");
    return Refused(app, req, res, why), true;
  }
  std::string name = Field(*body, "name");
  Status st = accounts->Add(name, *role, Field(*body, "password"));
  if (!st.ok()) return Refused(app, req, res, st), true;
  Answer(app, req, res, {{"name", name}, {"role", RoleName(*role)}}, 201);
  return true;
}

bool DisableUser(App& app, const Request& req, Response& res, bool) {
  AccountStore* accounts = Accounts(app, req, res);
  if (!accounts) return true;
  Status st = accounts->Disable(req.matches[1]);
  if (!st.ok()) return Refused(app, req, res, st), true;
  Answer(app, req, res, {{"name", std::string(req.matches[1])}, {"state", "disabled"}});
  return true;
}

bool ResetUser(App& app, const Request& req, Response& res, bool) {
  AccountStore* accounts = Accounts(app, req, res);
  auto body = accounts ? BodyObject(app, req, res) : std::nullopt;
  if (!body) return true;
  Status st = accounts->Reset(req.matches[1], Field(*body, "password"));
  if (!st.ok()) return Refused(app, req, res, st), true;
  Answer(app, req, res, {{"name", std::string(req.matches[1])}, {"state", "active"}});
  return true;
}

}  // namespace outpost::account_routes
