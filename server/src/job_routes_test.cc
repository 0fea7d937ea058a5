// The Sync and USB stick pages and their JSON, without a socket (the way teacher_pages_test.cc
// posts forms): a form starts a job and answers 303 at once, a second start while one runs is
// refused, a running job shows its progress and a Cancel button, the result stays on the page,
// and a drive is taken only from the list the box makes itself. The role walk of
// routes_test.cc covers who may reach these routes.
#include "job_routes.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "app.h"
#include "http/http_message.h"
#include "outpost/server/accounts.h"
#include "routes.h"
#include "testing/route_client.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::Fields;
using testing::RouteClient;
using testing::TempDir;

constexpr char kPassword[] = "craie blanche 7";

class JobRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    // One removable stick, mounted at a real folder (drives.h reads these files only).
    stick_ = drives_.path() / "media/stick";
    fs::create_directories(stick_);
    drives_.Write("proc/self/mounts", "/dev/sdb1 " + stick_.string() + " vfat rw 0 0\n");
    drives_.Write("sys/devices/usb1/block/sdb/removable", "1\n");
    fs::create_directories(drives_.path() / "sys/block");
    fs::create_directory_symlink("../devices/usb1/block/sdb", drives_.path() / "sys/block/sdb");
    config_.drives_root = drives_.path().string();
    store_ = std::move(*BlobStore::Open(data_.path()));
    catalog_ = std::move(*Catalog::Open(data_.path() / "catalog.db"));
    app_ = std::make_unique<App>(config_, store_.get(), catalog_.get());
    ASSERT_TRUE(app_->accounts()->Add("rana", Role::kCoordinator, kPassword).ok());
  }
  // `outpost serve` stopped and started again on the same data folder.
  void Restart() {
    app_.reset();
    app_ = std::make_unique<App>(config_, store_.get(), catalog_.get());
    client_.Forget();
  }

  // `method` `path` as the coordinator, with the CSRF token and `fields` (a form), or `body`.
  http::Response Send(const std::string& method, const std::string& path, Fields fields = {},
                      const std::string& body = "", const std::string& lang = "") {
    return client_.Run({method, path, std::move(fields), "rana", body, lang, {}});
  }
  static std::string Body(const http::Response& res) { return RouteClient::Body(res); }
  static bool Has(const http::Response& res, const std::string& text) {
    return Body(res).find(text) != std::string::npos;
  }
  // Holds the box busy with a job of `kind` until `release_` is set.
  void Occupy(JobKind kind) {
    auto released = release_.get_future().share();
    auto started = app_->jobs().Start(kind, [released](JobContext& job) {
      job.Report({"fetching", 3000000, 12000000, 2, 9});
      released.wait();
      return JobResult{job.cancelled() ? "cancelled" : "done", "", {{"bytes_received", 3000000}}};
    });
    ASSERT_TRUE(started.has_value());
    while (app_->jobs().Current()->progress.phase != "fetching") std::this_thread::yield();
  }

  TempDir data_, drives_;
  ServerConfig config_;
  fs::path stick_;
  std::promise<void> release_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<App> app_;
  RouteClient client_{[this] { return app_.get(); }, kPassword};
};

TEST_F(JobRoutesTest, TheSyncPageOffersSyncNowAndAStartedSyncEndsWithItsResultOnThePage) {
  http::Response page = Send("GET", "/admin/sync");
  ASSERT_EQ(page.status, 200) << Body(page);
  EXPECT_TRUE(Has(page, "action=\"/admin/sync\""));
  EXPECT_TRUE(Has(page, "href=\"/admin/sync\" aria-current=\"page\""));  // the console's nav
  EXPECT_TRUE(Has(page, "name=\"csrf\" value=\"" + client_.SessionOf("rana").csrf + "\""));
  EXPECT_EQ(page.get_header_value("Cache-Control"), "no-store");
  http::Response start = Send("POST", "/admin/sync");
  EXPECT_EQ(start.status, 303);
  EXPECT_EQ(start.get_header_value("Location"), "/admin/sync?done=started");
  app_->jobs().Join();  // this box never joined a hub: the sync fails, and says why
  http::Response after = Send("GET", "/admin/sync");
  EXPECT_TRUE(Has(after, "It failed.")) << Body(after);
  EXPECT_TRUE(Has(after, "action=\"/admin/sync\""));  // and may be tried again
}

// A sync the day's budget stopped reads as the policy's plain sentence, in English and Arabic,
// marked automatic when the schedule ran it; a restarted server still shows it, page and JSON.
TEST_F(JobRoutesTest, ABudgetStopIsSaidPlainlyAndTheLastResultOutlivesARestart) {
  ASSERT_TRUE(app_->jobs().Start(JobKind::kSync, [](JobContext&) {
                  return JobResult{"incomplete", "stopped at the budget",
                                   {{"bytes_received", 1000000}, {"budget_reached", true},
                                    {"budget", "day"}}};
                }, "schedule").has_value());
  app_->jobs().Join();
  for (bool restarted : {false, true}) {
    SCOPED_TRACE(restarted ? "after a restart" : "before");
    if (restarted) Restart();
    http::Response page = Send("GET", "/admin/sync");
    EXPECT_TRUE(Has(page, "data budget is spent: 1.0 MB received and kept. The next sync continues"))
        << Body(page);
    EXPECT_TRUE(Has(page, "Started automatically by the link policy."));
    EXPECT_TRUE(Has(Send("GET", "/admin/sync", {}, "", "ar"), "نفدت حصة بيانات اليوم"));
    auto jobs = nlohmann::json::parse(Body(Send("GET", "/api/v1/admin/jobs")));
    EXPECT_EQ(jobs["sync"]["trigger"], "schedule");
    EXPECT_EQ(jobs["sync"]["state"], "incomplete");
    EXPECT_EQ(jobs["sync"]["result"]["budget"], "day");
    EXPECT_TRUE(jobs["current"].is_null());
  }
  // The month's budget left none to start with: said so, not "received and kept".
  ASSERT_TRUE(app_->jobs().Start(JobKind::kSync, [](JobContext&) {
                  return JobResult{"incomplete", "Not started",
                                   {{"bytes_received", 0}, {"budget_reached", true},
                                    {"budget", "month"}, {"started", false}}};
                }).has_value());
  app_->jobs().Join();
  http::Response page = Send("GET", "/admin/sync");
  EXPECT_TRUE(Has(page, "Not started: the month")) << Body(page);
  EXPECT_FALSE(Has(page, "Started automatically"));
}

