// Exporting USB bundles: whom a bundle is for, patches for what a site knowingly holds, and an
// export that fills one stick (or fails on it at any step) and continues on the next; unfinished
// exports found, named, refused when damaged, and abandoned.
#include "outpost/sync/bundle_export.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "bundle/bundle_test_fixture.h"
#include "bundle/export_state.h"
#include "staging.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::FaultEnv;
using testing::TempDir;

class BundleExportTest : public testing::BundleFixture {};

TEST_F(BundleExportTest, AnUpdateCarriesPatchesForWhatTheSiteKnowinglyHolds) {
  ASSERT_TRUE(Export(&hub_, stick_.path(), {"ecole-1"}).has_value());
  ASSERT_TRUE(Import(&site_, stick_.path())->summary.complete);
  // The hub learns what the site serves from the receipt in the site's next stick.
  TempDir receipt;
  ASSERT_TRUE(Export(&site_, receipt.path(), {}).has_value());
  ASSERT_TRUE(Import(&hub_, receipt.path()).has_value());
  auto key = LoadIdentity(site_.paths.node_key)->public_key();
  EXPECT_EQ(hub_.db->PeerVersions(key)["water"], 1u);
  folder_.Write("lesson-2.html", Page(2, "<p>One corrected sentence.</p>"));
  Publish();
  TempDir second;
  auto update = Export(&hub_, second.path(), {"ecole-1"});
  ASSERT_TRUE(update.has_value()) << update.error().message();
  EXPECT_EQ(update->patches, 1u);
  EXPECT_EQ(update->chunks, 0u);
  EXPECT_LT(update->bytes, 6000u) << update->bytes;
  auto r = Import(&site_, second.path());
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->summary.complete);
  EXPECT_EQ(site_.catalog->Channel("water")->served_version, 2);
  EXPECT_EQ(Manifest(&site_, "water"), Manifest(&hub_, "water"));
}

// The receipt of the first stick has not come back: the update is packed against what the hub
// sent, not against nothing.
TEST_F(BundleExportTest, AStickWrittenBeforeTheReceiptCameBackCarriesOnlyTheChange) {
  auto first = Export(&hub_, stick_.path(), {"ecole-1"});
  ASSERT_TRUE(first.has_value()) << first.error().message();
  ASSERT_TRUE(Import(&site_, stick_.path())->summary.complete);
  folder_.Write("lesson-2.html", Page(2, "<p>One corrected sentence.</p>"));
  Publish();
  TempDir second;
  auto update = Export(&hub_, second.path(), {"ecole-1"});
  ASSERT_TRUE(update.has_value()) << update.error().message();
  EXPECT_LT(update->bytes * 10, first->bytes) << update->bytes << " against " << first->bytes;
  EXPECT_EQ(update->chunks, 0u);
  // Its offer is packed against the first stick, which a reader of format 1 must not misread.
  auto format = [](const fs::path& volume) {
    std::ifstream in(volume, std::ios::binary);
    char head[6] = {};
    in.read(head, sizeof head);
    return std::string(head + 4, 2);
  };
  EXPECT_EQ(format(first->volumes[0]), std::string("\0\1", 2));
  EXPECT_EQ(format(update->volumes[0]), std::string("\0\2", 2));
  auto r = Import(&site_, second.path());
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_TRUE(r->summary.complete) << (r->summary.refused.empty() ? "" : r->summary.refused[0]);
  EXPECT_EQ(site_.catalog->Channel("water")->served_version, 2);
  ExpectServedAsAtTheHub();
}

