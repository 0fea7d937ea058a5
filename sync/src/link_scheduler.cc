// SyncUnderPolicy and LinkScheduler (link_scheduler.h).
#include "outpost/sync/link_scheduler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "session/tcp_link.h"

namespace outpost {

namespace {

std::string FinishedMessage(const SyncSummary& summary, const SyncPlan& plan) {
  if (summary.budget_reached && plan.period != BudgetPeriod::kNone) {
    return BudgetSpentMessage(plan.period);
  }
  if (summary.budget_reached) return "the byte budget given is spent; the next sync continues";
  return summary.complete ? "up to date" : "not finished (run sync again to continue)";
}

bool TcpAnswers(const std::string& address) {
  return sync::TcpLink::Dial(address, kProbeTimeout).has_value();
}

}  // namespace

DailyUsage UsageThisMonth(SyncDb* db, const LocalTime& now) {
  return db->LinkUsageSince(now.Month() + "-01");
}

Result<PolicySync> SyncUnderPolicy(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                                   SyncDb* db, SyncOptions options,
                                   const SyncOverrides& overrides, const LocalTime& now) {
  PolicySync out;
  out.plan = PlanSync(db->GetLinkPolicy(), UsageThisMonth(db, now), now, overrides);
  if (out.plan.spent) {
    out.message = BudgetSpentMessage(out.plan.period);
    return out;
  }
  options.rate_limit_kbps = out.plan.rate_limit_kbps;
  options.budget_bytes = out.plan.budget_bytes;
  // The last progress seen: what a sync that fails part way has moved, about.
  uint64_t moved = 0;
  auto shown = std::move(options.progress);
  options.progress = [&moved, &shown](const SyncProgress& p) {
    moved = std::max(moved, p.bytes_received + p.bytes_sent);
    if (shown) shown(p);
  };
  auto summary = SyncWithHub(paths, store, catalog, db, options);
  if (summary) moved = summary->bytes_sent + summary->bytes_received;
  if (moved > 0) {
    Status st = db->NoteLinkUsage(now.Day(), moved);
    if (!st.ok()) spdlog::error("recording the bytes of a sync: {}", st.message());
  }
  if (!summary) return summary.error();
  out.message = FinishedMessage(*summary, out.plan);
  out.summary = std::move(*summary);
  return out;
}

LinkScheduler::LinkScheduler(SyncDb* db, Hooks hooks) : db_(db), hooks_(std::move(hooks)) {
  if (!hooks_.clock) hooks_.clock = [] { return LocalTime::Now(); };
  if (!hooks_.reachable) hooks_.reachable = TcpAnswers;
}

LinkScheduler::~LinkScheduler() { Stop(); }

void LinkScheduler::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void LinkScheduler::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LinkScheduler::Poke() {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
  }
  wake_.notify_all();
}

std::string LinkScheduler::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

LinkScheduler::Step LinkScheduler::Tick(const LocalTime& now) {
  int64_t t = now.unix, recheck = t + kRecheckSeconds;
  LinkPolicy policy = db_->GetLinkPolicy();
  if (poked_.exchange(false) || policy != seen_policy_) next_try_ = 0;  // something changed
  seen_policy_ = policy;
  if (!policy.auto_sync) return {Did::kOff, recheck};
  auto hub = db_->Hub();
  if (!hub || hub->address.empty()) return {Did::kNoHub, recheck};
  if (!Allowed(policy, now)) {
    return {Did::kOutsideWindow, std::min(recheck, NextWindowStart(policy, now))};
  }
  Budget budget = BudgetLeft(policy, UsageThisMonth(db_, now), now);
  if (budget.period != BudgetPeriod::kNone && budget.left < kMinAutoSyncBytes) {
    return {Did::kBudgetSpent, recheck};
  }
  if (t < next_try_) return {Did::kWaiting, std::min(recheck, next_try_)};
  return Try(policy, hub->address, t);
}

// Inside a window with budget left and the interval passed: probes the hub, and syncs if it
// answers.
LinkScheduler::Step LinkScheduler::Try(const LinkPolicy& policy, const std::string& address,
                                       int64_t now) {
  int64_t interval = int64_t{policy.interval_minutes} * 60;
  next_try_ = now + interval;
  if (!hooks_.reachable(address)) return {Did::kUnreachable, next_try_};
  Status st = hooks_.sync();
  {
    std::lock_guard lock(mu_);
    last_error_ = st.ok() ? "" : st.message();
  }
  if (st.code() == StatusCode::kBusy) return {Did::kBusy, next_try_};
  if (st.ok()) {
    failures_ = 0;
    return {Did::kSynced, next_try_};
  }
  ++failures_;
  int64_t backoff = interval;
  for (int i = 0; i < failures_ && backoff < kMaxBackoffSeconds; ++i) backoff *= 2;
  next_try_ = now + std::min(backoff, kMaxBackoffSeconds);
  return {Did::kFailed, next_try_};
}

void LinkScheduler::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    LocalTime now = hooks_.clock();
    Step step = Tick(now);
    lock.lock();
    if (stopping_ || poked_) continue;
    auto wait = std::chrono::seconds(std::clamp<int64_t>(step.next - now.unix, 1, kRecheckSeconds));
    wake_.wait_for(lock, wait, [this] { return stopping_ || poked_.load(); });
  }
}

}  // namespace outpost
