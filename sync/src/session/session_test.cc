// A hub and a site in one process: enrolment, a first sync, an update that travels as chunks
// and patches, a no-op sync, a budgeted sync that resumes, refusals (unknown site, revoked
// site, wrong hub key), a hub that does not play fair, relays, and a site's own channels going
// up. Most run over in-memory links (session_fixture.h); a few over loopback TCP, so the
// accept loop and TcpLink stay covered. Cuts, stalls and damage at every point of a sync are in
// session_faults_test.cc.
#include <gtest/gtest.h>

#include <thread>

#include "offer.h"
#include "outpost/base/env.h"
#include "outpost/base/file.h"
#include "outpost/content/importer.h"
#include "outpost/sync/manifest.h"
#include "outpost/sync/node.h"
#include "outpost/sync/publish.h"
#include "outpost/sync/publisher_keys.h"
#include "outpost/sync/school_materials.h"
#include "outpost/sync/trust_store.h"
#include "protocol.h"
#include "session/link.h"
#include "session/secure_channel.h"
#include "privacy_check.h"
#include "session/session_fixture.h"
#include "zstd_codec.h"

namespace outpost::testing {
namespace {

TEST_F(SessionOverTcpTest, EnrolsThenSyncsTheSignedVersionByteForByte) {
  Join();
  auto pin = site_->db->Hub();
  ASSERT_TRUE(pin);
  EXPECT_EQ(pin->site_name, "ecole-1");
  ASSERT_EQ(hub_->db->Peers().size(), 1u);

  auto summary = Sync();
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  EXPECT_TRUE(summary->complete);
  ASSERT_EQ(summary->updated.size(), 1u);
  EXPECT_EQ(summary->updated[0].id, "water");
  auto hub_channel = hub_->catalog->Channel("water");
  auto site_channel = site_->catalog->Channel("water");
  ASSERT_TRUE(site_channel);
  EXPECT_EQ(site_channel->served_version, hub_channel->served_version);
  ASSERT_TRUE(site_channel->manifest_hash);
  EXPECT_EQ(*site_channel->manifest_hash, *hub_channel->manifest_hash);
  auto node = site_->catalog->NodeByPath("water", "media/clip.mp4");
  ASSERT_TRUE(node && node->blob);
  EXPECT_TRUE(site_->store->Verify(*node->blob).ok());
  // Search works on synced pages: their text was extracted on the site.
  auto hits = site_->catalog->Search("condenses");
  ASSERT_TRUE(hits.has_value());
  EXPECT_FALSE(hits->empty());
  EXPECT_GT(summary->bytes_received, 0u);
  EXPECT_GE(summary->round_trips, 2);

  // Nothing new: one round trip, a few hundred bytes.
  auto noop = Sync();
  ASSERT_TRUE(noop.has_value()) << noop.error().message();
  EXPECT_TRUE(noop->complete);
  EXPECT_TRUE(noop->updated.empty());
  EXPECT_EQ(noop->round_trips, 1);
  EXPECT_LT(noop->bytes_received, 1000u);
}

TEST_F(SessionTest, AChannelsOwnLabelsReachTheSiteWithItsVersion) {
  folder_.Write("outpost.toml",
                "[channel]\nid = \"water\"\ntitle = \"Water\"\nlanguage = \"en\"\n"
                "[topic]\ngrade = \"CM2\"\n"
                "[labels.grade.CM2]\nar = \"الصف الخامس\"\nen = \"Grade 5\"\n");
  Publish();
  std::vector<ValueLabel> want = {{"grade", "CM2", "ar", "الصف الخامس"},
                                  {"grade", "CM2", "en", "Grade 5"}};
  ASSERT_EQ(hub_->catalog->ValueLabels("water"), want);
  Join();
  auto summary = Sync();
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  EXPECT_TRUE(summary->complete);
  EXPECT_EQ(site_->catalog->ValueLabels("water"), want);
  EXPECT_EQ(site_->catalog->NodeByPath("water", "lesson-0.html")->meta.grade, "CM2");
  EXPECT_EQ(*site_->catalog->Channel("water")->manifest_hash,
            *hub_->catalog->Channel("water")->manifest_hash);
}

// A hub's end of a link whose first read throws, as a session's code would if a hostile record
// made it allocate more than there is.
class ThrowingLink : public sync::Link {
 public:
  Status Write(std::span<const uint8_t>) override { return Status::Ok(); }
  Status ReadExact(std::span<uint8_t>) override { throw std::bad_alloc(); }
  void Close() override {}
  void Linger(std::chrono::milliseconds) override {}
  void set_rate_limit_kbps(uint64_t) override {}
  uint64_t bytes_sent() const override { return 0; }
  uint64_t bytes_received() const override { return 0; }
  std::string peer() const override { return "hostile:1"; }
  void set_deadline(sync::Clock::time_point) override {}
};

TEST_F(SessionTest, ASessionThatThrowsEndsAloneAndTheServerServesTheNextSite) {
  Join();
  ThrowingLink hostile;
  Status ended = server_->ServeSession(&hostile);  // the same Run() the accept loop's threads call
  EXPECT_EQ(ended.code(), StatusCode::kInternal);
  EXPECT_NE(ended.message().find("std::bad_alloc"), std::string::npos) << ended.message();
  auto summary = Sync();
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  EXPECT_TRUE(summary->complete);
}

TEST_F(SessionTest, AnUpdateSendsPatchesForEditedPagesAndNothingForMovedFiles) {
  Join();
  ASSERT_TRUE(Sync().has_value());
  // Edit one page a little, move the video, add a page.
  folder_.Write("lesson-2.html", Page(2, "<p>A corrected sentence.</p>"));
  std::filesystem::create_directories(folder_.path() / "videos");
  std::filesystem::rename(folder_.path() / "media/clip.mp4", folder_.path() / "videos/clip.mp4");
  folder_.Write("lesson-9.html", Page(9));
  Publish();
  auto summary = Sync();
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  EXPECT_TRUE(summary->complete);
  ASSERT_EQ(summary->updated.size(), 1u);
  EXPECT_EQ(summary->patches_received, 1u);
  // The moved video costs nothing: its blob is already here. The new page and the patch are
  // small.
  EXPECT_LT(summary->bytes_received, 20000u) << summary->bytes_received;
  EXPECT_TRUE(site_->catalog->NodeByPath("water", "videos/clip.mp4").has_value());
  EXPECT_FALSE(site_->catalog->NodeByPath("water", "media/clip.mp4").has_value());
}

// A sync between two sticks: the Hello says what the site serves and the session brings the
// rest, so a stick still on its way is no base for the next one (docs/bundle.md).
TEST_F(SessionTest, ASyncForgetsWhatWasSentByStick) {
  Join();
  auto site_key = LoadIdentity(site_->paths.node_key)->public_key();
  std::array<uint8_t, 16> bundle{};
  ASSERT_TRUE(hub_->db->NoteSentVersions(site_key, {{"water", 9}}, bundle, 100).ok());
  ASSERT_EQ(hub_->db->SentVersions(site_key).size(), 1u);
  ASSERT_TRUE(Sync().has_value());
  EXPECT_TRUE(hub_->db->SentVersions(site_key).empty());
}

TEST_F(SessionTest, ABudgetedSyncStopsCleanlyAndTheNextOneFinishes) {
  Join();
  auto first = Sync(/*budget=*/100000);
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_FALSE(first->complete);
  EXPECT_TRUE(first->budget_reached);
  EXPECT_LE(first->bytes_received, 100000u + 70000u);
  EXPECT_FALSE(site_->catalog->Channel("water").has_value());  // nothing half-served
  auto second = Sync();
  ASSERT_TRUE(second.has_value()) << second.error().message();
  EXPECT_TRUE(second->complete);
  EXPECT_TRUE(site_->catalog->Channel("water").has_value());
  // Nothing was fetched twice: the two together brought what one sync brings a fresh site.
  TempDir fresh_dir;
  Node fresh(fresh_dir.path());
  ASSERT_TRUE(Enrol(&fresh).has_value());
  auto whole = SyncNode(&fresh);
  ASSERT_TRUE(whole.has_value()) << whole.error().message();
  EXPECT_EQ(first->chunks_received + second->chunks_received, whole->chunks_received);
}

// What the console shows of the hub (box_status.h): a sync stopped by its budget has already
// noted the hub's head and what it costs, and the run as stopped; the next one as complete.
TEST_F(SessionTest, TheSiteKeepsTheHubsHeadsAndHowEachSyncEnded) {
  Join();
  ASSERT_TRUE(Sync(/*budget=*/100000).has_value());
  auto heads = site_->db->HubHeads();
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0].channel_id, "water");
  EXPECT_EQ(heads[0].version, 1u);
  EXPECT_GT(heads[0].bytes, 100000u);  // more than the budget let through
  auto stopped = site_->db->LastSyncRun();
  ASSERT_TRUE(stopped.has_value());
  EXPECT_TRUE(stopped->ok);
  EXPECT_FALSE(stopped->complete);
  EXPECT_EQ(stopped->message, "stopped at the data budget");
  ASSERT_TRUE(Sync().has_value());
  auto finished = site_->db->LastSyncRun();
  ASSERT_TRUE(finished.has_value());
  EXPECT_TRUE(finished->ok && finished->complete);
  EXPECT_GT(finished->bytes_received, 0u);
  EXPECT_EQ(site_->db->HubHeads().at(0).version, 1u);
}

