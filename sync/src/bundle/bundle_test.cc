// USB bundles end to end in one process: hub -> bundle -> site -> bundle -> hub, volumes in any
// order, a second import, a damaged and a truncated volume, a bundle for someone else, one
// from a stranger, and an export that fills one stick and continues on the next.
#include "outpost/sync/bundle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "bundle/export_state.h"
#include "outpost/sync/manifest.h"
#include "outpost/sync/publish.h"
#include "outpost/sync/trust_store.h"
#include "staging.h"
#include "test_node.h"
#include "testing/fault_env.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::FaultEnv;
using testing::TempDir;


std::string Page(int n, const std::string& extra = "") {
  std::string body;
  for (int i = 0; i < 200; ++i) body += "<p>Lesson " + std::to_string(n) + ", line " + std::to_string(i) + ".</p>\n";
  return "<!DOCTYPE html><title>Lesson " + std::to_string(n) + "</title>" + body + extra;
}

using Node = testing::TestNode;

class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitHub(hub_.paths).has_value());
    folder_.Write("outpost.toml", "[channel]\nid = \"water\"\ntitle = \"Water\"\nlanguage = \"en\"\n");
    for (int i = 0; i < 5; ++i) folder_.Write("lesson-" + std::to_string(i) + ".html", Page(i));
    folder_.Write("media/clip.mp4", std::string("\0\0\0\x18" "ftypisom", 12) + testing::RandomBytes(400000, 3));
    Publish();
    Enrol(&site_, "ecole-1");
  }
  void Publish() {
    auto r = outpost::Publish(hub_.paths, hub_.store.get(), hub_.catalog.get(), folder_.path(), "");
    ASSERT_TRUE(r.has_value()) << r.error().message();
  }
  // What a network enrolment leaves on both sides.
  void Enrol(Node* site, const std::string& name) {
    auto code = hub_.db->NewEnrolCode(name, 3600);
    ASSERT_TRUE(code.has_value());
    auto key = LoadOrCreateIdentity(site->paths.node_key);
    ASSERT_TRUE(key.has_value());
    ASSERT_TRUE(hub_.db->AdmitSite(*code, key->public_key()).has_value());
    auto hub_key = LoadIdentity(hub_.paths.node_key);
    HubPin pin;
    pin.node_key = hub_key->public_key();
    pin.root_key = *hub_.db->OwnRoot();
    pin.site_name = name;
    ASSERT_TRUE(site->db->SetHub(pin).ok());
    std::ifstream in(hub_.paths.trust_list, std::ios::binary);
    std::string doc{std::istreambuf_iterator<char>(in), {}};
    ASSERT_TRUE(StoreTrustList(site->paths, pin.root_key, doc).ok());
  }
  Result<BundleExportResult> Export(Node* from, const fs::path& to, std::vector<std::string> for_peers,
                                    uint64_t volume_bytes = kDefaultVolumeBytes) {
    BundleExportOptions options;
    options.to = to;
    options.for_peers = std::move(for_peers);
    options.volume_bytes = volume_bytes;
    return ExportBundle(from->paths, from->store.get(), from->catalog.get(), from->db.get(), options);
  }
  Result<BundleExportResult> Export(Node* from, const BundleExportOptions& options) {
    return ExportBundle(from->paths, from->store.get(), from->catalog.get(), from->db.get(), options);
  }
  // The hub's options for a bundle to ecole-1 in volumes of 700 kB, on a drive that holds
  // `capacity` bytes (0: the real free space of `to`).
  static BundleExportOptions ToSite(const fs::path& to, uint64_t capacity = 0) {
    BundleExportOptions options;
    options.to = to;
    options.for_peers = {"ecole-1"};
    options.volume_bytes = 700000;
    if (capacity) options.free_bytes = Drive(capacity);
    return options;
  }
  static BundleExportOptions Continue(const fs::path& to, std::string id = "") {
    BundleExportOptions options;
    options.to = to;
    options.volume_bytes = 700000;
    options.continue_export = true;
    options.continue_id = std::move(id);
    return options;
  }
  // A drive of `capacity` bytes whose only files are those in the folder written to.
  static std::function<uint64_t(const fs::path&)> Drive(uint64_t capacity) {
    return [capacity](const fs::path& dir) {
      uint64_t used = 0;
      for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (e.is_regular_file()) used += e.file_size();
      }
      return used < capacity ? capacity - used : 0;
    };
  }
  // A film of 6 MB that does not compress: the bundle outgrows a small stick.
  void AddFilm() {
    folder_.Write("media/film.mp4", std::string("\0\0\0\x18" "ftypisom", 12) + testing::RandomBytes(6000000, 11));
    Publish();
  }
  // The film's bundle exported to stick_ as a drive of half its size: an unfinished export.
  Result<BundleExportResult> HalfOnTheStick() {
    AddFilm();
    TempDir big;
    auto plan = Export(&hub_, ToSite(big.path()));
    if (!plan) return plan.error();
    return Export(&hub_, ToSite(stick_.path(), plan->bytes / 2));
  }
  // The film's bundle, whole, in a folder of its own: its pieces, and how many file operations
  // writing it takes (where to make a drive fail).
  Result<BundleExportResult> FilmBundleCounting(long* operations) {
    AddFilm();
    TempDir big;
    FaultEnv counting;
    BundleExportOptions whole = ToSite(big.path());
    whole.env = &counting;
    auto plan = Export(&hub_, whole);
    *operations = counting.operations();
    return plan;
  }
  // What a folder holds, by name.
  static std::vector<std::string> Names(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  static uint64_t Used(const fs::path& dir) {
    uint64_t n = 0;
    for (const auto& e : fs::directory_iterator(dir)) n += e.file_size();
    return n;
  }
  static uint32_t VolumeNumber(const fs::path& volume) {  // outpost-XXXXXXXX-N.opb
    std::string stem = volume.stem().string();
    return static_cast<uint32_t>(std::stoul(stem.substr(stem.rfind('-') + 1)));
  }
  void ExpectServedAsAtTheHub() {
    EXPECT_EQ(Manifest(&site_, "water"), Manifest(&hub_, "water"));
    auto referenced = site_.catalog->ReferencedBlobs();
    ASSERT_TRUE(referenced.has_value());
    for (const Hash& blob : *referenced) EXPECT_TRUE(site_.store->Verify(blob).ok()) << blob.Hex();
  }
  Result<BundleImportResult> Import(Node* into, const fs::path& path) {
    return ImportBundle(into->paths, into->store.get(), into->catalog.get(), into->db.get(), path);
  }
  static std::optional<Hash> Manifest(Node* n, const std::string& id) {
    auto c = n->catalog->Channel(id);
    return c ? c->manifest_hash : std::nullopt;
  }

  TempDir hub_dir_, site_dir_, folder_, stick_;
  Node hub_{hub_dir_.path()}, site_{site_dir_.path()};
};

