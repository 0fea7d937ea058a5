// ViewCounter: the server's count of resource pages opened, kept in memory and added to the
// usage store (outpost/sync/usage.h) in batches, off the requests' path.
//
// A view is one resource page (GET /r/CHANNEL/PATH) answered 200 or 304, whether rendered or
// from the page cache; its files (/c/, /blob/, /app/, the ranges of a video), its JSON twin
// (/api/v1/r/), HEAD, and a POSTed exercise are not views (docs/usage.md). Nothing of the
// request but the channel, the path and the UTC day is kept.
//
// Count() is called on event loops and workers at once. Each thread is given one of kShards
// shards when it first counts (round robin), so threads do not wait for each other: a shard's
// lock is taken by its own threads and, for a swap of its table, by the flush. A flush every
// `flush_every` (and at destruction) takes every shard's table and adds it to the store in one
// transaction. A store that fails (a full disk) loses that batch: the failure is logged once,
// until a flush succeeds again, and no request ever sees it. A shard holds at most
// kMaxEntriesPerShard distinct (day, resource) pairs between flushes; views of further pairs
// are dropped (and logged with the next flush).
//
// Thread-safety: Count() and Flush() may be called from any thread; the periodic flush runs on
// a thread of its own, stopped, joined and followed by a last flush in the destructor.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "outpost/base/status.h"

namespace outpost {

class UsageStore;

class ViewCounter {
 public:
  static constexpr size_t kShards = 16;
  static constexpr size_t kMaxEntriesPerShard = 50'000;

  // Counts into `store` (must outlive the counter), flushing every `flush_every` (zero: only
  // when Flush() is called and at destruction), and, with a periodic flush, as soon as
  // `flush_after_views` views (0: no such bound) were counted since the last flush. `now`
  // gives unix seconds (time(nullptr) if empty): the day a view counts on, and the day Prune()
  // keeps from.
  ViewCounter(UsageStore* store, std::chrono::seconds flush_every,
              std::function<int64_t()> now = {}, uint64_t flush_after_views = 0);
  ~ViewCounter();
  ViewCounter(const ViewCounter&) = delete;
  ViewCounter& operator=(const ViewCounter&) = delete;

  // One view of `resource` in `channel`, today.
  void Count(std::string_view channel, std::string_view resource);
  // Adds what was counted to the store now (and, once a day, prunes it). The store's error, if
  // any (logged once until a flush succeeds).
  Status Flush();

 private:
  struct alignas(64) Shard {
    std::mutex mu;
    std::unordered_map<std::string, uint64_t> counts;  // Key() -> views
    uint64_t dropped = 0;
  };
  Shard& ShardOfThisThread();
  int64_t Now() const;
  void Loop();

  UsageStore* store_;
  std::chrono::seconds flush_every_;
  std::function<int64_t()> now_;
  std::array<Shard, kShards> shards_;
  std::mutex flush_mu_;     // one flush at a time; guards the fields below
  bool failing_ = false;    // the last flush failed (logged once)
  int64_t pruned_day_ = 0;  // the day Prune() last ran
  std::mutex stop_mu_;      // guards stop_
  std::condition_variable wake_;
  bool stop_ = false;
  bool due_ = false;  // flush_after_views_ reached (guarded by stop_mu_)
  uint64_t flush_after_views_;
  std::atomic<uint64_t> since_flush_{0};
  std::thread thread_;
};

}  // namespace outpost
