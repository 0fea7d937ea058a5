// Importing USB bundles, end to end in one process: hub -> bundle -> site -> bundle -> hub,
// volumes in any order and one at a time, a second import, a damaged and a truncated volume, a
// bundle for someone else, one from a stranger, a replayed old one, one from a revoked site.
#include "outpost/sync/bundle_import.h"
#include "outpost/sync/publish.h"
#include "outpost/sync/publisher_keys.h"
#include "outpost/sync/review.h"
#include "outpost/sync/trust_store.h"

#include <gtest/gtest.h>

#include <fstream>

#include "bundle/bundle_test_fixture.h"
#include "bundle/bundle_records.h"
#include "bundle/bundle_volume.h"
#include "outpost/base/env.h"
#include "protocol.h"
#include "staging.h"
#include "testing/fault_env.h"
#include "zstd_codec.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

class BundleImportTest : public testing::BundleFixture {
 protected:
  // What joining from an enrolment file leaves at a site: its hub pinned, and the code it was
  // given still to present (it has never been online).
  void JoinFromFile(Node* site, const std::string& name, const std::string& code) {
    HubPin pin;
    pin.node_key = LoadIdentity(hub_.paths.node_key)->public_key();
    pin.root_key = *hub_.db->OwnRoot();
    pin.site_name = name;
    pin.pending_code = code;
    ASSERT_TRUE(site->db->SetHub(pin).ok());
    std::ifstream in(hub_.paths.trust_list, std::ios::binary);
    std::string doc{std::istreambuf_iterator<char>(in), {}};
    ASSERT_TRUE(StoreTrustList(site->paths, pin.root_key, doc).ok());
  }
};