TEST_F(BundleTest, HubToSiteAndBackByStick) {
  auto exported = Export(&hub_, stick_.path(), {"ecole-1"});
  ASSERT_TRUE(exported.has_value()) << exported.error().message();
  ASSERT_EQ(exported->volumes.size(), 1u);
  EXPECT_EQ(exported->recipients, std::vector<std::string>{"ecole-1"});
  EXPECT_GT(exported->chunks, 0u);

  auto imported = Import(&site_, stick_.path());
  ASSERT_TRUE(imported.has_value()) << imported.error().message();
  EXPECT_TRUE(imported->summary.complete) << (imported->summary.refused.empty() ? "" : imported->summary.refused[0]);
  EXPECT_TRUE(imported->damaged.empty());
  ASSERT_EQ(imported->summary.updated.size(), 1u);
  EXPECT_EQ(Manifest(&site_, "water"), Manifest(&hub_, "water"));
  auto referenced = site_.catalog->ReferencedBlobs();
  ASSERT_TRUE(referenced.has_value());
  EXPECT_FALSE(referenced->empty());
  for (const Hash& blob : *referenced) EXPECT_TRUE(site_.store->Verify(blob).ok()) << blob.Hex();

  // Importing again changes nothing and is not an error.
  auto again = Import(&site_, stick_.path());
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->summary.complete);
  EXPECT_TRUE(again->summary.updated.empty());
  EXPECT_TRUE(again->summary.refused.empty()) << again->summary.refused[0];

  // The site's own channel goes back by the next stick.
  TempDir notes, back;
  notes.Write("cours.html", Page(50));
  notes.Write("tp.mp4", std::string("\0\0\0\x18" "ftypisom", 12) + testing::RandomBytes(150000, 8));
  ASSERT_TRUE(outpost::Publish(site_.paths, site_.store.get(), site_.catalog.get(), notes.path(), "ecole-1-notes").has_value());
  auto up = Export(&site_, back.path(), {});
  ASSERT_TRUE(up.has_value()) << up.error().message();
  EXPECT_EQ(up->channels, std::vector<std::string>{"ecole-1-notes 1"});
  auto at_hub = Import(&hub_, back.path());
  ASSERT_TRUE(at_hub.has_value()) << at_hub.error().message();
  EXPECT_TRUE(at_hub->summary.complete) << (at_hub->summary.refused.empty() ? "" : at_hub->summary.refused[0]);
  EXPECT_EQ(Manifest(&hub_, "ecole-1-notes"), Manifest(&site_, "ecole-1-notes"));

  // The hub's next stick says it serves the notes, so the site's next one does not resend them.
  TempDir down_again, up_again;
  ASSERT_TRUE(Export(&hub_, down_again.path(), {"ecole-1"}).has_value());
  ASSERT_TRUE(Import(&site_, down_again.path()).has_value());
  auto up_next = Export(&site_, up_again.path(), {});
  ASSERT_TRUE(up_next.has_value());
  EXPECT_TRUE(up_next->channels.empty());
  EXPECT_EQ(up_next->chunks, 0u);
}

