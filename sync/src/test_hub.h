// Private to sync/'s tests: a data folder made into a hub by InitHub, with its library, for the
// tests of what a hub does without a network (trust lists, publishing, rotation, enrolment),
// and the small helpers those tests share.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <array>
#include <filesystem>
#include <memory>
#include <numeric>
#include <string>

#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/identity.h"
#include "outpost/sync/node.h"
#include "outpost/sync/publish.h"
#include "outpost/sync/sync_db.h"
#include "outpost/sync/trust_store.h"
#include "testing/temp_dir.h"

namespace outpost::testing {

inline unsigned ModeOf(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

inline Identity LoadKey(const std::filesystem::path& key_file) {
  auto id = LoadIdentity(key_file);
  EXPECT_TRUE(id.has_value()) << id.error().ToString();
  return std::move(*id);
}

// The identity of the seed first, first+1, ..., first+31 (docs/sync.md's examples).
inline Identity FromSeedStartingAt(uint8_t first) {
  std::array<uint8_t, 32> seed;
  std::iota(seed.begin(), seed.end(), first);
  auto id = Identity::FromSeed(seed);
  EXPECT_TRUE(id.has_value());
  return std::move(*id);
}

inline Identity NewIdentity() {
  auto id = Identity::Generate();
  EXPECT_TRUE(id.has_value());
  return std::move(*id);
}

class HubTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto()); }
  // A hub made by InitHub, with its library open.
  void MakeHub() {
    auto init = InitHub(paths_);
    ASSERT_TRUE(init.has_value()) << init.error().ToString();
    hub_ = *init;
    OpenLibrary();
  }
  void OpenLibrary() {
    auto store = BlobStore::Open(data_.path());
    ASSERT_TRUE(store.has_value());
    store_ = std::move(*store);
    auto catalog = Catalog::Open(data_.path() / "catalog.db");
    ASSERT_TRUE(catalog.has_value());
    catalog_ = std::move(*catalog);
  }
  std::unique_ptr<SyncDb> OpenDb() {
    auto db = SyncDb::Open(paths_.sync_db);
    EXPECT_TRUE(db.has_value()) << db.error().ToString();
    return db ? std::move(*db) : nullptr;
  }
  // A small channel folder, "science" (written the first time).
  std::filesystem::path Folder() {
    std::filesystem::path folder = src_.path() / "science";
    if (!std::filesystem::exists(folder)) {
      src_.Write("science/fr/evaporation.html", "<title>L'évaporation</title><p>Le soleil</p>");
      src_.Write("science/rain.txt", "rain");
    }
    return folder;
  }
  Result<PublishResult> PublishFolder(const std::string& channel = "") {
    return Publish(paths_, store_.get(), catalog_.get(), Folder(), channel);
  }
  TrustList HeldTrust() {
    auto list = LoadTrustList(paths_, hub_.root_key);
    EXPECT_TRUE(list.has_value()) << list.error().ToString();
    return list ? *list : TrustList{};
  }
  // Signs `list` with the hub's root and stores it as the held list.
  Status Issue(const TrustList& list) {
    auto doc = SignTrustList(list, LoadKey(paths_.root_key));
    if (!doc) return doc.error();
    return StoreTrustList(paths_, hub_.root_key, *doc);
  }

  TempDir data_, src_;
  NodePaths paths_{data_.path()};
  HubInitResult hub_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<Catalog> catalog_;
};

}  // namespace outpost::testing
