// `outpost repair` on a hub whose catalog was damaged or deleted: the served tree comes back the
// same (channels --json, and every served file's path and bytes), from the signed manifests and
// the blobs, and a channel imported from a folder from its folder; what no local source has is
// listed as needing the hub.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "outpost/base/hash.h"
#include "outpost_cli.h"
#include "testing/damage.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const std::string kDemo = OUTPOST_DEMO_DIR;

class RepairCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Run({"hub", "init"}).exit_code, 0);
    ASSERT_EQ(Run({"publish", kDemo}).exit_code, 0);  // signed: a manifest is kept
    src_.Write("notes/outpost.toml", "[channel]\nid = \"notes\"\ntitle = \"Nos notes\"\n");
    src_.Write("notes/cours.html", "<!DOCTYPE html><title>Cours</title><p>La photosynthèse.</p>\n");
    ASSERT_EQ(Run({"import", (src_.path() / "notes").string()}).exit_code, 0);  // not signed
    channels_ = Channels();
    served_ = ServedFiles();
    ASSERT_EQ(channels_.size(), 2u);
    ASSERT_GT(served_.size(), 10u);
  }
  testing::ProcessResult Run(std::vector<std::string> args) {
    return testing::OutpostOn(data_.path(), std::move(args));
  }
  nlohmann::json Channels() { return testing::JsonOf(Run({"channels", "--json"})); }
  fs::path Catalog() const { return data_.path() / "catalog.db"; }
  // Each served file's channel, path and blob, with a check that the blob's bytes are its hash.
  std::vector<std::string> ServedFiles() {
    auto rows = testing::QueryRows(
        Catalog(), "SELECT n.channel_id, n.path, lower(hex(n.blob)) FROM nodes n JOIN channels c "
                   "ON n.channel_id = c.id AND n.version = c.served_version "
                   "WHERE n.blob IS NOT NULL ORDER BY 1, 2");
    for (const auto& row : rows) {
      auto hash = Hash::FromHex(row.substr(row.rfind(' ') + 1));
      std::string bytes = testing::ReadFile(data_.path() / "blobs" / row.substr(row.rfind(' ') + 1, 2) /
                                            row.substr(row.rfind(' ') + 3, 2) / hash->Hex());
      EXPECT_EQ(Hash::Of(bytes), *hash) << row;
    }
    return rows;
  }
  nlohmann::json Repair(int expected_exit) {
    auto r = Run({"repair", "--json", "--source", "notes=" + (src_.path() / "notes").string()});
    EXPECT_EQ(r.exit_code, expected_exit) << r.out << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }

  TempDir data_, src_;
  nlohmann::json channels_;
  std::vector<std::string> served_;
};

TEST_F(RepairCliTest, AZeroedPageOfTheNodesTableIsRepairedToTheSameServedTree) {
  uint32_t root = testing::RootPage(Catalog(), "nodes");
  ASSERT_GT(root, 1u);
  testing::ZeroPage(Catalog(), root);
  auto report = Repair(0);
  EXPECT_EQ(report["ok"], true) << report.dump();
  EXPECT_EQ(report["channels"].size(), 2u);
  ASSERT_TRUE(report["kept_aside"].is_string());
  EXPECT_TRUE(fs::exists(report["kept_aside"].get<std::string>()));  // the old file, not deleted
  EXPECT_EQ(Channels(), channels_);
  EXPECT_EQ(ServedFiles(), served_);
  EXPECT_EQ(Run({"verify"}).exit_code, 0);
}

