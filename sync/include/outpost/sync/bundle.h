// USB bundles (docs/bundle.md): channel versions carried on a removable drive between a hub and
// its sites, for sites that never see a link. A bundle carries, for each recipient, the offer a
// network sync would make it (signed manifests and every new file's chunk list), then the bytes:
// zstd patches for small edited files, and the chunks the recipients lack, each once however
// many recipients need it. Import verifies exactly as a sync does (the trust list, the hashes),
// stages what arrives, and serves a version only when it is complete; importing again changes
// nothing.
//
// Thread-safety: one export or import at a time per data folder (the staging lock).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/content/status.h"
#include "outpost/sync/node.h"
#include "outpost/sync/session.h"

namespace outpost {

// FAT32 holds files of at most 4 GiB - 1 byte; volumes stay a little below.
inline constexpr uint64_t kDefaultVolumeBytes = (uint64_t{4} << 30) - (uint64_t{16} << 20);

struct BundleExportOptions {
  std::filesystem::path to;  // a folder (a drive's mount point, or a folder on it)
  // Hub: site names or keys, or "all" (every site not revoked). Site: empty (its hub).
  std::vector<std::string> for_peers;
  bool full = false;  // as for a peer never heard from: every served version, no patches
  uint64_t volume_bytes = kDefaultVolumeBytes;
  // Called after each record written: bytes written so far, and the most there can be.
  std::function<void(uint64_t written, uint64_t at_most)> progress;
};

struct BundleExportResult {
  std::string bundle_id;                       // 32 hex digits
  std::vector<std::filesystem::path> volumes;  // written, in order
  uint64_t bytes = 0;
  std::vector<std::string> recipients;         // names
  std::vector<std::string> channels;           // "id version" offered to someone
  uint64_t chunks = 0, patches = 0;
};

// Writes the bundle into `options.to` as volumes named outpost-<first 8 hex of the id>-<n>.opb,
// each written to a temp name, fsynced and renamed (a drive pulled out mid-export leaves whole
// volumes or none). Checks the free space first and says how much is needed. kNotFound for an
// unknown peer; kInvalidArgument when there is nothing a recipient lacks is not an error: the
// bundle then holds only the offers.
Result<BundleExportResult> ExportBundle(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                                        SyncDb* db, const BundleExportOptions& options);

struct BundleImportResult {
  std::vector<std::string> volumes;  // read to their verified end
  std::vector<std::string> damaged;  // what stopped a volume early, one line each
  std::vector<std::string> skipped;  // volumes for other nodes or from unknown senders, and why
  SyncSummary summary;  // updated, refused, complete, files and chunks, as a sync's
};

// Imports a volume file, or every *.opb file of a folder, in any order. A site takes volumes
// signed by its pinned hub; a hub, volumes signed by its enrolled, unrevoked sites.
// `progress` (if set) is called after each record read: bytes of volumes read so far, and their
// total size.
Result<BundleImportResult> ImportBundle(
    const NodePaths& paths, BlobStore* store, Catalog* catalog, SyncDb* db,
    const std::filesystem::path& path,
    const std::function<void(uint64_t read, uint64_t total)>& progress = {});

}  // namespace outpost