TEST_F(BundleTest, VolumesSplitAndImportInAnyOrder) {
  auto exported = Export(&hub_, stick_.path(), {"all"}, 150000);
  ASSERT_TRUE(exported.has_value()) << exported.error().message();
  ASSERT_GE(exported->volumes.size(), 3u);
  for (const auto& v : exported->volumes) EXPECT_LE(fs::file_size(v), 150000u);
  std::vector<fs::path> reversed(exported->volumes.rbegin(), exported->volumes.rend());
  for (size_t i = 0; i < reversed.size(); ++i) {
    auto r = Import(&site_, reversed[i]);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->summary.complete, i + 1 == reversed.size()) << i;
    EXPECT_EQ(site_.catalog->Channel("water").has_value(), i + 1 == reversed.size()) << i;
  }
  EXPECT_EQ(Manifest(&site_, "water"), Manifest(&hub_, "water"));
}

// Chunks go to the files waiting for them in memory; a file whose chunks span volumes imported
// one at a time keeps what each brought (staged when the import ends) until the last.
TEST_F(BundleTest, AFileAcrossVolumesImportedOneByOne) {
  AddFilm();
  auto exported = Export(&hub_, stick_.path(), {"all"}, 1000000);
  ASSERT_TRUE(exported.has_value()) << exported.error().message();
  ASSERT_GE(exported->volumes.size(), 6u);
  uint64_t received = 0;
  for (size_t i = 0; i < exported->volumes.size(); ++i) {
    auto r = Import(&site_, exported->volumes[i]);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    received += r->summary.chunks_received;
    bool last = i + 1 == exported->volumes.size();
    EXPECT_EQ(r->summary.complete, last) << i;
    EXPECT_EQ(site_.catalog->Channel("water").has_value(), last) << i;
    if (!last) {
      // What arrived for the film is staged, not lost with the process.
      auto log = sync::StagingLog::Open(site_.paths.staging / "chunks");
      ASSERT_TRUE(log.has_value());
      EXPECT_GT((*log)->size(), 0u) << i;
    }
  }
  EXPECT_EQ(received, exported->chunks);  // each chunk taken once
  ExpectServedAsAtTheHub();
  EXPECT_FALSE(fs::exists(site_.paths.staging / "offers"));  // kept only until served
}

