// The coordinator's console, the box's half (docs/console.md): what the box holds and how far
// behind its hub it is (GET /admin/), which channels learners see and the default language
// (GET /admin/channels and its two forms), the box's health (GET /admin/health), and the same
// facts as JSON (GET /api/v1/admin/status). Sync, USB and usage have pages of their own.
//
// The facts come from ReadBoxStatus (outpost/sync/box_status.h), the function `outpost status`
// prints too; the server adds what only it knows: its uptime and its memory. Pages work
// without JavaScript: the forms POST (with the CSRF token) and answer 303 back to the page.
// Every page is a session's: `Cache-Control: no-store`, never in the page cache. The route
// table gives each the coordinator's Access rule.
#pragma once

#include <nlohmann/json.hpp>

#include "routes.h"

namespace outpost::box_pages {

// GET /admin/: channels with served, staged and hub versions and sizes; the disk and its
// warning; the last sync and what the next would cost; links to the other sections.
bool OverviewPage(App& app, const http::Request& req, http::Response& res, bool on_loop);
// GET /admin/channels; POST /admin/channels/visibility (form: channel, hidden "1" or "0");
// POST /admin/channels/language (form: language).
bool ChannelsPage(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool VisibilityForm(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool LanguageForm(App& app, const http::Request& req, http::Response& res, bool on_loop);
// GET /admin/health: uptime, memory, disk, software version, recent errors.
bool HealthPage(App& app, const http::Request& req, http::Response& res, bool on_loop);
// GET /api/v1/admin/status: BoxStatusJson with "process" (uptime, rss), each channel's
// "hidden", "default_language" and "recent_errors".
bool StatusJson(App& app, const http::Request& req, http::Response& res, bool on_loop);

// The JSON of StatusJson (tests, and the lead's wiring of recent errors).
nlohmann::json StatusView(App& app);

}  // namespace outpost::box_pages
