#include "outpost/sync/trust_store.h"

#include <gtest/gtest.h>

#include "test_hub.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::LoadKey;
using testing::ModeOf;
using testing::NewIdentity;
using testing::ReadFile;

using TrustStoreTest = testing::HubTest;

TEST_F(TrustStoreTest, HubInitMakesPrivateKeysAndAFirstTrustListForEveryChannel) {
  MakeHub();
  for (const fs::path& key : {paths_.node_key, paths_.root_key, paths_.publisher_key}) {
    EXPECT_EQ(ModeOf(key), 0600u) << key;
  }
  EXPECT_EQ(ModeOf(paths_.keys), 0700u);
  EXPECT_EQ(ModeOf(paths_.trust_list), 0644u);
  EXPECT_EQ(LoadKey(paths_.node_key).public_key(), hub_.node_key);
  EXPECT_EQ(LoadKey(paths_.root_key).public_key(), hub_.root_key);
  EXPECT_EQ(LoadKey(paths_.publisher_key).public_key(), hub_.publisher_key);
  EXPECT_NE(hub_.node_key, hub_.root_key);
  EXPECT_NE(hub_.root_key, hub_.publisher_key);

  TrustList list = HeldTrust();
  EXPECT_EQ(list.root, hub_.root_key);
  EXPECT_EQ(list.sequence, 1u);
  ASSERT_EQ(list.entries.size(), 1u);
  EXPECT_EQ(list.entries[0].publisher, hub_.publisher_key);
  EXPECT_EQ(list.entries[0].state, KeyState::kActive);
  EXPECT_EQ(list.entries[0].channels, std::vector<std::string>{"*"});
  EXPECT_EQ(OpenDb()->OwnRoot(), hub_.root_key);
}

TEST_F(TrustStoreTest, HubInitNeverReplacesAHub) {
  MakeHub();
  std::string root_file = ReadFile(paths_.root_key), list = ReadFile(paths_.trust_list);
  auto again = InitHub(paths_);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadFile(paths_.root_key), root_file);
  EXPECT_EQ(ReadFile(paths_.trust_list), list);
}

TEST_F(TrustStoreTest, HubInitFinishesAnInitThatStoppedBeforeTheRootKey) {
  MakeHub();
  PublicKey publisher = hub_.publisher_key;
  fs::remove(paths_.root_key);  // as if killed just before saving it
  auto init = InitHub(paths_);
  ASSERT_TRUE(init.has_value()) << init.error().ToString();
  EXPECT_EQ(init->publisher_key, publisher);  // never trusted by anyone yet: kept
  EXPECT_EQ(OpenDb()->OwnRoot(), init->root_key);
  EXPECT_TRUE(LoadTrustList(paths_, init->root_key).has_value());
}

TEST_F(TrustStoreTest, AJoinedSiteCannotBecomeAHub) {
  auto db = OpenDb();
  ASSERT_TRUE(
      db->SetHub({"hub:7600", NewIdentity().public_key(), NewIdentity().public_key(), "", "ecole"})
          .ok());
  db.reset();
  auto init = InitHub(paths_);
  ASSERT_FALSE(init.has_value());
  EXPECT_NE(init.error().message().find("site"), std::string::npos);
  EXPECT_FALSE(fs::exists(paths_.root_key));
}

TEST_F(TrustStoreTest, ATrustListFromAnotherRootIsRefused) {
  MakeHub();
  auto other = LoadTrustList(paths_, NewIdentity().public_key());
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), StatusCode::kCorrupt);
  EXPECT_NE(other.error().message().find(hub_.root_key.Fingerprint()), std::string::npos);

  Identity stranger = NewIdentity();
  TrustList list;
  list.sequence = 9;
  list.entries = {{stranger.public_key(), {"*"}, KeyState::kActive}};
  auto forged = SignTrustList(list, stranger);
  ASSERT_TRUE(forged.has_value());
  Status st = StoreTrustList(paths_, hub_.root_key, *forged);
  EXPECT_EQ(st.code(), StatusCode::kCorrupt);
  EXPECT_EQ(HeldTrust().sequence, 1u);
  EXPECT_EQ(LoadTrustList(NodePaths(src_.path()), hub_.root_key).error().code(),
            StatusCode::kNotFound);
}

TEST_F(TrustStoreTest, StoredTrustListsOnlyMoveForwardAndRevocationSticks) {
  MakeHub();
  Identity second = NewIdentity();
  TrustList two;
  two.sequence = 2;
  two.entries = {{hub_.publisher_key, {"*"}, KeyState::kRevoked},
                 {second.public_key(), {"science"}, KeyState::kActive}};
  ASSERT_TRUE(Issue(two).ok());
  EXPECT_EQ(HeldTrust().sequence, 2u);
  ASSERT_TRUE(Issue(two).ok());  // the same list again: nothing changes

  TrustList old;
  old.sequence = 1;
  old.entries = {{hub_.publisher_key, {"*"}, KeyState::kActive}};
  Status st = Issue(old);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  TrustList back = two;
  back.sequence = 3;
  back.entries[0].state = KeyState::kActive;
  EXPECT_EQ(Issue(back).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HeldTrust(), LoadTrustList(paths_, hub_.root_key).value());
  EXPECT_EQ(HeldTrust().sequence, 2u);

  // A damaged held list blocks replacement rather than letting any list in.
  testing::FlipByte(paths_.trust_list, 60);
  TrustList three = two;
  three.sequence = 3;
  st = Issue(three);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("delete"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace outpost
