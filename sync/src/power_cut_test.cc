// The power goes at every step (or a stride and random ones) of a site's sync over the
// in-memory link and of a stick's import, and with it everything not yet durable: the worst
// case and random mixes of what reached the disk (testing/power_cut.h). Each time the site
// boots on what is left and serves a whole version, the one it served before or the new one,
// with every file's hash verified; and the same sync or import, run again, completes.
#include <gtest/gtest.h>

#include "bundle/bundle_test_fixture.h"
#include "session/session_fixture.h"
#include "testing/power_cut.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;

// The site's library and sync database on `dir`, its files written through `env` (its
// databases go through the power-cut VFS, the default while a PowerCut lives).
struct Site {
  explicit Site(const fs::path& dir) : paths(dir) {}
  NodePaths paths;
  std::unique_ptr<BlobStore> store;
  std::unique_ptr<Catalog> catalog;
  std::unique_ptr<SyncDb> db;
};

// nullptr if it does not open (the power went while it opened).
std::unique_ptr<Site> OpenSite(const fs::path& dir, Env* env) {
  auto site = std::make_unique<Site>(dir);
  auto store = BlobStore::Open(dir, env);
  auto catalog = Catalog::Open(dir / "catalog.db");
  auto db = SyncDb::Open(site->paths.sync_db);
  if (!store || !catalog || !db) return nullptr;
  site->store = std::move(*store);
  site->catalog = std::move(*catalog);
  site->db = std::move(*db);
  return site;
}

void ExpectWholeVersion(const fs::path& data, const Hash& before, const Hash& after) {
  BootFinding boot = Boot(data, "water");
  EXPECT_TRUE(boot.problems.empty()) << ::testing::PrintToString(boot.problems);
  ASSERT_TRUE(boot.channel.has_value());
  EXPECT_TRUE(boot.channel->manifest_hash == before || boot.channel->manifest_hash == after)
      << "serves version " << boot.channel->served_version;
}

// The steps to cut at, each with the worst case (seed 0) and a random mix.
std::vector<std::pair<long, uint64_t>> Cuts(long total, size_t at_most) {
  std::vector<std::pair<long, uint64_t>> out;
  for (long step : PowerCutSteps(total, at_most, 17)) {
    out.push_back({step, 0});
    out.push_back({step, static_cast<uint64_t>(step) + 1});
  }
  return out;
}

// Version 2 of the hub's channel: an edited page, a new page, a new clip.
void ChangeTheChannel(const TempDir& folder) {
  folder.Write("lesson-2.html", Page(2, "<p>A corrected sentence.</p>"));
  folder.Write("lesson-8.html", Page(8));
  folder.Write("media/river.mp4", Video(300000, 5));
}

class SyncPowerCutTest : public SessionTest {
 protected:
  void SetUp() override {
    SessionTest::SetUp();
    pace_clock_ = &clock_;
    {  // a site that serves version 1, closed: each run starts from a copy of it
      Node site(template_.path());
      ASSERT_TRUE(Enrol(&site).has_value());
      auto first = SyncNode(&site);
      ASSERT_TRUE(first.has_value() && first->complete);
      v1_ = *site.catalog->Channel("water")->manifest_hash;
    }
    ChangeTheChannel(folder_);
    Publish();
    v2_ = *hub_->catalog->Channel("water")->manifest_hash;
  }
  // A sync of a fresh copy of the template with the power cut at `step` (-1: never); the
  // steps it took.
  long SyncCutAt(long step, uint64_t seed) {
    fs::remove_all(data_);
    fs::copy(template_.path(), data_, fs::copy_options::recursive);
    power_.Reset();
    power_.CutAt(step);
    if (auto site = OpenSite(data_, power_.env())) (void)SyncSite(site.get());
    long steps = power_.steps();
    EXPECT_TRUE(power_.DropUnsynced(seed).ok());
    return steps;
  }

  Result<SyncSummary> SyncSite(Site* site) {
    SyncOptions options;
    options.limits = Limits();
    options.dial = Dial();
    auto summary = SyncWithHub(site->paths, site->store.get(), site->catalog.get(), site->db.get(), options);
    JoinSessions();
    return summary;
  }

