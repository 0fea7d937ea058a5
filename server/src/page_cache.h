// PageCache: rendered learner pages, kept in memory until the catalog changes.
//
// A topic or resource page is a function of the served catalog, the URL and the interface
// language; a class of 40 opens the same pages within seconds. Keeping the HTML until the
// catalog's generation changes (an import or sync committed) turns those into memory copies.
// Bounded by bytes: when full it is simply emptied (pages come back on the next requests).
//
// Thread-safety: thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace outpost {

class PageCache {
 public:
  explicit PageCache(size_t max_bytes = 4u << 20) : max_bytes_(max_bytes) {}

  // The page for `key` rendered at catalog generation `generation`, or null.
  std::shared_ptr<const std::string> Get(const std::string& key, uint64_t generation) {
    std::lock_guard lock(mu_);
    if (generation != generation_) return nullptr;
    auto it = pages_.find(key);
    return it == pages_.end() ? nullptr : it->second;
  }

  void Put(const std::string& key, uint64_t generation, std::shared_ptr<const std::string> page) {
    std::lock_guard lock(mu_);
    if (generation != generation_) {
      pages_.clear();
      bytes_ = 0;
      generation_ = generation;
    }
    if (bytes_ + page->size() + key.size() > max_bytes_) {
      pages_.clear();
      bytes_ = 0;
    }
    bytes_ += page->size() + key.size();
    pages_[key] = std::move(page);
  }

 private:
  std::mutex mu_;
  size_t max_bytes_;
  size_t bytes_ = 0;
  uint64_t generation_ = 0;
  std::unordered_map<std::string, std::shared_ptr<const std::string>> pages_;
};

}  // namespace outpost
