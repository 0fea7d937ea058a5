#include "version_signing.h"

#include <gtest/gtest.h>

#include "outpost/content/importer.h"
#include "outpost/sync/manifest.h"
#include "test_hub.h"

namespace outpost {
namespace {

using testing::LoadKey;
using testing::NewIdentity;

class VersionSigningTest : public testing::HubTest {
 protected:
  // Imports the test folder as `channel`, served unsigned (version 1).
  void ImportAs(const std::string& channel) {
    ImportOptions options;
    options.channel_id = channel;
    auto report = Importer(store_.get(), catalog_.get()).Import(Folder(), options);
    ASSERT_TRUE(report.has_value()) << report.error().ToString();
    ASSERT_EQ(catalog_->Channel(channel)->served_version, 1);
  }
  void Sign(const std::string& channel, const Identity& key) {
    auto hash = SignServedVersion(catalog_.get(), channel, 1, key);
    ASSERT_TRUE(hash.has_value()) << hash.error().ToString();
  }
  // Trust list 2, as the root signs it: the hub's publisher revoked, `next` active for
  // `channels`.
  TrustList Rotated(const Identity& next, std::vector<std::string> channels) {
    TrustList list = HeldTrust();
    list.sequence = 2;
    list.entries[0].state = KeyState::kRevoked;
    list.entries.push_back({next.public_key(), std::move(channels), KeyState::kActive});
    auto signed_list = VerifyTrustList(SignTrustList(list, LoadKey(paths_.root_key)).value(),
                                       hub_.root_key);
    EXPECT_TRUE(signed_list.has_value()) << signed_list.error().ToString();
    return signed_list ? *signed_list : TrustList{};
  }
};

TEST_F(VersionSigningTest, ASignedVersionCarriesAManifestItsTrustListVerifies) {
  MakeHub();
  ImportAs("science");
  EXPECT_EQ(SignerOf(catalog_.get(), "science", 1), std::nullopt);
  EXPECT_FALSE(SignedByATrustedKey(catalog_.get(), "science", 1, HeldTrust()));

  Identity publisher = LoadKey(paths_.publisher_key);
  auto hash = SignServedVersion(catalog_.get(), "science", 1, publisher);
  ASSERT_TRUE(hash.has_value()) << hash.error().ToString();
  EXPECT_EQ(catalog_->Channel("science")->manifest_hash, *hash);
  auto manifest = VerifySignedManifest(*catalog_->ManifestEnvelope("science", 1), HeldTrust());
  ASSERT_TRUE(manifest.has_value()) << manifest.error().ToString();
  EXPECT_EQ(manifest->hash, *hash);
  EXPECT_EQ(SignerOf(catalog_.get(), "science", 1), publisher.public_key());
  EXPECT_TRUE(SignedByATrustedKey(catalog_.get(), "science", 1, HeldTrust()));
  EXPECT_FALSE(SignedByATrustedKey(catalog_.get(), "science", 1, Rotated(NewIdentity(), {"*"})));
}

TEST_F(VersionSigningTest, AfterARotationOnlyWhatARevokedListedKeySignedIsSignedAgain) {
  MakeHub();
  Identity old_key = LoadKey(paths_.publisher_key), next = NewIdentity(), site = NewIdentity();
  for (const char* channel : {"science", "art", "notes", "maths"}) ImportAs(channel);
  Sign("science", old_key);
  Sign("art", old_key);  // the new key may not sign it
  Sign("notes", site);   // a site's channel: its key is not in the trust list
  // "maths" stays unsigned.
  Hash science_manifest = *catalog_->Channel("science")->manifest_hash;

  auto resigned = ResignServedVersions(catalog_.get(), Rotated(next, {"science", "notes", "maths"}),
                                       next);
  ASSERT_TRUE(resigned.has_value()) << resigned.error().ToString();
  EXPECT_EQ(*resigned, 1);
  EXPECT_EQ(SignerOf(catalog_.get(), "science", 1), next.public_key());
  EXPECT_EQ(catalog_->Channel("science")->manifest_hash, science_manifest);  // a new envelope
  EXPECT_EQ(SignerOf(catalog_.get(), "art", 1), old_key.public_key());
  EXPECT_EQ(SignerOf(catalog_.get(), "notes", 1), site.public_key());
  EXPECT_EQ(SignerOf(catalog_.get(), "maths", 1), std::nullopt);
}

// A new trust list withdraws only what a publisher it no longer authorizes signed: a channel
// this node signed itself (a site's own, by its node key) and an unsigned one stay served.
TEST_F(VersionSigningTest, AWithdrawalLeavesTheNodesOwnAndUnsignedChannelsServed) {
  MakeHub();
  ImportAs("science");
  ImportAs("notes");
  ImportAs("local");
  Identity self = NewIdentity();
  Sign("science", LoadKey(paths_.publisher_key));
  Sign("notes", self);
  auto withdrawn = WithdrawUntrustedVersions(catalog_.get(), Rotated(NewIdentity(), {"*"}),
                                             self.public_key());
  ASSERT_TRUE(withdrawn.has_value()) << withdrawn.error().ToString();
  ASSERT_EQ(withdrawn->size(), 1u);
  EXPECT_EQ((*withdrawn)[0].channel_id, "science");
  EXPECT_EQ((*withdrawn)[0].now_served, 0);
  EXPECT_NE((*withdrawn)[0].Describe().find("hidden"), std::string::npos) << (*withdrawn)[0].Describe();
  EXPECT_EQ(catalog_->Channel("science")->served_version, 0);
  EXPECT_EQ(catalog_->Channel("notes")->served_version, 1);
  EXPECT_EQ(catalog_->Channel("local")->served_version, 1);
  // Nothing more to withdraw under the same list.
  auto again = WithdrawUntrustedVersions(catalog_.get(), Rotated(NewIdentity(), {"*"}), self.public_key());
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->empty());
}

}  // namespace
}  // namespace outpost
