// LinkPolicy: how a site may use its link to the hub (docs/link-policy.md): a rate limit, a data
// budget per day and per month, the daily windows when syncing is allowed (satellite time is
// often cheaper at night), and whether `outpost serve` syncs on its own when the hub answers.
//
// The decisions here are pure functions of the policy, the bytes recorded per day and a
// LocalTime, so tests give fixed times; SyncDb (sync_db.h) stores the policy and the bytes.
//
// Times are the box's local time (the TZ of the process, /etc/localtime), because a satellite
// plan's cheap hours and its "per day" are the operator's local ones and the coordinator reads
// the clock on the wall. A window is [start, end) in minutes of the local day; a start after
// its end crosses midnight ("22:00-06:00"). A day's budget rolls over at local midnight, a
// month's on the local first of the month.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/base/status.h"

namespace outpost {

// A daily window, in minutes of the local day: [start, end); start > end crosses midnight.
struct DailyWindow {
  int start = 0;  // 0..1439
  int end = 0;    // 0..1439, != start
  auto operator<=>(const DailyWindow&) const = default;
};

inline constexpr size_t kMaxWindows = 8;
inline constexpr int kMinSyncInterval = 5;      // minutes between two automatic tries
inline constexpr int kMaxSyncInterval = 1440;
inline constexpr uint64_t kMaxRateLimitKbps = 10'000'000;        // 10 Gbit/s
inline constexpr uint64_t kMaxBudgetBytes = 1'000'000'000'000'000;  // 1 PB: no real plan

struct LinkPolicy {
  uint64_t rate_limit_kbps = 0;     // 0: none
  uint64_t day_budget_bytes = 0;    // 0: none (bytes on the wire, both directions)
  uint64_t month_budget_bytes = 0;  // 0: none
  std::vector<DailyWindow> windows;  // empty: any time of day
  bool auto_sync = false;           // `outpost serve` syncs when the hub answers
  int interval_minutes = 15;        // how often it tries, inside a window
  bool operator==(const LinkPolicy&) const = default;
};

// kInvalidArgument naming the first field out of range (the maximums above; windows valid,
// at most kMaxWindows).
Status ValidateLinkPolicy(const LinkPolicy& policy);

// A moment on the box's clock: unix seconds and the local offset from UTC then (tm_gmtoff).
struct LocalTime {
  int64_t unix = 0;
  int32_t utc_offset = 0;  // seconds east of UTC

  static LocalTime Now();                // the real clock, in the process's time zone
  static LocalTime At(int64_t unix);     // that moment, in the process's time zone
  int MinuteOfDay() const;               // 0..1439, local
  std::string Day() const;               // "2026-12-07", local
  std::string Month() const;             // "2026-12", local
};

// "HH:MM-HH:MM", comma-separated, spaces ignored: "22:00-06:00, 12:30-13:00". "" is no window.
std::string FormatWindow(const DailyWindow& window);
std::string FormatWindows(const std::vector<DailyWindow>& windows);
Result<DailyWindow> ParseWindow(std::string_view text);
Result<std::vector<DailyWindow>> ParseWindows(std::string_view text);

// Whether a sync may run at `now`: inside a window, or there are none.
bool Allowed(const LinkPolicy& policy, const LocalTime& now);
// When the next window opens: `now.unix` if Allowed now; else the next start, reckoned with
// now's UTC offset (a change of offset in between, summer time, moves it by that much).
int64_t NextWindowStart(const LinkPolicy& policy, const LocalTime& now);

enum class BudgetPeriod { kNone, kDay, kMonth };

// What is left of the tighter of the day's and the month's budget.
struct Budget {
  BudgetPeriod period = BudgetPeriod::kNone;  // kNone: no budget set
  uint64_t left = 0;                          // bytes; meaningful unless kNone
  bool spent() const { return period != BudgetPeriod::kNone && left == 0; }
};

// Bytes on the wire recorded per local day ("2026-12-07" -> bytes); days outside now's month
// are ignored, so a record of the last weeks is enough.
using DailyUsage = std::map<std::string, uint64_t>;
uint64_t UsedOn(const DailyUsage& used, const std::string& day);
uint64_t UsedInMonth(const DailyUsage& used, const std::string& month);

Budget BudgetLeft(const LinkPolicy& policy, const DailyUsage& used, const LocalTime& now);

// What one sync is given: the rate limit and the byte budget. Flags of `outpost sync` win over
// the stored policy (docs/cli.md): a flag's value is used as it is, even a budget larger than
// the policy's remainder.
struct SyncOverrides {
  std::optional<uint64_t> rate_limit_kbps;
  std::optional<uint64_t> budget_bytes;
};
struct SyncPlan {
  uint64_t rate_limit_kbps = 0;  // 0: none
  uint64_t budget_bytes = 0;     // 0: none
  BudgetPeriod period = BudgetPeriod::kNone;  // the budget it comes from (kNone: a flag, none)
  bool spent = false;            // the policy's budget is spent and no flag gives one: no sync
};
SyncPlan PlanSync(const LinkPolicy& policy, const DailyUsage& used, const LocalTime& now,
                  const SyncOverrides& overrides = {});

// The plain sentence for a sync stopped by the policy's budget: "the day's data budget is
// spent; the next sync continues from here" (or the month's).
std::string BudgetSpentMessage(BudgetPeriod period);

}  // namespace outpost