// A coordinator's "cancel": the sync stops asking after a few answers, ends the session with
// Bye, serves nothing half-fetched, and the next sync fetches only what the first did not.
TEST_F(SessionTest, ACancelledSyncKeepsWhatWasStagedAndTheNextOneFetchesTheRest) {
  Join();
  SyncOptions options;
  int asked = 0;
  options.cancelled = [&asked] { return ++asked > 2; };
  auto first = SyncNode(site_.get(), options);
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_TRUE(first->cancelled);
  EXPECT_FALSE(first->complete);
  EXPECT_GT(first->chunks_received, 0u);
  EXPECT_TRUE(first->refused.empty()) << first->refused.front();  // a clean end, not a drop
  EXPECT_FALSE(site_->catalog->Channel("water").has_value());  // nothing half-served
  auto second = Sync();
  ASSERT_TRUE(second.has_value()) << second.error().message();
  EXPECT_TRUE(second->complete);
  EXPECT_FALSE(second->cancelled);
  EXPECT_TRUE(site_->catalog->Channel("water").has_value());
  TempDir fresh_dir;
  Node fresh(fresh_dir.path());
  ASSERT_TRUE(Enrol(&fresh).has_value());
  auto whole = SyncNode(&fresh);
  ASSERT_TRUE(whole.has_value()) << whole.error().message();
  EXPECT_EQ(first->chunks_received + second->chunks_received, whole->chunks_received);
  EXPECT_LT(second->chunk_bytes, whole->chunk_bytes);
  EXPECT_EQ(first->chunk_bytes + second->chunk_bytes, whole->chunk_bytes);
}

TEST_F(SessionTest, TheRateLimitPacesWhatTheSiteReceives) {
  Join();
  StepClock clock;
  pace_clock_ = &clock;
  SyncOptions options;
  options.rate_limit_kbps = 2000;  // 250 kB/s: 4 microseconds a byte
  auto summary = SyncNode(site_.get(), options);
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  EXPECT_TRUE(summary->complete);
  EXPECT_GT(summary->bytes_received, 400000u);
  // Every byte was held back to the rate: the pacer waited until the last one was due.
  EXPECT_EQ(clock.now - sync::PaceClock::time_point{},
            std::chrono::microseconds(summary->bytes_received * 4));
}

