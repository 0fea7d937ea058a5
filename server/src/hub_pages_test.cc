// The hub console without a socket (hub_pages.h): each page and JSON route through Routes(),
// CheckAccess and its handler, on a data folder made a hub by InitHub, with real publishing,
// enrolment, revoking and review.
#include "hub_pages.h"

#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <map>
#include <string>

#include "app.h"
#include "http/http_message.h"
#include "outpost/content/importer.h"
#include "outpost/server/accounts.h"
#include "outpost/sync/enrolment.h"
#include "outpost/sync/identity.h"
#include "outpost/sync/node.h"
#include "outpost/sync/site_report.h"
#include "outpost/sync/sync_db.h"
#include "outpost/sync/usage.h"
#include "outpost/sync/trust_store.h"
#include "testing/route_client.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::Fields;
using testing::RouteClient;
using testing::TempDir;

constexpr char kPassword[] = "carte du pays 9";

class HubPagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    store_ = std::move(*BlobStore::Open(data_.path()));
    catalog_ = std::move(*Catalog::Open(data_.path() / "catalog.db"));
    ASSERT_TRUE(InitHub(NodePaths(data_.path())).has_value());
    ServerConfig config;
    config.publish_root = (data_.path() / "publish").string();
    app_ = std::make_unique<App>(config, store_.get(), catalog_.get());
    ASSERT_TRUE(app_->is_hub());
    ASSERT_NE(app_->hub(), nullptr);
    ASSERT_TRUE(app_->accounts()->Add("hala", Role::kHubAdmin, kPassword).ok());
    ASSERT_TRUE(app_->accounts()->Add("paul", Role::kPublisher, kPassword).ok());
  }

  void WriteFile(const fs::path& file, const std::string& text) {
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
  }
  // A folder under the publish root, "maths", with `files` (name -> contents).
  void Folder(const std::map<std::string, std::string>& files) {
    fs::path dir = data_.path() / "publish" / "maths";
    fs::remove_all(dir);
    WriteFile(dir / "outpost.toml", "[channel]\nid = \"maths\"\ntitle = \"Maths\"\n");
    for (const auto& [name, text] : files) WriteFile(dir / name, text);
  }

  // `method` `path` as `who` ("" for no session), with form `fields` (or a JSON `body` for the
  // API), through the route table and CheckAccess.
  http::Response Send(const std::string& method, const std::string& path, Fields fields = {},
                      const std::string& who = "", const std::string& body = "") {
    return client_.Run({method, path, std::move(fields), who, body, "", {}});
  }
  static json Json(const http::Response& res) { return RouteClient::Json(res); }
  static std::string Body(const http::Response& res) { return RouteClient::Body(res); }
  // Publishes the "maths" folder through the form and waits for the publishing thread.
  void PublishMaths(const std::string& who = "paul") {
    auto posted = Send("POST", "/admin/hub/publish", {{"folder", "maths"}}, who);
    ASSERT_EQ(posted.status, 303) << Body(posted);
    app_->hub()->WaitForPublish();
  }

  TempDir data_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<App> app_;
  RouteClient client_{[this] { return app_.get(); }, kPassword};
};

TEST_F(HubPagesTest, APublisherPublishesAFolderAndSeesWhatChangedBetweenTwoVersions) {
  Folder({{"a.txt", "one"}, {"b.txt", "two two"}});
  PublishMaths();
  auto page = Send("GET", "/admin/hub/publish", {}, "paul");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(Body(page).find("maths"), std::string::npos);
  auto state = Json(Send("GET", "/api/v1/hub/publish", {}, "paul"));
  EXPECT_EQ(state["last"]["state"], "done") << state.dump();
  EXPECT_EQ(state["last"]["result"]["version"], 1);

  Folder({{"a.txt", "one"}, {"c.txt", "three"}, {"b.txt", "changed"}});
  fs::remove(data_.path() / "publish" / "maths" / "a.txt");
  PublishMaths();
  auto channels = Json(Send("GET", "/api/v1/hub/channels", {}, "paul"));
  ASSERT_EQ(channels["channels"].size(), 1u) << channels.dump();
  EXPECT_EQ(channels["channels"][0]["versions"].size(), 2u);
  auto diff = Json(Send("GET", "/api/v1/hub/channels/maths/diff?from=1&to=2", {}, "paul"));
  ASSERT_EQ(diff["added"].size(), 1u) << diff.dump();
  EXPECT_EQ(diff["added"][0]["path"], "c.txt");
  EXPECT_EQ(diff["added"][0]["new_size"], 5);
  ASSERT_EQ(diff["removed"].size(), 1u);
  EXPECT_EQ(diff["removed"][0]["path"], "a.txt");
  ASSERT_EQ(diff["changed"].size(), 1u);
  EXPECT_EQ(diff["changed"][0]["old_size"], 7);
  auto shown = Send("GET", "/admin/hub/diff?channel=maths&from=1&to=2", {}, "paul");
  EXPECT_EQ(shown.status, 200);
  EXPECT_NE(Body(shown).find("c.txt"), std::string::npos);
  EXPECT_EQ(Send("GET", "/api/v1/hub/channels/maths/diff?from=1&to=9", {}, "paul").status, 404);
}