// A receipt written before the first stick reached the school (they crossed on the road) does
// not undo it: the stick is still on its way, and the next one is still packed against it.
TEST_F(BundleExportTest, AReceiptThatCrossedTheStickOnTheRoadKeepsItAsTheBase) {
  auto first = Export(&hub_, stick_.path(), {"ecole-1"});
  ASSERT_TRUE(first.has_value());
  TempDir back, second;
  ASSERT_TRUE(Export(&site_, back.path(), {}).has_value());  // before the stick arrived
  ASSERT_TRUE(Import(&hub_, back.path()).has_value());
  folder_.Write("lesson-2.html", Page(2, "<p>One corrected sentence.</p>"));
  Publish();
  auto update = Export(&hub_, second.path(), {"ecole-1"});
  ASSERT_TRUE(update.has_value());
  EXPECT_LT(update->bytes * 10, first->bytes);
  ASSERT_TRUE(Import(&site_, stick_.path())->summary.complete);
  ASSERT_TRUE(Import(&site_, second.path())->summary.complete);
  EXPECT_EQ(site_.catalog->Channel("water")->served_version, 2);
}

// A school that never got the first stick refuses the channel packed against it, naming that
// stick, and takes the other channels; a --full stick brings it; and once its own stick says
// it took a later one, the hub stops packing against the lost stick.
TEST_F(BundleExportTest, ASchoolThatMissedAStickIsToldWhichOneAndTheHubFallsBack) {
  auto lost = Export(&hub_, stick_.path(), {"ecole-1"});
  ASSERT_TRUE(lost.has_value());
  folder_.Write("lesson-2.html", Page(2, "<p>One corrected sentence.</p>"));
  Publish();
  TempDir air, second, full, back, after;
  air.Write("outpost.toml", "[channel]\nid = \"air\"\ntitle = \"Air\"\nlanguage = \"en\"\n");
  air.Write("index.html", Page(9));
  ASSERT_TRUE(outpost::Publish(hub_.paths, hub_.store.get(), hub_.catalog.get(), air.path(), "").has_value());
  ASSERT_TRUE(Export(&hub_, second.path(), {"ecole-1"}).has_value());
  auto r = Import(&site_, second.path());
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_FALSE(r->summary.complete);
  ASSERT_EQ(r->summary.refused.size(), 1u);
  EXPECT_NE(r->summary.refused[0].find("water: this stick brings only what changed since version 1"),
            std::string::npos) << r->summary.refused[0];
  EXPECT_NE(r->summary.refused[0].find("outpost-" + lost->bundle_id.substr(0, 8)), std::string::npos);
  EXPECT_NE(r->summary.refused[0].find("--full"), std::string::npos);
  EXPECT_FALSE(site_.catalog->Channel("water").has_value());
  EXPECT_EQ(site_.catalog->Channel("air")->served_version, 1);  // the other channel came

  BundleExportOptions whole = ToSite(full.path());
  whole.full = true;
  ASSERT_TRUE(Export(&hub_, whole).has_value());
  ASSERT_TRUE(Import(&site_, full.path())->summary.complete);
  EXPECT_EQ(site_.catalog->Channel("water")->served_version, 2);

  // The school's stick says it took the --full stick: nothing sent before it is a base now.
  ASSERT_TRUE(Export(&site_, back.path(), {}).has_value());
  ASSERT_TRUE(Import(&hub_, back.path()).has_value());
  EXPECT_TRUE(hub_.db->SentVersions(LoadIdentity(site_.paths.node_key)->public_key()).empty());
}

// The stick is lost and the school's receipt comes back without it: the hub goes by the receipt.
TEST_F(BundleExportTest, AfterALostStickTheSchoolsReceiptIsTheBaseAgain) {
  ASSERT_TRUE(Export(&hub_, stick_.path(), {"ecole-1"}).has_value());  // lost
  TempDir second, back, third;
  folder_.Write("lesson-2.html", Page(2, "<p>One corrected sentence.</p>"));
  Publish();
  ASSERT_TRUE(Export(&hub_, second.path(), {"ecole-1"}).has_value());
  EXPECT_FALSE(Import(&site_, second.path())->summary.complete);  // refused: it lacks the first
  ASSERT_TRUE(Export(&site_, back.path(), {}).has_value());
  ASSERT_TRUE(Import(&hub_, back.path()).has_value());
  auto next = Export(&hub_, third.path(), {"ecole-1"});
  ASSERT_TRUE(next.has_value());
  auto r = Import(&site_, third.path());
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->summary.complete) << (r->summary.refused.empty() ? "" : r->summary.refused[0]);
  ExpectServedAsAtTheHub();
}