TEST_F(SessionTest, UnknownAndRevokedSitesAreRefusedBeforeAnyContent) {
  Join();
  ASSERT_TRUE(hub_->db->RevokePeer("ecole-1").ok());
  auto refused = Sync();
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("revoked"), std::string::npos) << refused.error().message();
  EXPECT_FALSE(site_->catalog->Channel("water").has_value());
  EXPECT_LT(last_link()->bytes_sent(), 1000u);  // the hub's refusal, and nothing else

  // A used code does not work twice.
  TempDir other_dir;
  Node other(other_dir.path());
  auto code = Code();
  ASSERT_TRUE(EnrolWithHub(other.paths, other.db.get(), address_, code, "", std::chrono::seconds(10), Dial())
                  .has_value());
  TempDir third_dir;
  Node third(third_dir.path());
  auto again = EnrolWithHub(third.paths, third.db.get(), address_, code, "", std::chrono::seconds(10), Dial());
  JoinSessions();
  ASSERT_FALSE(again.has_value());
  EXPECT_NE(again.error().message().find("refused"), std::string::npos) << again.error().message();

  // A node that never enrolled is told so.
  TempDir stranger_dir;
  Node stranger(stranger_dir.path());
  ASSERT_TRUE(stranger.db->SetHub(*site_->db->Hub()).ok());  // it knows the hub, the hub not it
  auto unknown = SyncNode(&stranger);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message().find("not enrolled"), std::string::npos) << unknown.error().message();
}

TEST_F(SessionTest, AHubWithAnotherKeyIsRefused) {
  Join();
  auto pin = site_->db->Hub();
  ASSERT_TRUE(pin);
  auto impostor = Identity::Generate();
  ASSERT_TRUE(impostor.has_value());
  pin->node_key = impostor->public_key();
  ASSERT_TRUE(site_->db->SetHub(*pin).ok());
  auto refused = Sync();
  ASSERT_FALSE(refused.has_value());
  EXPECT_FALSE(site_->catalog->Channel("water").has_value());
}

// A hub that does not play fair (a compromised relay, a man in the middle who stole the hub's
// key): it speaks the protocol with the real hub's key and data, but lets a test tamper with
// the offer and with the chunks it sends. Whatever it does, the site serves nothing false.
class FakeHub {
 public:
  FakeHub(Node* hub, std::function<void(sync::Offer*)> edit_offer, bool tamper_chunks)
      : hub_(hub), edit_offer_(std::move(edit_offer)), tamper_(tamper_chunks) {}

  uint16_t accept_protocol = sync::kProtocolVersion;  // the version its Accept names
  std::optional<sync::ErrorMessage> error_received;    // the site's Error, if it sent one
  // An older hub that speaks this version only: a Hello of another is refused with Error 9 in
  // message 2, as such a hub does; one of this version is accepted in it.
  std::optional<uint16_t> only_version;
  int hellos_refused = 0;
  // The plaintext of everything the site sent (each Hello and record: type, then body), and the
  // bodies of its Reports.
  std::string received;
  std::vector<std::string> reports;

  Status Serve(sync::Link* link) {
    using namespace sync;
    auto channel = Handshake(link);
    if (!channel) return channel.error();
    OUTPOST_RETURN_IF_ERROR(channel->Send(kOffer, EncodeOffer(MakeOffer())));
    if (accept_protocol >= kOutcomesProtocolVersion) {
      OUTPOST_RETURN_IF_ERROR(channel->Send(kOutcomes, EncodeOutcomes({})));
    }
    OUTPOST_RETURN_IF_ERROR(channel->Flush());
    for (;;) {
      auto record = channel->Receive();
      if (!record) return record.error();
      received += std::string(1, static_cast<char>(record->type)) + record->body;
      if (record->type == kReport) {
        reports.push_back(record->body);
        continue;
      }
      if (record->type == kBye) return Status::Ok();
      if (record->type == kError) {
        error_received = DecodeError(record->body).value();
        return Status::Ok();
      }
      if (record->type != kGetChunks) return Corrupt("unexpected");
      auto hashes = DecodeHashes(record->body, 4096);
      for (const Hash& h : *hashes) {
        auto where = hub_->catalog->FindChunk(h);
        auto data = ReadFileRange(hub_->store->PathOf(where->blob), where->offset, where->length);
        if (tamper_) (*data)[data->size() / 2] ^= 1;
        ChunkData chunk{h, static_cast<uint32_t>(data->size()), ZstdCompress(*data, 1, {})};
        OUTPOST_RETURN_IF_ERROR(channel->Send(kChunk, EncodeChunk(chunk)));
      }
      OUTPOST_RETURN_IF_ERROR(channel->Flush());
    }
  }