// The damage campaign: the root page of each table and index of the catalog zeroed, or with
// bytes flipped in its middle, in turn, each on a fresh copy of the same data folder.
TEST_F(RepairCliTest, EveryTableAndIndexWithADamagedPageIsRepairedToTheSameServedTree) {
  TempDir pristine;
  fs::copy(data_.path(), pristine.path() / "data", fs::copy_options::recursive);
  auto roots = testing::QueryRows(Catalog(), "SELECT name, rootpage FROM sqlite_master "
                                             "WHERE rootpage > 1 ORDER BY name");
  ASSERT_GT(roots.size(), 10u);
  uint32_t page_size = testing::PageSize(Catalog());
  std::vector<std::pair<std::string, bool>> cases;
  for (bool flip : {false, true}) {
    for (const auto& row : roots) cases.emplace_back(row, flip);
  }
  for (const auto& [row, flip] : cases) {
    SCOPED_TRACE(row + (flip ? " flipped" : " zeroed"));
    fs::remove_all(data_.path());
    fs::copy(pristine.path() / "data", data_.path(), fs::copy_options::recursive);
    auto page = static_cast<uint32_t>(std::stoul(row.substr(row.find(' ') + 1)));
    if (flip) {
      uint64_t middle = uint64_t{page - 1} * page_size + page_size / 2;
      for (uint64_t i = 0; i < 16; ++i) testing::FlipByte(Catalog(), middle + i, 0xff);
    } else {
      testing::ZeroPage(Catalog(), page);
    }
    auto report = Repair(0);
    EXPECT_EQ(report["ok"], true) << report.dump();
    EXPECT_EQ(Channels(), channels_);
    EXPECT_EQ(ServedFiles(), served_);
  }
}

TEST_F(RepairCliTest, ADeletedCatalogIsRebuiltToTheSameServedTree) {
  fs::remove(Catalog());
  auto report = Repair(0);
  EXPECT_EQ(report["ok"], true) << report.dump();
  EXPECT_TRUE(report["kept_aside"].is_null());
  EXPECT_EQ(Channels(), channels_);
  EXPECT_EQ(ServedFiles(), served_);
  EXPECT_EQ(Run({"verify"}).exit_code, 0);
}