TEST_F(BundleExportTest, AHubNeedsToBeToldWhomTheBundleIsFor) {
  auto none = Export(&hub_, stick_.path(), {});
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message().find("--for"), std::string::npos);
  auto unknown = Export(&hub_, stick_.path(), {"ecole-inconnue"});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), StatusCode::kNotFound);
  EXPECT_TRUE(fs::is_empty(stick_.path()));
}

// Where no bundle can be sealed for a site not enrolled yet, the refusal says what to do.
TEST_F(BundleExportTest, ASiteNotEnrolledYetGetsABundleOnlyThroughItsEnrolmentFile) {
  ASSERT_TRUE(hub_.db->NewEnrolCode("ecole-printed", 3600).has_value());
  auto printed = Export(&hub_, stick_.path(), {"ecole-printed"});
  ASSERT_FALSE(printed.has_value());
  EXPECT_NE(printed.error().message().find("ecole-printed has not enrolled yet; its code was printed, not "
                                           "written to a file"),
            std::string::npos)
      << printed.error().message();

  int64_t now = hub_.db->Now();
  ASSERT_TRUE(hub_.db->NewEnrolCode("ecole-late", 60, /*to_file=*/true).has_value());
  hub_.db->set_clock([now] { return now + 120; });
  auto expired = Export(&hub_, stick_.path(), {"ecole-late"});
  ASSERT_FALSE(expired.has_value());
  EXPECT_NE(expired.error().message().find("ecole-late has not enrolled yet, and its code expired"),
            std::string::npos)
      << expired.error().message();

  ASSERT_TRUE(hub_.db->NewEnrolCode("ecole-gone", 3600, /*to_file=*/true).has_value());
  ASSERT_TRUE(hub_.db->RevokePeer("ecole-gone").ok());
  auto revoked = Export(&hub_, stick_.path(), {"ecole-gone"});
  ASSERT_FALSE(revoked.has_value());
  EXPECT_NE(revoked.error().message().find("ecole-gone was revoked"), std::string::npos)
      << revoked.error().message();
  EXPECT_TRUE(fs::is_empty(stick_.path()));

  // --for all takes the enrolled site and the one waiting with its file.
  ASSERT_TRUE(hub_.db->NewEnrolCode("ecole-file", 3600, /*to_file=*/true).has_value());
  auto all = Export(&hub_, stick_.path(), {"all"});
  ASSERT_TRUE(all.has_value()) << all.error().message();
  EXPECT_EQ(all->recipients, (std::vector<std::string>{"ecole-1", "ecole-file"}));
  EXPECT_EQ(all->sealed_to_file, std::vector<std::string>{"ecole-file"});
}

