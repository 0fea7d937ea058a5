// The console's box pages (box_pages.h) and the settings behind them (box_settings.h), through
// Routes(), CheckAccess and the handlers, without a socket: what a coordinator sees and
// changes, and what a learner then gets (a hidden channel is nowhere; the default language).
#include "box_pages.h"
#include "outpost/sync/error_log.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "app.h"
#include "http/http_message.h"
#include "outpost/content/importer.h"
#include "outpost/server/accounts.h"
#include "outpost/server/box_settings.h"
#include "outpost/sync/node.h"
#include "outpost/sync/sync_db.h"
#include "testing/route_client.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::Fields;
using testing::RouteClient;
using testing::TempDir;

constexpr char kPassword[] = "tableau noir 5";

class BoxPagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    src_.Write("water/outpost.toml", "[channel]\ntitle = \"Water cycle\"\n");
    src_.Write("water/rain.html", "<title>Rain falls</title><p>Clouds and rain.</p>");
    src_.Write("maths/outpost.toml", "[channel]\ntitle = \"Old maths\"\n");
    src_.Write("maths/sums.html", "<title>Rain sums</title><p>Clouds of numbers.</p>");
    store_ = std::move(*BlobStore::Open(data_.path()));
    catalog_ = std::move(*Catalog::Open(data_.path() / "catalog.db"));
    for (const char* name : {"water", "maths"}) {
      Importer importer(store_.get(), catalog_.get());
      auto r = importer.Import(src_.path() / name, {});
      ASSERT_TRUE(r.has_value()) << r.error().ToString();
    }
    OpenApp();
  }
  void OpenApp() {
    client_.Forget();
    app_.reset();
    app_ = std::make_unique<App>(ServerConfig{}, store_.get(), catalog_.get());
    ASSERT_NE(app_->accounts(), nullptr);
    if (!app_->accounts()->Find("rana")) {
      ASSERT_TRUE(app_->accounts()->Add("rana", Role::kCoordinator, kPassword).ok());
      ASSERT_TRUE(app_->accounts()->Add("amira", Role::kTeacher, kPassword).ok());
    }
  }

  http::Response Send(const std::string& method, const std::string& path, Fields fields = {},
                      const std::string& who = "") {
    return client_.Send(method, path, std::move(fields), who);
  }
  std::string Get(const std::string& path, const std::string& who = "", Fields headers = {}) {
    http::Response res = client_.Run({"GET", path, {}, who, "", "", std::move(headers)});
    last_status_ = res.status;
    return Body(res);
  }
  static std::string Body(const http::Response& res) { return RouteClient::Body(res); }
  void Hide(const std::string& channel, bool hidden) {
    http::Response res = Send("POST", "/admin/channels/visibility",
                              {{"channel", channel}, {"hidden", hidden ? "1" : "0"}}, "rana");
    ASSERT_EQ(res.status, 303) << Body(res);
    EXPECT_EQ(res.get_header_value("Location"),
              std::string("/admin/channels?saved=") + (hidden ? "hidden" : "shown"));
  }
  static bool Has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }

  TempDir src_, data_;
  int last_status_ = 0;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<App> app_;
  RouteClient client_{[this] { return app_.get(); }, kPassword};
};

TEST_F(BoxPagesTest, AHiddenChannelIsNowhereForLearnersAndComesBackWhenShown) {
  ASSERT_TRUE(Has(Get("/"), "Old maths"));  // now in the page cache, answered from the loop
  ASSERT_TRUE(Has(Get("/"), "Old maths"));
  ASSERT_TRUE(Has(Get("/search?q=clouds"), "Rain sums"));
  Hide("maths", true);
  std::string home = Get("/");
  EXPECT_TRUE(Has(home, "Water cycle"));
  EXPECT_FALSE(Has(home, "Old maths")) << "the cached home page must not be served";
  EXPECT_FALSE(Has(Get("/api/v1/home"), "Old maths"));
  EXPECT_FALSE(Has(Get("/api/v1/channels"), "maths"));
  std::string search = Get("/search?q=clouds");
  EXPECT_TRUE(Has(search, "Rain falls"));
  EXPECT_FALSE(Has(search, "Rain sums"));
  EXPECT_FALSE(Has(Get("/api/v1/suggest?q=rain"), "sums"));
  EXPECT_FALSE(Has(Get("/search?q=clouds&channel=maths"), "Rain sums"));
  for (const char* path : {"/t/maths/", "/api/v1/t/maths/", "/r/maths/sums.html",
                           "/api/v1/r/maths/sums.html", "/c/maths/sums.html"}) {
    Get(path);
    EXPECT_EQ(last_status_, 404) << path;
  }
  Get("/t/maths/", "rana");  // hidden for everyone on the learner pages, staff too
  EXPECT_EQ(last_status_, 404);
  Hide("maths", false);
  EXPECT_TRUE(Has(Get("/"), "Old maths"));
  Get("/r/maths/sums.html");
  EXPECT_EQ(last_status_, 200);
}

