#include "outpost/sync/publish.h"

#include <gtest/gtest.h>

#include "outpost/sync/manifest.h"
#include "test_hub.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::NewIdentity;

using PublishTest = testing::HubTest;

TEST_F(PublishTest, PublishSignsTheImportedVersionAndAnUnchangedFolderMakesNoNewOne) {
  MakeHub();
  auto first = PublishFolder();
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_EQ(first->channel_id, "science");
  EXPECT_EQ(first->version, 1);
  EXPECT_TRUE(first->new_version);
  auto channel = catalog_->Channel("science");
  EXPECT_EQ(channel->manifest_hash, first->manifest_hash);

  auto envelope = catalog_->ManifestEnvelope("science", 1);
  ASSERT_TRUE(envelope.has_value());
  auto manifest = VerifySignedManifest(*envelope, HeldTrust());
  ASSERT_TRUE(manifest.has_value()) << manifest.error().ToString();
  EXPECT_EQ(manifest->hash, first->manifest_hash);
  EXPECT_EQ(manifest->version, 1u);
  EXPECT_EQ(ParseSignedManifest(*envelope)->publisher, hub_.publisher_key);

  auto again = PublishFolder();
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_EQ(again->version, 1);
  EXPECT_FALSE(again->new_version);
  EXPECT_EQ(again->manifest_hash, first->manifest_hash);
  EXPECT_EQ(catalog_->ManifestEnvelope("science", 1), envelope);  // not even signed again

  src_.Write("science/rain.txt", "more rain");
  auto second = PublishFolder();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->version, 2);
  EXPECT_TRUE(second->new_version);
  EXPECT_NE(second->manifest_hash, first->manifest_hash);
  EXPECT_EQ(catalog_->Channel("science")->manifest_hash, second->manifest_hash);
}

TEST_F(PublishTest, PublishSignsAVersionThatWasServedUnsigned) {
  MakeHub();
  // An import that stopped before its signature (or a plain `outpost import` on the hub).
  ASSERT_TRUE(Importer(store_.get(), catalog_.get()).Import(Folder(), {}).has_value());
  EXPECT_EQ(catalog_->Channel("science")->manifest_hash, std::nullopt);
  auto published = PublishFolder();
  ASSERT_TRUE(published.has_value()) << published.error().ToString();
  EXPECT_EQ(published->version, 1);
  EXPECT_FALSE(published->new_version);
  EXPECT_EQ(catalog_->Channel("science")->manifest_hash, published->manifest_hash);
}

TEST_F(PublishTest, AfterARotationPublishSignsTheSameManifestWithTheNewKey) {
  MakeHub();
  auto first = PublishFolder();
  ASSERT_TRUE(first.has_value());
  Identity next = NewIdentity();
  TrustList rotated;
  rotated.sequence = 2;
  rotated.entries = {{hub_.publisher_key, {"*"}, KeyState::kRevoked},
                     {next.public_key(), {"*"}, KeyState::kActive}};
  ASSERT_TRUE(Issue(rotated).ok());
  // The old key is refused before anything is imported.
  auto refused = PublishFolder();
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.error().message().find("nothing was imported"), std::string::npos);

  fs::remove(paths_.publisher_key);
  ASSERT_TRUE(SaveIdentity(next, paths_.publisher_key).ok());
  auto resigned = PublishFolder();
  ASSERT_TRUE(resigned.has_value()) << resigned.error().ToString();
  EXPECT_EQ(resigned->version, 1);
  EXPECT_FALSE(resigned->new_version);
  EXPECT_EQ(resigned->manifest_hash, first->manifest_hash);  // same manifest, new envelope
  auto envelope = catalog_->ManifestEnvelope("science", 1);
  EXPECT_EQ(ParseSignedManifest(*envelope)->publisher, next.public_key());
  EXPECT_TRUE(VerifySignedManifest(*envelope, HeldTrust()).has_value());
}

