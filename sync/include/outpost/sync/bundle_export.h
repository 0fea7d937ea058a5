// Writing a USB bundle onto a drive (bundle.h has the overview; docs/bundle.md, "Export: what
// goes in" and "When the drive fills up", the details), and the exports that stopped on a full
// drive and wait to be continued on another.
//
// Thread-safety: one export at a time per data folder (a lock in DATA/sync/exports); an export
// reads and compresses chunks on a few threads of its own.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "outpost/base/env.h"
#include "outpost/base/status.h"
#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/node.h"
#include "outpost/sync/site_report.h"
#include "outpost/sync/sync_db.h"

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
  // Asked after each record written: true stops the export there, as a full drive does (the
  // whole volumes stay and a continuation writes the rest; the half-written one is removed).
  std::function<bool()> cancelled;
  // Continue the export that stopped on a full drive, rather than start a bundle: the one whose
  // id starts with `continue_id`, or the only one if it is empty. Its recipients and `full`
  // come from its state, so `for_peers` must be empty and `full` false.
  bool continue_export = false;
  std::string continue_id;
  // The drive's file system: every volume is written, synced, renamed and removed through it
  // (tests fake a full drive with it).
  Env* env = Env::Default();
  // Bytes free on the drive that holds a folder, asked before each volume and each record; by
  // default statvfs's f_bavail * f_frsize (no limit if statvfs fails).
  std::function<uint64_t(const std::filesystem::path& folder)> free_bytes;
  // A site: the usage counts its report to the hub carries (site_report.h); empty: those of
  // DATA/usage.db (ReportedUsageFrom in usage.h: none while sending is switched off).
  UsageSource usage;
};

struct BundleExportResult {
  std::string bundle_id;                       // 32 hex digits
  std::vector<std::filesystem::path> volumes;  // written on this drive, in order
  uint64_t bytes = 0;                          // of those volumes
  std::vector<std::string> recipients;         // names
  // Of those, the sites not enrolled yet, whose volumes are sealed to their enrolment file's
  // key (docs/sync.md, "A first stick with the enrolment file").
  std::vector<std::string> sealed_to_file;
  std::vector<std::string> channels;           // "id version" offered to someone
  uint64_t chunks = 0, patches = 0;            // in those volumes
  // False when the drive filled up first: the volumes written are whole and import on their
  // own; the rest waits for a continuation (continue_export) on another drive.
  bool complete = true;
  // Stopped by `cancelled` (complete is false). With volumes written, the state to continue is
  // saved as for a full drive; with none, nothing changed: a continued export can still be
  // continued, and a new one left nothing behind.
  bool cancelled = false;
  uint64_t remaining_bytes = 0;  // what is left, estimated as the free-space check does
  uint64_t remaining_chunks = 0, remaining_patches = 0;
};

// Writes the bundle into `options.to` as volumes named outpost-<first 8 hex of the id>-<n>.opb,
// each written to a temp name, fsynced and renamed (a drive pulled out mid-export leaves whole
// volumes or none). Checks the free space first: a drive that cannot hold the whole bundle
// (estimated from above) takes whole volumes as long as they fit, then the export returns
// incomplete and saves its state in DATA/sync/exports/; a drive that cannot hold even the first
// volume's offers and one record of bytes is kNoSpace, saying how much is needed. A full drive
// found by a failed write (ENOSPC) is the same case: the half-written volume is removed.
// The state is saved after every whole volume, so an export cut short by another error (a stick
// pulled out, a crash) also continues from its last whole volume; that error says so.
// A continuation writes the bundle's next volumes: the offers again (so its drive imports on its
// own after the earlier ones), then what the earlier drives do not carry, planned afresh from
// the catalog; when it completes, the state is removed.
// kNotFound for an unknown peer, or for no unfinished export to continue; kInvalidArgument for
// several that match (the message lists them); kCorrupt for a damaged state. Nothing a
// recipient lacks is not an error: the bundle then holds only the offers.
Result<BundleExportResult> ExportBundle(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                                        SyncDb* db, const BundleExportOptions& options);

// An export that stopped on a full drive and waits to be continued.
struct UnfinishedExport {
  std::string bundle_id;                // 32 hex digits
  std::vector<std::string> recipients;  // names
  uint32_t volumes = 0;                 // written so far, on every drive
  uint64_t bytes = 0;
  uint64_t created_at = 0;              // unix seconds
  std::string damaged;                  // why its state cannot be read ("" if it can)
};
// Every unfinished export of this node, in the order of their ids.
std::vector<UnfinishedExport> UnfinishedExports(const NodePaths& paths);
// Forgets the unfinished export whose id starts with `id` (its saved state, damaged or not): it
// will not be continued. The volumes it wrote still import. kNotFound if none matches,
// kInvalidArgument if several do; kBusy while an export runs.
Status AbandonExport(const NodePaths& paths, const std::string& id);

}  // namespace outpost
