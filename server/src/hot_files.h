// HotFiles: the small blobs learners ask for most (pages, style sheets, scripts, pictures up
// to 64 KiB), held in memory with their compressed forms, each checked against its hash when
// it is read from disk.
//
// A class opening the same lesson costs, per file, open(2), fstat(2), sendfile(2) and
// close(2) when served from disk; from memory the head and the body leave in one sendmsg(2).
// On a Pi, where the cores also run sync and imports, that is most of the CPU a small file
// costs (bench/serve.sh, the 15 KB page). The bytes are checked against the blob's hash as
// they are read: a damaged blob is never taken in (the caller answers 500 and logs it), and a
// copy in memory is bytes that were whole when read, so a later fault on the card cannot
// reach a learner through it. Blobs are named by their hash, so a copy never goes stale: a new
// version of a file is another blob.
//
// The compressed forms (gzip, zstd) are made when the file is taken in, with the same
// compressor, level and single piece as the disk's compression cache (compression_cache.h), so
// the bytes behind an ETag "HASH-gz" are the same whichever cache sends them.
//
// Bounded: every file is charged its bytes, its variants and a fixed overhead; the least
// recently used files leave first. Blobs found too big are remembered (a bounded set) so that
// a video is looked at once, not on every request.
//
// Thread-safety: thread-safe. Find is cheap (one mutex, one map lookup) and may run on an
// event loop; Load reads a file and compresses, so it belongs on a worker.
#pragma once

#include <cstdint>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "compression_cache.h"
#include "outpost/base/hash.h"
#include "outpost/base/status.h"

namespace outpost {

// One file held in memory. Immutable once made.
struct HotFile {
  std::string bytes;              // the blob's bytes, checked against its hash
  std::string tag;                // the hash in hex: the ETag's stem
  CompressedVariants variants;    // none when the type does not compress
};

class HotFiles {
 public:
  static constexpr uint64_t kMaxFileBytes = 64 * 1024;  // the compression cache's piece
  static constexpr size_t kDefaultMaxBytes = 8u << 20;
  static constexpr size_t kMaxColdHashes = 8192;

  explicit HotFiles(size_t max_bytes = kDefaultMaxBytes, CompressionOptions options = {})
      : max_bytes_(max_bytes), options_(options) {}

  enum class State {
    kUnknown,  // never looked at (or forgotten): Load will tell
    kHot,      // in memory: `file`
    kCold,     // too big to hold: serve it from disk
  };
  struct Lookup {
    State state = State::kUnknown;
    std::shared_ptr<const HotFile> file;  // kHot only
  };

  // What is known of blob `hash`; a hit counts as a use.
  Lookup Find(const Hash& hash);

  // Reads the blob `hash` at `path`. Returns the file, kept, when it is at most kMaxFileBytes
  // and its bytes hash to `hash`; nullptr when it is bigger (remembered as cold); an error
  // when it cannot be read, or Corrupt when its bytes are not the blob's (nothing is kept).
  // The variants are made when `mime` compresses (IsCompressible).
  Result<std::shared_ptr<const HotFile>> Load(const Hash& hash, const std::filesystem::path& path,
                                              std::string_view mime);

  size_t bytes() const;  // what the held files are charged
  size_t files() const;

 private:
  struct Held {
    std::shared_ptr<const HotFile> file;
    size_t cost = 0;
    std::list<Hash>::iterator use;
  };

  static size_t CostOf(const HotFile& file);
  void Keep(const Hash& hash, std::shared_ptr<const HotFile> file);  // mu_ held
  void MarkCold(const Hash& hash);                                   // mu_ held

  mutable std::mutex mu_;
  size_t max_bytes_;
  CompressionOptions options_;
  size_t bytes_ = 0;                         // guarded by mu_
  std::unordered_map<Hash, Held> held_;      // guarded by mu_
  std::list<Hash> uses_;                     // most recent first; guarded by mu_
  std::unordered_set<Hash> cold_;            // guarded by mu_
};

}  // namespace outpost
