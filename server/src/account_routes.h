// The handlers of the accounts API (docs/accounts.md, "Over HTTP"): logging in and out, the
// first coordinator, and the coordinator's management of accounts. They are RouteHandlers
// (routes.h); the table in routes.cc names each with its Access rule, checked before the
// handler runs (a session for kLoggedIn and kCoordinator, and the session's CSRF token on every
// POST that needs one).
#pragma once

#include "routes.h"

namespace outpost::account_routes {

bool Login(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool SetUp(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool Logout(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool Me(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool ListUsers(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool AddUser(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool DisableUser(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool ResetUser(App& app, const http::Request& req, http::Response& res, bool on_loop);

}  // namespace outpost::account_routes