 private:
  // The hub's side of the IK handshake, with its real key; it accepts whoever comes.
  Result<sync::SecureChannel> Handshake(sync::Link* link) {
    using namespace sync;
    auto node = LoadIdentity(hub_->paths.node_key);
    if (!node) return node.error();
    auto key = noise::KeyPair::FromPrivateKey(node->x25519_secret_key());
    if (!key) return key.error();
    uint8_t preamble[8];
    OUTPOST_RETURN_IF_ERROR(link->ReadExact(preamble));
    noise::HandshakeConfig config;
    config.pattern = noise::Pattern::kIK;
    config.role = noise::Role::kResponder;
    std::string prologue = std::string(kPrologue) + std::string(reinterpret_cast<char*>(preamble), 8);
    config.prologue.assign(prologue.begin(), prologue.end());
    config.local_static = &*key;
    auto hs = noise::HandshakeState::Create(config);
    auto m1 = ReadHandshakeFrame(link);
    if (!m1) return m1.error();
    auto payload = hs->ReadMessage(*m1);
    if (!payload) return payload.error();
    received.append(payload->begin(), payload->end());
    if (only_version) {
      auto version = HelloVersion({reinterpret_cast<const char*>(payload->data()) + 1, payload->size() - 1});
      if (*version != *only_version) {
        ++hellos_refused;
        std::string error = Tagged(kError, EncodeError({kErrorVersion, "the hub speaks version 1 only"}));
        auto m2 = hs->WriteMessage({reinterpret_cast<const uint8_t*>(error.data()), error.size()});
        OUTPOST_RETURN_IF_ERROR(WriteHandshakeFrame(link, *m2));
        return InvalidArgument("refused a hello of version " + std::to_string(*version));
      }
      accept_protocol = *only_version;
    }
    std::string accept = Tagged(kAccept, EncodeAccept({accept_protocol, 4096}));
    auto m2 = hs->WriteMessage({reinterpret_cast<const uint8_t*>(accept.data()), accept.size()});
    OUTPOST_RETURN_IF_ERROR(WriteHandshakeFrame(link, *m2));
    auto split = hs->Split();
    // The same rekey interval as the site under test (SessionTest::Limits()).
    return SecureChannel(link, std::move(split->second), std::move(split->first), 8, 16 << 20);
  }

  // Every served version, whole, each file with its chunks; then the test's edit.
  sync::Offer MakeOffer() {
    using namespace sync;
    Offer offer;
    for (const ChannelInfo& info : hub_->catalog->Channels()) {
      auto envelope = hub_->catalog->ManifestEnvelope(info.id, info.served_version);
      auto manifest = DecodeEnvelopeManifest(*envelope);
      OfferedVersion version;
      version.envelope = *envelope;
      version.channel_id = info.id;
      for (const BlobRef& blob : manifest->Blobs()) {
        OfferedFile file{blob.hash, blob.size, {}, std::nullopt};
        for (const Chunk& c : hub_->catalog->ChunksOf(blob.hash)) file.chunks.push_back({c.hash, c.length});
        version.files.push_back(file);
      }
      offer.versions.push_back(version);
    }
    if (edit_offer_) edit_offer_(&offer);
    for (auto& v : offer.versions) {  // sent as they are
      v.packing = kRaw;
      v.packed = v.envelope;
      v.envelope_size = v.envelope.size();
    }
    return offer;
  }

  Node* hub_;
  std::function<void(sync::Offer*)> edit_offer_;
  bool tamper_;
};

class FakeHubTest : public SessionTest {
 protected:
  // Syncs the site from `fake` instead of the hub.
  Result<SyncSummary> SyncFrom(FakeHub* fake) {
    Listen("fake:7000", [fake](sync::Link* link) { return fake->Serve(link); });
    SyncOptions options;
    options.hub = "fake:7000";
    return SyncNode(site_.get(), options);
  }
};

TEST_F(FakeHubTest, ATamperedChunkIsRefusedAndNothingIsServed) {
  Join();
  FakeHub fake(hub_.get(), nullptr, /*tamper_chunks=*/true);
  auto summary = SyncFrom(&fake);
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  EXPECT_FALSE(summary->complete);
  EXPECT_FALSE(summary->refused.empty());
  EXPECT_FALSE(site_->catalog->Channel("water").has_value());
  // The real hub then brings the real bytes.
  auto real = Sync();
  ASSERT_TRUE(real.has_value()) << real.error().message();
  EXPECT_TRUE(real->complete);
}

TEST_F(FakeHubTest, ASiteRefusesAnAcceptOfAVersionItDoesNotSpeakAndTellsTheHub) {
  Join();
  FakeHub fake(hub_.get(), {}, false);
  fake.accept_protocol = sync::kProtocolVersion + 1;
  auto refused = SyncFrom(&fake);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("version " + std::to_string(sync::kProtocolVersion + 1)),
            std::string::npos) << refused.error().message();
  EXPECT_NE(refused.error().message().find("version " + std::to_string(sync::kProtocolVersion)),
            std::string::npos) << refused.error().message();
  ASSERT_TRUE(fake.error_received.has_value());
  EXPECT_EQ(fake.error_received->code, sync::kErrorVersion);
  EXPECT_FALSE(site_->catalog->Channel("water").has_value());
}

// A hub of version 1 refuses the site's Hellos of versions 3 and 2 (Error 9): the site syncs
// again at once one version lower each time, and gets everything in version 1 (no Outcomes
// record, no Report).
TEST_F(FakeHubTest, ASiteSyncsInVersionOneWithAnOlderHub) {
  Join();
  FakeHub fake(hub_.get(), {}, false);
  fake.only_version = 1;
  auto summary = SyncFrom(&fake);
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  EXPECT_TRUE(summary->complete);
  EXPECT_EQ(fake.hellos_refused, 2);
  EXPECT_TRUE(fake.reports.empty());
  EXPECT_TRUE(site_->catalog->Channel("water").has_value());
}

// A hub of version 2 (before the site report) refuses version 3: the site syncs in version 2,
// takes its Outcomes, and sends no Report, which that hub would not know.
TEST_F(FakeHubTest, ASiteSyncsInVersionTwoWithAHubOfVersionTwoAndSendsNoReport) {
  Join();
  FakeHub fake(hub_.get(), {}, false);
  fake.only_version = 2;
  auto summary = SyncFrom(&fake);
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  EXPECT_TRUE(summary->complete);
  EXPECT_EQ(fake.hellos_refused, 1);
  EXPECT_TRUE(fake.reports.empty());
}

// Privacy (issue 16): everything the site sends up in a sync, read in plaintext at the hub's
// end, holds no IP address, no session token, and in its report no count under 5.
TEST_F(FakeHubTest, ASyncSendsUpNoAddressNoSessionAndNoCountUnderFive) {
  Join();
  PlantPrivateLogLines(site_->paths);
  FakeHub fake(hub_.get(), {}, false);
  Listen("fake:7000", [&fake](sync::Link* link) { return fake.Serve(link); });
  SyncOptions options;
  options.hub = "fake:7000";
  options.usage = UsageWithSmallCounts;
  auto summary = SyncNode(site_.get(), options);
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  ASSERT_EQ(fake.reports.size(), 1u);
  ExpectNothingPrivate(fake.received, fake.reports);
}

