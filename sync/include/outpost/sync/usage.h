// UsageStore: how many times each resource was opened, per UTC day, in DATA/usage.db
// (docs/usage.md says exactly what is kept and what leaves the box; docs/storage.md the schema).
//
// A row is (day, channel, resource, views) and nothing else: no address, no session, no user
// agent, no time finer than a day, nothing that tells one learner from another. The server
// counts in memory and adds its counts here in batches (one transaction each); the console
// reads them back for its charts; the site report takes ForHub(), in which every count under
// kMinSharedViews is left out, and only while sharing() is on (a coordinator may turn it off).
//
// It lives in sync because it is what leaves the box; it has no network code of its own.
//
// Days are unix day numbers (seconds since the epoch / 86400, UTC): 2026-12-07 is day 20794.
// Rows older than kUsageRetentionDays before "today" are removed by Prune().
//
// Thread-safety: thread-safe (one connection behind a mutex).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/base/status.h"
#include "outpost/sync/site_report.h"

struct sqlite3;

namespace outpost {

// Counts under this are never sent to the hub.
inline constexpr uint64_t kMinSharedViews = 5;
// How long the box keeps its counts, in days.
inline constexpr int64_t kUsageRetentionDays = 400;
// The longest channel id and resource path a row keeps; a longer one is not counted.
inline constexpr size_t kMaxUsageChannel = 64;
inline constexpr size_t kMaxUsageResource = 1024;
// The largest usage.db grows by default; past it Add() fails kNoSpace (the server logs it and
// goes on serving). 400 days of 5,000 resources opened every day is about 100 MB.
inline constexpr uint64_t kDefaultUsageMaxBytes = 256ull << 20;

// One resource's views on one day: what Add() takes and ForHub() gives.
struct UsageCount {
  std::string channel;   // "maths-grade-5"
  std::string resource;  // the resource's path in its channel: "fractions/halves.pdf"
  int64_t day = 0;       // unix day number (UTC)
  uint64_t views = 0;
  auto operator<=>(const UsageCount&) const = default;
};

// A channel's views on one day (the console's chart).
struct UsageDayTotal {
  std::string channel;
  int64_t day = 0;
  uint64_t views = 0;
  auto operator<=>(const UsageDayTotal&) const = default;
};

// A resource's views over a span of days (the console's top list).
struct UsageResourceTotal {
  std::string channel;
  std::string resource;
  uint64_t views = 0;
  auto operator<=>(const UsageResourceTotal&) const = default;
};

// The unix day number of `unix_seconds` (UTC; negative seconds round down).
int64_t UnixDay(int64_t unix_seconds);
// "2026-12-07" for day 20794.
std::string DayString(int64_t day);

class UsageStore {
 public:
  static constexpr int kSchemaVersion = 2;

  // Opens (creating it, mode 0600, and its folder if needed) and migrates usage.db. Refuses
  // (kCorrupt) a database newer than this outpost. The file never grows past `max_bytes`.
  static Result<std::unique_ptr<UsageStore>> Open(const std::filesystem::path& path,
                                                  uint64_t max_bytes = kDefaultUsageMaxBytes);
  ~UsageStore();

  // Adds each count to its (day, channel, resource) row, all in one transaction: all are
  // added or none. Counts of zero views, and channels or resources that are empty or longer
  // than the maximums above, are skipped. kNoSpace when the disk (or max_bytes) is full.
  Status Add(const std::vector<UsageCount>& counts);

  // Views per channel per day, days from `from_day` to `to_day` inclusive, of `channel` only
  // if not empty; by day, then channel. Days without views have no entry.
  Result<std::vector<UsageDayTotal>> Daily(std::string_view channel, int64_t from_day,
                                           int64_t to_day);
  // The `limit` most viewed resources of `channel` (all channels if empty) over those days,
  // most viewed first (ties by channel, then resource).
  Result<std::vector<UsageResourceTotal>> Top(std::string_view channel, int64_t from_day,
                                              int64_t to_day, size_t limit);

  // What may go to the hub: every (day, channel, resource) count from `since_day` to
  // `until_day` inclusive with at least kMinSharedViews views; counts under it are left out.
  // By day, channel, resource. Empty while sharing() is off.
  Result<std::vector<UsageCount>> ForHub(int64_t since_day, int64_t until_day);

  // Whether the counts go to the hub (on unless a coordinator switched it off).
  bool sharing();
  Status SetSharing(bool on);

  // Removes the rows of days before `today` - kUsageRetentionDays + 1; how many it removed.
  Result<int64_t> Prune(int64_t today);

 private:
  explicit UsageStore(sqlite3* db);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Days a site's report carries: the last kReportedUsageDays whole UTC days before today (today
// is still being counted). The hub replaces a day's figures with the newest report's, so a day
// sent again in the next report is not counted twice.
inline constexpr int64_t kReportedUsageDays = 31;

// The usage counts for a site's report (site_report.h), read from the usage store at
// `usage_db` when the report is built: counts of kMinSharedViews and more of the
// kReportedUsageDays days before `now`'s day, none while sending is switched off or the store
// cannot be read (logged). `now` gives unix seconds (empty: the clock).
UsageSource ReportedUsageFrom(const std::filesystem::path& usage_db,
                              std::function<int64_t()> now = {});

}  // namespace outpost