TEST_F(BoxPagesTest, TheSettingsSurviveARestartAndABadFileIsTheDefaults) {
  Hide("maths", true);
  ASSERT_EQ(Send("POST", "/admin/channels/language", {{"language", "ar"}}, "rana").status, 303);
  OpenApp();
  EXPECT_TRUE(app_->settings().Current()->Hidden("maths"));
  EXPECT_EQ(app_->settings().Current()->default_language, "ar");
  EXPECT_FALSE(Has(Get("/"), "Old maths"));
  std::string channels = Get("/admin/channels", "rana");
  EXPECT_TRUE(Has(channels, "<option value=\"ar\" lang=\"ar\" selected>"));
  std::ofstream(data_.path() / "box-settings.json") << "{\"hidden_channels\": [\"../x\"]}";
  OpenApp();
  EXPECT_TRUE(app_->settings().Current()->hidden_channels.empty());
  EXPECT_EQ(app_->settings().Current()->default_language, "en");
}

TEST_F(BoxPagesTest, TheDefaultLanguageIsForALearnerWhoseBrowserAsksForNothingWeHave) {
  ASSERT_EQ(Send("POST", "/admin/channels/language", {{"language", "ar"}}, "rana").status, 303);
  EXPECT_TRUE(Has(Get("/"), "<html lang=\"ar\" dir=\"rtl\">"));
  EXPECT_TRUE(Has(Get("/", "", {{"Accept-Language", "de-DE,de;q=0.9"}}), "<html lang=\"ar\""));
  EXPECT_TRUE(Has(Get("/", "", {{"Accept-Language", "fr-FR,de;q=0.5"}}), "<html lang=\"fr\""));
  EXPECT_TRUE(Has(Get("/", "", {{"Cookie", "lang=en"}}), "<html lang=\"en\""));
  ASSERT_EQ(Send("POST", "/admin/channels/language", {{"language", "en"}}, "rana").status, 303);
  EXPECT_TRUE(Has(Get("/"), "<html lang=\"en\""));
}

TEST_F(BoxPagesTest, FormsThatNameNothingTheBoxHasAreRefusedAndChangeNothing) {
  EXPECT_EQ(Send("POST", "/admin/channels/visibility", {{"channel", "nope"}, {"hidden", "1"}},
                 "rana").status, 422);
  EXPECT_EQ(Send("POST", "/admin/channels/visibility", {{"channel", "../x"}, {"hidden", "1"}},
                 "rana").status, 422);
  EXPECT_EQ(Send("POST", "/admin/channels/language", {{"language", "xx"}}, "rana").status, 422);
  EXPECT_TRUE(app_->settings().Current()->hidden_channels.empty());
  EXPECT_EQ(app_->settings().Current()->default_language, "en");
  EXPECT_EQ(Send("POST", "/admin/channels/visibility", {{"channel", "maths"}, {"hidden", "1"}},
                 "amira").status, 403);
  EXPECT_TRUE(app_->settings().Current()->hidden_channels.empty());
}

TEST_F(BoxPagesTest, TheOverviewShowsWhatTheBoxHoldsAndThatItNeverSynced) {
  http::Response res = Send("GET", "/admin/", {}, "rana");
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.get_header_value("Cache-Control"), "no-store");
  std::string page = Body(res);
  EXPECT_TRUE(Has(page, "aria-current=\"page\">The box</a>"));
  EXPECT_TRUE(Has(page, "Water cycle"));
  EXPECT_TRUE(Has(page, "Old maths"));
  EXPECT_TRUE(Has(page, "Never synced."));
  EXPECT_TRUE(Has(page, "This box has not joined a hub yet."));
  EXPECT_FALSE(Has(page, "Up to date with")) << "nothing is known of the hub yet";
  EXPECT_TRUE(Has(page, "href=\"/admin/usb\""));
  // The server holds sync.db open from its start (the link policy lives there), so the page
  // reads the server's connection; what it says of the hub comes from that, not from the file.
}