TEST_F(FakeHubTest, AReplayedOlderManifestIsRefused) {
  Join();
  std::string old_envelope = *hub_->catalog->ManifestEnvelope("water", 1);
  folder_.Write("lesson-1.html", Page(1, "<p>Version two.</p>"));
  Publish();
  ASSERT_TRUE(Sync().has_value());
  ASSERT_EQ(site_->catalog->Channel("water")->served_version, 2);
  auto served_before = site_->catalog->Channel("water")->manifest_hash;
  FakeHub fake(hub_.get(), [&](sync::Offer* offer) { offer->versions[0].envelope = old_envelope; },
               false);
  auto summary = SyncFrom(&fake);
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  ASSERT_EQ(summary->refused.size(), 1u);
  EXPECT_NE(summary->refused[0].find("version"), std::string::npos) << summary->refused[0];
  EXPECT_EQ(site_->catalog->Channel("water")->served_version, 2);
  EXPECT_EQ(site_->catalog->Channel("water")->manifest_hash, served_before);
}

TEST_F(FakeHubTest, AManifestSignedByAnUnauthorizedKeyIsRefused) {
  Join();
  auto intruder = Identity::Generate();
  ASSERT_TRUE(intruder.has_value());
  FakeHub fake(hub_.get(), [&](sync::Offer* offer) {
    auto manifest = DecodeEnvelopeManifest(offer->versions[0].envelope);
    auto forged = SignManifest(manifest->draft, manifest->version, *intruder);
    offer->versions[0].envelope = *forged;
  }, false);
  auto summary = SyncFrom(&fake);
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  ASSERT_EQ(summary->refused.size(), 1u);
  EXPECT_NE(summary->refused[0].find("not authorized"), std::string::npos) << summary->refused[0];
  EXPECT_FALSE(site_->catalog->Channel("water").has_value());
}

TEST_F(SessionTest, AfterAPublisherRotationSitesTakeTheNewListAndKey) {
  Join();
  ASSERT_TRUE(Sync().has_value());
  auto rotated = RotatePublisher(hub_->paths, hub_->catalog.get());
  ASSERT_TRUE(rotated.has_value()) << rotated.error().message();
  // A site that held version 1: takes trust list 2, then version 2 signed by the new key.
  folder_.Write("lesson-7.html", Page(7));
  Publish();
  auto update = Sync();
  ASSERT_TRUE(update.has_value()) << update.error().message();
  EXPECT_TRUE(update->complete) << (update->refused.empty() ? "" : update->refused[0]);
  EXPECT_EQ(site_->catalog->Channel("water")->served_version, 2);
  auto trust = LoadTrustList(site_->paths, site_->db->Hub()->root_key);
  ASSERT_TRUE(trust.has_value());
  EXPECT_EQ(trust->sequence, 2u);
  EXPECT_FALSE(trust->Authorizes(rotated->revoked, "water"));
  // A site that never synced gets the versions signed again by the new key.
  TempDir fresh_dir;
  Node fresh(fresh_dir.path());
  ASSERT_TRUE(Enrol(&fresh).has_value());
  auto first = SyncNode(&fresh);
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_TRUE(first->complete);
}

// A neighbouring school (or a coordinator's laptop) that synced from the hub relays the
// publisher's signed version to another site; the relay is trusted for nothing. Over TCP: a
// second server's accept loop, and the peer mode's XX handshake on a real socket.
TEST_F(SessionOverTcpTest, ASiteSyncsFromARelayThatHoldsTheSignedVersion) {
  Join();
  ASSERT_TRUE(Sync().has_value());
  // Site A relays.
  SyncServer relay(site_->paths, site_->store.get(), site_->catalog.get(), site_->db.get(), Limits());
  ASSERT_TRUE(relay.Bind("127.0.0.1:0").ok());
  std::thread relay_thread([&] { (void)relay.Serve(); });
  std::string relay_address = "127.0.0.1:" + std::to_string(relay.port());

  // Site B joined the hub (it knows the root) but has no link to it today.
  TempDir b_dir;
  Node b(b_dir.path());
  ASSERT_TRUE(Enrol(&b).has_value());
  // Without joining the relay, B is refused by it, and B refuses it too.
  SyncOptions options;
  options.peer = relay_address;
  EXPECT_FALSE(SyncNode(&b, options).has_value());
  auto code = site_->db->NewEnrolCode("ecole-b", 3600);
  ASSERT_TRUE(code.has_value());
  auto joined = JoinRelay(b.paths, b.db.get(), relay_address, *code, "ecole-a", std::chrono::seconds(10));
  ASSERT_TRUE(joined.has_value()) << joined.error().message();
  auto summary = SyncNode(&b, options);
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  EXPECT_TRUE(summary->complete);
  auto b_channel = b.catalog->Channel("water");
  ASSERT_TRUE(b_channel);
  EXPECT_EQ(b_channel->manifest_hash, hub_->catalog->Channel("water")->manifest_hash);
  EXPECT_EQ(b_channel->served_version, hub_->catalog->Channel("water")->served_version);
  relay.Stop();
  relay_thread.join();
}

