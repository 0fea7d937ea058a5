// The hub console (docs/hub-console.md): pages under /admin/hub/ and their JSON twins under
// /api/v1/hub/, on a hub only (a box answers 404). A publisher sees channels and their
// versions, what changed between two versions, publishes a folder, and reviews what schools
// sent up; a hub admin does all that, and enrols and revokes schools. The table in routes.cc
// gives each route its rule (kPublisher, kHubAdmin; auth.h).
//
// Each handler reads its form or JSON body and calls HubConsole (hub_console.h), which does the
// work; a page turns the answer into a 303 redirect (or the page again with the error), the API
// sends it as JSON. Pages work without JavaScript, are sent no-store, and never enter the page
// cache.
#pragma once

#include "routes.h"

namespace outpost::hub_pages {

// ---- Pages.
bool HomePage(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool ChannelsPage(App& app, const http::Request& req, http::Response& res, bool on_loop);
// GET /admin/hub/diff?channel=C&from=N&to=M
bool DiffPage(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool PublishPage(App& app, const http::Request& req, http::Response& res, bool on_loop);
// POST /admin/hub/publish (form: folder, channel)
bool PublishForm(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool ReviewPage(App& app, const http::Request& req, http::Response& res, bool on_loop);
// POST /admin/hub/review/adopt (id, channel, topic), POST /admin/hub/review/decline (id, reason)
bool AdoptForm(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool DeclineForm(App& app, const http::Request& req, http::Response& res, bool on_loop);
// GET /admin/hub/schools: live codes, enrolled schools, the enrolment form.
bool SchoolsPage(App& app, const http::Request& req, http::Response& res, bool on_loop);
// POST /admin/hub/enrol (name, days, make=code|file): the code on a page, or the file as a
// download.
bool EnrolForm(App& app, const http::Request& req, http::Response& res, bool on_loop);
// GET /admin/hub/revoke?site=S (the confirmation), POST /admin/hub/revoke (site).
bool RevokePage(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool RevokeForm(App& app, const http::Request& req, http::Response& res, bool on_loop);
// GET /admin/hub/sites?sort=S&order=asc|desc&filter=F&q=TEXT&page=N&per_page=M: the table of
// schools, sorted, filtered, a page at a time (site_list.h); links and a GET form, no script.
bool SitesPage(App& app, const http::Request& req, http::Response& res, bool on_loop);
// GET /admin/hub/usage: views per channel across the schools, the last 30 days, as charts.
bool UsagePage(App& app, const http::Request& req, http::Response& res, bool on_loop);

// ---- JSON (docs/web-api.md, "Hub console").
bool SummaryApi(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool ChannelsApi(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool DiffApi(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool PublishStateApi(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool PublishApi(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool ReviewApi(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool AdoptApi(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool DeclineApi(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool EnrolmentsApi(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool EnrolApi(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool RevokeApi(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool SitesApi(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool UsageApi(App& app, const http::Request& req, http::Response& res, bool on_loop);

}  // namespace outpost::hub_pages