TEST_F(BundleExportTest, AFullStickTakesWholeVolumesAndTheNextStickContinues) {
  AddFilm();
  TempDir big, second;
  auto plan = Export(&hub_, ToSite(big.path()));  // what one stick large enough would carry
  ForgetWhatWasSent();
  ASSERT_TRUE(plan.has_value()) << plan.error().message();
  ASSERT_TRUE(plan->complete);
  EXPECT_EQ(plan->remaining_bytes, 0u);

  // A stick with room for 40% of it.
  const uint64_t capacity = plan->bytes * 4 / 10;
  auto first = Export(&hub_, ToSite(stick_.path(), capacity));
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_FALSE(first->complete);
  ASSERT_GE(first->volumes.size(), 2u);
  EXPECT_LE(Used(stick_.path()), capacity);
  EXPECT_EQ(Names(stick_.path()).size(), first->volumes.size());  // whole volumes only, no temp file
  EXPECT_GT(first->chunks, 0u);
  EXPECT_EQ(first->chunks + first->remaining_chunks, plan->chunks);
  EXPECT_GT(first->remaining_bytes, plan->bytes - first->bytes);  // an upper bound
  fs::path state = hub_.paths.sync_dir / "exports" / (first->bundle_id + ".state");
  EXPECT_TRUE(fs::exists(state));
  auto unfinished = UnfinishedExports(hub_.paths);
  ASSERT_EQ(unfinished.size(), 1u);
  EXPECT_EQ(unfinished[0].bundle_id, first->bundle_id);
  EXPECT_EQ(unfinished[0].volumes, first->volumes.size());
  EXPECT_EQ(unfinished[0].bytes, first->bytes);
  EXPECT_EQ(unfinished[0].recipients, std::vector<std::string>{"ecole-1"});

  // The site takes what the first stick brings and serves nothing half done.
  auto one = Import(&site_, stick_.path());
  ASSERT_TRUE(one.has_value()) << one.error().message();
  EXPECT_FALSE(one->summary.complete);
  EXPECT_TRUE(one->damaged.empty()) << one->damaged[0];
  EXPECT_EQ(one->summary.chunks_received, first->chunks);
  EXPECT_FALSE(site_.catalog->Channel("water").has_value());

  // The second stick goes on: the same bundle, the next volume numbers, the rest.
  auto rest = Export(&hub_, Continue(second.path()));
  ASSERT_TRUE(rest.has_value()) << rest.error().message();
  EXPECT_TRUE(rest->complete);
  EXPECT_EQ(rest->bundle_id, first->bundle_id);
  EXPECT_EQ(rest->recipients, std::vector<std::string>{"ecole-1"});
  ASSERT_FALSE(rest->volumes.empty());
  EXPECT_EQ(VolumeNumber(rest->volumes[0]), first->volumes.size());
  EXPECT_EQ(rest->chunks, first->remaining_chunks);
  EXPECT_EQ(rest->remaining_bytes, 0u);
  EXPECT_FALSE(fs::exists(state));
  EXPECT_TRUE(UnfinishedExports(hub_.paths).empty());

  // It imports on its own, after the first.
  auto two = Import(&site_, second.path());
  ASSERT_TRUE(two.has_value()) << two.error().message();
  EXPECT_TRUE(two->summary.complete) << (two->summary.refused.empty() ? "" : two->summary.refused[0]);
  EXPECT_EQ(two->summary.chunks_received, rest->chunks);
  ExpectServedAsAtTheHub();
}

// A cancelled export (the console's Cancel) stops between records: the whole volumes stay and
// a continuation writes the rest; cancelled before any volume is whole, a new export leaves
// nothing behind and nothing to continue.
TEST_F(BundleExportTest, ACancelledExportKeepsWholeVolumesAndTheNextContinues) {
  AddFilm();
  TempDir nothing, second;
  BundleExportOptions at_once = ToSite(nothing.path());
  at_once.cancelled = [] { return true; };
  auto none = Export(&hub_, at_once);
  ASSERT_TRUE(none.has_value()) << none.error().message();
  EXPECT_TRUE(none->cancelled);
  EXPECT_FALSE(none->complete);
  EXPECT_TRUE(none->volumes.empty());
  EXPECT_TRUE(Names(nothing.path()).empty());  // no half-written volume either
  EXPECT_TRUE(UnfinishedExports(hub_.paths).empty());

  BundleExportOptions options = ToSite(stick_.path());
  // Cancelled once two volumes are whole on the stick (a temp file's name starts with ".").
  options.cancelled = [&] {
    auto names = Names(stick_.path());
    return std::count_if(names.begin(), names.end(), [](const std::string& n) { return n[0] != '.'; }) >= 2;
  };
  auto first = Export(&hub_, options);
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_TRUE(first->cancelled);
  EXPECT_FALSE(first->complete);
  EXPECT_EQ(first->volumes.size(), 2u);
  EXPECT_EQ(Names(stick_.path()).size(), 2u);
  EXPECT_GT(first->remaining_chunks, 0u);
  ASSERT_EQ(UnfinishedExports(hub_.paths).size(), 1u);

  auto rest = Export(&hub_, Continue(second.path()));
  ASSERT_TRUE(rest.has_value()) << rest.error().message();
  EXPECT_TRUE(rest->complete);
  EXPECT_EQ(rest->bundle_id, first->bundle_id);
  EXPECT_EQ(rest->chunks, first->remaining_chunks);
  EXPECT_TRUE(UnfinishedExports(hub_.paths).empty());
  ASSERT_TRUE(Import(&site_, stick_.path()).has_value());
  auto two = Import(&site_, second.path());
  ASSERT_TRUE(two.has_value()) << two.error().message();
  EXPECT_TRUE(two->summary.complete);
  ExpectServedAsAtTheHub();
}