TEST_F(BundleTest, AnUpdateCarriesPatchesForWhatTheSiteKnowinglyHolds) {
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

TEST_F(BundleTest, DamageKeepsWhatVerifiedAndServesNothingHalfDone) {
  auto exported = Export(&hub_, stick_.path(), {"ecole-1"});
  ASSERT_TRUE(exported.has_value());
  fs::path volume = exported->volumes[0];
  std::string good;
  {
    std::ifstream in(volume, std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(in), {});
  }
  TempDir damaged_dir;
  fs::path damaged = damaged_dir.path() / volume.filename();
  {
    std::string bad = good;
    bad[bad.size() - 1000] ^= 0x20;  // in the last batch of chunks
    std::ofstream(damaged, std::ios::binary).write(bad.data(), static_cast<std::streamsize>(bad.size()));
  }
  auto r = Import(&site_, damaged);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_FALSE(r->summary.complete);
  ASSERT_EQ(r->damaged.size(), 1u);
  EXPECT_NE(r->damaged[0].find("does not verify"), std::string::npos) << r->damaged[0];
  EXPECT_FALSE(site_.catalog->Channel("water").has_value());
  uint64_t staged = r->summary.chunks_received;
  EXPECT_GT(staged, 0u);  // what came before the damage is kept
  // A truncated copy: the same, less.
  {
    std::ofstream(damaged, std::ios::binary | std::ios::trunc).write(good.data(), static_cast<std::streamsize>(good.size() / 3));
  }
  auto cut = Import(&site_, damaged);
  ASSERT_TRUE(cut.has_value());
  EXPECT_FALSE(cut->summary.complete);
  EXPECT_EQ(cut->summary.chunks_received, 0u);  // all of it was staged already
  // The good volume then brings only the rest.
  auto whole = Import(&site_, volume);
  ASSERT_TRUE(whole.has_value());
  EXPECT_TRUE(whole->summary.complete);
  EXPECT_EQ(staged + whole->summary.chunks_received, exported->chunks);
  EXPECT_EQ(Manifest(&site_, "water"), Manifest(&hub_, "water"));
}

TEST_F(BundleTest, ABundleForAnotherSiteOrFromAStrangerBringsNothing) {
  TempDir other_dir;
  Node other(other_dir.path());
  Enrol(&other, "ecole-2");
  ASSERT_TRUE(Export(&hub_, stick_.path(), {"ecole-2"}).has_value());
  auto r = Import(&site_, stick_.path());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("addressed to"), std::string::npos) << r.error().message();
  EXPECT_FALSE(site_.catalog->Channel("water").has_value());

  // Another hub, which knows the site's key but is not its hub.
  TempDir stranger_dir, stranger_stick;
  Node stranger(stranger_dir.path());
  ASSERT_TRUE(InitHub(stranger.paths).has_value());
  ASSERT_TRUE(outpost::Publish(stranger.paths, stranger.store.get(), stranger.catalog.get(), folder_.path(), "").has_value());
  auto code = stranger.db->NewEnrolCode("ecole-1", 3600);
  ASSERT_TRUE(stranger.db->AdmitSite(*code, LoadIdentity(site_.paths.node_key)->public_key()).has_value());
  ASSERT_TRUE(Export(&stranger, stranger_stick.path(), {"ecole-1"}).has_value());
  auto s = Import(&site_, stranger_stick.path());
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("not by this site's hub"), std::string::npos) << s.error().message();
  EXPECT_FALSE(site_.catalog->Channel("water").has_value());
}

// An old stick imported again after a newer one (or replayed by someone who copied it) brings
// nothing back: versions only grow, and what is served stays.
TEST_F(BundleTest, AReplayedOldBundleChangesNothing) {
  TempDir old_stick, new_stick;
  ASSERT_TRUE(Export(&hub_, old_stick.path(), {"ecole-1"}).has_value());
  folder_.Write("lesson-9.html", Page(9));
  Publish();
  ASSERT_TRUE(Export(&hub_, new_stick.path(), {"ecole-1"}).has_value());
  auto fresh = Import(&site_, new_stick.path());
  ASSERT_TRUE(fresh.has_value() && fresh->summary.complete);
  auto served = Manifest(&site_, "water");
  ASSERT_EQ(served, Manifest(&hub_, "water"));

  auto replay = Import(&site_, old_stick.path());
  ASSERT_TRUE(replay.has_value()) << replay.error().message();
  EXPECT_TRUE(replay->summary.updated.empty());
  ASSERT_FALSE(replay->summary.refused.empty());
  EXPECT_NE(replay->summary.refused[0].find("versions only grow"), std::string::npos) << replay->summary.refused[0];
  EXPECT_EQ(Manifest(&site_, "water"), served);
  EXPECT_EQ(site_.catalog->Channel("water")->served_version, 2);
}

