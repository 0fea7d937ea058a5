// The handlers of the teachers' materials API (docs/web-api.md, "Teachers' materials"): the
// school's own channel as a tree, and adding, editing, moving and deleting a material in it,
// each change a new signed version that learners see at once (outpost/sync/school_materials.h).
// They are RouteHandlers (routes.h); the table in routes.cc gives each Access::kLoggedIn (a
// teacher or a coordinator), so a session, and its CSRF token on every POST, is checked before
// they run. Answers are JSON: 200 (201 for an add) with what changed, or {"error": "..."} with
// 400 (what was sent is wrong), 404 (no such material or upload), 409 (the upload is not
// finished, or the channel changed under too many attempts), 507 (the disk is full) or 500.
#pragma once

#include "routes.h"

namespace outpost::material_routes {

bool List(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool Add(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool Edit(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool Move(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool Delete(App& app, const http::Request& req, http::Response& res, bool on_loop);

}  // namespace outpost::material_routes