TEST_F(HubPagesTest, OnlyAFolderDirectlyUnderThePublishRootCanBePublished) {
  Folder({{"a.txt", "one"}});
  fs::create_directories(data_.path() / "elsewhere");
  fs::create_symlink(data_.path() / "elsewhere", data_.path() / "publish" / "escape");
  for (std::string folder : {"../elsewhere", "/etc", "maths/..", "escape", ".hidden", "", "nope"}) {
    auto res = Send("POST", "/api/v1/hub/publish", {}, "paul",
                    json{{"folder", folder}}.dump());
    EXPECT_EQ(res.status, 400) << folder << ": " << Body(res);
    auto form = Send("POST", "/admin/hub/publish", {{"folder", folder}}, "paul");
    EXPECT_EQ(form.status, 422) << folder;
  }
  EXPECT_EQ(app_->hub()->PublishFolders(), std::vector<std::string>({"escape", "maths"}));
  EXPECT_TRUE(catalog_->Channels().empty());
}

TEST_F(HubPagesTest, AHubAdminMakesACodeDownloadsAnEnrolmentFileAndRevokesASchool) {
  auto made = Send("POST", "/admin/hub/enrol", {{"name", "ecole-a"}, {"make", "code"}}, "hala");
  EXPECT_EQ(made.status, 200);
  EXPECT_NE(Body(made).find("ecole-a"), std::string::npos);
  auto file = Send("POST", "/admin/hub/enrol",
                   {{"name", "ecole-b"}, {"days", "3"}, {"make", "file"}}, "hala");
  ASSERT_EQ(file.status, 200);
  EXPECT_EQ(file.get_header_value("Content-Disposition"), "attachment; filename=\"ecole-b.opef\"");
  auto enrolment = DecodeEnrolment(Body(file));
  ASSERT_TRUE(enrolment.has_value()) << enrolment.error().ToString();
  EXPECT_EQ(enrolment->pin.site_name, "ecole-b");
  auto listed = Json(Send("GET", "/api/v1/hub/enrolments", {}, "hala"));
  EXPECT_EQ(listed["pending"].size(), 2u) << listed.dump();
  auto bad = Send("POST", "/admin/hub/enrol", {{"name", "Bad Name"}, {"make", "code"}}, "hala");
  EXPECT_EQ(bad.status, 422);

  // The school enrols with its code, then is revoked from the console.
  auto db = SyncDb::Open(NodePaths(data_.path()).sync_db);
  ASSERT_TRUE((*db)->AdmitSite(enrolment->pin.pending_code, Identity::Generate()->public_key()).has_value());
  EXPECT_EQ(Send("GET", "/admin/hub/revoke?site=ecole-b", {}, "hala").status, 200);
  auto revoked = Send("POST", "/admin/hub/revoke", {{"site", "ecole-b"}}, "hala");
  EXPECT_EQ(revoked.status, 303);
  EXPECT_EQ(revoked.get_header_value("Location"), "/admin/hub/schools?done=revoked");
  EXPECT_NE((*db)->Peers().at(0).revoked_at, 0);
  EXPECT_EQ(Send("POST", "/api/v1/hub/sites/nobody/revoke", {}, "hala").status, 404);
}