  StepClock clock_;
  TempDir template_, work_;
  fs::path data_ = work_.path() / "site";
  Hash v1_, v2_;
  PowerCut power_{data_};
};

TEST_F(SyncPowerCutTest, APowerCutAtAnyStepOfASyncLeavesAWholeVersionAndTheNextSyncCompletes) {
  const long total = SyncCutAt(-1, 0);
  EXPECT_GT(total, 20);
  RecordProperty("steps", static_cast<int>(total));
  for (auto [step, seed] : Cuts(total, 60)) {
    SCOPED_TRACE("power cut at step " + std::to_string(step) + " of " + std::to_string(total) +
                 ", seed " + std::to_string(seed));
    SyncCutAt(step, seed);
    ASSERT_NO_FATAL_FAILURE(ExpectWholeVersion(data_, v1_, v2_));
    auto site = OpenSite(data_, power_.env());
    ASSERT_TRUE(site != nullptr);
    auto again = SyncSite(site.get());
    ASSERT_TRUE(again.has_value()) << again.error().message();
    EXPECT_TRUE(again->complete);
    EXPECT_EQ(site->catalog->Channel("water")->manifest_hash, v2_);
    if (HasFailure()) return;
  }
}

class StickPowerCutTest : public BundleFixture {
 protected:
  void SetUp() override {
    BundleFixture::SetUp();
    TempDir first;
    ASSERT_TRUE(Export(&hub_, first.path(), {"ecole-1"}).has_value());
    auto imported = Import(&site_, first.path());
    ASSERT_TRUE(imported.has_value() && imported->summary.complete);
    v1_ = *Manifest(&site_, "water");
    ChangeTheChannel(folder_);
    Publish();
    v2_ = *Manifest(&hub_, "water");
    ASSERT_TRUE(Export(&hub_, stick_.path(), {"ecole-1"}).has_value());
    site_.db.reset();  // closed, then copied for each run
    site_.catalog.reset();
    site_.store.reset();
    fs::copy(site_dir_.path(), template_.path(), fs::copy_options::recursive);
  }
  Result<BundleImportResult> ImportStick(Env* env) {
    auto site = OpenSite(data_, env);
    if (!site) return IoError("the site does not open");
    return ImportBundle(site->paths, site->store.get(), site->catalog.get(), site->db.get(), stick_.path());
  }
  long ImportCutAt(long step, uint64_t seed) {
    fs::remove_all(data_);
    fs::copy(template_.path(), data_, fs::copy_options::recursive);
    power_.Reset();
    power_.CutAt(step);
    (void)ImportStick(power_.env());
    long steps = power_.steps();
    EXPECT_TRUE(power_.DropUnsynced(seed).ok());
    return steps;
  }

  TempDir template_, work_;
  fs::path data_ = work_.path() / "site";
  Hash v1_, v2_;
  PowerCut power_{data_};
};

TEST_F(StickPowerCutTest, APowerCutAtAnyStepOfAStickImportLeavesAWholeVersionAndTheNextImportCompletes) {
  const long total = ImportCutAt(-1, 0);
  EXPECT_GT(total, 20);
  RecordProperty("steps", static_cast<int>(total));
  for (auto [step, seed] : Cuts(total, 60)) {
    SCOPED_TRACE("power cut at step " + std::to_string(step) + " of " + std::to_string(total) +
                 ", seed " + std::to_string(seed));
    ImportCutAt(step, seed);
    ASSERT_NO_FATAL_FAILURE(ExpectWholeVersion(data_, v1_, v2_));
    auto again = ImportStick(power_.env());
    ASSERT_TRUE(again.has_value()) << again.error().message();
    EXPECT_TRUE(again->summary.complete);
    auto boot = Boot(data_, "water");
    ASSERT_TRUE(boot.channel.has_value());
    EXPECT_EQ(boot.channel->manifest_hash, v2_);
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace outpost::testing