// A drive that fails mid-export: full (ENOSPC two thirds of the way: the export returns
// incomplete), or pulled out (EIO half way: an error that says to continue). Either way the
// half-written volume is gone, the whole ones stay, and the next stick continues from them with
// nothing sent twice and nothing left out.
TEST_F(BundleExportTest, ADriveFailingMidExportKeepsWholeVolumesAndTheNextContinues) {
  long operations = 0;
  auto plan = FilmBundleCounting(&operations);
  ASSERT_TRUE(plan.has_value()) << plan.error().message();
  ASSERT_GE(plan->volumes.size(), 5u);
  for (bool pulled : {false, true}) {
    SCOPED_TRACE(pulled ? "pulled out" : "full");
    TempDir site_dir, first_stick, second_stick;
    Node site(site_dir.path());
    Enrol(&site, "ecole-1");
    FaultEnv env;
    if (pulled) env.FailAfter(operations / 2, FaultEnv::Fault::kSyncFails);
    else env.FailAfter(operations * 2 / 3, FaultEnv::Fault::kNoSpace);
    BundleExportOptions options = ToSite(first_stick.path());
    options.env = &env;
    auto first = Export(&hub_, options);
    EXPECT_TRUE(env.fired());
    if (pulled) {
      ASSERT_FALSE(first.has_value());
      EXPECT_NE(first.error().message().find("--continue"), std::string::npos) << first.error().message();
    } else {
      ASSERT_TRUE(first.has_value()) << first.error().message();
      EXPECT_FALSE(first->complete);
      EXPECT_EQ(Names(first_stick.path()).size(), first->volumes.size());
    }
    ASSERT_FALSE(Names(first_stick.path()).empty());
    for (const auto& name : Names(first_stick.path())) EXPECT_NE(name[0], '.') << name;  // no half-written one

    auto rest = Export(&hub_, Continue(second_stick.path()));
    ASSERT_TRUE(rest.has_value()) << rest.error().message();
    EXPECT_TRUE(rest->complete);
    auto one = Import(&site, first_stick.path());
    ASSERT_TRUE(one.has_value()) << one.error().message();
    EXPECT_TRUE(one->damaged.empty()) << one->damaged[0];
    EXPECT_FALSE(one->summary.complete);
    EXPECT_EQ(one->summary.chunks_received + rest->chunks, plan->chunks);  // nothing twice, nothing left out
    auto two = Import(&site, second_stick.path());
    ASSERT_TRUE(two.has_value()) << two.error().message();
    EXPECT_TRUE(two->summary.complete) << (two->summary.refused.empty() ? "" : two->summary.refused[0]);
    EXPECT_EQ(Manifest(&site, "water"), Manifest(&hub_, "water"));
    EXPECT_TRUE(UnfinishedExports(hub_.paths).empty());
  }
}

TEST_F(BundleExportTest, ADriveFullAtAnyStepLosesNothing) {
  // As SQLite's tests do: the drive fills at every 32nd of the export's writes, from the first.
  long ops = 0;
  auto plan = FilmBundleCounting(&ops);
  ASSERT_TRUE(plan.has_value());
  for (long step = 0; step < ops; step += std::max(1L, ops / 32)) {
    ForgetWhatWasSent();  // each step writes the whole bundle anew
    TempDir first_stick, second_stick;
    FaultEnv env;
    env.FailAfter(step, FaultEnv::Fault::kNoSpace);
    BundleExportOptions options = ToSite(first_stick.path());
    options.env = &env;
    auto first = Export(&hub_, options);
    for (const std::string& name : Names(first_stick.path())) EXPECT_NE(name[0], '.') << step << " " << name;
    if (!first) {
      // Not even one volume: an error saying so, and nothing to continue.
      EXPECT_EQ(first.error().code(), StatusCode::kNoSpace) << step << first.error().message();
      EXPECT_TRUE(fs::is_empty(first_stick.path()));
      EXPECT_TRUE(UnfinishedExports(hub_.paths).empty());
      continue;
    }
    ASSERT_FALSE(first->complete) << step;
    EXPECT_EQ(Names(first_stick.path()).size(), first->volumes.size()) << step;
    auto rest = Export(&hub_, Continue(second_stick.path()));
    ASSERT_TRUE(rest.has_value()) << step << rest.error().message();
    EXPECT_TRUE(rest->complete) << step;
    EXPECT_EQ(first->chunks + rest->chunks, plan->chunks) << step;
    EXPECT_TRUE(UnfinishedExports(hub_.paths).empty()) << step;
  }
}