TEST_F(HubPagesTest, APublisherMayNotEnrolOrRevokeAndABoxHasNoHubConsole) {
  EXPECT_EQ(Send("GET", "/admin/hub/schools", {}, "paul").status, 403);
  EXPECT_EQ(Send("POST", "/admin/hub/enrol", {{"name", "ecole-a"}}, "paul").status, 403);
  EXPECT_EQ(Send("POST", "/api/v1/hub/sites/ecole-a/revoke", {}, "paul").status, 403);
  EXPECT_EQ(Send("GET", "/admin/hub/", {}, "paul").status, 200);
  EXPECT_EQ(Send("GET", "/admin/hub/", {}, "").status, 401);

  TempDir box;
  auto store = std::move(*BlobStore::Open(box.path()));
  auto catalog = std::move(*Catalog::Open(box.path() / "catalog.db"));
  app_ = std::make_unique<App>(ServerConfig{}, store.get(), catalog.get());
  EXPECT_FALSE(app_->is_hub());
  ASSERT_TRUE(app_->accounts()->Add("paul", Role::kPublisher, kPassword).ok());
  client_.Forget();
  EXPECT_EQ(Send("GET", "/admin/hub/", {}, "paul").status, 404);
  EXPECT_EQ(Send("GET", "/api/v1/hub/channels", {}, "paul").status, 404);
  app_.reset();
}

// A hub account that opens the box's console (/admin/, as a coordinator would) lands on the
// hub's; a change, an API call and the box's own coordinators are not redirected.
TEST_F(HubPagesTest, AHubAccountOnTheBoxConsoleIsSentToTheHubConsole) {
  for (const char* path : {"/admin", "/admin/", "/admin/usage", "/admin/sync"}) {
    auto res = Send("GET", path, {}, "paul");
    EXPECT_EQ(res.status, 303) << path;
    EXPECT_EQ(res.get_header_value("Location"), "/admin/hub/") << path;
  }
  EXPECT_EQ(Send("GET", "/admin/", {}, "hala").get_header_value("Location"), "/admin/hub/");
  EXPECT_EQ(Send("GET", "/api/v1/admin/status", {}, "paul").status, 403);
  EXPECT_EQ(Send("POST", "/admin/sync", {}, "paul").status, 403);
  EXPECT_EQ(Send("GET", "/admin/", {}, "").status, 401);
}

TEST_F(HubPagesTest, TheReviewListAdoptsAndDeclinesWhatASchoolSentUp) {
  Folder({{"a.txt", "one"}});
  PublishMaths();
  // A school's channel as a sync would have stored it.
  PublicKey site = Identity::Generate()->public_key();
  auto db = SyncDb::Open(NodePaths(data_.path()).sync_db);
  ASSERT_TRUE((*db)->AddPeer({site, "ecole-a", "site"}).ok());
  ASSERT_TRUE((*db)->ClaimChannel("ecole-a", site).ok());
  WriteFile(data_.path() / "site" / "water.txt", "water falls as rain");
  WriteFile(data_.path() / "site" / "fire.txt", "fire is hot");
  ImportOptions options;
  options.channel_id = "ecole-a";
  ASSERT_TRUE(
      Importer(store_.get(), catalog_.get()).Import(data_.path() / "site", options).has_value());

  auto list = Json(Send("GET", "/api/v1/hub/review", {}, "paul"));
  ASSERT_EQ(list["items"].size(), 2u) << list.dump();
  EXPECT_EQ(list["channels"].size(), 1u);  // maths, not the school's channel
  std::map<std::string, int64_t> ids;
  for (const auto& i : list["items"]) ids[i["path"]] = i["id"];
  auto page = Send("GET", "/admin/hub/review", {}, "paul");
  EXPECT_NE(Body(page).find("water.txt"), std::string::npos);

  auto adopted = Send("POST", "/admin/hub/review/adopt",
                      {{"id", std::to_string(ids["water.txt"])}, {"channel", "maths"},
                       {"topic", "Grade 5"}}, "paul");
  EXPECT_EQ(adopted.status, 303) << Body(adopted);
  auto no_reason = Send("POST", "/admin/hub/review/decline",
                        {{"id", std::to_string(ids["fire.txt"])}}, "paul");
  EXPECT_EQ(no_reason.status, 422);
  auto declined = Send("POST", "/api/v1/hub/review/" + std::to_string(ids["fire.txt"]) +
                       "/decline", {}, "paul", json{{"reason", "not for children"}}.dump());
  EXPECT_EQ(declined.status, 200) << Body(declined);
  EXPECT_TRUE(Json(Send("GET", "/api/v1/hub/review", {}, "paul"))["items"].empty());
  for (const auto& c : catalog_->Channels()) {
    if (c.id == "maths") {
      EXPECT_EQ(c.served_version, 2);  // with the adopted file
    }
  }
}

