#include "testing/route_client.h"

#include <gtest/gtest.h>

#include "http/route_pattern.h"
#include "portal.h"
#include "routes.h"

namespace outpost::testing {

namespace {

void AddQuery(const std::string& query, Fields* fields) {
  for (size_t i = 0; i <= query.size();) {
    size_t amp = std::min(query.find('&', i), query.size());
    std::string item = query.substr(i, amp - i);
    size_t eq = item.find('=');
    if (!item.empty()) {
      fields->emplace(item.substr(0, eq), eq == std::string::npos ? "" : item.substr(eq + 1));
    }
    i = amp + 1;
  }
}

}  // namespace

const Session& RouteClient::SessionOf(const std::string& who) {
  if (!sessions_.count(who)) {
    auto s = app_()->accounts()->Login(who, password_);
    EXPECT_TRUE(s.has_value()) << who;
    if (s) sessions_[who] = *s;
  }
  return sessions_[who];
}

http::Response RouteClient::Run(TestRequest request) {
  App& app = *app_();
  http::Request req;
  req.method = request.method;
  req.remote_addr = "192.0.2.9";
  std::string path = request.path;
  if (size_t q = path.find('?'); q != std::string::npos) {
    AddQuery(path.substr(q + 1), &request.fields);
    path.resize(q);
  }
  req.path = req.target = path;
  req.body = request.body;
  for (const auto& [k, v] : request.headers) req.headers.emplace(k, v);
  std::string cookie = request.lang.empty() ? "" : "lang=" + request.lang;
  if (!request.who.empty()) {
    const Session& s = SessionOf(request.who);
    cookie += (cookie.empty() ? "" : "; ") + std::string(kSessionCookie) + "=" + s.token;
    req.headers.emplace("X-CSRF-Token", s.csrf);
  }
  if (!cookie.empty()) req.headers.emplace("Cookie", cookie);
  for (const auto& [k, v] : request.fields) req.params.emplace(k, v);
  if (http::Response res; PortalRedirect(app.portal_name(), req, res)) return res;
  std::string as = req.method == "HEAD" ? std::string("GET") : req.method;
  for (const Route& r : Routes()) {
    if (as != r.method || !http::RoutePattern(r.pattern).Match(req.path, &req.matches)) continue;
    http::Response res;
    if (!CheckAccess(app, r, req, res)) return res;
    if (r.loop_first && r.handler(app, req, res, /*on_loop=*/true)) return res;
    res = http::Response{};
    r.handler(app, req, res, /*on_loop=*/false);
    return res;
  }
  ADD_FAILURE() << "no route for " << request.method << " " << path;
  return {};
}

}  // namespace outpost::testing
