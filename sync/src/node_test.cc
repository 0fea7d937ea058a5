#include "outpost/sync/node.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;

TEST(NodePathsTest, PathsLayOutTheDataFolder) {
  testing::TempDir data;
  const fs::path d = data.path();
  NodePaths paths(d);
  EXPECT_EQ(paths.data, d);
  EXPECT_EQ(paths.keys, d / "keys");
  EXPECT_EQ(paths.node_key, d / "keys/node.key");
  EXPECT_EQ(paths.root_key, d / "keys/root.key");
  EXPECT_EQ(paths.publisher_key, d / "keys/publisher.key");
  EXPECT_EQ(paths.sync_dir, d / "sync");
  EXPECT_EQ(paths.trust_list, d / "sync/trust.optl");
  EXPECT_EQ(paths.sync_db, d / "sync/sync.db");
  EXPECT_EQ(paths.staging, d / "staging");
  EXPECT_EQ(paths.trust_lock, d / "sync/trust.lock");
}

TEST(SyncAddressTest, HostAndPortAreChecked) {
  for (const char* good : {"hub.example.org:7600", "10.0.0.1:1", "[::1]:65535", "hub:80"}) {
    EXPECT_TRUE(IsValidSyncAddress(good)) << good;
  }
  for (const char* bad : {"", "hub", ":7600", "hub:", "hub:0", "hub:65536", "hub:07600", "hub:76a0",
                          "::1:7600", "[::1:7600", "ha b:1", "user@hub:1", "hub/x:1", "[zz]:1"}) {
    EXPECT_FALSE(IsValidSyncAddress(bad)) << bad;
  }
  EXPECT_TRUE(IsValidSiteName("ecole-karantina-2"));
  EXPECT_FALSE(IsValidSiteName("-x"));
  EXPECT_FALSE(IsValidSiteName(std::string(65, 'a')));
}

TEST(NodePathsTest, NotAHubIsNotFoundAndSaysHowToMakeOne) {
  Status st = NotAHub(NodePaths("/srv/outpost"));
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_EQ(st.message(),
            "/srv/outpost is not a hub: run outpost hub init --data /srv/outpost first");
}

}  // namespace
}  // namespace outpost