// Four schools as syncs would have left them in sync.db: one seen an hour ago by link and up to
// date, one seen yesterday by stick, a version behind and with errors, one silent for 20 days,
// one enrolled and never seen. The hub serves maths 2.
class HubTableTest : public HubPagesTest {
 protected:
  void SetUp() override {
    HubPagesTest::SetUp();
    Folder({{"a.txt", "one"}});
    PublishMaths();
    Folder({{"a.txt", "two"}});
    PublishMaths();
    db_ = std::move(*SyncDb::Open(NodePaths(data_.path()).sync_db));
    School("ecole-link", now_ - 3600, "link", 2, 0);
    School("ecole-stick", now_ - 86400, "stick", 1, 3);
    School("ecole-silent", now_ - 20 * 86400, "link", 2, 0);
    ASSERT_TRUE(db_->AddPeer({Identity::Generate()->public_key(), "ecole-never", "site"}).ok());
  }
  void School(const std::string& name, int64_t seen, const std::string& via, uint64_t maths,
              uint32_t errors) {
    PublicKey key = Identity::Generate()->public_key();
    ASSERT_TRUE(db_->AddPeer({key, name, "site"}).ok());
    db_->set_clock([seen] { return seen; });
    ASSERT_TRUE(db_->TouchPeer(key, via).ok());
    SiteReport r;
    r.site = key;
    r.reported_at = seen;
    r.software = "0.1.0";
    r.disk_total = 32'000'000'000;
    r.disk_free = 11'000'000'000;
    r.served = {{"maths", maths}};
    r.errors_logged = errors;
    if (errors) r.errors.push_back({seen - 60, "error", "disk full"});
    r.usage.push_back({DayString(UnixDay(now_) - 1), "maths", "a.txt", 7});
    ASSERT_TRUE(db_->NoteSiteReport(r, via).has_value());
    db_->set_clock(nullptr);
  }
  std::vector<std::string> Names(const std::string& query) {
    auto res = Send("GET", "/api/v1/hub/sites" + query, {}, "paul");
    EXPECT_EQ(res.status, 200) << query << ": " << Body(res);
    std::vector<std::string> names;
    const json answer = Json(res);
    for (const auto& s : answer["sites"]) names.push_back(s["name"]);
    return names;
  }

  int64_t now_ = static_cast<int64_t>(std::time(nullptr));
  std::unique_ptr<SyncDb> db_;
};

using List = std::vector<std::string>;

TEST_F(HubTableTest, TheTableSortsAndFiltersBySilenceLagAndErrors) {
  auto all = Json(Send("GET", "/api/v1/hub/sites", {}, "paul"));
  EXPECT_EQ(all["count"], 4);
  EXPECT_EQ(all["matched"], 4);
  EXPECT_EQ(Names(""), List({"ecole-link", "ecole-never", "ecole-silent", "ecole-stick"}));
  EXPECT_EQ(Names("?filter=silent"), List({"ecole-never", "ecole-silent"}));
  EXPECT_EQ(Names("?filter=behind"), List({"ecole-stick"}));
  EXPECT_EQ(Names("?filter=errors"), List({"ecole-stick"}));
  EXPECT_EQ(Names("?q=STI"), List({"ecole-stick"}));
  EXPECT_EQ(Names("?sort=last_seen&order=desc"),
            List({"ecole-link", "ecole-stick", "ecole-silent", "ecole-never"}));
  EXPECT_EQ(Names("?sort=errors&order=desc&per_page=1"), List({"ecole-stick"}));
  EXPECT_EQ(Names("?sort=name&order=desc&filter=silent"), List({"ecole-silent", "ecole-never"}));

  auto stick = Json(Send("GET", "/api/v1/hub/sites?filter=behind", {}, "paul"))["sites"][0];
  EXPECT_EQ(stick["last_via"], "stick");
  EXPECT_EQ(stick["report"]["via"], "stick");
  EXPECT_EQ(stick["report"]["served"][0], json({{"channel", "maths"}, {"version", 1},
                                                {"latest", 2}, {"behind", true}}));
  EXPECT_EQ(stick["report"]["errors"], 3);
  EXPECT_EQ(stick["report"]["last_error"]["message"], "disk full");
  EXPECT_FALSE(stick["silent"].get<bool>());
}

