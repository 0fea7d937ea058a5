#include "outpost/sync/site_list.h"

#include <gtest/gtest.h>

#include "outpost/sync/publish.h"
#include "outpost/sync/trust_store.h"
#include "test_node.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::TempDir;

class SiteListTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitHub(hub_.paths).has_value());
    folder_.Write("outpost.toml", "[channel]\nid = \"water\"\ntitle = \"Water\"\nlanguage = \"en\"\n");
    folder_.Write("rain.html", "<p>rain</p>");
    ASSERT_TRUE(Publish(hub_.paths, hub_.store.get(), hub_.catalog.get(), folder_.path(), "").has_value());
    folder_.Write("rain.html", "<p>rain, again</p>");
    ASSERT_TRUE(Publish(hub_.paths, hub_.store.get(), hub_.catalog.get(), folder_.path(), "").has_value());
    for (const char* name : {"ecole-b", "ecole-a", "ecole-c"}) {
      PeerInfo p;
      p.key = Identity::Generate()->public_key();
      p.name = name;
      p.role = "site";
      ASSERT_TRUE(hub_.db->AddPeer(p).ok());
      keys_[name] = p.key;
    }
    ASSERT_TRUE(hub_.db->RevokePeer("ecole-c").ok());
    ASSERT_TRUE(hub_.db->ClaimChannel("ecole-a-notes", keys_["ecole-a"]).ok());
    // Longer than a short string held in place: its bytes are read from the query's copy.
    ASSERT_TRUE(hub_.db->ClaimChannel("ecole-a-sciences-naturelles-et-vie", keys_["ecole-a"]).ok());
    hub_.db->set_clock([this] { return now_; });
  }

  SiteReport Report(const std::string& name, int64_t at, uint64_t water) {
    SiteReport r;
    r.site = keys_[name];
    r.reported_at = at;
    r.software = "0.1.0";
    r.disk_total = 1000;
    r.disk_free = 400;
    r.served = {{"water", water}, {"ecole-a-notes", 1}};
    r.errors_logged = 3;
    r.errors = {{at - 5, "warn", "first"}, {at - 1, "error", "the last one"}};
    r.usage = {{"2026-12-07", "water", "rain.html", 6}};
    return r;
  }

  TempDir dir_, folder_;
  testing::TestNode hub_{dir_.path()};
  std::map<std::string, PublicKey> keys_;
  int64_t now_ = 1796000000;
};

TEST_F(SiteListTest, EverySiteIsListedByNameWithItsReportAndWhatIsBehindTheHub) {
  ASSERT_TRUE(hub_.db->NoteSiteReport(Report("ecole-a", 1795999000, 1), kViaLink).value());
  ASSERT_TRUE(hub_.db->TouchPeer(keys_["ecole-a"], kViaLink).ok());
  auto sites = ListSites(hub_.db.get(), hub_.catalog.get());
  ASSERT_EQ(sites.size(), 3u);
  const SiteStatus& a = sites[0];
  EXPECT_EQ(a.peer.name, "ecole-a");
  EXPECT_EQ(a.peer.last_seen, now_);
  EXPECT_EQ(a.peer.last_via, "link");
  EXPECT_EQ(a.channels, (std::vector<std::string>{"ecole-a-notes", "ecole-a-sciences-naturelles-et-vie"}));
  ASSERT_TRUE(a.reported);
  EXPECT_EQ(a.software, "0.1.0");
  EXPECT_EQ(a.disk_free, 400u);
  EXPECT_EQ(a.report_via, "link");
  ASSERT_EQ(a.served.size(), 2u);
  EXPECT_EQ(a.served[1].channel_id, "water");
  EXPECT_EQ(a.served[1].latest, 2u);
  EXPECT_TRUE(a.served[1].behind);
  EXPECT_FALSE(a.served[0].behind);  // its own channel: the hub does not serve it
  EXPECT_EQ(a.behind, 1);
  EXPECT_EQ(a.errors_logged, 3u);
  ASSERT_TRUE(a.last_error.has_value());
  EXPECT_EQ(a.last_error->message, "the last one");
  EXPECT_EQ(sites[1].peer.name, "ecole-b");
  EXPECT_FALSE(sites[1].reported);
  EXPECT_EQ(sites[1].peer.last_via, "");
  EXPECT_NE(sites[2].peer.revoked_at, 0);
}

TEST_F(SiteListTest, AnOlderReportDoesNotReplaceTheStoredOneButItsArrivalIsNoted) {
  ASSERT_TRUE(hub_.db->NoteSiteReport(Report("ecole-a", 1795999000, 2), kViaLink).value());
  now_ += 60;
  auto older = hub_.db->NoteSiteReport(Report("ecole-a", 1795998000, 1), kViaStick);
  ASSERT_TRUE(older.has_value());
  EXPECT_FALSE(*older);
  auto stored = hub_.db->SiteReportOf(keys_["ecole-a"]);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->reported_at, 1795999000);
  EXPECT_EQ(stored->served.at("water"), 2u);
  EXPECT_EQ(stored->via, "stick");
  EXPECT_EQ(stored->received_at, now_);
}

