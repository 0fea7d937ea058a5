// Rendered pages and their variants (page_cache.h).
#include "page_cache.h"

#include "outpost/base/hash.h"

namespace outpost {

namespace {

int LevelOf(ContentEncoding encoding, const CompressionOptions& options) {
  return encoding == ContentEncoding::kZstd ? options.zstd_level : options.gzip_level;
}

}  // namespace

RenderedPage::RenderedPage(std::string body, std::string mime, CompressionOptions options)
    : body_(std::move(body)), mime_(std::move(mime)), tag_(Hash::Of(body_).Hex()),
      options_(options) {}

std::optional<const std::string*> RenderedPage::Variant(ContentEncoding encoding, bool may_make,
                                                        std::atomic<uint64_t>* made) const {
  if (encoding == ContentEncoding::kIdentity) return nullptr;
  Slot& slot = encoding == ContentEncoding::kZstd ? zstd_ : gzip_;
  if (!slot.done.load(std::memory_order_acquire)) {
    if (!may_make) return std::nullopt;
    std::call_once(slot.once, [&] {
      if (body_.size() >= options_.min_size && body_.size() <= options_.max_size) {
        auto out = Compress(encoding, body_, LevelOf(encoding, options_));
        if (made) made->fetch_add(1, std::memory_order_relaxed);
        if (out && out->size() * 100 <= body_.size() * static_cast<size_t>(options_.max_percent)) {
          slot.bytes = std::move(out);
        }
      }
      slot.done.store(true, std::memory_order_release);
    });
  }
  return slot.bytes ? &*slot.bytes : nullptr;
}

size_t RenderedPage::MaxBytes() const {
  size_t variants = body_.size() * static_cast<size_t>(options_.max_percent) / 100;
  return body_.size() + 2 * variants + mime_.size() + tag_.size();
}

std::shared_ptr<const RenderedPage> PageCache::Get(const std::string& key, uint64_t generation) {
  std::lock_guard lock(mu_);
  if (generation != generation_) return nullptr;
  auto it = pages_.find(key);
  return it == pages_.end() ? nullptr : it->second;
}

void PageCache::Put(const std::string& key, uint64_t generation,
                    std::shared_ptr<const RenderedPage> page) {
  std::lock_guard lock(mu_);
  size_t cost = page->MaxBytes() + key.size();
  if (generation != generation_ || bytes_ + cost > max_bytes_) {
    pages_.clear();
    bytes_ = 0;
    generation_ = generation;
  }
  if (cost > max_bytes_) return;
  auto [it, added] = pages_.insert_or_assign(key, std::move(page));
  (void)it;
  if (added) bytes_ += cost;
}

}  // namespace outpost
