// Revocation reaches what a site already serves (issue #12, finding 3): a publisher key leaks,
// the key publishes the highest version number there is to freeze a channel, the root revokes
// the key, and every site that takes the new trust list (from the hub or from a relay) stops
// serving that version and takes validly signed versions again, whatever their numbers.
#include <gtest/gtest.h>

#include "outpost/sync/publisher_keys.h"
#include "outpost/sync/trust_store.h"
#include "session/session_fixture.h"

namespace outpost::testing {
namespace {

class RevocationTest : public SessionTest {
 protected:
  // A second publisher key for every channel, in the hub's trust list 2, that then leaks; the
  // site takes list 2 and version 1, then the leaked key's top version reaches it.
  void LeakASecondKey() {
    AuthorizeAnotherPublisher(hub_->paths, leaked_.public_key());
    Join();
    auto first = Sync();
    ASSERT_TRUE(first.has_value()) << first.error().message();
    ASSERT_TRUE(first->complete);
    PlantVersionSignedBy(site_.get(), "water", kTopVersion, leaked_);
    ASSERT_EQ(site_->catalog->Channel("water")->served_version, kTopVersion);
  }
  void RevokeTheLeakedKey() {
    auto revoked = RevokePublisher(hub_->paths, leaked_.public_key().Hex());
    ASSERT_TRUE(revoked.has_value()) << revoked.error().message();
  }
  // The site serves what the hub serves, and holds nothing the leaked key signed.
  void ExpectServedAsAtTheHub(Node* site) {
    auto served = site->catalog->Channel("water");
    ASSERT_TRUE(served.has_value());
    EXPECT_EQ(served->served_version, hub_->catalog->Channel("water")->served_version);
    EXPECT_EQ(served->manifest_hash, hub_->catalog->Channel("water")->manifest_hash);
    EXPECT_NE(served->meta.title, "Owned");
    EXPECT_FALSE(site->catalog->ManifestEnvelope("water", kTopVersion).has_value());
  }

  Identity leaked_ = *Identity::Generate();
};

TEST_F(RevocationTest, ASiteStopsServingARevokedKeysVersionAndServesTheOlderOneStillTrusted) {
  LeakASecondKey();
  RevokeTheLeakedKey();
  auto summary = Sync();
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  EXPECT_TRUE(summary->complete) << (summary->refused.empty() ? "" : summary->refused[0]);
  ExpectServedAsAtTheHub(site_.get());
  EXPECT_EQ(site_->catalog->Channel("water")->served_version, 1);
}

TEST_F(RevocationTest, AfterTheRevocationALowerValidlySignedVersionReplacesTheTopOne) {
  LeakASecondKey();
  RevokeTheLeakedKey();
  ASSERT_TRUE(Sync().has_value());
  folder_.Write("lesson-7.html", Page(7));
  Publish();
  auto update = Sync();
  ASSERT_TRUE(update.has_value()) << update.error().message();
  EXPECT_TRUE(update->complete) << (update->refused.empty() ? "" : update->refused[0]);
  EXPECT_EQ(site_->catalog->Channel("water")->served_version, 2);
  ExpectServedAsAtTheHub(site_.get());
}

// The leaked key is the hub's own publisher key: the root rotates it. The site held only
// versions that key signed: in the same sync it takes version 1 signed again by the new key.
TEST_F(RevocationTest, WhenTheHubsOwnKeyLeaksARotationBringsTheSiteBackToTheHubsVersion) {
  Join();
  ASSERT_TRUE(Sync().has_value());
  auto hub_publisher = LoadIdentity(hub_->paths.publisher_key);
  ASSERT_TRUE(hub_publisher.has_value());
  PlantVersionSignedBy(site_.get(), "water", kTopVersion, *hub_publisher);
  auto rotated = RotatePublisher(hub_->paths, hub_->catalog.get());
  ASSERT_TRUE(rotated.has_value()) << rotated.error().message();
  auto summary = Sync();
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  EXPECT_TRUE(summary->complete) << (summary->refused.empty() ? "" : summary->refused[0]);
  ExpectServedAsAtTheHub(site_.get());
  EXPECT_EQ(site_->catalog->Channel("water")->served_version, 1);
}

// Site B only ever syncs through site A, a relay: the hub's newer trust list reaches it there.
TEST_F(RevocationTest, ASiteBehindARelayLearnsTheRevocationFromTheRelay) {
  AuthorizeAnotherPublisher(hub_->paths, leaked_.public_key());
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
  ASSERT_TRUE(SyncNode(&b, options).has_value());
  PlantVersionSignedBy(&b, "water", kTopVersion, leaked_);

  RevokeTheLeakedKey();
  ASSERT_TRUE(Sync().has_value());  // the relay takes trust list 3 from the hub
  auto summary = SyncNode(&b, options);
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  EXPECT_TRUE(summary->complete) << (summary->refused.empty() ? "" : summary->refused[0]);
  auto trust = LoadTrustList(b.paths, b.db->Hub()->root_key);
  ASSERT_TRUE(trust.has_value());
  EXPECT_FALSE(trust->Authorizes(leaked_.public_key(), "water"));
  ExpectServedAsAtTheHub(&b);
}

}  // namespace
}  // namespace outpost::testing
