// The site's report in a sync (protocol version 3, docs/sync-protocol.md "Report"): the hub
// keeps it; a site of version 2 still syncs; a forged or oversized one is refused and the
// session goes on to its Bye.
#include <gtest/gtest.h>

#include "outpost/sync/site_report.h"
#include "session/session_fixture.h"

namespace outpost::testing {
namespace {

class ReportSessionTest : public SessionTest {
 protected:
  PublicKey SiteKey() { return LoadIdentity(site_->paths.node_key)->public_key(); }
  // A hand-made session in `protocol` that sends `records`, then Bye, and waits for the hub.
  void SendByHand(uint16_t protocol, const std::vector<std::pair<uint8_t, std::string>>& records) {
    HandSession hand;
    sync::Hello hello;
    hello.protocol = protocol;
    ASSERT_NO_FATAL_FAILURE(OpenByHand(hello, &hand));
    for (const auto& [type, body] : records) ASSERT_TRUE(hand.channel->Send(type, body).ok());
    ASSERT_TRUE(hand.channel->Send(sync::kBye, "").ok());
    ASSERT_TRUE(hand.channel->Flush().ok());
    EXPECT_FALSE(hand.channel->Receive().has_value());  // the hub closed after the Bye
    hand.link.reset();
    JoinSessions();
  }
};

TEST_F(ReportSessionTest, TheHubKeepsTheSitesReportAfterASync) {
  Join();
  hub_->db->set_clock([] { return int64_t{1796000000}; });
  SyncOptions options;
  options.usage = [] { return std::vector<ReportedUsage>{{"2026-12-07", "water", "lesson-1.html", 9}}; };
  auto summary = SyncNode(site_.get(), options);
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  auto stored = hub_->db->SiteReportOf(SiteKey());
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->via, "link");
  EXPECT_EQ(stored->software, "0.1.0");
  // Sent before the Bye: what the site serves after this sync.
  EXPECT_EQ(stored->served, (std::map<std::string, uint64_t>{{"water", 1}}));
  EXPECT_GT(stored->disk_total, 0u);
  EXPECT_EQ(stored->received_at, 1796000000);
  EXPECT_EQ(hub_->db->Peer(SiteKey())->last_via, "link");
  auto usage = hub_->db->UsageAcrossSites("2026-12-07", "2026-12-07");
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage[0].views, 9u);
}

TEST_F(ReportSessionTest, ASiteOfVersionTwoStillSyncsWithoutAReport) {
  Join();
  ASSERT_NO_FATAL_FAILURE(SendByHand(2, {}));
  EXPECT_GT(hub_->db->Peer(SiteKey())->last_seen, 0);
  EXPECT_FALSE(hub_->db->SiteReportOf(SiteKey()).has_value());
}

TEST_F(ReportSessionTest, AForgedOrOversizedReportIsRefusedAndTheSyncGoesOnToItsBye) {
  Join();
  auto other = Identity::Generate().value();
  SiteReport report;
  report.reported_at = 1796000000;
  report.software = "6.6.6";
  std::string forged = EncodeSiteReport(report, other).value();
  std::string oversized = EncodeSiteReport(report, *LoadIdentity(site_->paths.node_key)).value();
  oversized.resize(kMaxSiteReport + 1, '\0');
  ASSERT_NO_FATAL_FAILURE(SendByHand(3, {{sync::kReport, forged}, {sync::kReport, oversized}}));
  EXPECT_FALSE(hub_->db->SiteReportOf(SiteKey()).has_value());
  EXPECT_EQ(hub_->db->Peer(SiteKey())->last_via, "link");  // its Bye was taken
}

}  // namespace
}  // namespace outpost::testing
