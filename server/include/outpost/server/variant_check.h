// CheckCompressedVariants: `verify`'s check of the compression cache, DATA/cache/ (the
// server's compressed copies of text blobs, server/src/compression_cache.h). A variant is only
// a copy, so the check repairs what it finds by removing it: the server makes it again from
// the blob, checking the blob's hash as it reads it.
//
// For each file DATA/cache/<64 hex>.gz or .zst: if the store has no blob of that hash, the
// variant is removed (an orphan: gc or verify removed its blob); if it is not empty (an empty
// file is the "not worth compressing" marker), it is decompressed and its bytes hashed, and it
// is removed unless they hash to its name. Other files (temp files of a running server) are
// left alone.
//
// Cost: reads and decompresses every variant once (inflate and zstd decompress run at
// 100-300 MB/s on a Raspberry Pi 4; the cache holds only text, a small part of a store).
//
// Thread-safety: may run while a server serves from the same folder: a removed variant still
// being sent stays readable through its open descriptor, and the next request makes it again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "outpost/base/status.h"
#include "outpost/content/blob_store.h"

namespace outpost {

struct DamagedVariant {
  std::filesystem::path path;  // where it was (removed)
  std::string problem;         // why it was damaged
};

struct VariantCheckReport {
  size_t variants = 0;         // variant files found (markers and orphans included)
  uint64_t bytes = 0;          // their total size
  std::vector<DamagedVariant> damaged;  // removed (unless read-only): not their blob's bytes
  size_t orphans_removed = 0;  // removed: the store no longer holds their blob
  bool ok() const { return damaged.empty(); }
};

// Checks every variant under store.root()/cache. A missing cache folder is an empty cache.
// Fails only if the folder cannot be listed or a variant cannot be removed. With `read_only`
// (a data folder that cannot be written) nothing is removed: damaged variants are reported,
// orphans left.
Result<VariantCheckReport> CheckCompressedVariants(const BlobStore& store, bool read_only = false);

}  // namespace outpost
