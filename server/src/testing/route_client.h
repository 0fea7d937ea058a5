// A client for the server's tests: runs a request through the captive portal's redirect
// (portal.h, when the App has a portal name), then Routes(), CheckAccess and the route's
// handler as the transport does (a loop-first route on the event loop first, then on a
// worker), without a socket, and logs accounts in on first use. Shared by the route tests so
// that each tests its pages, not its own copy of the dispatch.
#pragma once

#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "app.h"
#include "http/http_message.h"
#include "outpost/server/accounts.h"

namespace outpost::testing {

using Fields = std::map<std::string, std::string>;

struct TestRequest {
  std::string method = "GET";
  std::string path;      // with an optional query of NAME=VALUE pairs joined by '&'
  Fields fields;         // form fields
  std::string who;       // the account it comes from; "" for a learner (no session)
  std::string body;      // a JSON body for the API
  std::string lang;      // the `lang` cookie ("" for none)
  Fields headers;
};

class RouteClient {
 public:
  // `app` is asked on each request (a fixture may reopen its App); every account logs in with
  // `password`.
  RouteClient(std::function<App*()> app, std::string password)
      : app_(std::move(app)), password_(std::move(password)) {}

  http::Response Run(TestRequest request);
  // `method` `path` as `who`, with form `fields`.
  http::Response Send(const std::string& method, const std::string& path, Fields fields = {},
                      const std::string& who = "") {
    return Run({method, path, std::move(fields), who, "", "", {}});
  }
  // The session of `who`, logged in on first use (a failed login fails the test).
  const Session& SessionOf(const std::string& who);
  // Forgets every session (after the App was reopened, say).
  void Forget() { sessions_.clear(); }

  static std::string Body(const http::Response& res) {
    return res.body_view ? std::string(*res.body_view) : res.body;
  }
  // The answer's JSON, or a discarded value when it is not JSON.
  static nlohmann::json Json(const http::Response& res) {
    return nlohmann::json::parse(Body(res), nullptr, false);
  }

 private:
  std::function<App*()> app_;
  std::string password_;
  std::map<std::string, Session> sessions_;
};

}  // namespace outpost::testing
