// The link policy's decisions (link_policy.h): windows, budgets and what a sync is given. Pure
// arithmetic on minutes of the local day and local dates; the only clock read is
// LocalTime::Now().
#include "outpost/sync/link_policy.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

namespace outpost {

namespace {

constexpr int kMinutesPerDay = 24 * 60;

// strftime of `t` as UTC, after shifting it by `offset`: the local calendar.
std::string LocalFormat(int64_t unix, int32_t offset, const char* format) {
  std::time_t shifted = static_cast<std::time_t>(unix + offset);
  std::tm tm{};
  char out[32];
  if (!gmtime_r(&shifted, &tm) || std::strftime(out, sizeof out, format, &tm) == 0) return "";
  return out;
}

// "HH:MM" -> minutes of the day; nullopt unless two digits, a colon, two digits, in range.
std::optional<int> ParseClock(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  for (size_t i : {0, 1, 3, 4}) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
  }
  int hours = (text[0] - '0') * 10 + (text[1] - '0');
  int minutes = (text[3] - '0') * 10 + (text[4] - '0');
  if (hours > 23 || minutes > 59) return std::nullopt;
  return hours * 60 + minutes;
}

std::string Trimmed(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c != ' ' && c != '\t') out += c;
  }
  return out;
}

bool Inside(const DailyWindow& w, int minute) {
  if (w.start < w.end) return minute >= w.start && minute < w.end;
  return minute >= w.start || minute < w.end;  // crosses midnight
}

bool ValidWindow(const DailyWindow& w) {
  return w.start >= 0 && w.start < kMinutesPerDay && w.end >= 0 && w.end < kMinutesPerDay &&
         w.start != w.end;
}

}  // namespace

Status ValidateLinkPolicy(const LinkPolicy& p) {
  if (p.rate_limit_kbps > kMaxRateLimitKbps) return InvalidArgument("rate_limit_kbps is too large");
  if (p.day_budget_bytes > kMaxBudgetBytes) return InvalidArgument("day_budget_bytes is too large");
  if (p.month_budget_bytes > kMaxBudgetBytes) {
    return InvalidArgument("month_budget_bytes is too large");
  }
  if (p.windows.size() > kMaxWindows) {
    return InvalidArgument("at most " + std::to_string(kMaxWindows) + " windows");
  }
  for (const auto& w : p.windows) {
    if (!ValidWindow(w)) return InvalidArgument("a window must start and end at different times");
  }
  if (p.interval_minutes < kMinSyncInterval || p.interval_minutes > kMaxSyncInterval) {
    return InvalidArgument("interval_minutes is from " + std::to_string(kMinSyncInterval) +
                           " to " + std::to_string(kMaxSyncInterval));
  }
  return Status::Ok();
}

LocalTime LocalTime::Now() { return At(static_cast<int64_t>(std::time(nullptr))); }

LocalTime LocalTime::At(int64_t unix) {
  std::time_t t = static_cast<std::time_t>(unix);
  std::tm tm{};
  if (!localtime_r(&t, &tm)) return {unix, 0};
  return {unix, static_cast<int32_t>(tm.tm_gmtoff)};
}

int LocalTime::MinuteOfDay() const {
  int64_t local = unix + utc_offset;
  int64_t seconds = ((local % 86400) + 86400) % 86400;
  return static_cast<int>(seconds / 60);
}

std::string LocalTime::Day() const { return LocalFormat(unix, utc_offset, "%Y-%m-%d"); }
std::string LocalTime::Month() const { return LocalFormat(unix, utc_offset, "%Y-%m"); }

std::string FormatWindow(const DailyWindow& w) {
  char out[64];
  std::snprintf(out, sizeof out, "%02d:%02d-%02d:%02d", w.start / 60, w.start % 60, w.end / 60,
                w.end % 60);
  return out;
}

std::string FormatWindows(const std::vector<DailyWindow>& windows) {
  std::string out;
  for (const auto& w : windows) out += (out.empty() ? "" : ", ") + FormatWindow(w);
  return out;
}

