// Private to sync/: small pieces the hub's and the site's sides of a session share: reading
// files and ranges, zstd with an optional dictionary prefix (`zstd --patch-from`), the parts of
// a trust list a session needs without verifying it, and the files of a manifest by path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "outpost/content/catalog.h"
#include "outpost/base/status.h"
#include "outpost/sync/identity.h"
#include "outpost/sync/manifest.h"

namespace outpost::sync {

Result<std::string> ReadWholeFile(const std::filesystem::path& path);
Result<std::string> ReadRange(const std::filesystem::path& path, uint64_t offset, uint64_t length);

// zstd at `level`; with a non-empty `prefix`, as a patch against it (ZSTD_CCtx_refPrefix with
// long-distance matching and a window that covers prefix and data, as `zstd --patch-from`).
std::string ZstdCompress(std::string_view data, int level, std::string_view prefix);
// Decompresses a frame of exactly `size` bytes (made with the same `prefix`); kCorrupt if it is
// not one.
Result<std::string> ZstdDecompress(std::string_view frame, uint64_t size, std::string_view prefix);

// Read from a trust list document's fixed header (docs/manifest.md), unverified.
Result<PublicKey> TrustListRoot(std::string_view document);
Result<uint64_t> TrustListSequence(std::string_view document);

// The manifest inside an envelope, without checking the signature (for the hub, which made it).
Result<Manifest> DecodeEnvelopeManifest(std::string_view envelope);

// path -> blob for every node with a file.
std::map<std::string, Hash> FilesByPath(const VersionDraft& draft);

}  // namespace outpost::sync