TEST_F(RepairCliTest, ABlobNoLocalSourceHasIsListedAsNeedingTheHub) {
  std::string row;
  for (const auto& r : served_) {
    if (r.rfind("water-cycle ", 0) == 0) row = r;
  }
  ASSERT_FALSE(row.empty());
  std::string hex = row.substr(row.rfind(' ') + 1);
  fs::remove(data_.path() / "blobs" / hex.substr(0, 2) / hex.substr(2, 2) / hex);
  fs::remove(Catalog());
  auto report = Repair(5);
  EXPECT_EQ(report["ok"], false);
  ASSERT_EQ(report["needs_hub"].size(), 1u) << report.dump();
  EXPECT_EQ(report["needs_hub"][0]["id"], "water-cycle");
  EXPECT_EQ(report["needs_hub"][0]["blobs"], nlohmann::json::array({hex}));
  // The folder-imported channel came back from its folder.
  auto channels = Channels();
  ASSERT_EQ(channels.size(), 1u);
  EXPECT_EQ(channels[0]["id"], "notes");
  // This box is the hub: the advice is to publish again, not to sync with itself.
  auto text = Run({"repair", "--source", "notes=" + (src_.path() / "notes").string()});
  EXPECT_EQ(text.exit_code, 5);
  EXPECT_NE(text.out.find("publish the channel's folder again"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("outpost sync"), std::string::npos) << text.out;
}

TEST_F(RepairCliTest, AnOlderWholeVersionIsServedWhileTheNewestWaitsForTheHub) {
  fs::copy(kDemo, src_.path() / "demo", fs::copy_options::recursive);
  std::string page = "<!DOCTYPE html><title>Nouveau</title><p>Une page de la version 2.</p>\n";
  src_.Write("demo/nouveau.html", page);
  ASSERT_EQ(Run({"publish", (src_.path() / "demo").string()}).exit_code, 0);
  Hash only_in_2 = Hash::Of(page);
  fs::remove(data_.path() / "blobs" / only_in_2.Hex().substr(0, 2) /
             only_in_2.Hex().substr(2, 2) / only_in_2.Hex());
  fs::remove(Catalog());
  auto report = Repair(5);
  ASSERT_EQ(report["needs_hub"].size(), 1u) << report.dump();
  EXPECT_EQ(report["needs_hub"][0]["version"], 2);
  EXPECT_EQ(report["needs_hub"][0]["served_meanwhile"], 1);
  EXPECT_EQ(report["needs_hub"][0]["blobs"], nlohmann::json::array({only_in_2.Hex()}));
  EXPECT_EQ(Channels(), channels_);  // version 1, as before the second publish
}

TEST_F(RepairCliTest, AManifestSignedByAKeyThisBoxDoesNotTrustIsSkippedNotServed) {
  // Another hub's version 2 of the same channel, validly signed by its own publisher.
  TempDir other;
  ASSERT_EQ(testing::OutpostOn(other.path(), {"hub", "init"}).exit_code, 0);
  fs::copy(kDemo, src_.path() / "demo", fs::copy_options::recursive);
  ASSERT_EQ(testing::OutpostOn(other.path(), {"publish", (src_.path() / "demo").string()}).exit_code, 0);
  src_.Write("demo/autre.html", "<!DOCTYPE html><title>Autre</title><p>Pas d'ici.</p>\n");
  ASSERT_EQ(testing::OutpostOn(other.path(), {"publish", (src_.path() / "demo").string()}).exit_code, 0);
  fs::copy_file(other.path() / "manifests" / "water-cycle" / "2.opsm",
                data_.path() / "manifests" / "water-cycle" / "2.opsm");
  fs::remove(Catalog());
  auto report = Repair(0);
  EXPECT_TRUE(report["problems"].empty()) << report.dump();
  ASSERT_EQ(report["skipped"].size(), 1u) << report.dump();
  EXPECT_EQ(Channels(), channels_);  // this hub's own version 1
}

TEST_F(RepairCliTest, AManifestCopyWhoseSignatureDoesNotVerifyIsNotServed) {
  fs::path copy = data_.path() / "manifests" / "water-cycle" / "1.opsm";
  ASSERT_TRUE(fs::exists(copy));
  testing::FlipByte(copy, fs::file_size(copy) - 10);  // inside the signature
  fs::remove(Catalog());
  auto report = Repair(5);
  ASSERT_EQ(report["problems"].size(), 1u) << report.dump();
  EXPECT_NE(report["problems"][0].get<std::string>().find("1.opsm"), std::string::npos);
  auto channels = Channels();
  ASSERT_EQ(channels.size(), 1u);
  EXPECT_EQ(channels[0]["id"], "notes");
}

// A school's box: the hub's curriculum came by stick (signed by the hub's publisher), its own
// lessons it published itself (signed by its node key). Both come back from their manifests.
TEST(RepairSiteTest, ASiteRebuildsWhatCameByStickAndWhatItPublishedItself) {
  TempDir hub, site, stick, src;
  auto on = [](const TempDir& d, std::vector<std::string> args) {
    return testing::OutpostOn(d.path(), std::move(args));
  };
  ASSERT_EQ(on(hub, {"hub", "init"}).exit_code, 0);
  ASSERT_EQ(on(hub, {"publish", kDemo}).exit_code, 0);
  fs::path enrolment = src.path() / "ecole.opef";
  ASSERT_EQ(on(hub, {"hub", "enrol", "--name", "ecole", "--to", enrolment.string()}).exit_code, 0);
  ASSERT_EQ(on(site, {"join", enrolment.string()}).exit_code, 0);
  ASSERT_EQ(on(hub, {"bundle", "export", "--to", stick.path().string(), "--for", "ecole"}).exit_code, 0);
  ASSERT_EQ(on(site, {"bundle", "import", stick.path().string()}).exit_code, 0);
  src.Write("notes/outpost.toml", "[channel]\nid = \"ecole-notes\"\ntitle = \"Nos notes\"\n");
  src.Write("notes/cours.html", "<!DOCTYPE html><title>Cours</title><p>La photosynthèse.</p>\n");
  ASSERT_EQ(on(site, {"publish", (src.path() / "notes").string()}).exit_code, 0);
  auto before = testing::JsonOf(on(site, {"channels", "--json"}));
  ASSERT_EQ(before.size(), 2u);

  fs::remove(site.path() / "catalog.db");
  auto r = on(site, {"repair", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(testing::JsonOf(on(site, {"channels", "--json"})), before);
  EXPECT_EQ(on(site, {"verify"}).exit_code, 0);
}

}  // namespace
}  // namespace outpost