TEST_F(BundleExportTest, AContinuationTakesTheNewestVersion) {
  TempDir second;
  auto first = HalfOnTheStick();
  ASSERT_TRUE(first.has_value()) << first.error().message();
  ASSERT_FALSE(first->complete);
  // Between the two sticks the hub publishes a correction.
  folder_.Write("lesson-3.html", Page(3, "<p>A corrected sentence.</p>"));
  Publish();
  auto rest = Export(&hub_, Continue(second.path()));
  ASSERT_TRUE(rest.has_value()) << rest.error().message();
  EXPECT_TRUE(rest->complete);
  EXPECT_EQ(rest->channels, std::vector<std::string>{"water 3"});
  ASSERT_TRUE(Import(&site_, stick_.path()).has_value());
  auto two = Import(&site_, second.path());
  ASSERT_TRUE(two.has_value()) << two.error().message();
  EXPECT_TRUE(two->summary.complete) << (two->summary.refused.empty() ? "" : two->summary.refused[0]);
  EXPECT_EQ(site_.catalog->Channel("water")->served_version, 3);
  ExpectServedAsAtTheHub();
}

TEST_F(BundleExportTest, ADamagedStateIsRefusedNotReadAsNothingSent) {
  TempDir second;
  auto first = HalfOnTheStick();
  ASSERT_TRUE(first.has_value()) << first.error().message();
  ASSERT_FALSE(first->complete);
  fs::path state = hub_.paths.sync_dir / "exports" / (first->bundle_id + ".state");
  testing::FlipByte(state, fs::file_size(state) / 2);
  auto r = Export(&hub_, Continue(second.path()));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kCorrupt);
  EXPECT_NE(r.error().message().find("is damaged"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find(state.string()), std::string::npos) << r.error().message();
  EXPECT_TRUE(fs::is_empty(second.path()));
  auto unfinished = UnfinishedExports(hub_.paths);
  ASSERT_EQ(unfinished.size(), 1u);
  EXPECT_FALSE(unfinished[0].damaged.empty());
  EXPECT_TRUE(fs::exists(state));  // the coordinator decides what to do with it
}

TEST_F(BundleExportTest, ContinuingWithNothingUnfinishedIsAClearError) {
  auto r = Export(&hub_, Continue(stick_.path()));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kNotFound);
  EXPECT_NE(r.error().message().find("no unfinished export"), std::string::npos) << r.error().message();
  EXPECT_TRUE(fs::is_empty(stick_.path()));
  // A continuation keeps its own sites: naming others is refused.
  BundleExportOptions options = Continue(stick_.path());
  options.for_peers = {"ecole-1"};
  auto named = Export(&hub_, options);
  ASSERT_FALSE(named.has_value());
  EXPECT_EQ(named.error().code(), StatusCode::kInvalidArgument);
}

// Two exports at once would continue the same saved state onto two drives.
TEST_F(BundleExportTest, OneExportAtATime) {
  auto held = sync::StagingLock::Take(sync::ExportsDir(hub_.paths));
  ASSERT_TRUE(held.has_value());
  auto r = Export(&hub_, ToSite(stick_.path()));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kBusy);
  EXPECT_NE(r.error().message().find("another bundle export"), std::string::npos) << r.error().message();
  EXPECT_TRUE(fs::is_empty(stick_.path()));
}

