// Verify and CollectGarbage (maintenance.h). The order of the steps is the point of this file:
// verify moves a blob aside only when its bytes are wrong, and gc computes what stays
// referenced before pruning anything (so a dry run reports exactly what a real run removes)
// and makes the catalog forget a blob before its file goes.
#include "outpost/content/maintenance.h"

#include <optional>
#include <unordered_set>
#include <utility>

namespace outpost {

namespace fs = std::filesystem;

namespace {

struct StoredBlob {
  Hash hash;
  uint64_t size = 0;
};

// Checks one blob; moves it aside if its bytes are wrong and the options say so.
std::optional<DamagedBlob> CheckBlob(BlobStore* store, const Hash& hash,
                                     const VerifyOptions& options) {
  Status problem = store->Verify(hash);
  if (problem.ok()) return std::nullopt;
  DamagedBlob damaged{hash, problem, {}, Status::Ok()};
  if (problem.code() == StatusCode::kCorrupt && options.quarantine_damaged) {
    auto moved = store->Quarantine(hash);
    if (moved) damaged.quarantined_to = *moved;
    else damaged.quarantine_error = moved.error();
  }
  return damaged;
}

// Step 1 and 2 of verify: list the store, then re-hash each blob.
Status CheckStore(BlobStore* store, const VerifyOptions& options, VerifyReport* report,
                  std::unordered_set<Hash>* present) {
  std::vector<StoredBlob> blobs;
  OUTPOST_RETURN_IF_ERROR(store->ForEach(
      [&](const Hash& h, uint64_t size) { blobs.push_back({h, size}); },
      [&](const fs::path& p) { report->stray_files.push_back(p); }));
  report->blobs = blobs.size();
  for (const auto& b : blobs) report->bytes += b.size;
  uint64_t done = 0;
  for (const auto& b : blobs) {
    present->insert(b.hash);
    if (auto damaged = CheckBlob(store, b.hash, options)) {
      if (options.damaged) options.damaged(*damaged);
      report->damaged.push_back(std::move(*damaged));
    }
    done += b.size;
    if (options.progress) options.progress(done, report->bytes);
  }
  return Status::Ok();
}

// Removes each unused blob's file once the catalog has forgotten it, then the stale temps.
Status ForgetThenRemove(BlobStore* store, Catalog* catalog, const std::vector<Hash>& unused) {
  // Forget before removing: a crash in between leaves a file no one references, never a
  // reference to a missing file.
  OUTPOST_RETURN_IF_ERROR(catalog->ForgetBlobs(unused));
  for (const auto& h : unused) OUTPOST_RETURN_IF_ERROR(store->Remove(h));
  return store->RemoveStaleTemps();
}

}  // namespace

Result<VerifyReport> Verify(BlobStore* store, Catalog* catalog, const VerifyOptions& options) {
  VerifyReport report;
  std::unordered_set<Hash> present;
  OUTPOST_RETURN_IF_ERROR(CheckStore(store, options, &report, &present));
  if (!catalog) return report;
  report.catalog_problems = catalog->CheckIntegrity();
  for (const auto& h : catalog->ReadableBlobReferences(&report.catalog_problems)) {
    if (!present.count(h)) report.missing.push_back(h);
  }
  return report;
}

Result<GcReport> CollectGarbage(BlobStore* store, Catalog* catalog, const GcOptions& options) {
  auto lock = store->TryLockExclusive();
  if (!lock) return lock.error();
  auto doomed = catalog->VersionsToPrune(options.keep_versions);
  if (!doomed) return doomed.error();
  // What stays referenced once those versions are gone, computed before pruning, so that a
  // dry run reports exactly what a real run removes.
  auto refs = catalog->ReferencedBlobs(*doomed);
  if (!refs) return refs.error();
  GcReport report;
  report.versions_removed = static_cast<int>(doomed->size());
  if (!options.dry_run) {
    auto pruned = catalog->PruneVersions(options.keep_versions);
    if (!pruned) return pruned.error();
  }
  OUTPOST_RETURN_IF_ERROR(store->ForEach([&](const Hash& h, uint64_t size) {
    if (refs->count(h)) return;
    report.blobs_removed.push_back(h);
    report.bytes_freed += size;
  }));
  if (!options.dry_run) {
    OUTPOST_RETURN_IF_ERROR(ForgetThenRemove(store, catalog, report.blobs_removed));
  }
  return report;
}

}  // namespace outpost