// The same in memory, and a relay that was revoked is refused by the site.
TEST_F(SessionTest, ASiteRefusesARelayItRevoked) {
  Join();
  ASSERT_TRUE(Sync().has_value());
  SyncServer relay(site_->paths, site_->store.get(), site_->catalog.get(), site_->db.get(), Limits());
  Listen("relay:7000", [&](sync::Link* link) { return relay.ServeSession(link); });
  TempDir b_dir;
  Node b(b_dir.path());
  ASSERT_TRUE(Enrol(&b).has_value());
  auto code = site_->db->NewEnrolCode("ecole-b", 3600);
  ASSERT_TRUE(code.has_value());
  auto joined = JoinRelay(b.paths, b.db.get(), "relay:7000", *code, "ecole-a", std::chrono::seconds(10), Dial());
  JoinSessions();
  ASSERT_TRUE(joined.has_value()) << joined.error().message();
  SyncOptions options;
  options.peer = "relay:7000";
  auto summary = SyncNode(&b, options);
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  EXPECT_TRUE(summary->complete);
  EXPECT_EQ(b.catalog->Channel("water")->manifest_hash, hub_->catalog->Channel("water")->manifest_hash);

  ASSERT_TRUE(b.db->RevokePeer("ecole-a").ok());
  auto refused = SyncNode(&b, options);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("revoked"), std::string::npos) << refused.error().message();
}

// ---- the upward path: a site's own channel goes up to the hub in the same session ----

// A teacher's folder on the site, published there (signed with the site's node key).
void PublishOnSite(Node* site, const std::filesystem::path& folder, const std::string& id = "") {
  auto published = outpost::Publish(site->paths, site->store.get(), site->catalog.get(), folder, id);
  ASSERT_TRUE(published.has_value()) << published.error().message();
}

TEST_F(SessionTest, ASitesOwnChannelGoesUpInTheSameSessionAndOnlyItsChangesNext) {
  Join();
  TempDir notes;
  notes.Write("outpost.toml", "[channel]\nid = \"ecole-1-notes\"\ntitle = \"Notes\"\nlanguage = \"fr\"\n");
  notes.Write("cours-1.html", Page(101));
  notes.Write("cours-2.html", Page(102));
  notes.Write("tp/mesures.mp4", Video(300000, 9));
  PublishOnSite(site_.get(), notes.path());

  // The terminal shows the upload as well as the download.
  uint64_t offered = 0;
  auto first = Sync(0, [&](const SyncProgress& p) {
    if (p.uploading) offered = p.bytes_offered;
  });
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_GT(offered, 300000u);
  EXPECT_TRUE(first->complete);
  ASSERT_EQ(first->updated.size(), 1u);  // the hub's channel came down
  EXPECT_EQ(first->updated[0].id, "water");
  ASSERT_EQ(first->uploaded.size(), 1u);
  EXPECT_EQ(first->uploaded[0].id, "ecole-1-notes");
  EXPECT_EQ(first->uploaded[0].state, "served") << first->uploaded[0].message;
  EXPECT_EQ(first->uploaded[0].version, 1);
  auto at_hub = hub_->catalog->Channel("ecole-1-notes");
  ASSERT_TRUE(at_hub);
  EXPECT_EQ(at_hub->served_version, 1);
  EXPECT_EQ(at_hub->manifest_hash, site_->catalog->Channel("ecole-1-notes")->manifest_hash);
  auto node = hub_->catalog->NodeByPath("ecole-1-notes", "tp/mesures.mp4");
  ASSERT_TRUE(node.has_value());
  EXPECT_TRUE(hub_->store->Contains(*node->blob));
  ASSERT_EQ(hub_->db->Peers().size(), 1u);
  EXPECT_EQ(hub_->db->ChannelOwner("ecole-1-notes"), hub_->db->Peers()[0].key);

  // Nothing new on either side: one round trip, nothing goes up.
  auto noop = Sync();
  ASSERT_TRUE(noop.has_value()) << noop.error().message();
  EXPECT_TRUE(noop->complete);
  EXPECT_TRUE(noop->uploaded.empty());
  EXPECT_EQ(noop->round_trips, 1);

  // The teacher corrects a sentence: the hub takes it as a patch, not the video again.
  notes.Write("cours-2.html", Page(102, "<p>Une phrase corrigée.</p>"));
  PublishOnSite(site_.get(), notes.path());
  auto edit = Sync();
  ASSERT_TRUE(edit.has_value()) << edit.error().message();
  EXPECT_TRUE(edit->complete);
  ASSERT_EQ(edit->uploaded.size(), 1u);
  EXPECT_EQ(edit->uploaded[0].state, "served") << edit->uploaded[0].message;
  EXPECT_EQ(hub_->catalog->Channel("ecole-1-notes")->served_version, 2);
  EXPECT_LT(edit->bytes_sent, 20000u) << edit->bytes_sent;
  // The hub's search has the site's text too.
  auto hit = hub_->catalog->NodeByPath("ecole-1-notes", "cours-2.html");
  ASSERT_TRUE(hit.has_value());
}