TEST_F(BundleExportTest, SeveralUnfinishedExportsMustBeNamed) {
  AddFilm();
  TempDir big, a, b, c;
  auto plan = Export(&hub_, ToSite(big.path()));
  ASSERT_TRUE(plan.has_value());
  ForgetWhatWasSent();
  auto one = Export(&hub_, ToSite(a.path(), plan->bytes / 2));
  auto other = Export(&hub_, ToSite(b.path(), plan->bytes / 2));
  ASSERT_TRUE(one.has_value() && other.has_value());
  ASSERT_FALSE(one->complete || other->complete);
  auto which = Export(&hub_, Continue(c.path()));
  ASSERT_FALSE(which.has_value());
  EXPECT_EQ(which.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(which.error().message().find(one->bundle_id.substr(0, 8)), std::string::npos) << which.error().message();
  EXPECT_NE(which.error().message().find(other->bundle_id.substr(0, 8)), std::string::npos);
  EXPECT_TRUE(fs::is_empty(c.path()));
  auto unknown = Export(&hub_, Continue(c.path(), "zz"));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), StatusCode::kNotFound);
  // Named by a prefix of its id (in either case), then the only one left.
  std::string prefix = one->bundle_id.substr(0, 6);
  std::transform(prefix.begin(), prefix.end(), prefix.begin(), ::toupper);
  auto done = Export(&hub_, Continue(c.path(), prefix));
  ASSERT_TRUE(done.has_value()) << done.error().message();
  EXPECT_EQ(done->bundle_id, one->bundle_id);
  EXPECT_TRUE(done->complete);
  TempDir d;
  auto last = Export(&hub_, Continue(d.path()));
  ASSERT_TRUE(last.has_value()) << last.error().message();
  EXPECT_EQ(last->bundle_id, other->bundle_id);
  EXPECT_TRUE(UnfinishedExports(hub_.paths).empty());
}

// An export a coordinator will not continue is forgotten by its id; the others stay.
TEST_F(BundleExportTest, AnUnfinishedExportCanBeAbandoned) {
  AddFilm();
  TempDir big, a, b;
  auto plan = Export(&hub_, ToSite(big.path()));
  ASSERT_TRUE(plan.has_value());
  ForgetWhatWasSent();
  auto one = Export(&hub_, ToSite(a.path(), plan->bytes / 2));
  auto other = Export(&hub_, ToSite(b.path(), plan->bytes / 2));
  ASSERT_TRUE(one.has_value() && other.has_value());
  ASSERT_EQ(UnfinishedExports(hub_.paths).size(), 2u);
  EXPECT_EQ(AbandonExport(hub_.paths, "zz").code(), StatusCode::kNotFound);
  EXPECT_EQ(AbandonExport(hub_.paths, "").code(), StatusCode::kNotFound);
  ASSERT_TRUE(AbandonExport(hub_.paths, one->bundle_id.substr(0, 8)).ok());
  auto left = UnfinishedExports(hub_.paths);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].bundle_id, other->bundle_id);
  // A damaged state is forgotten the same way.
  testing::FlipByte(hub_.paths.sync_dir / "exports" / (other->bundle_id + ".state"), 10);
  ASSERT_FALSE(UnfinishedExports(hub_.paths)[0].damaged.empty());
  ASSERT_TRUE(AbandonExport(hub_.paths, other->bundle_id).ok());
  EXPECT_TRUE(UnfinishedExports(hub_.paths).empty());
  EXPECT_FALSE(fs::is_empty(a.path()));  // the volumes written stay, and import
}

TEST_F(BundleExportTest, ADriveTooSmallForAnythingIsRefusedSayingWhatIsNeeded) {
  AddFilm();
  auto r = Export(&hub_, ToSite(stick_.path(), 300000));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kNoSpace);
  EXPECT_NE(r.error().message().find("needs up to"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("0.3 MB free"), std::string::npos) << r.error().message();
  EXPECT_TRUE(fs::is_empty(stick_.path()));
  EXPECT_TRUE(UnfinishedExports(hub_.paths).empty());
}

}  // namespace
}  // namespace outpost