TEST_F(HubTableTest, TheTableComesAPageAtATimeAndRefusesWhatItDoesNotKnow) {
  auto second = Json(Send("GET", "/api/v1/hub/sites?per_page=3&page=2", {}, "paul"));
  EXPECT_EQ(second["pages"], 2);
  EXPECT_EQ(second["sites"].size(), 1u);
  EXPECT_EQ(second["sites"][0]["name"], "ecole-stick");
  EXPECT_TRUE(Names("?per_page=3&page=3").empty());
  for (std::string bad : {"?sort=key", "?order=up", "?filter=asleep", "?page=0", "?page=x",
                          "?per_page=1001", "?per_page=0"}) {
    EXPECT_EQ(Send("GET", "/api/v1/hub/sites" + bad, {}, "paul").status, 400) << bad;
    EXPECT_EQ(Send("GET", "/admin/hub/sites" + bad, {}, "paul").status, 400) << bad;
  }
  // A name filter cut at 100 bytes inside a two-byte character is still valid UTF-8.
  auto cut = Send("GET", "/api/v1/hub/sites?q=" + std::string(99, 'a') + "\xC3\xA9", {}, "paul");
  EXPECT_EQ(cut.status, 200);
  EXPECT_EQ(Json(cut)["matched"], 0);
  EXPECT_EQ(Send("GET", "/admin/hub/sites?q=" + std::string(99, 'a') + "\xC3\xA9", {}, "paul").status, 200);
  EXPECT_EQ(Send("GET", "/api/v1/hub/sites", {}, "").status, 401);
}

TEST_F(HubTableTest, ThePageShowsSilenceTheStickAndLinksToTheNextPage) {
  auto page = Send("GET", "/admin/hub/sites?per_page=2&sort=last_seen", {}, "paul");
  ASSERT_EQ(page.status, 200) << Body(page);
  std::string html = Body(page);
  EXPECT_NE(html.find("ecole-never"), std::string::npos);
  EXPECT_NE(html.find("silent 20 days"), std::string::npos) << html;
  EXPECT_NE(html.find("aria-sort=\"ascending\""), std::string::npos);
  EXPECT_NE(html.find("page=2"), std::string::npos);
  EXPECT_EQ(html.find("ecole-link"), std::string::npos);  // on page 2
  std::string stick = Body(Send("GET", "/admin/hub/sites?q=stick", {}, "paul"));
  EXPECT_NE(stick.find("USB stick"), std::string::npos);
  EXPECT_NE(stick.find("1 behind"), std::string::npos);
  EXPECT_NE(stick.find("disk full"), std::string::npos);
  EXPECT_EQ(Send("GET", "/admin/hub/sites", {}, "hala").status, 200);
}

TEST_F(HubTableTest, ASyncAfterTheTableWasReadShowsAtOnce) {
  EXPECT_EQ(Names("?filter=silent"), List({"ecole-never", "ecole-silent"}));
  for (const auto& p : db_->Peers()) {
    if (p.name == "ecole-never") {
      ASSERT_TRUE(db_->TouchPeer(p.key, "link").ok());
    }
  }
  EXPECT_EQ(Names("?filter=silent"), List({"ecole-silent"}));
  Folder({{"a.txt", "three"}});
  PublishMaths();  // maths 3: every school is behind now
  EXPECT_EQ(Names("?filter=behind"), List({"ecole-link", "ecole-silent", "ecole-stick"}));
}

TEST_F(HubTableTest, UsageAcrossSchoolsIsSummedPerChannelAndDrawnOnTheHub) {
  auto usage = Json(Send("GET", "/api/v1/hub/usage", {}, "paul"));
  ASSERT_EQ(usage["channels"].size(), 1u) << usage.dump();
  EXPECT_EQ(usage["channels"][0]["id"], "maths");
  EXPECT_EQ(usage["channels"][0]["total"], 21);  // 7 at each of three schools
  EXPECT_EQ(usage["channels"][0]["daily"].size(), 30u);
  EXPECT_EQ(usage["total"], 21);
  auto page = Send("GET", "/admin/hub/usage", {}, "paul");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(Body(page).find("<svg"), std::string::npos);
  EXPECT_NE(Body(page).find("Total: 21 views"), std::string::npos);
}

}  // namespace
}  // namespace outpost