// Teachers' materials (school_materials.h): the school's channel goes up with the next sync,
// each change as a new version; the hub's channels stay out of a teacher's reach.
TEST_F(SessionTest, TheSchoolsMaterialsGoUpWithTheNextSyncAndTheHubsChannelsCannotBeEdited) {
  Join();
  ASSERT_TRUE(Sync().has_value());
  SchoolMaterials school(site_->paths, site_->store.get(), site_->catalog.get());
  NewMaterial lesson;
  lesson.file_name = "pluie.html";
  lesson.file = site_->paths.data / "uploads" / "pluie.html";
  std::filesystem::create_directories(lesson.file.parent_path());
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), lesson.file,
                                  "<title>La pluie</title><p>Les nuages donnent la pluie.</p>")
                  .ok());
  lesson.topic = "CM2/Sciences";
  auto added = school.Add(lesson);
  ASSERT_TRUE(added.has_value()) << added.error().message();
  EXPECT_EQ(site_->catalog->Channel(added->channel_id)->meta.title,
            "Teachers' materials: " + site_->db->Hub()->site_name);

  auto up = Sync();
  ASSERT_TRUE(up.has_value()) << up.error().message();
  ASSERT_EQ(up->uploaded.size(), 1u);
  EXPECT_EQ(up->uploaded[0].id, added->channel_id);
  EXPECT_EQ(up->uploaded[0].state, "served") << up->uploaded[0].message;
  EXPECT_TRUE(hub_->catalog->NodeByPath(added->channel_id, added->path).has_value());
  auto at_hub = hub_->catalog->Search("nuages");  // the hub fills in the text it is sent without
  ASSERT_TRUE(at_hub.has_value());
  ASSERT_EQ(at_hub->size(), 1u);
  EXPECT_EQ((*at_hub)[0].path, added->path);

  MaterialFields retitle;
  retitle.title = "La pluie et les nuages";
  ASSERT_TRUE(school.Edit(added->path, retitle).has_value());
  auto edit = Sync();
  ASSERT_TRUE(edit.has_value()) << edit.error().message();
  ASSERT_EQ(edit->uploaded.size(), 1u);
  EXPECT_EQ(edit->uploaded[0].version, 2);
  EXPECT_EQ(hub_->catalog->NodeByPath(added->channel_id, added->path)->meta.title,
            "La pluie et les nuages");

  auto hijack = PublishEdit(site_->paths, site_->catalog.get(), "water", [](VersionDraft* d) {
    d->meta.title = "Ours";
    return Status::Ok();
  });
  ASSERT_FALSE(hijack.has_value());
  EXPECT_NE(hijack.error().message().find("comes from the hub"), std::string::npos);
  EXPECT_EQ(site_->catalog->Channel("water")->served_version,
            hub_->catalog->Channel("water")->served_version);
}

TEST_F(SessionTest, SitesCannotTakeEachOthersOrTheHubsChannels) {
  Join();
  ASSERT_TRUE(Sync().has_value());
  // The hub's channel is not the site's to publish.
  TempDir fake;
  fake.Write("page.html", Page(7));
  auto hijack = outpost::Publish(site_->paths, site_->store.get(), site_->catalog.get(), fake.path(), "water");
  ASSERT_FALSE(hijack.has_value());
  EXPECT_NE(hijack.error().message().find("comes from the hub"), std::string::npos) << hijack.error().message();
  EXPECT_EQ(site_->catalog->Channel("water")->served_version, hub_->catalog->Channel("water")->served_version);

  // Site 1 uploads "shared"; site 2 then tries the same id and is refused; neither sees the
  // other's channel, and the hub does not publish over it.
  TempDir one;
  one.Write("a.html", Page(1));
  PublishOnSite(site_.get(), one.path(), "shared");
  auto up = Sync();
  ASSERT_TRUE(up.has_value()) << up.error().message();
  ASSERT_EQ(up->uploaded.size(), 1u);
  EXPECT_EQ(up->uploaded[0].state, "served");

  TempDir b_dir;
  Node b(b_dir.path());
  ASSERT_TRUE(Enrol(&b).has_value());
  TempDir two;
  two.Write("b.html", Page(2));
  PublishOnSite(&b, two.path(), "shared");
  auto refused = SyncNode(&b);
  ASSERT_TRUE(refused.has_value()) << refused.error().message();
  EXPECT_FALSE(refused->complete);
  ASSERT_EQ(refused->updated.size(), 1u);  // only the hub's channel came down
  EXPECT_EQ(refused->updated[0].id, "water");
  ASSERT_EQ(refused->uploaded.size(), 1u);
  EXPECT_EQ(refused->uploaded[0].state, "refused");
  EXPECT_NE(refused->uploaded[0].message.find("another site"), std::string::npos) << refused->uploaded[0].message;
  EXPECT_TRUE(hub_->catalog->NodeByPath("shared", "a.html").has_value());
  EXPECT_FALSE(hub_->catalog->NodeByPath("shared", "b.html").has_value());

  TempDir hub_folder;
  hub_folder.Write("c.html", Page(3));
  auto over = outpost::Publish(hub_->paths, hub_->store.get(), hub_->catalog.get(), hub_folder.path(), "shared");
  ASSERT_FALSE(over.has_value());
  EXPECT_NE(over.error().message().find("site's own channel"), std::string::npos) << over.error().message();
  EXPECT_TRUE(hub_->catalog->NodeByPath("shared", "a.html").has_value());
}

TEST_F(SessionTest, AnUploadCutByTheBudgetContinuesWithoutResending) {
  Join();
  ASSERT_TRUE(Sync().has_value());
  TempDir notes;
  notes.Write("video.mp4", Video(1500000, 11));
  PublishOnSite(site_.get(), notes.path(), "ecole-1-films");

  auto cut = Sync(/*budget=*/500000);
  ASSERT_TRUE(cut.has_value()) << cut.error().message();
  EXPECT_FALSE(cut->complete);
  EXPECT_TRUE(cut->budget_reached);
  EXPECT_FALSE(hub_->catalog->Channel("ecole-1-films").has_value());  // nothing half-served

  auto rest = Sync();
  ASSERT_TRUE(rest.has_value()) << rest.error().message();
  EXPECT_TRUE(rest->complete);
  ASSERT_EQ(rest->uploaded.size(), 1u);
  EXPECT_EQ(rest->uploaded[0].state, "served") << rest->uploaded[0].message;
  EXPECT_EQ(hub_->catalog->Channel("ecole-1-films")->manifest_hash,
            site_->catalog->Channel("ecole-1-films")->manifest_hash);
  // What went up the first time was staged on the hub and not sent again.
  EXPECT_LT(cut->bytes_sent + rest->bytes_sent, 1500000u + 150000u)
      << cut->bytes_sent << " + " << rest->bytes_sent;
  EXPECT_GT(cut->bytes_sent, 300000u);
}