TEST_F(BoxPagesTest, TheOverviewAndTheJsonSayHowFarBehindFromTheLastOffer) {
  NodePaths paths(data_.path());
  {
    auto db = SyncDb::Open(paths.sync_db);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE((*db)->NoteHubHeads({{"water", 4, 3'000'000, 0}}).ok());
    ASSERT_TRUE((*db)->NoteSyncRun({1'700'000'000, 1'700'000'060, false, false, 0,
                                    "the link dropped"}).ok());
  }
  Hide("maths", true);
  std::string page = Get("/admin/", "rana");
  // Sizes and dates are isolated left to right (U+2066 ... U+2069) for Arabic sentences.
  EXPECT_TRUE(Has(page, "The hub has version 4: about \u20663.0 MB\u2069 to fetch."));
  EXPECT_TRUE(Has(page, "Last synced on \u20662023-11-14 22:14 UTC\u2069"));
  EXPECT_TRUE(Has(page, "It failed: \u2068the link dropped\u2069"));
  EXPECT_TRUE(Has(page, "1 channel(s) behind the hub"));
  auto json = nlohmann::json::parse(Get("/api/v1/admin/status", "rana"));
  EXPECT_EQ(last_status_, 200);
  EXPECT_EQ(json["sync"]["channels_behind"], 1);
  EXPECT_EQ(json["sync"]["next_sync_bytes"], 3'000'000);
  EXPECT_EQ(json["sync"]["last"]["ok"], false);
  EXPECT_EQ(json["default_language"], "en");
  EXPECT_TRUE(json["process"]["uptime_seconds"].is_number());
  EXPECT_GT(json["process"]["rss_bytes"].get<uint64_t>(), 0u);
  EXPECT_TRUE(json["recent_errors"].is_array());
  for (const auto& c : json["channels"]) {
    EXPECT_EQ(c["hidden"], c["id"] == "maths") << c.dump();
    EXPECT_EQ(c["behind"], c["id"] == "water") << c.dump();
  }
  EXPECT_TRUE(json["disk"]["known"].get<bool>());
  EXPECT_GT(json["memory"]["total_bytes"].get<uint64_t>(), 0u);
}

TEST_F(BoxPagesTest, TheHealthPageShowsTheVersionMemoryDiskAndAPlaceForErrors) {
  std::string page = Get("/admin/health", "rana");
  ASSERT_EQ(last_status_, 200);
  EXPECT_TRUE(Has(page, "aria-current=\"page\">Health</a>"));
  EXPECT_TRUE(Has(page, ">0.1.0<"));
  EXPECT_TRUE(Has(page, "Running for"));
  EXPECT_TRUE(Has(page, "Memory available"));
  EXPECT_TRUE(Has(page, "Recent errors"));
  EXPECT_TRUE(Has(page, "No error recorded."));
  std::string arabic = Get("/admin/health", "rana", {{"Accept-Language", "ar"}});
  EXPECT_TRUE(Has(arabic, "dir=\"rtl\""));
  EXPECT_TRUE(Has(arabic, "الأخطاء الأخيرة"));
}

// The errors come from DATA/errors.log (error_log.h), which every command appends to: newest
// first.
TEST_F(BoxPagesTest, TheHealthPageListsTheLogsRecentErrorsNewestFirst) {
  std::string lines = ErrorLogLine(1765000000, "warn", "the older one") +
                      ErrorLogLine(1765000100, "error", "disk full while writing a stick");
  std::ofstream(data_.path() / "errors.log") << lines;
  std::string page = Get("/admin/health", "rana");
  ASSERT_EQ(last_status_, 200);
  EXPECT_FALSE(Has(page, "No error recorded."));
  size_t newer = page.find("disk full while writing a stick");
  size_t older = page.find("the older one");
  ASSERT_NE(newer, std::string::npos);
  ASSERT_NE(older, std::string::npos);
  EXPECT_LT(newer, older);
  auto json = nlohmann::json::parse(Get("/api/v1/admin/status", "rana"));
  ASSERT_EQ(json["recent_errors"].size(), 2u);
  EXPECT_EQ(json["recent_errors"][0]["message"], "disk full while writing a stick");
}

TEST_F(BoxPagesTest, ALearnerOrATeacherNeverSeesTheConsole) {
  for (const char* path : {"/admin/", "/admin/channels", "/admin/health"}) {
    EXPECT_EQ(Send("GET", path).status, 401) << path;  // the login page
    EXPECT_EQ(Send("GET", path, {}, "amira").status, 403) << path;
  }
  EXPECT_EQ(Send("GET", "/api/v1/admin/status").status, 401);
}

TEST(BoxSettingsTest, TheFileRoundTripsAndRefusesWhatIsNotASettingsFile) {
  BoxSettingsData data;
  data.hidden_channels = {"old-maths", "b"};
  data.default_language = "ar";
  auto back = DecodeBoxSettings(EncodeBoxSettings(data));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->hidden_channels, data.hidden_channels);
  EXPECT_EQ(back->default_language, "ar");
  EXPECT_TRUE(DecodeBoxSettings("{}").has_value());
  for (std::string bad : std::vector<std::string>{"", "[]", "{\"hidden_channels\": \"a\"}", "{\"hidden_channels\": [1]}",
                          "{\"hidden_channels\": [\"A B\"]}", "{\"default_language\": \"<x>\"}",
                          "{\"default_language\": 3}", "{\"hidden_channels\": [\"a\"",
                          std::string(kMaxSettingsBytes + 1, ' ')}) {
    EXPECT_FALSE(DecodeBoxSettings(bad).has_value()) << bad.substr(0, 40);
  }
}

}  // namespace
}  // namespace outpost
