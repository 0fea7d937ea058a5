// PageCache: rendered learner pages, kept in memory until the catalog changes, with their
// compressed forms.
//
// A topic or resource page is a function of the served catalog, the URL and the interface
// language; a class of 40 opens the same pages within seconds. Keeping the HTML until the
// catalog's generation changes (an import or sync committed) turns those into memory copies.
// Bounded by bytes: when full it is simply emptied (pages come back on the next requests).
//
// A RenderedPage is one rendered answer (a page's HTML, or a view's JSON) with its gzip and
// zstd variants. Each variant is made the first time a client asks for that coding, once (a
// second asker waits for the first), and kept as long as the page: a page served from the
// cache costs no compression, and its bytes are sent from where they are, never copied. A
// variant that is not at least 10% smaller than the page (or a page under 256 bytes) is "not
// worth it" and the identity is sent instead, as for files (compression_cache.h). The cache
// charges each page for its bytes plus the largest variants it may come to hold, so its bound
// holds whatever codings clients ask for.
//
// Thread-safety: thread-safe; a RenderedPage may be read and its variants made from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "compression_cache.h"

namespace outpost {

class RenderedPage {
 public:
  // `body` as rendered; `mime` its Content-Type. Computes the tag (the hash of `body`).
  RenderedPage(std::string body, std::string mime, CompressionOptions options = {});

  const std::string& body() const { return body_; }
  const std::string& mime() const { return mime_; }
  const std::string& tag() const { return tag_; }  // hex hash of body(): the ETag's stem

  // The bytes to send for `encoding`: the variant, or nullptr for the identity (asked for, or
  // the variant is not worth it). A variant not made yet is made now, counting one in
  // `*made` if non-null; with !may_make (on an event loop) nullopt is returned instead.
  std::optional<const std::string*> Variant(ContentEncoding encoding, bool may_make,
                                            std::atomic<uint64_t>* made = nullptr) const;

  // What the page may come to occupy: its bytes and the largest variants it may keep.
  size_t MaxBytes() const;

 private:
  struct Slot {
    std::once_flag once;
    std::atomic<bool> done{false};
    std::optional<std::string> bytes;  // written once, before `done`
  };

  std::string body_, mime_, tag_;
  CompressionOptions options_;
  mutable Slot gzip_, zstd_;
};

class PageCache {
 public:
  explicit PageCache(size_t max_bytes = 12u << 20) : max_bytes_(max_bytes) {}

  // The page for `key` rendered at catalog generation `generation`, or null.
  std::shared_ptr<const RenderedPage> Get(const std::string& key, uint64_t generation);

  void Put(const std::string& key, uint64_t generation, std::shared_ptr<const RenderedPage> page);

 private:
  std::mutex mu_;
  size_t max_bytes_;
  size_t bytes_ = 0;
  uint64_t generation_ = 0;
  std::unordered_map<std::string, std::shared_ptr<const RenderedPage>> pages_;
};

}  // namespace outpost
