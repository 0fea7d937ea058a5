// Counting views and the usage page, without a socket: requests go through Routes(),
// CheckAccess and the handlers the way the transport hands them over (on an event loop first
// where the route allows it). The same over real sockets, with a restart, is in
// http_server_test.cc.
#include "usage_routes.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "app.h"
#include "http/http_message.h"
#include "http/route_pattern.h"
#include "outpost/content/importer.h"
#include "outpost/server/accounts.h"
#include "testing/route_client.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::Fields;
using testing::RouteClient;
using testing::TempDir;

class UsageRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    src_.Write("ch/outpost.toml", "[channel]\ntitle = \"Water\"\n");
    src_.Write("ch/eleve.html", "<html lang=fr><title>L'élève</title><p>Le soleil.</p></html>");
    store_ = std::move(*BlobStore::Open(data_.path()));
    catalog_ = std::move(*Catalog::Open(data_.path() / "catalog.db"));
    Importer importer(store_.get(), catalog_.get());
    auto r = importer.Import(src_.path() / "ch", {});
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    Start(ServerConfig{});
  }
  void Start(ServerConfig config) {
    app_.reset();
    app_ = std::make_unique<App>(config, store_.get(), catalog_.get());
    ASSERT_NE(app_->usage(), nullptr);
  }
  Session Coordinator() {
    (void)app_->accounts()->Add("rana", Role::kCoordinator, "tableau noir 5");
    return client_.SessionOf("rana");
  }
  // `method` `path` as a learner, or with `as_coordinator` as the coordinator (cookie and CSRF
  // token), with `lang` as the language cookie.
  http::Response Send(const std::string& method, const std::string& path,
                      bool as_coordinator = false, Fields form = {},
                      const std::string& lang = "en", const std::string& body = "") {
    if (as_coordinator) Coordinator();
    return client_.Run({method, path, std::move(form), as_coordinator ? "rana" : "", body, lang, {}});
  }
  uint64_t ViewsOf(const std::string& resource) {
    EXPECT_TRUE(app_->FlushViews().ok());
    auto top = app_->usage()->Top("ch", 0, INT32_MAX, 100);
    EXPECT_TRUE(top.has_value());
    for (const auto& r : *top) {
      if (r.resource == resource) return r.views;
    }
    return 0;
  }
  static std::string Body(const http::Response& res) { return RouteClient::Body(res); }

  TempDir data_, src_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<App> app_;
  RouteClient client_{[this] { return app_.get(); }, "tableau noir 5"};
};

TEST_F(UsageRoutesTest, AResourcePageCountsOnceEachTimeEvenFromThePageCache) {
  EXPECT_EQ(Send("GET", "/r/ch/eleve.html").status, 200);  // rendered on a worker
  EXPECT_EQ(ViewsOf("eleve.html"), 1u);
  http::Request req;
  req.method = "GET";
  req.path = req.target = "/r/ch/eleve.html";
  req.headers.emplace("Cookie", "lang=en");
  http::Response res;
  for (const Route& route : Routes()) {
    if (std::string_view(route.method) == "GET" &&
        http::RoutePattern(route.pattern).Match(req.path, &req.matches)) {
      ASSERT_TRUE(route.handler(*app_, req, res, /*on_loop=*/true));  // the page cache, on a loop
      EXPECT_EQ(res.status, 200);
      res = http::Response{};
      ASSERT_TRUE(route.handler(*app_, req, res, /*on_loop=*/false));  // the cache, on a worker
      EXPECT_EQ(res.status, 200);
      // Opened again by a browser that kept it: "not modified" is a view too.
      req.headers.emplace("If-None-Match", res.get_header_value("ETag"));
      res = http::Response{};
      ASSERT_TRUE(route.handler(*app_, req, res, /*on_loop=*/true));
      EXPECT_EQ(res.status, 304);
      break;
    }
  }
  EXPECT_EQ(ViewsOf("eleve.html"), 4u);
}

TEST_F(UsageRoutesTest, FilesJsonHeadExercisesAndMissingPagesAreNotViews) {
  EXPECT_EQ(Send("GET", "/c/ch/eleve.html").status, 200);
  EXPECT_EQ(Send("GET", "/api/v1/r/ch/eleve.html").status, 200);
  EXPECT_EQ(Send("HEAD", "/r/ch/eleve.html").status, 200);
  EXPECT_EQ(Send("POST", "/r/ch/eleve.html").status, 200);
  EXPECT_EQ(Send("GET", "/r/ch/nothing.html").status, 404);
  EXPECT_EQ(ViewsOf("eleve.html"), 0u);
  EXPECT_EQ(ViewsOf("nothing.html"), 0u);
  auto all = app_->usage()->Top("", 0, INT32_MAX, 100);
  ASSERT_TRUE(all.has_value());
  EXPECT_TRUE(all->empty());
}

