// A site's report rides its stick to the hub (docs/bundle.md, record 9).
#include <gtest/gtest.h>

#include "bundle/bundle_records.h"
#include "bundle/bundle_test_fixture.h"
#include "bundle/bundle_volume.h"
#include "outpost/sync/site_list.h"
#include "privacy_check.h"

namespace outpost {
namespace {

using testing::TempDir;

class BundleReportTest : public testing::BundleFixture {
 protected:
  PublicKey SiteKey() { return LoadIdentity(site_.paths.node_key)->public_key(); }
  Result<BundleExportResult> ExportToHub(const std::filesystem::path& to) {
    BundleExportOptions options;
    options.to = to;
    options.usage = testing::UsageWithSmallCounts;
    return Export(&site_, options);
  }
};

TEST_F(BundleReportTest, TheHubKeepsTheSitesReportFromItsStick) {
  ASSERT_TRUE(Export(&hub_, stick_.path(), {"ecole-1"}).has_value());
  ASSERT_TRUE(Import(&site_, stick_.path()).has_value());
  TempDir up;
  ASSERT_TRUE(ExportToHub(up.path()).has_value());
  auto imported = Import(&hub_, up.path());
  ASSERT_TRUE(imported.has_value()) << imported.error().message();
  auto stored = hub_.db->SiteReportOf(SiteKey());
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->via, "stick");
  EXPECT_EQ(stored->software, "0.1.0");
  EXPECT_EQ(stored->served, (std::map<std::string, uint64_t>{{"water", 1}}));
  EXPECT_GT(stored->disk_free, 0u);
  EXPECT_EQ(hub_.db->Peer(SiteKey())->last_via, "stick");
  auto usage = hub_.db->UsageAcrossSites("2026-12-01", "2026-12-31");
  ASSERT_EQ(usage.size(), 2u);
  EXPECT_EQ(usage[1], (ReportedUsage{"2026-12-07", "water", "lesson-3.html", 5}));
}

TEST_F(BundleReportTest, AForgedReportOnAStickIsRefusedAndTheImportGoesOn) {
  // A stick whose report is signed by another key than its site's: the volume is the site's,
  // the report is not.
  auto other = Identity::Generate().value();
  SiteReport forged;
  forged.reported_at = 1796000000;
  forged.software = "9.9.9";
  std::string body = EncodeSiteReport(forged, other).value();
  EXPECT_FALSE(TakeSiteReport(hub_.db.get(), SiteKey(), body, kViaStick).ok());
  TempDir up;
  ASSERT_TRUE(ExportToHub(up.path()).has_value());
  auto imported = Import(&hub_, up.path());
  ASSERT_TRUE(imported.has_value());
  EXPECT_EQ(hub_.db->SiteReportOf(SiteKey())->software, "0.1.0");
}

// Everything the site's stick carries for its hub, read as the hub reads it.
TEST_F(BundleReportTest, AStickForTheHubHoldsNoAddressNoSessionAndNoCountUnderFive) {
  testing::PlantPrivateLogLines(site_.paths);
  TempDir up;
  auto exported = ExportToHub(up.path());
  ASSERT_TRUE(exported.has_value()) << exported.error().message();
  auto hub_key = LoadIdentity(hub_.paths.node_key);
  std::string sent;
  std::vector<std::string> reports;
  for (const auto& volume : exported->volumes) {
    auto reader = sync::VolumeReader::Open(volume, *hub_key);
    ASSERT_TRUE(reader.has_value()) << reader.error().message();
    for (;;) {
      auto record = (*reader)->Next();
      ASSERT_TRUE(record.has_value()) << record.error().message();
      if (!*record) break;
      sent += std::string(1, static_cast<char>((*record)->type)) + (*record)->body;
      if ((*record)->type == sync::kReportRecord) reports.push_back((*record)->body);
    }
  }
  testing::ExpectNothingPrivate(sent, reports);
}

}  // namespace
}  // namespace outpost
