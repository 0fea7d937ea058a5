// Compressed variants of text resources (HTML, CSS, JavaScript, JSON, SVG, subtitles), made
// once and reused, never recompressed per request.
//
// Two stores, one for each kind of source:
//
// - CompressionCache: for blobs on disk. DATA/cache/<64 hex>.gz and <64 hex>.zst hold the gzip
//   and zstd variants of the blob of that hash. A variant is made on the first request that
//   wants it (in that request's thread: 16 MB of text takes 0.3 s at zstd level 9 on a desktop
//   core, about a second on a Raspberry Pi 4; most pages are a few KB), written to a temp file
//   and renamed into place, so a reader sees a whole variant or none. Not fsynced: it is a
//   cache, and a power cut leaves at worst an empty file (read as "not worth it", below) or no
//   file. Blobs never change (they are named by their hash), so a variant never goes stale;
//   removing DATA/cache entirely is always safe. Nothing removes the variants of blobs that gc
//   deleted yet: they are small, and `rm -r DATA/cache` reclaims them.
//
//   An EMPTY variant file is a marker: "this blob is not worth compressing that way" (the result
//   was not at least 10% smaller, or the blob is smaller than min_size or larger than
//   max_size). A real gzip or zstd stream is never empty. So one open(2)+fstat(2) answers every
//   request: a hit, a marker (serve the original) or nothing yet (make it).
//
//   A variant never disagrees with its blob (docs/decisions.md, decision 41): Make hashes the
//   source while it compresses it and writes nothing if the bytes do not hash to the blob's
//   name (the caller answers 500: the blob is damaged, `outpost verify` moves it out);
//   BlobStore::Quarantine removes a blob's variants before it moves the blob; and `verify`
//   decompresses every variant and removes those whose bytes do not hash to their name or
//   whose blob is gone (CheckCompressedVariants, outpost/server/variant_check.h). Between a
//   variant's damage on the card and the next `verify` it is served as it is, as a damaged
//   blob is: the hot path reads no more than it did.
//
//   Concurrent first requests: the first thread to want (hash, encoding) makes it; others that
//   come while it works are told to serve the original meanwhile (no waiting, no duplicate
//   work, no two writers on one file). Other processes writing the same variant are harmless:
//   each writes its own temp file and rename(2) is atomic.
//
// - CompressedVariants: for small files held in memory (the web-ui assets), compressed once
//   when the variants are made and immutable afterwards.
//
// Negotiation (NegotiateEncoding) and the ETag of a variant ("HASH-gz", "HASH-zst") are here
// too; delivery.h uses them.
//
// Thread-safety: CompressionCache's methods are thread-safe. A CompressedVariants is immutable
// after Make() and may be read from any thread. OpenFile is a plain owner of a descriptor.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "outpost/base/env.h"
#include "outpost/base/hash.h"
#include "outpost/base/status.h"

namespace outpost {

enum class ContentEncoding : uint8_t { kIdentity, kGzip, kZstd };

// The Content-Encoding token: "gzip", "zstd"; empty for identity.
std::string_view EncodingToken(ContentEncoding encoding);
// Added to the blob hash in a variant's ETag: "-gz", "-zst"; empty for identity.
std::string_view EtagSuffix(ContentEncoding encoding);

// True for types that compress well: text/*, application/json, application/javascript,
// application/xml, image/svg+xml and any other "+xml" or "+json" type. Parameters
// ("; charset=utf-8") and case are ignored.
bool IsCompressible(std::string_view mime);

// The encoding to send for an Accept-Encoding value: the acceptable one with the highest
// q-value among zstd and gzip (x-gzip counts as gzip), zstd on a tie; identity if neither is
// acceptable. "q=0" refuses a coding; "*" stands for codings not named. An empty or absent
// header gives identity. A coding whose `has_*` flag is false is left out (an in-memory file
// that has only a gzip variant).
ContentEncoding NegotiateEncoding(std::string_view accept_encoding, bool has_zstd = true,
                                  bool has_gzip = true);

struct CompressionOptions {
  uint64_t min_size = 256;           // smaller sources are not worth a variant
  uint64_t max_size = 16ull << 20;   // larger ones take too long to compress on request
  int gzip_level = 6;
  int zstd_level = 9;                // window <= 4 MiB: browsers accept up to 8 MiB
  int max_percent = 90;              // keep a variant only if <= this % of the original
};

// Compresses a whole buffer; nullopt only if the library fails (out of memory).
std::optional<std::string> Compress(ContentEncoding encoding, std::string_view data, int level);

// A read-only file descriptor with the file's size; closes it when destroyed.
class OpenFile {
 public:
  // open(2) + fstat(2). nullopt if the file cannot be opened (errno tells why).
  static std::optional<OpenFile> Open(const std::filesystem::path& path);
  static std::optional<OpenFile> Open(const char* path);
  OpenFile(OpenFile&& other) noexcept : fd_(std::exchange(other.fd_, -1)), size_(other.size_) {}
  OpenFile& operator=(OpenFile&& other) noexcept;
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  ~OpenFile();