TEST_F(UsageRoutesTest, CountingOffCountsNothing) {
  ServerConfig config;
  config.count_views = false;
  Start(config);
  EXPECT_FALSE(app_->counting_views());
  EXPECT_EQ(Send("GET", "/r/ch/eleve.html").status, 200);
  EXPECT_EQ(Send("GET", "/r/ch/eleve.html").status, 200);
  EXPECT_EQ(ViewsOf("eleve.html"), 0u);
  http::Response page = Send("GET", "/admin/usage", true);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(Body(page).find("count_views = false"), std::string::npos);
}

TEST_F(UsageRoutesTest, ThePageDrawsEachChannelsDaysAndTheJsonHasTheSameFigures) {
  for (int i = 0; i < 3; ++i) Send("GET", "/r/ch/eleve.html");
  http::Response page = Send("GET", "/admin/usage?days=7", true);
  ASSERT_EQ(page.status, 200);
  std::string html = Body(page);
  EXPECT_EQ(page.get_header_value("Cache-Control"), "no-store");
  EXPECT_NE(html.find(R"(<a href="/admin/usage" aria-current="page">)"), std::string::npos);
  EXPECT_NE(html.find(R"(<svg class="chart")"), std::string::npos);
  EXPECT_NE(html.find(R"(<a href="/admin/usage?days=7" aria-current="page">)"), std::string::npos);
  EXPECT_NE(html.find(R"(<a href="/r/ch/eleve.html")"), std::string::npos);
  EXPECT_NE(html.find("Views per day: Water"), std::string::npos);
  http::Response api = Send("GET", "/api/v1/admin/usage?days=7", true);
  ASSERT_EQ(api.status, 200);
  auto view = nlohmann::json::parse(Body(api));
  EXPECT_EQ(view["days"], 7);
  EXPECT_EQ(view["total"], 3);
  EXPECT_EQ(view["sharing"], true);
  EXPECT_EQ(view["counting"], true);
  EXPECT_EQ(view["min_shared_views"], 5);
  ASSERT_EQ(view["channels"].size(), 1u);
  EXPECT_EQ(view["channels"][0]["id"], "ch");
  EXPECT_EQ(view["channels"][0]["daily"].size(), 7u);
  EXPECT_EQ(view["channels"][0]["daily"][6]["views"], 3);
  EXPECT_EQ(view["channels"][0]["top"][0]["resource"], "eleve.html");
  EXPECT_EQ(view["channels"][0]["top"][0]["views"], 3);
  EXPECT_FALSE(view.contains("chart"));
}

TEST_F(UsageRoutesTest, InArabicTheChartRunsFromTheRight) {
  Send("GET", "/r/ch/eleve.html");
  http::Response page = Send("GET", "/admin/usage?days=7", true, {}, "ar");
  ASSERT_EQ(page.status, 200);
  std::string html = Body(page);
  EXPECT_NE(html.find(R"(dir="rtl")"), std::string::npos);
  // Today's bar (the last) is the leftmost: its x is the plot's left edge plus half a gap.
  size_t today = html.rfind("<rect x=\"");
  ASSERT_NE(today, std::string::npos);
  EXPECT_EQ(html.substr(today, 16), "<rect x=\"6.0\" y=");
}

TEST_F(UsageRoutesTest, TheSwitchStopsSendingAndNeedsTheCsrfToken) {
  Session coordinator = Coordinator();
  http::Response res = Send("POST", "/admin/usage/sharing", true, {{"sharing", "off"}});
  EXPECT_EQ(res.status, 303);
  EXPECT_EQ(res.get_header_value("Location"), "/admin/usage?done=off");
  EXPECT_FALSE(app_->usage()->sharing());
  EXPECT_NE(Body(Send("GET", "/admin/usage?done=off", true)).find("no longer be sent"),
            std::string::npos);
  // Without the token (the session's cookie alone): refused, unchanged.
  http::Request req;
  req.method = "POST";
  req.path = req.target = "/admin/usage/sharing";
  req.params.emplace("sharing", "on");
  req.headers.emplace("Cookie", std::string(kSessionCookie) + "=" + coordinator.token);
  for (const Route& route : Routes()) {
    if (std::string_view(route.method) == "POST" && std::string_view(route.pattern) == req.path) {
      http::Response refused;
      EXPECT_FALSE(CheckAccess(*app_, route, req, refused));
      EXPECT_EQ(refused.status, 403);
    }
  }
  EXPECT_FALSE(app_->usage()->sharing());
  EXPECT_EQ(Send("POST", "/api/v1/admin/usage/sharing", true).status, 400);  // no body
  http::Response on =
      Send("POST", "/api/v1/admin/usage/sharing", true, {}, "en", R"({"sharing": true})");
  EXPECT_EQ(on.status, 200);
  EXPECT_TRUE(app_->usage()->sharing());
}

}  // namespace
}  // namespace outpost