TEST_F(BundleImportTest, HubToSiteAndBackByStick) {
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

// An import builds files on threads of its own: an exception there (a std::bad_alloc) ended
// the process. It ends the import with the exception's message and serves nothing; an exception
// while exporting (the drive's writes throw) ends the export the same way.
TEST_F(BundleImportTest, AnExceptionWhileExportingOrImportingBecomesItsErrorAndServesNothing) {
  testing::ThrowingEnv env;
  BundleExportOptions options;
  options.to = stick_.path();
  options.for_peers = {"ecole-1"};
  options.env = &env;
  auto failed_export = Export(&hub_, options);
  ASSERT_FALSE(failed_export.has_value());
  EXPECT_NE(failed_export.error().message().find("std::bad_alloc"), std::string::npos)
      << failed_export.error().message();

  options.env = Env::Default();
  ASSERT_TRUE(Export(&hub_, options).has_value());
  site_.store = std::move(*BlobStore::Open(site_dir_.path(), &env));  // its writers throw
  auto failed_import = Import(&site_, stick_.path());
  site_.store = std::move(*BlobStore::Open(site_dir_.path()));  // before `env` goes
  ASSERT_FALSE(failed_import.has_value());
  EXPECT_EQ(failed_import.error().code(), StatusCode::kInternal) << failed_import.error().message();
  EXPECT_NE(failed_import.error().message().find("std::bad_alloc"), std::string::npos)
      << failed_import.error().message();
  EXPECT_FALSE(Manifest(&site_, "water").has_value());  // nothing half-served

  auto healed = Import(&site_, stick_.path());
  ASSERT_TRUE(healed.has_value()) << healed.error().message();
  EXPECT_EQ(Manifest(&site_, "water"), Manifest(&hub_, "water"));
}

TEST_F(BundleImportTest, VolumesSplitAndImportInAnyOrder) {
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
TEST_F(BundleImportTest, AFileAcrossVolumesImportedOneByOne) {
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

// An import cancelled between records (the console's Cancel) keeps what it staged and says so;
// reading the stick again takes only the rest and serves it all.
TEST_F(BundleImportTest, ACancelledImportKeepsWhatItStagedAndTheNextReadTakesTheRest) {
  AddFilm();
  auto exported = Export(&hub_, stick_.path(), {"all"}, 1000000);
  ASSERT_TRUE(exported.has_value()) << exported.error().message();
  ASSERT_GE(exported->volumes.size(), 6u);
  int records = 0;
  auto first = ImportBundle(site_.paths, site_.store.get(), site_.catalog.get(), site_.db.get(),
                            stick_.path(), {}, [&records] { return ++records == 8; });
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_TRUE(first->cancelled);
  EXPECT_FALSE(first->summary.complete);
  EXPECT_LT(first->volumes.size(), exported->volumes.size());
  EXPECT_GT(first->summary.chunks_received, 0u);
  EXPECT_FALSE(site_.catalog->Channel("water").has_value());  // nothing half done is served
  {
    auto log = sync::StagingLog::Open(site_.paths.staging / "chunks");
    ASSERT_TRUE(log.has_value());
    EXPECT_GT((*log)->size(), 0u);
  }
  auto rest = Import(&site_, stick_.path());
  ASSERT_TRUE(rest.has_value()) << rest.error().message();
  EXPECT_FALSE(rest->cancelled);
  EXPECT_TRUE(rest->summary.complete);
  EXPECT_EQ(first->summary.chunks_received + rest->summary.chunks_received, exported->chunks);
  ExpectServedAsAtTheHub();
}

TEST_F(BundleImportTest, DamageKeepsWhatVerifiedAndServesNothingHalfDone) {
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

TEST_F(BundleImportTest, APatchClaimingAHugeSizeIsRefusedWithoutAllocatingIt) {
  // A volume from the hub to the site whose one patch claims 2^62 bytes (a co-recipient, or
  // anyone holding the hub's key, could write it); its frame is a few bytes.
  using namespace sync;  // NOLINT: the volume and record formats
  Identity hub_key = *LoadIdentity(hub_.paths.node_key);
  VolumeHeader header;
  header.bundle_id[0] = 7;
  header.sender = hub_key.public_key();
  header.recipients = {LoadIdentity(site_.paths.node_key)->public_key()};
  TempDir dir;
  fs::path volume = dir.path() / VolumeFileName(header.bundle_id, 0);
  {
    auto file = Env::Default()->NewWritableFile(volume, false);
    ASSERT_TRUE(file.has_value());
    auto writer = VolumeWriter::Start(header, hub_key, file->get());
    ASSERT_TRUE(writer.has_value()) << writer.error().message();
    PatchData patch{Hash::Of("the file"), Hash{}, 2, uint64_t{1} << 62, ZstdCompress("the file", 1, {})};
    ASSERT_TRUE((*writer)->Add(kPatchRecord, EncodePatch(patch)).ok());
    ASSERT_TRUE((*writer)->Finish().ok());
    ASSERT_TRUE((*file)->Close().ok());
  }
  auto r = Import(&site_, volume);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_FALSE(r->summary.refused.empty());  // then: the volume held no offer
  EXPECT_NE(r->summary.refused[0].find("over the limit"), std::string::npos) << r->summary.refused[0];
  EXPECT_EQ(r->summary.patches_received, 0u);
}

TEST_F(BundleImportTest, ABundleForAnotherSiteOrFromAStrangerBringsNothing) {
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
TEST_F(BundleImportTest, AReplayedOldBundleChangesNothing) {
  TempDir old_stick, new_stick;
  ASSERT_TRUE(Export(&hub_, old_stick.path(), {"ecole-1"}).has_value());
  ASSERT_TRUE(Import(&site_, old_stick.path())->summary.complete);
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

TEST_F(BundleImportTest, ImportingAStickWhoseVersionsAreServedAlreadyLeavesNoOfferBehind) {
  ASSERT_TRUE(Export(&hub_, stick_.path(), {"ecole-1"}).has_value());
  ASSERT_TRUE(Import(&site_, stick_.path())->summary.complete);
  EXPECT_FALSE(fs::exists(site_.paths.staging / "offers"));
  auto again = Import(&site_, stick_.path());
  ASSERT_TRUE(again.has_value()) << again.error().message();
  EXPECT_TRUE(again->summary.updated.empty());
  EXPECT_FALSE(fs::exists(site_.paths.staging / "offers"));  // nothing waits for chunks
}

// A receipt tells a site which of its versions the hub serves, so that it stops sending them.
// Every recipient of a volume can read and make its frames; only the sender can sign its end. A
// receipt counts only from a volume whose end signature verified, else a co-recipient could
// forge one and stop a school's uploads.
TEST_F(BundleImportTest, AReceiptInAVolumeWhoseEndDoesNotVerifyIsNotApplied) {
  TempDir notes, up, down;
  notes.Write("cours.html", Page(50));
  ASSERT_TRUE(outpost::Publish(site_.paths, site_.store.get(), site_.catalog.get(), notes.path(), "ecole-1-notes").has_value());
  ASSERT_TRUE(Export(&site_, up.path(), {}).has_value());
  ASSERT_TRUE(Import(&hub_, up.path()).has_value());
  auto exported = Export(&hub_, down.path(), {"ecole-1"});
  ASSERT_TRUE(exported.has_value()) << exported.error().message();
  ASSERT_EQ(exported->volumes.size(), 1u);
  fs::path volume = exported->volumes[0];
  std::string good;
  {
    std::ifstream in(volume, std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(in), {});
  }
  PublicKey hub = LoadIdentity(hub_.paths.node_key)->public_key();
  TempDir damaged_dir;
  fs::path damaged = damaged_dir.path() / volume.filename();
  for (size_t from_end : {1, 8, 40}) {  // in the end frame: its tag, its signature
    SCOPED_TRACE(from_end);
    std::string bad = good;
    bad[bad.size() - from_end] ^= 0x01;
    std::ofstream(damaged, std::ios::binary | std::ios::trunc).write(bad.data(), static_cast<std::streamsize>(bad.size()));
    auto r = Import(&site_, damaged);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->damaged.size(), 1u);
    EXPECT_TRUE(site_.db->PeerVersions(hub).empty());
  }
  auto whole = Import(&site_, volume);
  ASSERT_TRUE(whole.has_value()) << whole.error().message();
  EXPECT_EQ(site_.db->PeerVersions(hub), (std::map<std::string, uint64_t>{{"ecole-1-notes", 1}}));
}

// The hub's review decisions ride its stick to the site, which keeps them only once the
// volume's end has verified (a co-recipient of a courier stick holds the frames' key, not the
// hub's signing key); kept, they are delivered once the site's next stick says it took it.
TEST_F(BundleImportTest, ReviewDecisionsAreKeptOnlyFromAVolumeWhoseEndVerifies) {
  TempDir notes, up, down, back, after;
  notes.Write("cours.html", Page(50));
  ASSERT_TRUE(outpost::Publish(site_.paths, site_.store.get(), site_.catalog.get(), notes.path(), "ecole-1-notes").has_value());
  ASSERT_TRUE(Export(&site_, up.path(), {}).has_value());
  ASSERT_TRUE(Import(&hub_, up.path()).has_value());
  PublicKey site_key = LoadIdentity(site_.paths.node_key)->public_key();
  ASSERT_TRUE(RefreshReview(hub_.db.get(), hub_.catalog.get()).ok());
  auto items = hub_.db->ReviewItems(false);
  ASSERT_EQ(items.size(), 1u);
  ReviewDecision decline;
  decline.reason = "Trop court.";
  ASSERT_TRUE(hub_.db->DecideReview(items[0].id, decline).ok());

  auto exported = Export(&hub_, down.path(), {"ecole-1"});
  ASSERT_TRUE(exported.has_value()) << exported.error().message();
  fs::path volume = exported->volumes.at(0);
  std::string good;
  {
    std::ifstream in(volume, std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(in), {});
  }
  TempDir damaged_dir;
  fs::path damaged = damaged_dir.path() / volume.filename();
  std::string bad = good;
  bad[bad.size() - 8] ^= 0x01;  // the end frame's signature
  std::ofstream(damaged, std::ios::binary | std::ios::trunc).write(bad.data(), static_cast<std::streamsize>(bad.size()));
  auto r = Import(&site_, damaged);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->damaged.size(), 1u);
  EXPECT_TRUE(site_.db->ReviewOutcomes().empty());

  auto whole = Import(&site_, volume);
  ASSERT_TRUE(whole.has_value()) << whole.error().message();
  EXPECT_EQ(whole->summary.review_outcomes, 1u);
  auto kept = site_.db->ReviewOutcomes();
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].reason, "Trop court.");
  EXPECT_EQ(kept[0].path, "cours.html");
  EXPECT_EQ(hub_.db->UndeliveredOutcomes(site_key).size(), 1u);  // the hub cannot know yet

  ASSERT_TRUE(Export(&site_, back.path(), {}).has_value());  // its Seen names the hub's stick
  ASSERT_TRUE(Import(&hub_, back.path()).has_value());
  EXPECT_TRUE(hub_.db->UndeliveredOutcomes(site_key).empty());
}

// A forged stick brought a site the top version, signed by a publisher key that then leaked;
// the hub's next bundle carries the trust list that revokes the key: the site stops serving
// that version and takes the hub's next one, whose number is lower.
TEST_F(BundleImportTest, ABundleCarryingARevocationReplacesTheRevokedKeysTopVersion) {
  auto leaked = Identity::Generate();
  ASSERT_TRUE(leaked.has_value());
  testing::AuthorizeAnotherPublisher(hub_.paths, leaked->public_key());
  TempDir first, second;
  ASSERT_TRUE(Export(&hub_, first.path(), {"ecole-1"}).has_value());
  ASSERT_TRUE(Import(&site_, first.path()).has_value());  // version 1 and trust list 2
  testing::PlantVersionSignedBy(&site_, "water", testing::kTopVersion, *leaked);
  ASSERT_TRUE(RevokePublisher(hub_.paths, leaked->public_key().Hex()).has_value());
  folder_.Write("lesson-9.html", Page(9));
  Publish();
  ASSERT_TRUE(Export(&hub_, second.path(), {"ecole-1"}).has_value());
  auto r = Import(&site_, second.path());
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_TRUE(r->summary.complete) << (r->summary.refused.empty() ? "" : r->summary.refused[0]);
  EXPECT_EQ(site_.catalog->Channel("water")->served_version, 2);
  ExpectServedAsAtTheHub();
  EXPECT_FALSE(site_.catalog->ManifestEnvelope("water", testing::kTopVersion).has_value());
}

// A hub takes nothing from a site it revoked, however the stick came.
TEST_F(BundleImportTest, ARevokedSitesBundleBringsNothing) {
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

// A site that joined from an enrolment file and was never online enrols by its first bundle: the
// hub admits it by the code it carries, and the hub's next bundle, addressed to it, spends it.
TEST_F(BundleImportTest, ASiteNeverOnlineEnrolsByItsFirstBundle) {
  TempDir new_dir, up, down;
  Node fresh(new_dir.path());
  auto code = hub_.db->NewEnrolCode("ecole-2", 3600);
  ASSERT_TRUE(code.has_value());
  JoinFromFile(&fresh, "ecole-2", *code);
  ASSERT_TRUE(Export(&fresh, up.path(), {}).has_value());
  auto at_hub = Import(&hub_, up.path());
  ASSERT_TRUE(at_hub.has_value()) << at_hub.error().message();
  EXPECT_TRUE(at_hub->skipped.empty()) << at_hub->skipped[0];
  EXPECT_EQ(at_hub->volumes.size(), 1u);
  auto peer = hub_.db->Peer(LoadIdentity(fresh.paths.node_key)->public_key());
  ASSERT_TRUE(peer.has_value());
  EXPECT_EQ(peer->name, "ecole-2");
  EXPECT_EQ(peer->role, "site");

  ASSERT_TRUE(Export(&hub_, down.path(), {"ecole-2"}).has_value());
  auto at_site = Import(&fresh, down.path());
  ASSERT_TRUE(at_site.has_value()) << at_site.error().message();
  EXPECT_TRUE(at_site->summary.complete);
  EXPECT_TRUE(fresh.db->Hub()->pending_code.empty());  // spent
  EXPECT_EQ(Manifest(&fresh, "water"), Manifest(&hub_, "water"));
}

// The coordinator at the hub is told who wrote each stick, and that a first stick enrolled its
// school; the site counts as seen once a volume of its verified.
TEST_F(BundleImportTest, AHubSaysWhichSiteAStickCameFromAndThatItsFirstStickEnrolledIt) {
  TempDir new_dir, first, second;
  Node fresh(new_dir.path());
  auto code = hub_.db->NewEnrolCode("ecole-2", 3600);
  ASSERT_TRUE(code.has_value());
  JoinFromFile(&fresh, "ecole-2", *code);
  ASSERT_TRUE(Export(&fresh, first.path(), {}).has_value());  // makes the site's node key
  PublicKey key = LoadIdentity(fresh.paths.node_key)->public_key();
  auto at_hub = Import(&hub_, first.path());
  ASSERT_TRUE(at_hub.has_value()) << at_hub.error().message();
  ASSERT_EQ(at_hub->senders.size(), 1u);
  EXPECT_EQ(at_hub->senders[0].name, "ecole-2");
  EXPECT_EQ(at_hub->senders[0].fingerprint, key.Fingerprint());
  EXPECT_TRUE(at_hub->senders[0].enrolled);
  EXPECT_GT(hub_.db->Peer(key)->last_seen, 0);

  ASSERT_TRUE(Export(&fresh, second.path(), {}).has_value());  // still carries the code
  auto again = Import(&hub_, second.path());
  ASSERT_TRUE(again.has_value()) << again.error().message();
  ASSERT_EQ(again->senders.size(), 1u);
  EXPECT_FALSE(again->senders[0].enrolled);  // enrolled before: nothing new to say
}

TEST_F(BundleImportTest, ABundleWithACodeTheHubNeverGaveBringsNothing) {
  TempDir new_dir, up;
  Node fresh(new_dir.path());
  auto code = hub_.db->NewEnrolCode("ecole-2", 3600);
  ASSERT_TRUE(code.has_value());
  std::string wrong = *code;
  wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
  JoinFromFile(&fresh, "ecole-2", wrong);
  ASSERT_TRUE(Export(&fresh, up.path(), {}).has_value());
  auto at_hub = Import(&hub_, up.path());
  ASSERT_FALSE(at_hub.has_value());
  EXPECT_NE(at_hub.error().message().find("the enrolment it carries was refused"), std::string::npos)
      << at_hub.error().message();
  EXPECT_FALSE(hub_.db->Peer(LoadIdentity(fresh.paths.node_key)->public_key()).has_value());
}

// The courier who carries the enrolment file carries the school's first lessons too: the hub
// seals them to the key derived from the file's code, the school opens them with it, keeps its
// code (its own stick back still enrols it), and once enrolled gets sticks for its node key.
TEST_F(BundleImportTest, AFirstStickSealedToTheEnrolmentFileServesLessonsBeforeTheSiteEnrols) {
  TempDir new_dir, first, up, next;
  Node fresh(new_dir.path());
  auto code = hub_.db->NewEnrolCode("ecole-2", 3600, /*to_file=*/true);
  ASSERT_TRUE(code.has_value());
  JoinFromFile(&fresh, "ecole-2", *code);
  auto sealed = Export(&hub_, first.path(), {"ecole-2"});
  ASSERT_TRUE(sealed.has_value()) << sealed.error().message();
  EXPECT_EQ(sealed->sealed_to_file, std::vector<std::string>{"ecole-2"});
  auto at_site = Import(&fresh, first.path());
  ASSERT_TRUE(at_site.has_value()) << at_site.error().message();
  EXPECT_TRUE(at_site->summary.complete);
  EXPECT_EQ(Manifest(&fresh, "water"), Manifest(&hub_, "water"));
  EXPECT_EQ(fresh.db->Hub()->pending_code, *code);  // not spent: the hub has not enrolled it yet

  ASSERT_TRUE(Export(&fresh, up.path(), {}).has_value());  // carries the Enrol and the receipt
  auto at_hub = Import(&hub_, up.path());
  ASSERT_TRUE(at_hub.has_value()) << at_hub.error().message();
  auto key = LoadIdentity(fresh.paths.node_key)->public_key();
  ASSERT_TRUE(hub_.db->Peer(key).has_value());
  EXPECT_EQ(hub_.db->PeerVersions(key)["water"], 1u);
  auto enrolled = Export(&hub_, next.path(), {"ecole-2"});
  ASSERT_TRUE(enrolled.has_value()) << enrolled.error().message();
  EXPECT_TRUE(enrolled->sealed_to_file.empty());
  ASSERT_TRUE(Import(&fresh, next.path()).has_value());
  EXPECT_TRUE(fresh.db->Hub()->pending_code.empty());  // a stick for its node key spends it
}

// Without the enrolment file's code, a stick sealed to it opens nowhere: not at an enrolled
// site, not at a site holding another code.
TEST_F(BundleImportTest, AStickSealedToAnEnrolmentFileOpensOnlyWithItsCode) {
  TempDir other_dir, first;
  Node other(other_dir.path());
  auto code = hub_.db->NewEnrolCode("ecole-2", 3600, /*to_file=*/true);
  auto other_code = hub_.db->NewEnrolCode("ecole-3", 3600, /*to_file=*/true);
  ASSERT_TRUE(code.has_value() && other_code.has_value());
  JoinFromFile(&other, "ecole-3", *other_code);
  ASSERT_TRUE(Export(&hub_, first.path(), {"ecole-2"}).has_value());
  for (Node* n : {&site_, &other}) {
    auto r = Import(n, first.path());
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message().find("not to this node"), std::string::npos) << r.error().message();
    EXPECT_FALSE(n->catalog->Channel("water").has_value());
  }
  EXPECT_FALSE(other.catalog->Channel("water").has_value());
}

}  // namespace
}  // namespace outpost
