// The link policy's routes without a socket (policy_routes.h), through Routes(), CheckAccess
// and the handler: the JSON API reads and changes the policy in sync.db and refuses a wrong
// field naming it; the form saves and redirects, or shows each wrong field's error in the
// coordinator's language and stores nothing.
#include "policy_routes.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "app.h"
#include "http/http_message.h"
#include "outpost/server/accounts.h"
#include "outpost/sync/sync_db.h"
#include "testing/route_client.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::Fields;
using testing::RouteClient;
using json = nlohmann::json;

constexpr char kPassword[] = "craie blanche 7";

class PolicyRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    store_ = std::move(*BlobStore::Open(data_.path()));
    catalog_ = std::move(*Catalog::Open(data_.path() / "catalog.db"));
    app_ = std::make_unique<App>(ServerConfig{}, store_.get(), catalog_.get());
    ASSERT_NE(app_->sync_db(), nullptr);
    ASSERT_TRUE(app_->accounts()->Add("rana", Role::kCoordinator, kPassword).ok());
    ASSERT_TRUE(app_->accounts()->Add("amira", Role::kTeacher, kPassword).ok());
  }

  // `method` `path` as `who` ("" for no session), with form `fields` or a JSON `body`.
  http::Response Send(const std::string& method, const std::string& path, const std::string& who,
                      Fields fields = {}, const std::string& body = "",
                      const std::string& language = "en") {
    return client_.Run({method, path, std::move(fields), who, body, "",
                        {{"Accept-Language", language}}});
  }
  static std::string Body(const http::Response& res) { return RouteClient::Body(res); }
  static json Json(const http::Response& res) { return json::parse(Body(res)); }

  testing::TempDir data_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<App> app_;
  RouteClient client_{[this] { return app_.get(); }, kPassword};
};

TEST_F(PolicyRoutesTest, TheApiReadsAndChangesThePolicy) {
  http::Response got = Send("GET", "/api/v1/admin/policy", "rana");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(Json(got)["auto_sync"], false);
  EXPECT_EQ(Json(got)["budget_period"], "none");
  EXPECT_TRUE(Json(got)["budget_left_bytes"].is_null());
  json change = {{"day_budget_bytes", 50000000}, {"windows", {"22:00-06:00"}},
                 {"auto_sync", true}, {"rate_limit_kbps", 256}};
  http::Response put = Send("PUT", "/api/v1/admin/policy", "rana", {}, change.dump());
  ASSERT_EQ(put.status, 200) << Body(put);
  json after = Json(put);
  EXPECT_EQ(after["day_budget_bytes"], 50000000);
  EXPECT_EQ(after["windows"], json({"22:00-06:00"}));
  EXPECT_EQ(after["budget_period"], "day");
  EXPECT_EQ(after["budget_left_bytes"], 50000000);
  EXPECT_EQ(after["interval_minutes"], 15);  // not named: kept
  LinkPolicy stored = app_->sync_db()->GetLinkPolicy();
  EXPECT_TRUE(stored.auto_sync);
  EXPECT_EQ(stored.rate_limit_kbps, 256u);
}

TEST_F(PolicyRoutesTest, TheApiRefusesAWrongFieldAndStoresNothing) {
  json change = {{"day_budget_bytes", -5}, {"windows", "25:00-06:00"}, {"auto_sync", true}};
  http::Response put = Send("PUT", "/api/v1/admin/policy", "rana", {}, change.dump());
  ASSERT_EQ(put.status, 400);
  json errors = Json(put)["errors"];
  EXPECT_TRUE(errors.contains("day_budget_bytes"));
  EXPECT_TRUE(errors.contains("windows"));
  EXPECT_FALSE(errors.contains("auto_sync"));
  EXPECT_EQ(app_->sync_db()->GetLinkPolicy(), LinkPolicy{});
  EXPECT_EQ(Send("PUT", "/api/v1/admin/policy", "rana", {}, "[1]").status, 400);
}