TEST_F(PublishTest, PublishRefusesAChannelTheKeyMayNotSign) {
  MakeHub();
  TrustList maths_only;
  maths_only.sequence = 2;
  maths_only.entries = {{hub_.publisher_key, {"maths"}, KeyState::kActive}};
  ASSERT_TRUE(Issue(maths_only).ok());
  // Named up front: refused before the import.
  auto named = PublishFolder("science");
  ASSERT_FALSE(named.has_value());
  EXPECT_EQ(named.error().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(catalog_->Channel("science").has_value());
  // Known only from the folder: imported, served unsigned, and said so.
  auto derived = PublishFolder();
  ASSERT_FALSE(derived.has_value());
  EXPECT_NE(derived.error().message().find("unsigned"), std::string::npos)
      << derived.error().message();
  EXPECT_EQ(catalog_->Channel("science")->manifest_hash, std::nullopt);
  // Allowed for maths: fine.
  auto maths = PublishFolder("maths");
  ASSERT_TRUE(maths.has_value()) << maths.error().ToString();
}

Status Retitle(VersionDraft* d) {
  d->meta.title = "Sciences de la vie";
  return Status::Ok();
}

// An edit of the served version signs as publish does: the publisher key, within the trust
// list; the untouched pages keep their search text.
TEST_F(PublishTest, AnEditOnAHubIsSignedByThePublisherKeyAndKeepsTheSearchText) {
  MakeHub();
  ASSERT_TRUE(PublishFolder().has_value());
  auto edited = PublishEdit(paths_, catalog_.get(), "science", Retitle);
  ASSERT_TRUE(edited.has_value()) << edited.error().ToString();
  EXPECT_EQ(edited->version, 2);
  EXPECT_TRUE(edited->new_version);
  auto envelope = catalog_->ManifestEnvelope("science", 2);
  ASSERT_TRUE(envelope.has_value());
  auto manifest = VerifySignedManifest(*envelope, HeldTrust());
  ASSERT_TRUE(manifest.has_value()) << manifest.error().ToString();
  EXPECT_EQ(manifest->hash, edited->manifest_hash);
  EXPECT_EQ(ParseSignedManifest(*envelope)->publisher, hub_.publisher_key);
  EXPECT_EQ(catalog_->Channel("science")->meta.title, "Sciences de la vie");
  auto hits = catalog_->Search("soleil");
  ASSERT_TRUE(hits.has_value());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].path, "fr/evaporation.html");
  // The same edit again changes nothing: no version, the served one already signed.
  auto again = PublishEdit(paths_, catalog_.get(), "science", Retitle);
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->new_version);
  EXPECT_EQ(again->version, 2);
}

TEST_F(PublishTest, AnEditOnAHubRefusesASitesChannelAndOneTheKeyMayNotSign) {
  MakeHub();
  ASSERT_TRUE(PublishFolder().has_value());
  VersionDraft notes;
  notes.channel_id = "ecole-1-notes";
  notes.meta.title = "Notes";
  ASSERT_TRUE(catalog_->CommitVersion(notes).has_value());
  ASSERT_TRUE(OpenDb()->ClaimChannel("ecole-1-notes", NewIdentity().public_key()).ok());
  auto site = PublishEdit(paths_, catalog_.get(), "ecole-1-notes", Retitle);
  ASSERT_FALSE(site.has_value());
  EXPECT_EQ(site.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(site.error().message().find("a site's own channel"), std::string::npos);
  EXPECT_EQ(catalog_->Channel("ecole-1-notes")->served_version, 1);

  TrustList maths_only;
  maths_only.sequence = 2;
  maths_only.entries = {{hub_.publisher_key, {"maths"}, KeyState::kActive}};
  ASSERT_TRUE(Issue(maths_only).ok());
  auto refused = PublishEdit(paths_, catalog_.get(), "science", Retitle);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.error().message().find("nothing was changed"), std::string::npos)
      << refused.error().message();
  EXPECT_EQ(catalog_->Channel("science")->served_version, 1);
}

TEST_F(PublishTest, PublishOutsideAHubSaysHowToMakeOne) {
  OpenLibrary();
  auto r = PublishFolder();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kNotFound);
  EXPECT_NE(r.error().message().find("hub init"), std::string::npos);
  EXPECT_FALSE(catalog_->Channel("science").has_value());
}

}  // namespace
}  // namespace outpost
