// UsageStore: views per resource per day, in DATA/usage.db (SQLite, WAL).
//
// The workload: a running server adds one batch every minute or so (a few hundred rows at
// most, each an upsert on the primary key), the console reads a few hundred rows per page, and
// the site report reads up to a year of rows once per sync. So one connection behind a mutex,
// statements prepared per call. The primary key starts with the day, so the console's ranges,
// ForHub's span and Prune's delete are range scans.
//
// The file's size is bounded with PRAGMA max_page_count: a busy box's counts cannot fill the
// disk its content lives on; past the bound Add() fails kNoSpace like a full disk, and the
// server logs it once and goes on serving.
#include "outpost/sync/usage.h"

#include <sqlite3.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iterator>
#include <mutex>

#include "outpost/base/db.h"

namespace outpost {

namespace {

// Migrations, applied in order; entry i takes the schema from version i to i+1. Never edit a
// migration that has shipped: add a new one.
const char* const kMigrations[] = {
    // 0 -> 1
    R"sql(
CREATE TABLE usage (
  day       INTEGER NOT NULL,
  channel   TEXT NOT NULL,
  resource  TEXT NOT NULL,
  views     INTEGER NOT NULL CHECK (views > 0),
  PRIMARY KEY (day, channel, resource)
) WITHOUT ROWID;
CREATE TABLE settings (
  name   TEXT PRIMARY KEY,
  value  INTEGER NOT NULL
) WITHOUT ROWID;
)sql",
    // 1 -> 2: the "last day sent" mark goes: each report carries the last 31 whole days again
    // (docs/usage.md, "Which days"), so nothing ever read it.
    R"sql(
DELETE FROM settings WHERE name = 'sent_up_to_day';
)sql",
};
static_assert(std::size(kMigrations) == UsageStore::kSchemaVersion);

constexpr const char* kSharing = "share_with_hub";

bool Keepable(const UsageCount& c) {
  return c.views > 0 && !c.channel.empty() && c.channel.size() <= kMaxUsageChannel &&
         !c.resource.empty() && c.resource.size() <= kMaxUsageResource;
}

// A count as SQLite stores it (a signed 64-bit integer), saturated.
int64_t Stored(uint64_t views) {
  return static_cast<int64_t>(std::min<uint64_t>(views, INT64_MAX));
}

}  // namespace

int64_t UnixDay(int64_t unix_seconds) {
  return unix_seconds >= 0 ? unix_seconds / 86400 : -((-unix_seconds + 86399) / 86400);
}

std::string DayString(int64_t day) {
  time_t t = static_cast<time_t>(day * 86400);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

struct UsageStore::Impl {
  sqlite3* conn = nullptr;
  std::mutex mu;

  int64_t Setting(const char* name, int64_t otherwise) {
    db::Stmt s(conn, "SELECT value FROM settings WHERE name = ?");
    s.Bind(1, std::string_view(name));
    return s.Step() ? s.Int(0) : otherwise;
  }
  Status SetSetting(const char* name, int64_t value) {
    db::Stmt s(conn,
               "INSERT INTO settings (name, value) VALUES (?1, ?2) "
               "ON CONFLICT (name) DO UPDATE SET value = excluded.value");
    return s.Bind(1, std::string_view(name)).Bind(2, value).Run();
  }
};

UsageStore::UsageStore(sqlite3* db) : impl_(new Impl) { impl_->conn = db; }

UsageStore::~UsageStore() { sqlite3_close(impl_->conn); }

Result<std::unique_ptr<UsageStore>> UsageStore::Open(const std::filesystem::path& path,
                                                     uint64_t max_bytes) {
  auto db = db::OpenPrivate(path);
  if (!db) return db.error();
  std::unique_ptr<UsageStore> store(new UsageStore(*db));
  Status st = db::Migrate(*db, kMigrations, "usage.db");
  if (st.ok()) {
    // Pages are 4096 bytes unless the file says otherwise; the bound is in pages.
    int64_t pages = std::max<int64_t>(static_cast<int64_t>(max_bytes / 4096), 8);
    st = db::Exec(*db, "PRAGMA max_page_count = " + std::to_string(pages));
  }
  if (!st.ok()) return st.WithContext("opening " + path.string());
  return store;
}

Status UsageStore::Add(const std::vector<UsageCount>& counts) {
  std::lock_guard lock(impl_->mu);
  db::Transaction tx(impl_->conn);
  OUTPOST_RETURN_IF_ERROR(tx.Begin());
  db::StmtCache cache;
  for (const UsageCount& c : counts) {
    if (!Keepable(c)) continue;
    db::Stmt s(impl_->conn,
               "INSERT INTO usage (day, channel, resource, views) VALUES (?1, ?2, ?3, ?4) "
               "ON CONFLICT (day, channel, resource) DO UPDATE SET views = "
               "min(views + excluded.views, 9223372036854775807)",
               &cache);
    s.Bind(1, c.day).Bind(2, c.channel).Bind(3, c.resource).Bind(4, Stored(c.views));
    OUTPOST_RETURN_IF_ERROR(s.Run().WithContext("usage.db"));
  }
  return tx.Commit().WithContext("usage.db");
}

Result<std::vector<UsageDayTotal>> UsageStore::Daily(std::string_view channel, int64_t from_day,
                                                     int64_t to_day) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "SELECT channel, day, sum(views) FROM usage WHERE day BETWEEN ?1 AND ?2 "
             "AND (?3 = '' OR channel = ?3) GROUP BY day, channel ORDER BY day, channel");
  s.Bind(1, from_day).Bind(2, to_day).Bind(3, channel);
  std::vector<UsageDayTotal> out;
  while (s.Step()) {
    out.push_back({s.Text(0), s.Int(1), static_cast<uint64_t>(s.Int(2))});
  }
  OUTPOST_RETURN_IF_ERROR(s.StepStatus());
  return out;
}