TEST_F(JobRoutesTest, ARunningSyncShowsItsProgressRefusesASecondAndCancels) {
  Occupy(JobKind::kSync);
  http::Response page = Send("GET", "/admin/sync");
  EXPECT_TRUE(Has(page, "data-job-poll=\"/api/v1/admin/jobs\""));
  EXPECT_TRUE(Has(page, "3.0 MB of 12 MB")) << Body(page);
  EXPECT_TRUE(Has(page, "2 of 9 files"));
  EXPECT_TRUE(Has(page, "action=\"/admin/jobs/cancel\""));
  EXPECT_FALSE(Has(page, "action=\"/admin/sync\""));  // no second "Sync now" while one runs
  EXPECT_EQ(Send("POST", "/admin/sync").get_header_value("Location"), "/admin/sync?done=busy");
  EXPECT_TRUE(Has(Send("GET", "/admin/sync?done=busy"), "Another action is under way"));
  EXPECT_EQ(Send("POST", "/api/v1/admin/sync").status, 409);
  EXPECT_EQ(Send("POST", "/admin/usb/read", {{"drive", stick_.string()}})
                .get_header_value("Location"),
            "/admin/usb?done=busy");
  http::Response jobs = Send("GET", "/api/v1/admin/jobs");
  auto json = nlohmann::json::parse(Body(jobs));
  EXPECT_EQ(json["current"]["kind"], "sync");
  EXPECT_EQ(json["current"]["bytes_done"], 3000000);
  EXPECT_EQ(json["current"]["files_total"], 9);
  EXPECT_EQ(json["current"]["view"]["progress"]["bytes"], "3.0 MB of 12 MB");
  http::Response cancel = Send("POST", "/admin/jobs/cancel", {{"back", "sync"}});
  EXPECT_EQ(cancel.get_header_value("Location"), "/admin/sync?done=cancelling");
  EXPECT_TRUE(Has(Send("GET", "/admin/sync"), "Stopping: what has arrived is kept."));
  release_.set_value();
  app_->jobs().Join();
  http::Response after = Send("GET", "/admin/sync");
  EXPECT_TRUE(Has(after, "Cancelled: 3.0 MB received and kept.")) << Body(after);
  EXPECT_EQ(Send("DELETE", "/api/v1/admin/sync").status, 409);  // nothing runs now
}

// In Arabic each figure is isolated (U+2068 ... U+2069), so that "3.0 MB" is not reordered
// among the words around it; in English the sentence is plain.
TEST_F(JobRoutesTest, FiguresInAnArabicSentenceKeepTheirOrder) {
  Occupy(JobKind::kSync);
  http::Response ar = Send("GET", "/admin/sync", {}, "", "ar");
  EXPECT_TRUE(Has(ar, "dir=\"rtl\""));
  EXPECT_TRUE(Has(ar, "\u20683.0 MB\u2069")) << Body(ar);
  EXPECT_FALSE(Has(Send("GET", "/admin/sync"), "\u2068"));
  release_.set_value();
  app_->jobs().Join();
}

TEST_F(JobRoutesTest, TheUsbPageListsTheStickAndTakesOnlyAListedDrive) {
  http::Response page = Send("GET", "/admin/usb");
  ASSERT_EQ(page.status, 200) << Body(page);
  EXPECT_TRUE(Has(page, "value=\"" + stick_.string() + "\"")) << Body(page);
  EXPECT_TRUE(Has(page, "formaction=\"/admin/usb/read\""));
  for (const std::string& typed : {std::string("/etc"), data_.path().string(),
                                  stick_.string() + "/..", std::string("")}) {
    http::Response write = Send("POST", "/admin/usb/write", {{"drive", typed}});
    EXPECT_EQ(write.get_header_value("Location"), "/admin/usb?done=no_drive") << typed;
  }
  EXPECT_FALSE(app_->jobs().Current().has_value());
  EXPECT_EQ(Send("POST", "/api/v1/admin/usb/export", {}, R"({"drive": "/etc"})").status, 404);
  EXPECT_EQ(Send("POST", "/api/v1/admin/usb/import", {}, R"({"drive": 3})").status, 400);
  auto drives = nlohmann::json::parse(Body(Send("GET", "/api/v1/admin/drives")));
  ASSERT_EQ(drives["drives"].size(), 1u);
  EXPECT_EQ(drives["drives"][0]["mount_point"], stick_.string());
  // The listed drive is taken: on a box that never met its hub, reading finds nothing for it.
  http::Response read = Send("POST", "/admin/usb/read", {{"drive", stick_.string()}});
  EXPECT_EQ(read.get_header_value("Location"), "/admin/usb?done=started");
  app_->jobs().Join();
  ASSERT_TRUE(app_->jobs().Latest(JobKind::kStickImport).has_value());
  EXPECT_FALSE(Has(Send("GET", "/admin/usb"), "Under way"));
}

}  // namespace
}  // namespace outpost
