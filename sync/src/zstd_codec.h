// zstd as the sync protocol and bundles use it (docs/sync-protocol.md): a chunk, a file or an
// envelope compressed alone, or as a patch against a dictionary prefix, its previous version
// (as `zstd --patch-from`).
//
// Thread-safety: the functions are thread-safe; each thread reuses its own contexts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "outpost/base/status.h"

namespace outpost::sync {

// zstd at `level`; with a non-empty `prefix`, as a patch against it (ZSTD_CCtx_refPrefix with
// long-distance matching and a window that covers prefix and data, as `zstd --patch-from`).
std::string ZstdCompress(std::string_view data, int level, std::string_view prefix);

// Decompresses a frame of exactly `size` bytes (made with the same `prefix`); kCorrupt if it is
// not one. `size` comes from the other side: one over `max_size` (the most the caller can
// expect) is refused, kInvalidArgument, before anything is allocated.
Result<std::string> ZstdDecompress(std::string_view frame, uint64_t size, uint64_t max_size,
                                   std::string_view prefix);

}  // namespace outpost::sync