TEST_F(SiteListTest, UsageIsSummedAcrossSitesAndALaterReportReplacesASitesDay) {
  ASSERT_TRUE(hub_.db->NoteSiteReport(Report("ecole-a", 1795999000, 2), kViaLink).value());
  ASSERT_TRUE(hub_.db->NoteSiteReport(Report("ecole-b", 1795999000, 2), kViaStick).value());
  SiteReport later = Report("ecole-a", 1795999500, 2);
  later.usage = {{"2026-12-07", "water", "rain.html", 10}, {"2026-12-08", "water", "rain.html", 5}};
  ASSERT_TRUE(hub_.db->NoteSiteReport(later, kViaLink).value());
  auto usage = hub_.db->UsageAcrossSites("2026-12-01", "2026-12-07");
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage[0], (ReportedUsage{"2026-12-07", "water", "rain.html", 16}));
  EXPECT_EQ(hub_.db->UsageAcrossSites("2026-12-08", "2026-12-31").size(), 1u);
}

TEST_F(SiteListTest, AReportFromAnUnknownKeyIsNotKept) {
  SiteReport r = Report("ecole-a", 1795999000, 1);
  r.site = Identity::Generate()->public_key();
  EXPECT_EQ(hub_.db->NoteSiteReport(r, kViaLink).error().code(), StatusCode::kNotFound);
}

// QuerySites over rows made by hand: no sync.db needed for sorting, filtering and paging.
SiteStatus Row(const std::string& name, int64_t seen, int behind, uint32_t errors,
               int64_t revoked = 0) {
  SiteStatus s;
  s.peer.key = Identity::Generate()->public_key();
  s.peer.name = name;
  s.peer.role = "site";
  s.peer.last_seen = seen;
  s.peer.revoked_at = revoked;
  s.behind = behind;
  s.errors_logged = errors;
  return s;
}

std::vector<std::string> NamesOf(const SitePage& page) {
  std::vector<std::string> names;
  for (const SiteStatus* s : page.rows) names.push_back(s->peer.name);
  return names;
}

TEST(QuerySitesTest, SilenceStartsAfterFourteenDaysAndNeverForARevokedSchool) {
  const int64_t now = 1796000000;
  EXPECT_FALSE(SiteIsSilent(Row("a", now - kSilentAfterSeconds, 0, 0), now));
  EXPECT_TRUE(SiteIsSilent(Row("a", now - kSilentAfterSeconds - 1, 0, 0), now));
  EXPECT_TRUE(SiteIsSilent(Row("a", 0, 0, 0), now));
  EXPECT_FALSE(SiteIsSilent(Row("a", 0, 0, 0, now), now));
  SiteStatus relay = Row("relay", 0, 0, 0);
  relay.peer.role = "relay";
  EXPECT_FALSE(SiteIsSilent(relay, now));
}

TEST(QuerySitesTest, APageIsSortedWithTiesByNameAndCountsWhatTheFilterLetsThrough) {
  const int64_t now = 1796000000;
  std::vector<SiteStatus> sites = {Row("e", now, 2, 0), Row("B", now, 1, 4), Row("a", now, 2, 1),
                                   Row("d", 0, 0, 0), Row("c", now - 86400, 0, 9)};
  SiteStatus relay = Row("relay", now, 5, 5);
  relay.peer.role = "relay";  // not a school: never in the table
  sites.push_back(relay);
  SiteQuery q;
  q.now = now;
  q.sort = SiteSort::kBehind;
  q.descending = true;
  q.per_page = 2;
  SitePage page = QuerySites(sites, q);
  EXPECT_EQ(page.count, 5u);
  EXPECT_EQ(page.matched, 5u);
  EXPECT_EQ(page.pages, 3);
  EXPECT_EQ(NamesOf(page), (std::vector<std::string>{"a", "e"}));  // 2 behind each, by name
  q.page = 3;
  EXPECT_EQ(NamesOf(QuerySites(sites, q)), (std::vector<std::string>{"d"}));
  q.page = 4;
  EXPECT_TRUE(QuerySites(sites, q).rows.empty());

  q = SiteQuery{};
  q.now = now;
  q.filter = SiteFilter::kErrors;
  q.name_contains = "b";
  page = QuerySites(sites, q);
  EXPECT_EQ(page.matched, 1u);
  EXPECT_EQ(NamesOf(page), (std::vector<std::string>{"B"}));
  q.name_contains = "";
  q.sort = SiteSort::kErrors;
  EXPECT_EQ(NamesOf(QuerySites(sites, q)), (std::vector<std::string>{"a", "B", "c"}));
  EXPECT_EQ(ParseSiteSort("disk_free"), SiteSort::kDiskFree);
  EXPECT_FALSE(ParseSiteSort("key").has_value());
  EXPECT_EQ(SiteFilterName(*ParseSiteFilter("silent")), "silent");
}

}  // namespace
}  // namespace outpost
