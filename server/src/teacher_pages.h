// The pages of teachers and coordinators (docs/web-api.md, "Teachers' pages"): logging in, the
// first-run page, "my materials" (the school channel's materials, the uploads waiting to be
// placed, the upload form), a material's edit and delete pages, and the coordinator's accounts.
// Every page works as plain HTML forms without JavaScript; outpost.js only adds the resumable
// upload with its progress bars.
//
// They hold no logic of their own: each form is turned into the JSON body of the matching API
// handler (account_routes.h, material_routes.h, upload_routes.h), which is called in process,
// and its answer becomes a redirect (303, so a reload never posts twice) or the page again with
// the error (decision 49). So a page can never allow what the API refuses, or the reverse.
//
// A page made for a session is sent with `Cache-Control: no-store` and never enters the page
// cache. The table in routes.cc gives each its Access rule; a learner who opens one gets the
// login page (401).
#pragma once

#include "routes.h"

namespace outpost::teacher_pages {

// GET /login, POST /login (form: name, password, back).
bool LoginPage(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool LoginForm(App& app, const http::Request& req, http::Response& res, bool on_loop);
// The login page with `status` (401 from CheckAccess for a page that needs a session), coming
// back to the page asked for after logging in.
void SendLogin(App& app, const http::Request& req, http::Response& res, int status);
// GET /setup and POST /setup (form: code, name, password): the first coordinator, while the box
// has none.
bool SetupPage(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool SetupForm(App& app, const http::Request& req, http::Response& res, bool on_loop);
// POST /logout.
bool LogoutForm(App& app, const http::Request& req, http::Response& res, bool on_loop);

// GET /teach/: the school's materials, the uploads to place and the upload form.
bool TeachPage(App& app, const http::Request& req, http::Response& res, bool on_loop);
// POST /teach/place (form: upload, topic, title, description, language, grade, subject,
// license).
bool PlaceForm(App& app, const http::Request& req, http::Response& res, bool on_loop);
// GET /teach/edit?path=P, POST /teach/edit (path and the fields), POST /teach/move (path,
// topic).
bool EditPage(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool EditForm(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool MoveForm(App& app, const http::Request& req, http::Response& res, bool on_loop);
// GET /teach/delete?path=P (the confirmation), POST /teach/delete (path).
bool DeletePage(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool DeleteForm(App& app, const http::Request& req, http::Response& res, bool on_loop);

// The coordinator's accounts page: GET /teach/accounts (the list), POST /teach/accounts (form:
// name, role, password: a new account), POST /teach/accounts/disable (name) and
// POST /teach/accounts/reset (name, password).
bool AccountsPage(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool AddAccountForm(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool DisableAccountForm(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool ResetAccountForm(App& app, const http::Request& req, http::Response& res, bool on_loop);

}  // namespace outpost::teacher_pages