// A site that sends up a channel signed by another key than its own (a stolen publisher key, a
// forged manifest): the hub refuses it in the receipt and serves nothing of it.
TEST_F(SessionTest, AnUploadNotSignedByTheSitesOwnKeyIsRefused) {
  using namespace sync;
  Join();
  TempDir notes;
  notes.Write("a.html", Page(5));
  PublishOnSite(site_.get(), notes.path(), "ecole-1-notes");
  auto stranger = Identity::Generate();
  ASSERT_TRUE(stranger.has_value());
  auto draft = site_->catalog->LoadVersion("ecole-1-notes", 1);
  ASSERT_TRUE(draft.has_value());
  auto forged = SignManifest(*draft, 1, *stranger);
  ASSERT_TRUE(forged.has_value());

  // The site's side of the session by hand, offering the forged envelope.
  HandSession hand;
  ASSERT_NO_FATAL_FAILURE(OpenByHand({}, &hand));
  EXPECT_TRUE(hand.offer.uploads);
  SecureChannel& channel = *hand.channel;

  auto info = site_->catalog->Channel("ecole-1-notes");
  auto version = OfferVersion(site_->catalog.get(), *info, 0);
  ASSERT_TRUE(version.has_value());
  version->packing = kRaw;
  version->packed = *forged;
  version->envelope_size = forged->size();
  Offer up;
  up.versions.push_back(*version);
  ASSERT_TRUE(channel.Send(kOffer, EncodeOffer(up)).ok());
  ASSERT_TRUE(channel.Flush().ok());
  auto answer = channel.Receive();
  ASSERT_TRUE(answer.has_value()) << answer.error().message();
  ASSERT_EQ(answer->type, kReceipt);
  auto receipt = DecodeReceipt(answer->body);
  ASSERT_TRUE(receipt.has_value());
  ASSERT_EQ(receipt->size(), 1u);
  EXPECT_EQ((*receipt)[0].state, ReceiptState::kRefused);
  EXPECT_NE((*receipt)[0].message.find("not signed by the site's own key"), std::string::npos)
      << (*receipt)[0].message;
  (void)channel.Send(kBye, "");
  (void)channel.Flush();
  hand.link.reset();
  JoinSessions();
  EXPECT_FALSE(hub_->catalog->Channel("ecole-1-notes").has_value());
  EXPECT_FALSE(hub_->db->ChannelOwner("ecole-1-notes").has_value());
}

}  // namespace
}  // namespace outpost::testing

namespace outpost::testing {
namespace {

// The hub's review decisions on a site's items reach it at its next sync, once: the hub counts
// them delivered when the site says Bye, and the next sync carries none.
TEST_F(SessionTest, AHubsDecisionOnASitesItemReachesTheSiteOnce) {
  Join();
  PublicKey site_key = LoadIdentity(site_->paths.node_key)->public_key();
  ASSERT_TRUE(hub_->db->ClaimChannel("ecole-1-notes", site_key).ok());
  ReviewItem item;
  item.path = "tp/mesures.txt";
  item.kind = "document";
  item.blob = Hash::Of("mesures");
  item.fingerprint = Hash::Of("fingerprint");
  ASSERT_TRUE(hub_->db->NoteReviewVersion("ecole-1-notes", 1, {item}).ok());
  int64_t id = hub_->db->ReviewItems(false).at(0).id;
  ReviewDecision decline;
  decline.reason = "Ajoutez les unités (mm).";
  ASSERT_TRUE(hub_->db->DecideReview(id, decline).ok());

  auto first = Sync();
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_EQ(first->review_outcomes, 1u);
  auto outcomes = site_->db->ReviewOutcomes();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].id, id);
  EXPECT_EQ(outcomes[0].state, ReviewState::kDeclined);
  EXPECT_EQ(outcomes[0].reason, "Ajoutez les unités (mm).");
  EXPECT_EQ(outcomes[0].path, "tp/mesures.txt");
  EXPECT_EQ(outcomes[0].blob, Hash::Of("mesures"));
  EXPECT_TRUE(hub_->db->UndeliveredOutcomes(site_key).empty());

  auto second = Sync();
  ASSERT_TRUE(second.has_value()) << second.error().message();
  EXPECT_EQ(second->review_outcomes, 0u);
  EXPECT_EQ(site_->db->ReviewOutcomes("ecole-1-notes").size(), 1u);
  EXPECT_TRUE(site_->db->ReviewOutcomes("another").empty());
}

// A site of version 1 (an older Outpost) gets no Outcomes record: the hub's next record after
// its Offer would be one, and there is none; its decisions wait for a version-2 sync.
TEST_F(SessionTest, ASiteOfVersionOneIsSentNoOutcomes) {
  Join();
  PublicKey site_key = LoadIdentity(site_->paths.node_key)->public_key();
  ASSERT_TRUE(hub_->db->ClaimChannel("ecole-1-notes", site_key).ok());
  ReviewItem item;
  item.path = "a.txt";
  item.fingerprint = Hash::Of("a");
  ASSERT_TRUE(hub_->db->NoteReviewVersion("ecole-1-notes", 1, {item}).ok());
  ReviewDecision decline;
  decline.reason = "no";
  ASSERT_TRUE(hub_->db->DecideReview(hub_->db->ReviewItems(false).at(0).id, decline).ok());

  HandSession hand;
  sync::Hello hello;
  hello.protocol = 1;
  ASSERT_NO_FATAL_FAILURE(OpenByHand(hello, &hand));
  ASSERT_TRUE(hand.channel->Send(sync::kBye, "").ok());
  ASSERT_TRUE(hand.channel->Flush().ok());
  EXPECT_FALSE(hand.channel->Receive().has_value());  // the hub closed: nothing after the Offer
  hand.link.reset();
  JoinSessions();
  EXPECT_EQ(hub_->db->UndeliveredOutcomes(site_key).size(), 1u);
  auto later = Sync();  // version 2
  ASSERT_TRUE(later.has_value()) << later.error().message();
  EXPECT_EQ(later->review_outcomes, 1u);
}

}  // namespace
}  // namespace outpost::testing