Result<DailyWindow> ParseWindow(std::string_view text) {
  std::string bare = Trimmed(text);
  auto start = bare.size() == 11 && bare[5] == '-' ? ParseClock(std::string_view(bare).substr(0, 5))
                                                   : std::nullopt;
  auto end = start ? ParseClock(std::string_view(bare).substr(6)) : std::nullopt;
  if (!start || !end) {
    return InvalidArgument("\"" + bare.substr(0, 40) + "\" is not HH:MM-HH:MM");
  }
  if (*start == *end) return InvalidArgument(bare + " starts and ends at the same time");
  return DailyWindow{*start, *end};
}

Result<std::vector<DailyWindow>> ParseWindows(std::string_view text) {
  std::vector<DailyWindow> out;
  if (text.size() > 1000) return InvalidArgument("the windows are too long");
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string_view part = text.substr(pos, comma == std::string_view::npos ? text.npos
                                                                              : comma - pos);
    if (!Trimmed(part).empty()) {  // "a, , b" and a trailing comma are forgiven
      auto window = ParseWindow(part);
      if (!window) return window.error();
      out.push_back(*window);
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  if (out.size() > kMaxWindows) {
    return InvalidArgument("at most " + std::to_string(kMaxWindows) + " windows");
  }
  return out;
}

bool Allowed(const LinkPolicy& policy, const LocalTime& now) {
  if (policy.windows.empty()) return true;
  int minute = now.MinuteOfDay();
  return std::any_of(policy.windows.begin(), policy.windows.end(),
                     [minute](const DailyWindow& w) { return Inside(w, minute); });
}

int64_t NextWindowStart(const LinkPolicy& policy, const LocalTime& now) {
  if (Allowed(policy, now)) return now.unix;
  int minute = now.MinuteOfDay();
  int wait = kMinutesPerDay;  // minutes from this minute's start to the nearest start
  for (const auto& w : policy.windows) {
    int ahead = (w.start - minute + kMinutesPerDay) % kMinutesPerDay;
    if (ahead > 0) wait = std::min(wait, ahead);
  }
  int64_t local = now.unix + now.utc_offset;
  int64_t minute_start = now.unix - (((local % 60) + 60) % 60);
  return minute_start + int64_t{wait} * 60;
}

uint64_t UsedOn(const DailyUsage& used, const std::string& day) {
  auto it = used.find(day);
  return it == used.end() ? 0 : it->second;
}

uint64_t UsedInMonth(const DailyUsage& used, const std::string& month) {
  uint64_t sum = 0;
  for (auto it = used.lower_bound(month); it != used.end() && it->first.starts_with(month); ++it) {
    sum += it->second;
  }
  return sum;
}

Budget BudgetLeft(const LinkPolicy& policy, const DailyUsage& used, const LocalTime& now) {
  Budget budget;
  auto consider = [&](uint64_t limit, uint64_t spent, BudgetPeriod period) {
    if (limit == 0) return;
    uint64_t left = spent >= limit ? 0 : limit - spent;
    if (budget.period == BudgetPeriod::kNone || left < budget.left) budget = {period, left};
  };
  consider(policy.day_budget_bytes, UsedOn(used, now.Day()), BudgetPeriod::kDay);
  consider(policy.month_budget_bytes, UsedInMonth(used, now.Month()), BudgetPeriod::kMonth);
  return budget;
}

SyncPlan PlanSync(const LinkPolicy& policy, const DailyUsage& used, const LocalTime& now,
                  const SyncOverrides& overrides) {
  SyncPlan plan;
  plan.rate_limit_kbps = overrides.rate_limit_kbps.value_or(policy.rate_limit_kbps);
  if (overrides.budget_bytes) {
    plan.budget_bytes = *overrides.budget_bytes;
    return plan;
  }
  Budget budget = BudgetLeft(policy, used, now);
  plan.period = budget.period;
  plan.budget_bytes = budget.left;
  plan.spent = budget.spent();
  return plan;
}

std::string BudgetSpentMessage(BudgetPeriod period) {
  const char* which = period == BudgetPeriod::kMonth ? "month's" : "day's";
  return std::string("the ") + which + " data budget is spent; the next sync continues from here";
}

}  // namespace outpost
