// Private to sync/'s tests: one node's library and sync database in a folder, as a test makes
// them for a hub or a site.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>

#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/identity.h"
#include "outpost/sync/manifest.h"
#include "outpost/sync/node.h"
#include "outpost/sync/sync_db.h"
#include "outpost/sync/trust_store.h"

namespace outpost::testing {

struct TestNode {
  explicit TestNode(const std::filesystem::path& dir) : paths(dir) {
    auto s = BlobStore::Open(dir);
    EXPECT_TRUE(s.has_value());
    store = std::move(*s);
    auto c = Catalog::Open(dir / "catalog.db");
    EXPECT_TRUE(c.has_value());
    catalog = std::move(*c);
    std::filesystem::create_directories(paths.sync_dir);
    auto d = SyncDb::Open(paths.sync_db);
    EXPECT_TRUE(d.has_value()) << d.error().message();
    db = std::move(*d);
  }
  NodePaths paths;
  std::unique_ptr<BlobStore> store;
  std::unique_ptr<Catalog> catalog;
  std::unique_ptr<SyncDb> db;
};

// The highest version number a manifest may carry: what a leaked key publishes to freeze a
// channel (a site takes only versions above the one it serves).
inline constexpr int64_t kTopVersion = std::numeric_limits<int64_t>::max();

// What a leaked publisher key brings to a site by a forged stick or a hostile relay: the
// channel's served version retitled "Owned" (the same files), signed by `leaked` as `version`,
// served there as a received version is. The caller checks that the site's trust list lets
// `leaked` sign it, as the site did when it took it.
inline void PlantVersionSignedBy(TestNode* site, const std::string& channel, int64_t version,
                                 const Identity& leaked) {
  auto served = site->catalog->Channel(channel);
  ASSERT_TRUE(served.has_value());
  auto draft = site->catalog->LoadVersion(channel, served->served_version);
  ASSERT_TRUE(draft.has_value()) << draft.error().message();
  draft->meta.title = "Owned";
  auto envelope = SignManifest(*draft, static_cast<uint64_t>(version), leaked);
  ASSERT_TRUE(envelope.has_value()) << envelope.error().message();
  auto parts = ParseSignedManifest(*envelope);
  ASSERT_TRUE(parts.has_value());
  auto committed = site->catalog->CommitVersionAs(*draft, version, *envelope, Hash::Of(parts->manifest));
  ASSERT_TRUE(committed.has_value()) << committed.error().message();
}

// The hub's root issues its next trust list, with `publisher` active for every channel.
inline void AuthorizeAnotherPublisher(const NodePaths& hub, const PublicKey& publisher) {
  auto root = LoadIdentity(hub.root_key);
  ASSERT_TRUE(root.has_value());
  auto list = LoadTrustList(hub, root->public_key());
  ASSERT_TRUE(list.has_value()) << list.error().message();
  list->sequence += 1;
  list->entries.push_back({publisher, {std::string(kAllChannels)}, KeyState::kActive});
  auto doc = SignTrustList(*list, *root);
  ASSERT_TRUE(doc.has_value()) << doc.error().message();
  ASSERT_TRUE(StoreTrustList(hub, root->public_key(), *doc).ok());
}

}  // namespace outpost::testing
