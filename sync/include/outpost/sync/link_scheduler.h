// The link policy at work (docs/link-policy.md): SyncUnderPolicy, one sync as the stored policy
// allows it (what `outpost sync` and the scheduler run), and LinkScheduler, the thread of
// `outpost serve` on a site that syncs on its own when the hub answers, so a box with a link
// needs no cron job.
//
// The scheduler's decisions are in Tick(now), a function of the stored policy, the bytes
// recorded, the injected clock's time and what the injected probe says; the thread only calls
// Tick and waits (on a condition variable, so Stop() and Poke() wake it at once). Tests call
// Tick with fixed times, and the hooks are fakes: no time passes in them.
//
// Thread-safety: SyncUnderPolicy runs on the caller's thread. LinkScheduler's Start, Stop and
// Poke may be called from any thread; Tick from one at a time (the scheduler's thread once
// started). At most one sync runs at a time from a scheduler. `outpost serve`'s hook runs it as
// the console's sync job (server/src/jobs.h), which answers kBusy while another console job
// runs; a sync of another process (`outpost sync`) is refused by the staging lock (kBusy). The
// scheduler takes kBusy as "try at the next interval", not as a failure.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "outpost/base/status.h"
#include "outpost/sync/link_policy.h"
#include "outpost/sync/site_sync.h"

namespace outpost {

// One sync under the policy, as it went.
struct PolicySync {
  SyncPlan plan;                       // the rate limit and budget it was given
  std::optional<SyncSummary> summary;  // none: the budget was spent, no sync was started
  // The plain result: "up to date", "not finished (run sync again to continue)", or
  // BudgetSpentMessage when the policy's budget stopped it (or left none to start).
  std::string message;
};

// Runs SyncWithHub with `options` and the plan of PlanSync (the stored policy, the bytes
// recorded this month, `overrides` over them); then records the bytes it moved, both ways, on
// the local day it started, even when it failed part way (the last progress seen). With the
// policy's budget spent and no override, starts nothing. Errors are SyncWithHub's.
Result<PolicySync> SyncUnderPolicy(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                                   SyncDb* db, SyncOptions options,
                                   const SyncOverrides& overrides, const LocalTime& now);

// The bytes recorded in now's month, read for PlanSync and BudgetLeft.
DailyUsage UsageThisMonth(SyncDb* db, const LocalTime& now);

// An automatic sync is not started with less budget left than this: a handshake and an offer
// would spend what is left without bringing a file.
inline constexpr uint64_t kMinAutoSyncBytes = 64 * 1024;
// Failures back off: the interval doubled at each failure in a row, up to this.
inline constexpr int64_t kMaxBackoffSeconds = 6 * 60 * 60;
// How long the probe's TCP connect may take.
inline constexpr std::chrono::milliseconds kProbeTimeout{5000};

class LinkScheduler {
 public:
  struct Hooks {
    std::function<LocalTime()> clock;  // empty: LocalTime::Now
    // Whether "HOST:PORT" answers a TCP connect now. Empty: a real connect, kProbeTimeout.
    std::function<bool(const std::string& address)> reachable;
    // Runs one sync (required) and returns when it has ended; kBusy: another sync or job is
    // running. `outpost serve` gives one that runs it as the console's job
    // (HttpServer::RunScheduledSync: SyncUnderPolicy, shown on the console, cancellable).
    std::function<Status()> sync;
  };

  // What one Tick did, and when it wants the next (unix seconds; the thread waits until then,
  // at most kRecheckSeconds, so a policy changed by another process is read within a minute).
  enum class Did { kOff, kNoHub, kOutsideWindow, kBudgetSpent, kWaiting, kUnreachable,
                   kSynced, kFailed, kBusy };
  struct Step {
    Did did = Did::kOff;
    int64_t next = 0;
  };
  static constexpr int64_t kRecheckSeconds = 60;

  // `db` must outlive the scheduler.
  LinkScheduler(SyncDb* db, Hooks hooks);
  ~LinkScheduler();  // Stop()

  void Start();  // the thread; a second Start does nothing
  // Wakes the thread and waits for it to end: at once when it waits; after the sync when one
  // is running (the hook decides how fast that ends).
  void Stop();
  // Something changed (the policy was saved, the hub was joined): decide again now, ignoring the
  // interval and the back-off.
  void Poke();

  Step Tick(const LocalTime& now);
  int failures() const { return failures_; }
  // The hook's last result ("" before the first sync).
  std::string last_error() const;

 private:
  Step Try(const LinkPolicy& policy, const std::string& address, int64_t now);
  void Run();

  SyncDb* db_;
  Hooks hooks_;
  // Tick's state (its thread only).
  std::optional<LinkPolicy> seen_policy_;
  int64_t next_try_ = 0;  // not before this (the interval after a try, or the back-off)
  int failures_ = 0;
  // The thread.
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::atomic<bool> poked_{false};  // Tick forgets the interval and the back-off
  std::string last_error_;
  std::thread thread_;
};

}  // namespace outpost
