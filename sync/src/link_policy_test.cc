// The link policy's decisions at fixed times (link_policy.h): windows (one crossing midnight),
// budgets rolling over at local midnight and on the first of the month, and what a sync is
// given when flags of `outpost sync` say otherwise.
#include "outpost/sync/link_policy.h"

#include <gtest/gtest.h>

namespace outpost {
namespace {

// 2026-12-07 00:00:00 UTC.
constexpr int64_t kMonday = 1796601600;
constexpr int32_t kBeirut = 2 * 3600;  // UTC+2

LocalTime At(int64_t unix, int32_t offset = 0) { return {unix, offset}; }
// `hh:mm` on 2026-12-07, local time at `offset`.
LocalTime Clock(int hh, int mm, int32_t offset = 0) {
  return At(kMonday + hh * 3600 + mm * 60 - offset, offset);
}

LinkPolicy Windows(const std::string& text) {
  LinkPolicy p;
  p.windows = ParseWindows(text).value();
  return p;
}

TEST(LinkPolicyTest, TheLocalCalendarFollowsTheOffset) {
  EXPECT_EQ(Clock(0, 0).Day(), "2026-12-07");
  EXPECT_EQ(At(kMonday - 1).Day(), "2026-12-06");
  // 23:30 UTC on the 7th is 01:30 on the 8th in Beirut.
  LocalTime late = At(kMonday + 23 * 3600 + 1800, kBeirut);
  EXPECT_EQ(late.Day(), "2026-12-08");
  EXPECT_EQ(late.MinuteOfDay(), 90);
  EXPECT_EQ(late.Month(), "2026-12");
}

TEST(LinkPolicyTest, WindowsParseAndPrintTheSame) {
  auto windows = ParseWindows(" 22:00-06:00 , 12:30 - 13:00");
  ASSERT_TRUE(windows.has_value()) << windows.error().message();
  ASSERT_EQ(windows->size(), 2u);
  EXPECT_EQ((*windows)[0], (DailyWindow{22 * 60, 6 * 60}));
  EXPECT_EQ(FormatWindows(*windows), "22:00-06:00, 12:30-13:00");
  EXPECT_TRUE(ParseWindows("")->empty());
  EXPECT_TRUE(ParseWindows("  ")->empty());
  EXPECT_EQ(ParseWindows("22:00-06:00,")->size(), 1u);
}

TEST(LinkPolicyTest, BadWindowsAreRefusedSayingWhich) {
  for (const char* bad : {"24:00-06:00", "22:00", "22:60-23:00", "10:00-10:00", "9:00-10:00",
                          "22:00-06:00;01:00-02:00", "a"}) {
    auto windows = ParseWindows(bad);
    EXPECT_FALSE(windows.has_value()) << bad;
  }
  EXPECT_NE(ParseWindows("22:00-6").error().message().find("22:00-6"), std::string::npos);
  EXPECT_FALSE(ParseWindows("01:00-02:00,02:00-03:00,03:00-04:00,04:00-05:00,05:00-06:00,"
                            "06:00-07:00,07:00-08:00,08:00-09:00,09:00-10:00")
                   .has_value());
}

TEST(LinkPolicyTest, NoWindowsAllowsAnyTime) {
  LinkPolicy p;
  EXPECT_TRUE(Allowed(p, Clock(3, 0)));
  EXPECT_EQ(NextWindowStart(p, Clock(3, 0)), Clock(3, 0).unix);
}

TEST(LinkPolicyTest, AWindowAcrossMidnightAllowsBothSides) {
  LinkPolicy p = Windows("22:00-06:00");
  EXPECT_TRUE(Allowed(p, Clock(23, 59)));
  EXPECT_TRUE(Allowed(p, Clock(0, 0)));
  EXPECT_TRUE(Allowed(p, Clock(5, 59)));
  EXPECT_TRUE(Allowed(p, Clock(22, 0)));
  EXPECT_FALSE(Allowed(p, Clock(6, 0)));  // the end is outside
  EXPECT_FALSE(Allowed(p, Clock(21, 59)));
  EXPECT_FALSE(Allowed(p, Clock(12, 0)));
}

TEST(LinkPolicyTest, WindowsAreReadInLocalTime) {
  LinkPolicy p = Windows("22:00-06:00");
  // 21:00 UTC is 23:00 in Beirut: inside there, not at UTC.
  int64_t t = kMonday + 21 * 3600;
  EXPECT_TRUE(Allowed(p, At(t, kBeirut)));
  EXPECT_FALSE(Allowed(p, At(t, 0)));
}

TEST(LinkPolicyTest, TheNextWindowIsTheNearestStartAhead) {
  LinkPolicy p = Windows("22:00-06:00, 12:30-13:00");
  EXPECT_EQ(NextWindowStart(p, Clock(7, 0)), Clock(12, 30).unix);
  EXPECT_EQ(NextWindowStart(p, Clock(13, 0)), Clock(22, 0).unix);
  EXPECT_EQ(NextWindowStart(p, Clock(23, 0)), Clock(23, 0).unix);  // inside: now
  // Seconds into a minute do not shift the start.
  EXPECT_EQ(NextWindowStart(p, At(Clock(7, 0).unix + 42)), Clock(12, 30).unix);
  // Tomorrow's when today's have passed: only the morning window.
  LinkPolicy morning = Windows("04:00-05:00");
  EXPECT_EQ(NextWindowStart(morning, Clock(5, 0, kBeirut)), Clock(4, 0, kBeirut).unix + 86400);
}

TEST(LinkPolicyTest, TheDayBudgetRollsOverAtLocalMidnight) {
  LinkPolicy p;
  p.day_budget_bytes = 1000;
  DailyUsage used = {{"2026-12-06", 900}, {"2026-12-07", 400}};
  Budget today = BudgetLeft(p, used, Clock(23, 59));
  EXPECT_EQ(today.period, BudgetPeriod::kDay);
  EXPECT_EQ(today.left, 600u);
  EXPECT_EQ(BudgetLeft(p, used, At(kMonday - 60)).left, 100u);  // the 6th, 23:59
  used["2026-12-07"] = 1500;
  EXPECT_TRUE(BudgetLeft(p, used, Clock(12, 0)).spent());
  EXPECT_EQ(BudgetLeft(p, used, At(kMonday + 86400)).left, 1000u);  // the 8th: a new day
}

TEST(LinkPolicyTest, TheMonthBudgetCountsEveryDayOfTheMonthOnly) {
  LinkPolicy p;
  p.month_budget_bytes = 10000;
  DailyUsage used = {{"2026-11-30", 9000}, {"2026-12-01", 3000}, {"2026-12-07", 4000}};
  Budget b = BudgetLeft(p, used, Clock(8, 0));
  EXPECT_EQ(b.period, BudgetPeriod::kMonth);
  EXPECT_EQ(b.left, 3000u);
  EXPECT_EQ(BudgetLeft(p, used, At(kMonday - 6 * 86400 - 1)).left, 1000u);  // 30 November
  // 1 January: nothing of December counts.
  EXPECT_EQ(BudgetLeft(p, used, At(1798761600)).left, 10000u);
}

TEST(LinkPolicyTest, TheTighterBudgetWins) {
  LinkPolicy p;
  p.day_budget_bytes = 5000;
  p.month_budget_bytes = 10000;
  DailyUsage used = {{"2026-12-01", 8000}, {"2026-12-07", 1000}};
  Budget b = BudgetLeft(p, used, Clock(8, 0));
  EXPECT_EQ(b.period, BudgetPeriod::kMonth);
  EXPECT_EQ(b.left, 1000u);
  used = {{"2026-12-07", 4500}};
  b = BudgetLeft(p, used, Clock(8, 0));
  EXPECT_EQ(b.period, BudgetPeriod::kDay);
  EXPECT_EQ(b.left, 500u);
  EXPECT_EQ(BudgetLeft(LinkPolicy{}, used, Clock(8, 0)).period, BudgetPeriod::kNone);
}

TEST(LinkPolicyTest, FlagsWinOverThePolicy) {
  LinkPolicy p;
  p.rate_limit_kbps = 512;
  p.day_budget_bytes = 1000;
  DailyUsage used = {{"2026-12-07", 1000}};
  SyncPlan plan = PlanSync(p, used, Clock(8, 0));
  EXPECT_TRUE(plan.spent);
  EXPECT_EQ(plan.rate_limit_kbps, 512u);
  plan = PlanSync(p, used, Clock(8, 0), {.rate_limit_kbps = 0, .budget_bytes = 50000});
  EXPECT_FALSE(plan.spent);
  EXPECT_EQ(plan.rate_limit_kbps, 0u);  // --rate-limit 0: none, whatever the policy says
  EXPECT_EQ(plan.budget_bytes, 50000u);
  EXPECT_EQ(plan.period, BudgetPeriod::kNone);
  plan = PlanSync(p, {{"2026-12-07", 300}}, Clock(8, 0));
  EXPECT_EQ(plan.budget_bytes, 700u);
  EXPECT_EQ(plan.period, BudgetPeriod::kDay);
}

TEST(LinkPolicyTest, TheBudgetMessageNamesThePeriod) {
  EXPECT_EQ(BudgetSpentMessage(BudgetPeriod::kDay),
            "the day's data budget is spent; the next sync continues from here");
  EXPECT_EQ(BudgetSpentMessage(BudgetPeriod::kMonth),
            "the month's data budget is spent; the next sync continues from here");
}

TEST(LinkPolicyTest, ValidationNamesTheField) {
  LinkPolicy p;
  EXPECT_TRUE(ValidateLinkPolicy(p).ok());
  p.interval_minutes = 1;
  EXPECT_NE(ValidateLinkPolicy(p).message().find("interval_minutes"), std::string::npos);
  p = {};
  p.day_budget_bytes = kMaxBudgetBytes + 1;
  EXPECT_NE(ValidateLinkPolicy(p).message().find("day_budget_bytes"), std::string::npos);
  p = {};
  p.windows = {{600, 600}};
  EXPECT_FALSE(ValidateLinkPolicy(p).ok());
}

}  // namespace
}  // namespace outpost
