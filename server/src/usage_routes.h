// The coordinator's usage page and its JSON (docs/web-api.md, "Usage"; docs/usage.md says what
// is counted and what leaves the box):
//
//   GET  /admin/usage?days=N           views per day per channel (SVG bar charts drawn here,
//                                      svg_chart.h, with the same figures as tables), the most
//                                      opened resources, and the "send to the hub" switch
//   POST /admin/usage/sharing          form: sharing=on|off (and csrf); 303 back to the page
//   GET  /api/v1/admin/usage?days=N    the page's view-model as JSON
//   POST /api/v1/admin/usage/sharing   {"sharing": true|false}; the switch
//
// N is 7, 30 (the default) or 90: the days up to today (UTC). Every route is the coordinator's
// (routes.cc); the page is a session's (no-store, never in the page cache). Before it reads,
// the page adds the views counted in memory so far to usage.db, so it shows every view.
//
// Thread-safety: handlers; they share only the App.
#pragma once

#include "routes.h"

namespace outpost::usage_routes {

bool Page(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool SharingForm(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool Json(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool SetSharing(App& app, const http::Request& req, http::Response& res, bool on_loop);

}  // namespace outpost::usage_routes
