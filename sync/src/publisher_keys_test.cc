#include "outpost/sync/publisher_keys.h"

#include <gtest/gtest.h>

#include "outpost/sync/manifest.h"
#include "test_hub.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::LoadKey;
using testing::NewIdentity;

using PublisherKeysTest = testing::HubTest;

TEST_F(PublisherKeysTest, RotatePublisherRevokesTheOldKeyAndSignsTheServedVersionsAgain) {
  MakeHub();
  auto first = PublishFolder();
  ASSERT_TRUE(first.has_value());
  auto change = RotatePublisher(paths_, catalog_.get());
  ASSERT_TRUE(change.has_value()) << change.error().ToString();
  EXPECT_EQ(change->trust_sequence, 2u);
  EXPECT_EQ(change->revoked, hub_.publisher_key);
  EXPECT_EQ(change->resigned, 1);
  ASSERT_TRUE(change->added);
  TrustList held = HeldTrust();
  EXPECT_EQ(held.sequence, 2u);
  EXPECT_EQ(held.Find(hub_.publisher_key)->state, KeyState::kRevoked);
  EXPECT_TRUE(held.Authorizes(*change->added, "science"));
  // The new key is the publisher key now, private; the old one is kept, revoked.
  EXPECT_EQ(LoadKey(paths_.publisher_key).public_key(), *change->added);
  EXPECT_EQ(fs::status(paths_.publisher_key).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_TRUE(fs::exists(paths_.keys / ("publisher-revoked-" + hub_.publisher_key.Fingerprint() + ".key")));
  EXPECT_FALSE(fs::exists(paths_.keys / "publisher.next.key"));
  // The served version: the same manifest, now signed by the new key.
  auto envelope = catalog_->ManifestEnvelope("science", 1);
  EXPECT_EQ(ParseSignedManifest(*envelope)->publisher, *change->added);
  EXPECT_EQ(catalog_->Channel("science")->manifest_hash, first->manifest_hash);
  EXPECT_TRUE(VerifySignedManifest(*envelope, held).has_value());
  // Publishing goes on with the new key.
  src_.Write("science/new.txt", "new");
  auto second = PublishFolder();
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_EQ(second->version, 2);
  EXPECT_EQ(ParseSignedManifest(*catalog_->ManifestEnvelope("science", 2))->publisher, *change->added);

  // Revocation: the old key again changes nothing; the current key must be rotated instead.
  auto again = RevokePublisher(paths_, hub_.publisher_key.Hex());
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), StatusCode::kAlreadyExists);
  auto current = RevokePublisher(paths_, change->added->Hex());
  ASSERT_FALSE(current.has_value());
  EXPECT_NE(current.error().message().find("rotate it"), std::string::npos);
  EXPECT_EQ(HeldTrust().sequence, 2u);
}

TEST_F(PublisherKeysTest, ARotationCutShortIsFinishedByRunningItAgain) {
  MakeHub();
  ASSERT_TRUE(PublishFolder().has_value());
  // A rotation that stopped after making its key and storing its trust list.
  Identity next = NewIdentity();
  ASSERT_TRUE(SaveIdentity(next, paths_.keys / "publisher.next.key").ok());
  TrustList list = HeldTrust();
  list.sequence = 2;
  list.entries = {{hub_.publisher_key, {"*"}, KeyState::kRevoked}, {next.public_key(), {"*"}, KeyState::kActive}};
  ASSERT_TRUE(Issue(list).ok());
  auto change = RotatePublisher(paths_, catalog_.get());
  ASSERT_TRUE(change.has_value()) << change.error().ToString();
  EXPECT_EQ(*change->added, next.public_key());
  EXPECT_EQ(change->trust_sequence, 2u);  // no third list
  EXPECT_EQ(LoadKey(paths_.publisher_key).public_key(), next.public_key());
  EXPECT_EQ(change->resigned, 1);
}

TEST_F(PublisherKeysTest, TheRootKeyMayBeKeptOffline) {
  MakeHub();
  fs::path stick = src_.path() / "usb-root.key";
  fs::rename(paths_.root_key, stick);
  auto missing = RotatePublisher(paths_, catalog_.get());
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("--root-key"), std::string::npos) << missing.error().ToString();
  // Another root is refused, and changes nothing.
  fs::path other = src_.path() / "other.key";
  ASSERT_TRUE(SaveIdentity(NewIdentity(), other).ok());
  auto wrong = RotatePublisher(paths_, catalog_.get(), other);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_NE(wrong.error().message().find("not this hub's root"), std::string::npos);
  EXPECT_EQ(HeldTrust().sequence, 1u);
  auto rotated = RotatePublisher(paths_, catalog_.get(), stick);
  ASSERT_TRUE(rotated.has_value()) << rotated.error().ToString();
  // A third key, made by hand and listed, can be revoked on its own.
  Identity extra = NewIdentity();
  TrustList list = HeldTrust();
  list.sequence = 3;
  list.entries.push_back({extra.public_key(), {"science"}, KeyState::kActive});
  auto doc = SignTrustList(list, LoadKey(stick));
  ASSERT_TRUE(doc.has_value());
  ASSERT_TRUE(StoreTrustList(paths_, hub_.root_key, *doc).ok());
  auto revoked = RevokePublisher(paths_, extra.public_key().Hex(), stick);
  ASSERT_TRUE(revoked.has_value()) << revoked.error().ToString();
  EXPECT_EQ(revoked->trust_sequence, 4u);
  EXPECT_FALSE(HeldTrust().Authorizes(extra.public_key(), "science"));
}

}  // namespace
}  // namespace outpost
