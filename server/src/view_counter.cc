// ViewCounter (view_counter.h): sharded in-memory counts, flushed to usage.db in batches.
#include "view_counter.h"

#include <atomic>
#include <cstring>
#include <ctime>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "outpost/sync/usage.h"

namespace outpost {

namespace {

// A table key: the day's 8 bytes, the channel, a NUL, the resource (neither holds a NUL: they
// come from the URL's path, matched by the route).
std::string Key(int64_t day, std::string_view channel, std::string_view resource) {
  std::string key(sizeof day, '\0');
  std::memcpy(key.data(), &day, sizeof day);
  key.reserve(key.size() + channel.size() + 1 + resource.size());
  key.append(channel).push_back('\0');
  key.append(resource);
  return key;
}

UsageCount CountOf(const std::string& key, uint64_t views) {
  UsageCount c;
  std::memcpy(&c.day, key.data(), sizeof c.day);
  std::string_view rest(key);
  rest.remove_prefix(sizeof c.day);
  size_t nul = rest.find('\0');
  c.channel = std::string(rest.substr(0, nul));
  c.resource = std::string(rest.substr(nul + 1));
  c.views = views;
  return c;
}

}  // namespace

ViewCounter::ViewCounter(UsageStore* store, std::chrono::seconds flush_every,
                         std::function<int64_t()> now, uint64_t flush_after_views)
    : store_(store), flush_every_(flush_every), now_(std::move(now)),
      flush_after_views_(flush_after_views) {
  if (flush_every_.count() > 0) thread_ = std::thread([this] { Loop(); });
}

ViewCounter::~ViewCounter() {
  {
    std::lock_guard lock(stop_mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  (void)Flush();
}

int64_t ViewCounter::Now() const {
  return now_ ? now_() : static_cast<int64_t>(std::time(nullptr));
}

ViewCounter::Shard& ViewCounter::ShardOfThisThread() {
  static std::atomic<size_t> next{0};
  thread_local const size_t mine = next.fetch_add(1, std::memory_order_relaxed) % kShards;
  return shards_[mine];
}

void ViewCounter::Count(std::string_view channel, std::string_view resource) {
  std::string key = Key(UnixDay(Now()), channel, resource);
  {
    Shard& shard = ShardOfThisThread();
    std::lock_guard lock(shard.mu);
    auto it = shard.counts.find(key);
    if (it != shard.counts.end()) {
      ++it->second;
    } else if (shard.counts.size() < kMaxEntriesPerShard) {
      shard.counts.emplace(std::move(key), 1);
    } else {
      ++shard.dropped;
    }
  }
  // The view that reaches the bound wakes the flush thread (once: the flush sets it back).
  if (flush_after_views_ == 0 || since_flush_.fetch_add(1) + 1 != flush_after_views_) return;
  {
    std::lock_guard lock(stop_mu_);
    due_ = true;
  }
  wake_.notify_all();
}

Status ViewCounter::Flush() {
  std::lock_guard flushing(flush_mu_);
  since_flush_ = 0;
  std::vector<UsageCount> batch;
  uint64_t dropped = 0;
  for (Shard& shard : shards_) {
    std::unordered_map<std::string, uint64_t> taken;
    {
      std::lock_guard lock(shard.mu);
      taken.swap(shard.counts);
      dropped += std::exchange(shard.dropped, 0);
    }
    for (const auto& [key, views] : taken) batch.push_back(CountOf(key, views));
  }
  if (dropped > 0) spdlog::warn("usage: {} view(s) not counted: too many pages between flushes", dropped);
  Status st = batch.empty() ? Status::Ok() : store_->Add(batch);
  int64_t today = UnixDay(Now());
  if (st.ok() && pruned_day_ != today) {
    auto pruned = store_->Prune(today);
    if (pruned) pruned_day_ = today;
    else st = pruned.error();
  }
  if (!st.ok() && !failing_) {
    spdlog::error("usage: views not recorded (learners are still served): {}", st.message());
  } else if (st.ok() && failing_) {
    spdlog::info("usage: views are recorded again");
  }
  failing_ = !st.ok();
  return st;
}

void ViewCounter::Loop() {
  std::unique_lock lock(stop_mu_);
  while (!stop_) {
    wake_.wait_for(lock, flush_every_, [this] { return stop_ || due_; });
    if (stop_) break;
    due_ = false;
    lock.unlock();
    (void)Flush();
    lock.lock();
  }
}

}  // namespace outpost
