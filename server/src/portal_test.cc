// The captive portal (portal.h) through the route client, as the transport runs it: before
// any route, for every path. The same over real sockets, with the box's own name on URLs no
// route answers, is in http_server_test.cc (PortalServerTest).
#include "portal.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "app.h"
#include "outpost/base/hash.h"
#include "outpost/content/importer.h"
#include "outpost/server/accounts.h"
#include "testing/route_client.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::Fields;
using testing::RouteClient;
using testing::TempDir;

constexpr char kPassword[] = "tableau noir 5";

TEST(PortalHostTest, TheBoxsOwnHostsAreKnown) {
  for (const char* own : {"outpost.lan", "OUTPOST.LAN", "outpost.lan:80", "outpost.lan.",
                          "10.42.0.1", "10.42.0.1:8080", "127.0.0.1", "[::1]", "[fe80::1]:80",
                          "localhost", "localhost:8080", "raspberrypi.local", "", ":80"}) {
    EXPECT_TRUE(IsOwnHost(own, "outpost.lan")) << own;
  }
  for (const char* foreign :
       {"connectivitycheck.gstatic.com", "captive.apple.com", "www.msftconnecttest.com",
        "detectportal.firefox.com", "google.com", "outpost.lan.evil.com", "outpost",
        "10.42.0.1.nip.io", "1.2.3.4.5", "local", "x.lan"}) {
    EXPECT_FALSE(IsOwnHost(foreign, "outpost.lan")) << foreign;
  }
}

class PortalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    src_.Write("water/outpost.toml", "[channel]\ntitle = \"Water cycle\"\n");
    src_.Write("water/rain.html", "<title>Rain falls</title><p>Clouds and rain.</p>");
    store_ = std::move(*BlobStore::Open(data_.path()));
    catalog_ = std::move(*Catalog::Open(data_.path() / "catalog.db"));
    Importer importer(store_.get(), catalog_.get());
    auto r = importer.Import(src_.path() / "water", {});
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    OpenApp("outpost.lan");
  }
  void OpenApp(const std::string& portal_name) {
    client_.Forget();
    app_.reset();
    ServerConfig config;
    config.portal_name = portal_name;
    app_ = std::make_unique<App>(config, store_.get(), catalog_.get());
    ASSERT_NE(app_->accounts(), nullptr);
    if (!app_->accounts()->Find("rana")) {
      ASSERT_TRUE(app_->accounts()->Add("rana", Role::kCoordinator, kPassword).ok());
    }
  }
  http::Response Get(const std::string& path, const std::string& host,
                     const std::string& who = "") {
    return client_.Run({"GET", path, {}, who, "", "", {{"Host", host}}});
  }
  static void ExpectPortal(const http::Response& res, const std::string& what) {
    EXPECT_EQ(res.status, 302) << what;
    EXPECT_EQ(res.get_header_value("Location"), "http://outpost.lan/") << what;
    EXPECT_NE(res.get_header_value("Cache-Control").find("no-store"), std::string::npos) << what;
  }

  TempDir data_, src_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<App> app_;
  RouteClient client_{[this] { return app_.get(); }, kPassword};
};

TEST_F(PortalTest, EveryConnectivityCheckOfAForeignHostIsSentToTheBoxsHome) {
  const char* hosts[] = {"connectivitycheck.gstatic.com", "clients3.google.com",
                         "captive.apple.com", "www.msftconnecttest.com", "www.msftncsi.com",
                         "detectportal.firefox.com", "spectrum.s3.amazonaws.com"};
  for (const char* host : hosts) {
    for (std::string_view path : kConnectivityCheckPaths) {
      ExpectPortal(Get(std::string(path), host), std::string(host) + std::string(path));
    }
  }
}

TEST_F(PortalTest, AnyOtherPageOfAForeignHostIsSentToTheBoxsHomeToo) {
  ExpectPortal(Get("/", "google.com"), "/");
  ExpectPortal(Get("/search?q=rain", "www.wikipedia.org:80"), "search");
  ExpectPortal(client_.Run({"POST", "/login", {{"name", "rana"}, {"password", kPassword}}, "",
                            "", "", {{"Host", "login.example.com"}}}),
               "POST /login");
}

TEST_F(PortalTest, NothingOfTheConsoleRunsUnderAForeignHost) {
  // A coordinator's session sent with a foreign Host still gets the redirect, not the page.
  ExpectPortal(Get("/admin/", "example.com", "rana"), "/admin/");
  ExpectPortal(client_.Run({"POST", "/admin/channels/visibility",
                            {{"channel", "water"}, {"hidden", "1"}}, "rana", "", "",
                            {{"Host", "example.com"}}}),
               "POST /admin/channels/visibility");
  EXPECT_FALSE(app_->settings().Current()->Hidden("water"));
  // The same form by the box's name does hide it.
  http::Response res = client_.Run({"POST", "/admin/channels/visibility",
                                    {{"channel", "water"}, {"hidden", "1"}}, "rana", "", "",
                                    {{"Host", "outpost.lan"}}});
  EXPECT_EQ(res.status, 303);
  EXPECT_TRUE(app_->settings().Current()->Hidden("water"));
}

TEST_F(PortalTest, TheBoxsNameAndItsAddressesAreServedAsAlways) {
  for (const char* host : {"outpost.lan", "Outpost.Lan:80", "10.42.0.1", "[fe80::1]",
                           "outpost-box.local"}) {
    http::Response res = Get("/", host);
    EXPECT_EQ(res.status, 200) << host;
    EXPECT_NE(RouteClient::Body(res).find("Water cycle"), std::string::npos) << host;
    EXPECT_EQ(Get("/admin/", host, "rana").status, 200) << host;
  }
}

TEST_F(PortalTest, WithoutAPortalNameNothingIsRedirected) {
  OpenApp("");
  EXPECT_EQ(Get("/", "google.com").status, 200);
  EXPECT_EQ(Get("/admin/", "example.com", "rana").status, 200);
}

}  // namespace
}  // namespace outpost