// A hub takes nothing from a site it revoked, however the stick came.
TEST_F(BundleTest, ARevokedSitesBundleBringsNothing) {
  TempDir notes, back;
  notes.Write("cours.html", Page(50));
  ASSERT_TRUE(outpost::Publish(site_.paths, site_.store.get(), site_.catalog.get(), notes.path(), "ecole-1-notes").has_value());
  ASSERT_TRUE(Export(&site_, back.path(), {}).has_value());
  ASSERT_TRUE(hub_.db->RevokePeer("ecole-1").ok());
  auto r = Import(&hub_, back.path());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("revoked"), std::string::npos) << r.error().message();
  EXPECT_FALSE(hub_.catalog->Channel("ecole-1-notes").has_value());
}

TEST_F(BundleTest, AHubNeedsToBeToldWhomTheBundleIsFor) {
  auto none = Export(&hub_, stick_.path(), {});
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message().find("--for"), std::string::npos);
  auto unknown = Export(&hub_, stick_.path(), {"ecole-inconnue"});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), StatusCode::kNotFound);
  EXPECT_TRUE(fs::is_empty(stick_.path()));
}

TEST_F(BundleTest, AFullStickTakesWholeVolumesAndTheNextStickContinues) {
  AddFilm();
  TempDir big, second;
  auto plan = Export(&hub_, ToSite(big.path()));  // what one stick large enough would carry
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

// A drive that fails mid-export: full (ENOSPC two thirds of the way: the export returns
// incomplete), or pulled out (EIO half way: an error that says to continue). Either way the
// half-written volume is gone, the whole ones stay, and the next stick continues from them with
// nothing sent twice and nothing left out.
TEST_F(BundleTest, ADriveFailingMidExportKeepsWholeVolumesAndTheNextContinues) {
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

TEST_F(BundleTest, ADriveFullAtAnyStepLosesNothing) {
  // As SQLite's tests do: the drive fills at every 32nd of the export's writes, from the first.
  long ops = 0;
  auto plan = FilmBundleCounting(&ops);
  ASSERT_TRUE(plan.has_value());
  for (long step = 0; step < ops; step += std::max(1L, ops / 32)) {
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

TEST_F(BundleTest, AContinuationTakesTheNewestVersion) {
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

TEST_F(BundleTest, ADamagedStateIsRefusedNotReadAsNothingSent) {
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

TEST_F(BundleTest, ContinuingWithNothingUnfinishedIsAClearError) {
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
TEST_F(BundleTest, OneExportAtATime) {
  auto held = sync::StagingLock::Take(sync::ExportsDir(hub_.paths));
  ASSERT_TRUE(held.has_value());
  auto r = Export(&hub_, ToSite(stick_.path()));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kBusy);
  EXPECT_NE(r.error().message().find("another bundle export"), std::string::npos) << r.error().message();
  EXPECT_TRUE(fs::is_empty(stick_.path()));
}

TEST_F(BundleTest, SeveralUnfinishedExportsMustBeNamed) {
  AddFilm();
  TempDir big, a, b, c;
  auto plan = Export(&hub_, ToSite(big.path()));
  ASSERT_TRUE(plan.has_value());
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
TEST_F(BundleTest, AnUnfinishedExportCanBeAbandoned) {
  AddFilm();
  TempDir big, a, b;
  auto plan = Export(&hub_, ToSite(big.path()));
  ASSERT_TRUE(plan.has_value());
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

TEST_F(BundleTest, ADriveTooSmallForAnythingIsRefusedSayingWhatIsNeeded) {
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
