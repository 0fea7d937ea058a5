// A sync under the link policy over MemoryLink (link_scheduler.h, SyncUnderPolicy): the day's
// budget reached part way stops the sync cleanly and says so; the same day nothing more is
// fetched, and the next day's sync continues from there and completes without fetching
// anything twice.
#include "outpost/sync/link_scheduler.h"
#include "session/session_fixture.h"

namespace outpost::testing {
namespace {

constexpr int64_t kMonday = 1796601600;  // 2026-12-07 00:00 UTC

class PolicySyncTest : public SessionTest {
 protected:
  Result<PolicySync> SyncAt(Node* node, LocalTime now, SyncOverrides overrides = {}) {
    SyncOptions options;
    options.limits = Limits();
    options.dial = Dial();
    auto out = SyncUnderPolicy(node->paths, node->store.get(), node->catalog.get(),
                               node->db.get(), options, overrides, now);
    JoinSessions();
    return out;
  }
};

TEST_F(PolicySyncTest, TheDaysBudgetStopsASyncAndTheNextDayFinishesIt) {
  Join();
  LinkPolicy policy;
  policy.day_budget_bytes = 100000;
  ASSERT_TRUE(site_->db->SetLinkPolicy(policy).ok());
  LocalTime monday{kMonday + 20 * 3600, 0};
  auto first = SyncAt(site_.get(), monday);
  ASSERT_TRUE(first.has_value()) << first.error().message();
  ASSERT_TRUE(first->summary.has_value());
  EXPECT_TRUE(first->summary->budget_reached);
  EXPECT_FALSE(first->summary->complete);
  EXPECT_EQ(first->plan.period, BudgetPeriod::kDay);
  EXPECT_EQ(first->message, "the day's data budget is spent; the next sync continues from here");
  EXPECT_FALSE(site_->catalog->Channel("water").has_value());  // nothing half-served
  uint64_t moved = first->summary->bytes_sent + first->summary->bytes_received;
  EXPECT_EQ(site_->db->LinkUsageSince("2026-12-07")["2026-12-07"], moved);

  // Spend the rest of the day on paper: the same day, nothing is started.
  ASSERT_TRUE(site_->db->NoteLinkUsage("2026-12-07", 100000).ok());
  auto again = SyncAt(site_.get(), {monday.unix + 60, 0});
  ASSERT_TRUE(again.has_value()) << again.error().message();
  EXPECT_FALSE(again->summary.has_value());
  EXPECT_EQ(again->message, first->message);

  // The next day: a budget big enough, and the sync continues where the first stopped.
  policy.day_budget_bytes = 100'000'000;
  ASSERT_TRUE(site_->db->SetLinkPolicy(policy).ok());
  auto tuesday = SyncAt(site_.get(), {monday.unix + 86400, 0});
  ASSERT_TRUE(tuesday.has_value()) << tuesday.error().message();
  ASSERT_TRUE(tuesday->summary.has_value());
  EXPECT_TRUE(tuesday->summary->complete);
  EXPECT_EQ(tuesday->message, "up to date");
  EXPECT_TRUE(site_->catalog->Channel("water").has_value());
  // Nothing was fetched twice: the two together brought what one sync brings a fresh site.
  TempDir fresh_dir;
  Node fresh(fresh_dir.path());
  ASSERT_TRUE(Enrol(&fresh).has_value());
  auto whole = SyncNode(&fresh);
  ASSERT_TRUE(whole.has_value()) << whole.error().message();
  EXPECT_EQ(first->summary->chunks_received + tuesday->summary->chunks_received,
            whole->chunks_received);
}

TEST_F(PolicySyncTest, AFlagBudgetWinsOverASpentPolicy) {
  Join();
  LinkPolicy policy;
  policy.month_budget_bytes = 1000;
  policy.rate_limit_kbps = 100;
  ASSERT_TRUE(site_->db->SetLinkPolicy(policy).ok());
  ASSERT_TRUE(site_->db->NoteLinkUsage("2026-12-01", 5000).ok());
  LocalTime now{kMonday, 0};
  auto spent = SyncAt(site_.get(), now);
  ASSERT_TRUE(spent.has_value());
  EXPECT_FALSE(spent->summary.has_value());
  EXPECT_EQ(spent->message, BudgetSpentMessage(BudgetPeriod::kMonth));
  auto flagged = SyncAt(site_.get(), now, {.rate_limit_kbps = 0, .budget_bytes = 0});
  ASSERT_TRUE(flagged.has_value()) << flagged.error().message();
  ASSERT_TRUE(flagged->summary.has_value());
  EXPECT_TRUE(flagged->summary->complete);
  EXPECT_GT(site_->db->LinkUsageSince("2026-12-01")["2026-12-07"], 0u);
}

}  // namespace
}  // namespace outpost::testing
