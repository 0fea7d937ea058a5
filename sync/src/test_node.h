// Private to sync/'s tests: one node's library and sync database in a folder, as a test makes
// them for a hub or a site.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/node.h"
#include "outpost/sync/sync_db.h"

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

}  // namespace outpost::testing
