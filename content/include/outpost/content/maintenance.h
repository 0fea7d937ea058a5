// Maintenance: the two whole-library chores an operator runs by hand or from cron, as library
// calls that return what they found, so that the command line only prints (docs/storage.md
// describes both step by step).
//
//   Verify            re-hashes every stored blob, moves the damaged ones out of the store (to
//                     DATA/quarantine, so they are never served and the next import or sync
//                     writes them afresh), and checks that every blob the catalog uses is there
//                     and that the catalog itself is sound.
//   CollectGarbage    prunes old versions and removes the blobs no remaining version uses.
//                     The catalog forgets a blob before its file is removed, so that a failure
//                     or a crash at any point leaves files no one references, never a reference
//                     to a missing file.
//
// Thread-safety: both may run while other threads or processes serve from the same store and
// catalog (BlobStore and Catalog are thread-safe). Verify takes no lock. CollectGarbage holds
// the store's exclusive lock for its whole run, so no import or download commits meanwhile; it
// fails at once with kBusy if one is running. Callbacks are called on the calling thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "outpost/base/hash.h"
#include "outpost/base/status.h"
#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"

namespace outpost {

// A blob whose bytes could not be confirmed, and what was done about it.
struct DamagedBlob {
  Hash hash;
  Status problem;  // BlobStore::Verify's verdict: kCorrupt (wrong bytes) or a read error
  // Where the blob was moved; empty if it was left in place (a read error, keep_damaged, or
  // the move failed).
  std::filesystem::path quarantined_to;
  Status quarantine_error;  // why the move failed; ok if it was not tried or succeeded
};

struct VerifyOptions {
  // Move each blob with wrong bytes (kCorrupt) to DATA/quarantine. False: only report it.
  bool quarantine_damaged = true;
  // Called after each blob is checked, with the bytes checked so far and in all. May be empty.
  std::function<void(uint64_t done, uint64_t total)> progress;
  // Called as each damaged blob is found (after the move, if any), before the next is checked,
  // so that a long run can say what it found at once. May be empty.
  std::function<void(const DamagedBlob&)> damaged;
};

struct VerifyReport {
  size_t blobs = 0;    // blob files checked
  uint64_t bytes = 0;  // their total size
  std::vector<DamagedBlob> damaged;
  // Used by some version but not in the store (a blob moved aside by this run is damaged, not
  // missing; the next run reports it missing until an import or sync brings it back).
  std::vector<Hash> missing;
  std::vector<std::filesystem::path> stray_files;  // files under blobs/ not named like a blob
  std::vector<std::string> catalog_problems;       // Catalog::CheckIntegrity's findings

  bool ok() const { return damaged.empty() && missing.empty() && catalog_problems.empty(); }
};

// Checks every blob in `store` and every reference in `catalog`. Damage is a finding, not a
// failure: it returns a report whose ok() is false. A damaged catalog is a finding too: the
// blobs are checked whatever its state, against every reference that can still be read from
// it (Catalog::ReadableBlobReferences), and each read error is in catalog_problems. `catalog`
// may be null (it could not be opened: the caller adds why to catalog_problems): then only
// the store is checked. Fails (with the store's error, and no report) only when the store
// cannot be listed. On a read_only() catalog the search index's own check is skipped.
Result<VerifyReport> Verify(BlobStore* store, Catalog* catalog, const VerifyOptions& options = {});

struct GcOptions {
  int keep_versions = 1;  // older versions kept per channel besides the served one (>= 0)
  bool dry_run = false;   // report what a real run would remove, and change nothing
};

struct GcReport {
  int versions_removed = 0;  // versions pruned (or that would be, on a dry run)
  std::vector<Hash> blobs_removed;  // blobs no remaining version uses, removed (or not: dry run)
  uint64_t bytes_freed = 0;         // their total size
};

// Prunes the versions Catalog::VersionsToPrune(keep_versions) names, forgets the blobs no
// remaining version references (chunk index, import cache), then removes their files and any
// temp files left by interrupted writers. A dry run computes the same report and changes
// nothing. Fails with kBusy, changing nothing, if an import or download holds the store's
// lock; fails with the store's or the catalog's error if a step fails, leaving the catalog
// consistent with the store: every blob a version references is still there, and running
// CollectGarbage again finishes the job.
Result<GcReport> CollectGarbage(BlobStore* store, Catalog* catalog, const GcOptions& options = {});

}  // namespace outpost