  int fd() const { return fd_; }
  uint64_t size() const { return size_; }
  // Gives up ownership: the caller must close the returned descriptor.
  int Release() { return std::exchange(fd_, -1); }

 private:
  OpenFile(int fd, uint64_t size) : fd_(fd), size_(size) {}
  int fd_ = -1;
  uint64_t size_ = 0;
};

class CompressionCache {
 public:
  // Opens the cache folder `dir` (normally DATA/cache), creating it if needed, and removes
  // temp files that a killed process left there more than ten minutes ago. `env` makes the
  // writes (a fault Env fakes a full disk); it must outlive the cache.
  static Result<std::unique_ptr<CompressionCache>> Open(std::filesystem::path dir,
                                                        Env* env = Env::Default(),
                                                        CompressionOptions options = {});

  enum class State { kMissing, kNotWorthIt, kHit };
  struct Lookup {
    State state = State::kMissing;
    std::optional<OpenFile> file;  // kHit only: the variant, open
  };

  // What the cache holds for (hash, encoding): one open(2), plus fstat(2) when it exists.
  Lookup Find(const Hash& hash, ContentEncoding encoding) const;

  // Makes the variant of `source` (the blob `hash`, open) and returns it open. nullopt means
  // "serve the original": the source is outside the size bounds or does not compress well
  // (both remembered on disk with an empty file), another thread is making this variant right
  // now, or making it failed (logged, and remembered until the process restarts so a broken
  // disk costs one attempt per variant, not one per request). When the source's bytes do not
  // hash to `hash`, nothing is written, `*source_damaged` (if given) is set and the caller must
  // not serve the source either: it is damaged (not remembered, so that the variant is made
  // once the blob has been restored).
  std::optional<OpenFile> Make(const Hash& hash, ContentEncoding encoding,
                               const OpenFile& source, bool* source_damaged = nullptr);

  // DATA/cache/<hex>.gz or .zst.
  std::filesystem::path PathOf(const Hash& hash, ContentEncoding encoding) const;
  const CompressionOptions& options() const { return options_; }

 private:
  using Key = std::pair<Hash, ContentEncoding>;
  CompressionCache(std::filesystem::path dir, Env* env, CompressionOptions options)
      : dir_(std::move(dir)), env_(env), options_(options) {}

  // Compresses `source` into a temp file and renames it over `target` (or writes the empty
  // marker when the result is not small enough). Returns whether a real variant was written.
  Result<bool> Write(const Key& key, const OpenFile& source, const std::filesystem::path& target);
  // Reads, hashes and compresses the whole source into `file`; Corrupt if the bytes read do
  // not hash to the key's hash. Adds the compressed size to `*written`.
  Status Compress(const Key& key, const OpenFile& source, WritableFile* file,
                  uint64_t* written);
  Status WriteMarker(const std::filesystem::path& target);
  std::filesystem::path TempPath(const std::filesystem::path& target);
  bool Claim(const Key& key);  // false if another thread is making it or it failed before
  void Finish(const Key& key, bool failed);

  std::filesystem::path dir_;
  Env* env_;
  CompressionOptions options_;
  std::mutex mu_;
  std::set<Key> in_flight_;  // guarded by mu_
  std::set<Key> failed_;     // guarded by mu_
  uint64_t temp_counter_ = 0;  // guarded by mu_
};

// The compressed forms of one in-memory file, made once.
class CompressedVariants {
 public:
  CompressedVariants() = default;  // no variants: always serve the original

  // Compresses `data` with gzip and zstd if `mime` is compressible and the size is within the
  // options' bounds; keeps each result only if it is small enough.
  static CompressedVariants Make(std::string_view data, std::string_view mime,
                                 const CompressionOptions& options = {});

  // The bytes of the `encoding` variant; nullptr if there is none (and for identity).
  const std::string* Get(ContentEncoding encoding) const;
  // True if at least one variant exists (the response then varies by Accept-Encoding).
  bool any() const { return gzip_.has_value() || zstd_.has_value(); }

 private:
  std::optional<std::string> gzip_;
  std::optional<std::string> zstd_;
};

}  // namespace outpost