TEST_F(PolicyRoutesTest, OnlyACoordinatorWithTheTokenMayChangeIt) {
  EXPECT_EQ(Send("GET", "/api/v1/admin/policy", "").status, 401);
  EXPECT_EQ(Send("GET", "/api/v1/admin/policy", "amira").status, 403);
  EXPECT_EQ(Send("POST", "/admin/sync/policy", "amira", {{"windows", ""}}).status, 403);
  EXPECT_EQ(Send("POST", "/admin/sync/policy", "", {{"windows", ""}}).status, 401);
}

TEST_F(PolicyRoutesTest, TheFormSavesAndRedirects) {
  Fields form = {{"day_budget_mb", "50"}, {"month_budget_mb", "0.5"},
                 {"windows", "22:00-06:00, 12:30-13:00"}, {"rate_limit_kbps", ""},
                 {"interval_minutes", "30"}, {"auto_sync", "1"}};
  http::Response post = Send("POST", "/admin/sync/policy", "rana", form);
  ASSERT_EQ(post.status, 303) << Body(post);
  EXPECT_EQ(post.get_header_value("Location"), "/admin/sync/policy?done=saved");
  LinkPolicy p = app_->sync_db()->GetLinkPolicy();
  EXPECT_EQ(p.day_budget_bytes, 50'000'000u);
  EXPECT_EQ(p.month_budget_bytes, 500'000u);
  EXPECT_EQ(p.windows.size(), 2u);
  EXPECT_EQ(p.interval_minutes, 30);
  EXPECT_TRUE(p.auto_sync);
  http::Response page = Send("GET", "/admin/sync/policy", "rana");
  ASSERT_EQ(page.status, 200);
  std::string html = Body(page);
  EXPECT_NE(html.find("value=\"22:00-06:00, 12:30-13:00\""), std::string::npos);
  EXPECT_NE(html.find("value=\"0.5\""), std::string::npos);
  EXPECT_NE(html.find("aria-current=\"page\">Sync"), std::string::npos);  // the nav's Sync
  EXPECT_EQ(page.get_header_value("Cache-Control"), "no-store");
}

TEST_F(PolicyRoutesTest, AWrongValueShowsItsErrorBesideItInTheCoordinatorsLanguage) {
  Fields form = {{"day_budget_mb", "lots"}, {"windows", "22h-6h"}, {"interval_minutes", "15"}};
  http::Response post = Send("POST", "/admin/sync/policy", "rana", form, "", "ar");
  ASSERT_EQ(post.status, 422);
  std::string html = Body(post);
  EXPECT_NE(html.find("id=\"p-day-error\""), std::string::npos);
  EXPECT_NE(html.find("id=\"p-windows-error\""), std::string::npos);
  EXPECT_EQ(html.find("id=\"p-interval-error\""), std::string::npos);
  EXPECT_NE(html.find("value=\"lots\""), std::string::npos);  // what was typed stays
  EXPECT_NE(html.find("أدخل رقمًا"), std::string::npos);
  EXPECT_EQ(app_->sync_db()->GetLinkPolicy(), LinkPolicy{});
}

TEST_F(PolicyRoutesTest, ThePageShowsTheBudgetUsedAndLeft) {
  LinkPolicy p;
  p.day_budget_bytes = 10'000'000;
  ASSERT_TRUE(app_->sync_db()->SetLinkPolicy(p).ok());
  ASSERT_TRUE(app_->sync_db()->NoteLinkUsage(LocalTime::Now().Day(), 10'000'000).ok());
  std::string html = Body(Send("GET", "/admin/sync/policy", "rana"));
  EXPECT_NE(html.find("10.0 MB"), std::string::npos);
  EXPECT_NE(html.find("data budget is spent"), std::string::npos);
  json got = Json(Send("GET", "/api/v1/admin/policy", "rana"));
  EXPECT_EQ(got["used_today_bytes"], 10'000'000);
  EXPECT_EQ(got["budget_spent"], true);
}

}  // namespace
}  // namespace outpost