Result<std::vector<UsageResourceTotal>> UsageStore::Top(std::string_view channel,
                                                        int64_t from_day, int64_t to_day,
                                                        size_t limit) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "SELECT channel, resource, sum(views) AS total FROM usage "
             "WHERE day BETWEEN ?1 AND ?2 AND (?3 = '' OR channel = ?3) "
             "GROUP BY channel, resource ORDER BY total DESC, channel, resource LIMIT ?4");
  s.Bind(1, from_day).Bind(2, to_day).Bind(3, channel);
  s.Bind(4, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  std::vector<UsageResourceTotal> out;
  while (s.Step()) {
    out.push_back({s.Text(0), s.Text(1), static_cast<uint64_t>(s.Int(2))});
  }
  OUTPOST_RETURN_IF_ERROR(s.StepStatus());
  return out;
}

Result<std::vector<UsageCount>> UsageStore::ForHub(int64_t since_day, int64_t until_day) {
  std::vector<UsageCount> out;
  if (!sharing()) return out;
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "SELECT channel, resource, day, views FROM usage "
             "WHERE day BETWEEN ?1 AND ?2 AND views >= ?3 ORDER BY day, channel, resource");
  s.Bind(1, since_day).Bind(2, until_day).Bind(3, static_cast<int64_t>(kMinSharedViews));
  while (s.Step()) {
    out.push_back({s.Text(0), s.Text(1), s.Int(2), static_cast<uint64_t>(s.Int(3))});
  }
  OUTPOST_RETURN_IF_ERROR(s.StepStatus());
  return out;
}

bool UsageStore::sharing() {
  std::lock_guard lock(impl_->mu);
  return impl_->Setting(kSharing, 1) != 0;
}

Status UsageStore::SetSharing(bool on) {
  std::lock_guard lock(impl_->mu);
  return impl_->SetSetting(kSharing, on ? 1 : 0).WithContext("usage.db");
}

Result<int64_t> UsageStore::Prune(int64_t today) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, "DELETE FROM usage WHERE day < ?");
  s.Bind(1, today - kUsageRetentionDays + 1);
  OUTPOST_RETURN_IF_ERROR(s.Run().WithContext("usage.db"));
  return static_cast<int64_t>(sqlite3_changes(impl_->conn));
}

UsageSource ReportedUsageFrom(const std::filesystem::path& usage_db,
                              std::function<int64_t()> now) {
  return [usage_db, now]() -> std::vector<ReportedUsage> {
    if (!std::filesystem::exists(usage_db)) return {};
    auto store = UsageStore::Open(usage_db);
    if (!store) {
      spdlog::warn("the report carries no usage figures: {}", store.error().message());
      return {};
    }
    int64_t today = UnixDay(now ? now() : static_cast<int64_t>(std::time(nullptr)));
    auto counts = (*store)->ForHub(today - kReportedUsageDays, today - 1);
    if (!counts) {
      spdlog::warn("the report carries no usage figures: {}", counts.error().message());
      return {};
    }
    std::vector<ReportedUsage> out;
    out.reserve(counts->size());
    for (const UsageCount& c : *counts) {
      out.push_back({DayString(c.day), c.channel, c.resource, c.views});
    }
    return out;
  };
}

}  // namespace outpost
