// The coordinator's link policy over HTTP (docs/web-api.md, "Link policy";
// docs/link-policy.md): rate limit, data budgets, sync windows and automatic sync.
//
//   GET  /api/v1/admin/policy    the policy, the bytes used today and this month, the budget
//                                left and the next window (JSON)
//   PUT  /api/v1/admin/policy    changes it (a JSON object of the fields to change); 400 with
//                                {"error", "errors": {field: why}} and nothing stored if any
//                                field is wrong
//   GET  /admin/sync/policy      the form on its own page (admin_nav + the admin_policy
//                                partial, which the /admin/sync page includes too)
//   POST /admin/sync/policy      the form: 303 back to the page, or the page again (422) with
//                                each wrong field's error beside it
//
// The policy is kept in DATA/sync/sync.db (SyncDb::SetLinkPolicy), which `outpost serve`'s
// scheduler reads at least once a minute. Every route is kCoordinator (routes.cc); the PUT and
// the POST need the session's CSRF token.
#pragma once

#include <nlohmann/json.hpp>

#include "routes.h"

namespace outpost {
struct ViewLanguage;
}

namespace outpost::policy_routes {

bool GetPolicy(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool PutPolicy(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool PolicyPage(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool PolicyForm(App& app, const http::Request& req, http::Response& res, bool on_loop);

// The view-model of the admin_policy partial (the stored policy, or `posted` form values with
// their `errors`), for the page that includes it (the /admin/sync page).
nlohmann::json PolicyView(App& app, const ViewLanguage& t,
                          const nlohmann::json& posted = nullptr,
                          const nlohmann::json& errors = nullptr);

}  // namespace outpost::policy_routes
