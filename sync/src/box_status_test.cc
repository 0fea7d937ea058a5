// What a site holds and how far behind it is (box_status.h), from a real catalog and sync.db.
#include "outpost/sync/box_status.h"

#include <gtest/gtest.h>

#include "outpost/content/importer.h"
#include "test_node.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::TempDir;
using testing::TestNode;

TEST(BoxStatusTest, TheDiskWarningComesUnderTenPercentOrUnderTwiceTheNextSync) {
  constexpr uint64_t kGb = 1'000'000'000;
  EXPECT_EQ(DiskWarningReason(50 * kGb, 100 * kGb, 0), "");
  EXPECT_EQ(DiskWarningReason(11 * kGb, 100 * kGb, 0), "");
  EXPECT_EQ(DiskWarningReason(9 * kGb, 100 * kGb, 0), "low");
  EXPECT_EQ(DiskWarningReason(9 * kGb, 100 * kGb, 20 * kGb), "low");  // the worse one first
  EXPECT_EQ(DiskWarningReason(50 * kGb, 100 * kGb, 24 * kGb), "");
  EXPECT_EQ(DiskWarningReason(50 * kGb, 100 * kGb, 26 * kGb), "next_sync");
}

class BoxStatusNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_.Write("water/outpost.toml", "[channel]\ntitle = \"Water\"\n");
    src_.Write("water/rain.html", "<title>Rain</title><p>" + std::string(5000, 'r') + "</p>");
    src_.Write("maths/outpost.toml", "[channel]\ntitle = \"Maths\"\n");
    src_.Write("maths/sums.html", "<title>Sums</title><p>1 + 1</p>");
    for (const char* name : {"water", "maths"}) {
      Importer importer(node_.store.get(), node_.catalog.get());
      auto r = importer.Import(src_.path() / name, {});
      ASSERT_TRUE(r.has_value()) << r.error().ToString();
    }
  }
  const ChannelStatus* Find(const BoxStatus& s, const std::string& id) {
    for (const auto& c : s.channels) {
      if (c.id == id) return &c;
    }
    return nullptr;
  }

  TempDir src_, dir_;
  TestNode node_{dir_.path()};
};

TEST_F(BoxStatusNodeTest, ANeverSyncedBoxListsItsChannelsAndTheirSizes) {
  BoxStatus s = ReadBoxStatus(node_.paths, node_.catalog.get(), node_.db.get(), 1'800'000'000);
  ASSERT_EQ(s.channels.size(), 2u);
  const ChannelStatus* water = Find(s, "water");
  ASSERT_NE(water, nullptr);
  EXPECT_EQ(water->title, "Water");
  EXPECT_EQ(water->served_version, 1);
  EXPECT_EQ(water->staged_version, 0);
  EXPECT_GT(water->bytes, 5000u);
  EXPECT_FALSE(water->behind);
  EXPECT_EQ(s.content_bytes, Find(s, "maths")->bytes + water->bytes);
  EXPECT_FALSE(s.joined);
  EXPECT_FALSE(s.last_sync.has_value());
  EXPECT_EQ(s.days_since_sync, -1);
  EXPECT_EQ(s.channels_behind, 0);
  EXPECT_TRUE(s.disk.known);
  EXPECT_GT(s.disk.total_bytes, 0u);
  EXPECT_EQ(s.software_version, SoftwareVersion());
  nlohmann::json j = BoxStatusJson(s);
  EXPECT_EQ(j["sync"]["last"], nullptr);
  EXPECT_EQ(j["channels"].size(), 2u);
}

// Behind is the hub's last head against what is served now: a head the box has since reached
// costs nothing; a channel the hub offers that the box does not have yet is listed too.
TEST_F(BoxStatusNodeTest, HowFarBehindComesFromTheHubsLastHeads) {
  ASSERT_TRUE(node_.db->NoteHubHeads({{"water", 3, 4'000'000, 0},
                                      {"maths", 1, 900, 0},
                                      {"physics", 2, 7'000'000, 0}})
                  .ok());
  ASSERT_TRUE(node_.db->NoteSyncRun({1'700'000'000, 1'700'000'100, true, false, 5000,
                                     "stopped at the data budget"})
                  .ok());
  int64_t now = 1'700'000'100 + 3 * 24 * 3600 + 5;
  BoxStatus s = ReadBoxStatus(node_.paths, node_.catalog.get(), node_.db.get(), now);
  ASSERT_EQ(s.channels.size(), 3u);
  EXPECT_TRUE(Find(s, "water")->behind);
  EXPECT_EQ(Find(s, "water")->hub_version, 3u);
  EXPECT_FALSE(Find(s, "maths")->behind);
  EXPECT_EQ(Find(s, "maths")->next_sync_bytes, 0u);
  EXPECT_TRUE(Find(s, "physics")->behind);
  EXPECT_EQ(Find(s, "physics")->served_version, 0);
  EXPECT_EQ(s.channels_behind, 2);
  EXPECT_EQ(s.next_sync_bytes, 11'000'000u);
  ASSERT_TRUE(s.last_sync.has_value());
  EXPECT_EQ(s.days_since_sync, 3);
  nlohmann::json j = BoxStatusJson(s);
  EXPECT_EQ(j["sync"]["next_sync_bytes"], 11'000'000u);
  EXPECT_EQ(j["sync"]["last"]["message"], "stopped at the data budget");
}

TEST_F(BoxStatusNodeTest, WithoutASyncDatabaseNothingIsKnownOfTheHub) {
  BoxStatus s = ReadBoxStatus(node_.paths, node_.catalog.get(), nullptr, 1'800'000'000);
  EXPECT_EQ(s.channels.size(), 2u);
  EXPECT_FALSE(s.joined);
  EXPECT_FALSE(s.last_sync.has_value());
}

TEST(BoxStatusTest, TheSystemsMemoryIsRead) {
  MemoryStatus m = ReadSystemMemory();
  ASSERT_TRUE(m.known);
  EXPECT_GT(m.total_bytes, 0u);
  EXPECT_LE(m.available_bytes, m.total_bytes);
  EXPECT_GT(ReadProcessRss(), 0u);
}

}  // namespace
}  // namespace outpost
