// Writing a USB bundle (see bundle_export.h; the format in docs/bundle.md): plan what the
// recipients lack (export_plan.h), check the drive's room, write the volumes (volume_series.h),
// and save what the drive carries after each whole volume, so that a full drive, a crash or a
// pulled stick is continued on the next drive (export_state.h).
#include "outpost/sync/bundle_export.h"
#include "outpost/sync/usage.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <deque>
#include <future>
#include <set>
#include <span>

#include <spdlog/spdlog.h>

#include "bundle/bundle_records.h"
#include "catch_all.h"
#include "bundle/bundle_volume.h"
#include "bundle/export_plan.h"
#include "bundle/export_state.h"
#include "bundle/volume_series.h"
#include "outpost/base/file.h"
#include "outpost/sync/site_report.h"
#include "staging.h"
#include "wire.h"
#include "zstd_codec.h"

namespace outpost {

using namespace outpost::sync;
namespace fs = std::filesystem;

namespace {

// A damaged frame loses its batch: a quarter MiB keeps that loss small, for 22 bytes a frame.
constexpr size_t kChunkBatchBytes = 256 << 10;
// zstd level 1: on the bundle benchmark level 3 made the bundle 0.1% smaller and the export 15%
// slower; a stick is not a paid link.
constexpr int kChunkLevel = 1;

std::string Mb(uint64_t bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return b;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// ---- how much room it takes

// Chunks go in records of about a quarter MiB (less for small volumes): [begin, end) in `chunks`.
std::vector<std::pair<size_t, size_t>> ChunkBatches(const std::vector<ChunkRef>& chunks, uint64_t batch_limit) {
  std::vector<std::pair<size_t, size_t>> batches;
  for (size_t i = 0, raw = 0, begin = 0; i < chunks.size(); ++i) {
    raw += chunks[i].length;
    if (raw >= batch_limit || i + 1 == chunks.size()) {
      batches.push_back({begin, i + 1});
      begin = i + 1;
      raw = 0;
    }
  }
  return batches;
}

// An upper bound of the bytes the plan's pieces not in `done` take in volumes: the offers once,
// files and chunks uncompressed.
uint64_t EstimateBytes(const ExportPlan& plan, const Carried& done, uint64_t volume_bytes) {
  std::set<Hash> chunks_done(done.chunks.begin(), done.chunks.end());
  std::set<std::pair<Hash, Hash>> patches_done(done.patches.begin(), done.patches.end());
  uint64_t n = 0;
  for (const auto& [type, body] : plan.lead) n += body.size() + 64;
  for (const PlannedPatch& p : plan.patches) {
    if (!patches_done.count({p.blob, p.previous})) n += p.size;
  }
  for (const ChunkRef& c : plan.chunks) {
    if (!chunks_done.count(c.hash)) n += c.length + 48;
  }
  // zstd never grows data by more than a little; volumes add their headers.
  return n + n / 256 + 4096 * (1 + n / volume_bytes);
}

// The least room worth writing on: the first volume's header, the lead records and one record
// of bytes, plus the margin.
uint64_t LeastUsefulRoom(const ExportPlan& plan, uint64_t batch_limit) {
  uint64_t n = VolumeSeries::HeaderBytes(plan.recipients.size()) + VolumeSeries::kEndReserve + kDriveMargin;
  for (const auto& [type, body] : plan.lead) n += body.size() + VolumeWriter::kFrameOverhead;
  if (!plan.patches.empty()) {
    n += plan.patches[0].size + 64;
  } else if (!plan.chunks.empty()) {
    auto [begin, end] = ChunkBatches(plan.chunks, batch_limit)[0];
    for (size_t i = begin; i < end; ++i) n += plan.chunks[i].length + 48;
  }
  return n;
}

// The estimate is an upper bound: a drive that seems too small may yet hold the bundle, and one
// that does not is filled and the export continued on another. Only a drive without room for
// the start of the bundle is refused.
Status CheckRoom(const ExportPlan& plan, const fs::path& to, uint64_t free, uint64_t estimate,
                 uint64_t batch_limit) {
  if (free >= estimate + kDriveMargin) return Status::Ok();
  uint64_t least = LeastUsefulRoom(plan, batch_limit);
  if (free >= least) return Status::Ok();
  return Status(StatusCode::kNoSpace, "the bundle needs up to " + Mb(estimate) + " (less once compressed), and " +
                                          to.string() + " has " + Mb(free) + " free, less than the " + Mb(least) +
                                          " its first volume needs: use a larger drive or free some space");
}

// ---- the records

// A small edited file as a zstd patch against its previous version, or whole if that is smaller
// (or if the previous version is over kMaxPatchInput, as a hub answers a sync).
Result<PatchData> MakePatch(BlobStore* store, const PlannedPatch& p) {
  auto fresh = ReadWholeFile(store->PathOf(p.blob), kMaxPatchedFile);
  auto old = ReadWholeFile(store->PathOf(p.previous), kMaxPatchInput);
  bool too_large = !old && old.error().code() == StatusCode::kInvalidArgument;
  if (!fresh || (!old && !too_large)) {
    return NotFound("file " + p.blob.Hex() + " is missing here (run `outpost verify`)");
  }
  PatchData patch;
  patch.blob = p.blob;
  patch.previous = p.previous;
  patch.size = fresh->size();
  std::string whole = ZstdCompress(*fresh, 19, {});
  std::string delta = old ? ZstdCompress(*fresh, 19, *old) : std::string();
  patch.kind = old && delta.size() < whole.size() ? 1 : 2;
  patch.compressed = patch.kind == 1 ? std::move(delta) : std::move(whole);
  return patch;
}

// Called after each record: false stops the export (BundleExportOptions::cancelled).
using GoOn = std::function<bool()>;

// What WriteBundle returns when GoOn said stop (ExportBundle knows it from its own flag).
Status Stopped() { return Status(StatusCode::kChanged, "the export was cancelled"); }

Status WritePatches(const ExportPlan& plan, BlobStore* store, VolumeSeries* series, const GoOn& go_on) {
  for (const PlannedPatch& p : plan.patches) {
    auto patch = MakePatch(store, p);
    if (!patch) return patch.error();
    OUTPOST_RETURN_IF_ERROR(series->Add(kPatchRecord, EncodePatch(*patch), {{}, {{p.blob, p.previous}}}));
    if (!go_on()) return Stopped();
  }
  return Status::Ok();
}

// One chunk's bytes, read from the file that holds it and checked against its hash.
Result<std::string> ReadChunk(BlobStore* store, Catalog* catalog, const ChunkRef& c) {
  auto where = catalog->FindChunk(c.hash);
  if (!where) return NotFound("chunk " + c.hash.Hex() + " is not indexed here (run `outpost verify`)");
  auto data = ReadFileRange(store->PathOf(where->blob), where->offset, where->length);
  if (!data) return data.error();
  if (Hash::Of(*data) != c.hash) {
    return Corrupt("file " + where->blob.Hex() + " does not hold chunk " + c.hash.Hex() +
                   " any more (run `outpost verify`)");
  }
  return data;
}

// One record of chunks: read, checked against their hashes, compressed if that pays.
Result<std::string> PackChunks(BlobStore* store, Catalog* catalog, std::span<const ChunkRef> chunks) {
  wire::Writer w;
  w.U32(static_cast<uint32_t>(chunks.size()));
  for (const ChunkRef& c : chunks) {
    auto data = ReadChunk(store, catalog, c);
    if (!data) return data.error();
    // Video, JPEG and PNG do not compress: a look at their first 8 KiB saves zstd the rest.
    std::string_view probe = std::string_view(*data).substr(0, 8192);
    bool worth = data->size() < 16384 || ZstdCompress(probe, 1, {}).size() * 100 < probe.size() * 97;
    std::string packed = worth ? ZstdCompress(*data, kChunkLevel, {}) : std::string();
    bool zstd = worth && packed.size() < data->size();
    AppendBundledChunk(&w, c.hash, *data, zstd ? std::optional<std::string_view>(packed) : std::nullopt);
  }
  return w.Take();
}

// Reading, checking and compressing a record's chunks runs on worker threads, a few records
// ahead of the one being encrypted and written.
Status WriteChunks(const ExportPlan& plan, BlobStore* store, Catalog* catalog, uint64_t batch_limit,
                   VolumeSeries* series, const GoOn& go_on) {
  auto batches = ChunkBatches(plan.chunks, batch_limit);
  std::span<const ChunkRef> all(plan.chunks);
  constexpr size_t kAhead = 4;
  // A future of std::async waits for its worker when destroyed, so none outlives this call.
  std::deque<std::future<Result<std::string>>> ready;
  size_t next = 0;
  for (size_t written = 0; written < batches.size(); ++written) {
    while (next < batches.size() && ready.size() < kAhead) {
      auto [begin, end] = batches[next++];
      ready.push_back(std::async(std::launch::async, PackChunks, store, catalog, all.subspan(begin, end - begin)));
    }
    auto record = ready.front().get();
    ready.pop_front();
    if (!record) return record.error();
    auto [begin, end] = batches[written];
    Carried carried;
    for (size_t i = begin; i < end; ++i) carried.chunks.push_back(plan.chunks[i].hash);
    OUTPOST_RETURN_IF_ERROR(series->Add(kChunksRecord, *record, std::move(carried)));
    if (!go_on()) return Stopped();
  }
  return Status::Ok();
}

Status WriteBundle(const ExportPlan& plan, BlobStore* store, Catalog* catalog, uint64_t batch_limit,
                   VolumeSeries* series, const GoOn& go_on) {
  for (const auto& [type, body] : plan.lead) {
    OUTPOST_RETURN_IF_ERROR(series->Add(type, body));
    if (!go_on()) return Stopped();
  }
  OUTPOST_RETURN_IF_ERROR(WritePatches(plan, store, series, go_on));
  OUTPOST_RETURN_IF_ERROR(WriteChunks(plan, store, catalog, batch_limit, series, go_on));
  return series->Finish();
}

// ---- continuing an unfinished export

std::string Describe(const UnfinishedExport& e) {
  std::string out = e.bundle_id.substr(0, 8);
  if (!e.damaged.empty()) return out + " (its state is damaged)";
  std::string to;
  for (const auto& n : e.recipients) to += (to.empty() ? "" : ", ") + n;
  return out + " (for " + to + ": " + std::to_string(e.volumes) + " volume(s), " + Mb(e.bytes) + " written)";
}

std::string ListUnfinished(const NodePaths& paths) {
  std::string all;
  for (const UnfinishedExport& e : UnfinishedExports(paths)) all += (all.empty() ? "" : "; ") + Describe(e);
  return all;
}

// The state of the unfinished export that `id` names: a prefix of its id, or "" for the only one.
Result<ExportState> FindUnfinishedExport(const NodePaths& paths, const std::string& id) {
  std::string prefix = Lower(id);
  auto files = ListExportStates(paths);
  if (files.empty()) {
    return NotFound(
        "there is no unfinished export to continue (an export stops unfinished only when its drive fills up)");
  }
  std::vector<const ExportStateFile*> matches;
  for (const auto& f : files) {
    if (f.id_hex.starts_with(prefix)) matches.push_back(&f);
  }
  if (matches.empty()) {
    return NotFound("no unfinished export's id starts with \"" + id + "\"; unfinished: " + ListUnfinished(paths));
  }
  if (matches.size() > 1) {
    return InvalidArgument("several exports are unfinished: " + ListUnfinished(paths) +
                           "; say which to continue: --continue ID");
  }
  const ExportStateFile& f = *matches[0];
  if (!f.state) {
    return Corrupt("the state of unfinished export " + f.id_hex.substr(0, 8) + " (" + f.path.string() +
                   ") is damaged, so it cannot tell what the earlier drives carry: " + f.state.error().message() +
                   ". Start a new export instead (it writes everything again) and delete that file");
  }
  return f.state.value();
}

// What an export is asked for: a new bundle, or the continuation of an unfinished one with the
// sites and --full it began with.
struct ExportRequest {
  std::vector<std::string> for_peers;
  bool full = false;
  std::optional<ExportState> earlier;
};

Result<ExportRequest> RequestOf(const NodePaths& paths, const BundleExportOptions& options) {
  ExportRequest request{options.for_peers, options.full, std::nullopt};
  if (!options.continue_export) return request;
  if (!options.for_peers.empty() || options.full) {
    return InvalidArgument("a continued export keeps the sites and --full it began with: leave out --for and --full");
  }
  auto state = FindUnfinishedExport(paths, options.continue_id);
  if (!state) return state.error();
  request.full = state->full;
  for (const auto& [key, name] : state->recipients) request.for_peers.push_back(key.Hex());
  request.earlier = std::move(*state);
  return request;
}

// ---- one export

Result<ExportPlan> PlanExport(const NodePaths& paths, BlobStore* store, Catalog* catalog, SyncDb* db,
                              const Identity& self, bool hub, const ExportRequest& request, const fs::path& to) {
  const ExportState* earlier = request.earlier ? &*request.earlier : nullptr;
  ExportPlan plan;
  auto recipients = ChooseRecipients(db, request.for_peers, hub);
  if (!recipients) {
    if (!earlier) return recipients.error();
    return recipients.error().WithContext("continuing bundle " + BundleIdHex(earlier->bundle_id).substr(0, 8));
  }
  plan.recipients = std::move(*recipients);
  std::error_code ec;
  if (!fs::is_directory(to, ec)) {
    return InvalidArgument(to.string() + " is not a folder (give a drive's mount point or a folder on it)");
  }
  OUTPOST_RETURN_IF_ERROR(PlanOffers(paths, catalog, db, self, hub, request.full, &plan));
  PlanPieces(store, catalog, request.full, earlier, &plan);
  PlanLead(catalog, db, self, hub, &plan);
  return plan;
}

// A site's stick for its hub carries the site's signed report among its first records (on every
// drive); one that cannot be made is logged and left out.
void AddSiteReport(const NodePaths& paths, Catalog* catalog, SyncDb* db, const Identity& self,
                   const UsageSource& usage, ExportPlan* plan) {
  // The usage counts: the caller's, else usage.db's (sending switched off: none).
  UsageSource counts = usage ? usage : ReportedUsageFrom(paths.data / "usage.db");
  auto report = BuildSiteReport(paths, catalog, self, counts(), db->Now());
  if (!report) {
    spdlog::warn("this site's report to its hub could not be made: {}", report.error().message());
    return;
  }
  plan->lead.push_back({kReportRecord, std::move(*report)});
}

// A new bundle's first volume, or the next of an unfinished one.
VolumeHeader HeaderFor(const ExportState* earlier, const Identity& self, const ExportPlan& plan) {
  VolumeHeader header;
  if (earlier) {
    header.bundle_id = earlier->bundle_id;
    header.volume = earlier->next_volume;
    header.created_at = earlier->created_at;
  } else {
    randombytes_buf(header.bundle_id.data(), header.bundle_id.size());
    header.created_at = static_cast<uint64_t>(::time(nullptr));
  }
  header.sender = self.public_key();
  for (const Recipient& r : plan.recipients) header.recipients.push_back(r.peer.key);
  if (NeedsBasis(plan)) header.format = kNewestVolumeFormat;
  return header;
}

// What the drives so far carry, with what this one adds.
ExportState NextState(const ExportState* earlier, const VolumeHeader& header, bool full, const ExportPlan& plan,
                      const VolumeSeries& series) {
  ExportState state = earlier ? *earlier : ExportState{};
  state.bundle_id = header.bundle_id;
  state.created_at = header.created_at;
  state.full = full;
  state.recipients.clear();
  for (const Recipient& r : plan.recipients) state.recipients.emplace_back(r.peer.key, r.peer.name);
  state.next_volume = series.next_volume();
  state.bytes_written += series.bytes();
  state.chunks.insert(series.written().chunks.begin(), series.written().chunks.end());
  state.patches.insert(series.written().patches.begin(), series.written().patches.end());
  return state;
}

// What this drive holds.
BundleExportResult ResultOf(const ExportPlan& plan, const VolumeHeader& header, const VolumeSeries& series) {
  BundleExportResult result;
  result.bundle_id = BundleIdHex(header.bundle_id);
  for (const Recipient& r : plan.recipients) {
    result.recipients.push_back(r.peer.name);
    if (r.sealed_to_file) result.sealed_to_file.push_back(r.peer.name);
  }
  result.channels = plan.channels;
  result.volumes = series.volumes();
  result.bytes = series.bytes();
  result.chunks = series.written().chunks.size();
  result.patches = series.written().patches.size();
  return result;
}

// A hub's bundle, whole: what it offered each enrolled site, until the site says it serves it
// (the next stick is packed against it; docs/bundle.md, "Packed against what was sent").
Status NoteSent(SyncDb* db, const ExportPlan& plan, const VolumeHeader& header) {
  if (!db->OwnRoot()) return Status::Ok();
  for (const Recipient& r : plan.recipients) {
    if (!r.sealed_to_file && !r.outcomes.empty()) {
      Status st = db->NoteOutcomesSent(r.peer.key, r.outcomes, static_cast<int64_t>(header.created_at));
      if (!st.ok()) return st.WithContext("the bundle is complete, but its review decisions could not be recorded");
    }
    if (r.sealed_to_file || r.offered.empty()) continue;
    Status st = db->NoteSentVersions(r.peer.key, r.offered, header.bundle_id, static_cast<int64_t>(header.created_at));
    if (!st.ok()) return st.WithContext("the bundle is complete, but what it carries could not be recorded");
  }
  return Status::Ok();
}

// An export cancelled between records: the whole volumes stay, with the state to continue after
// them; with none written, nothing changed (an earlier drive's state stays as it was).
Result<BundleExportResult> Cancelled(const NodePaths& paths, const BundleExportOptions& options,
                                     const ExportRequest& request, const ExportPlan& plan,
                                     const VolumeHeader& header, const VolumeSeries& series) {
  BundleExportResult result = ResultOf(plan, header, series);
  result.complete = false;
  result.cancelled = true;
  if (!series.volumes().empty()) {
    const ExportState* earlier = request.earlier ? &*request.earlier : nullptr;
    Status saved = SaveExportState(Env::Default(), paths, NextState(earlier, header, request.full, plan, series));
    if (!saved.ok()) return saved.WithContext("the export was cancelled, and the state to continue it could not be saved");
  }
  result.remaining_chunks = plan.chunks.size() - result.chunks;
  result.remaining_patches = plan.patches.size() - result.patches;
  result.remaining_bytes = EstimateBytes(plan, series.written(), options.volume_bytes);
  return result;
}

// An export that wrote what it could: complete (its state goes), cut short by an error (the
// state after the last whole volume stays), or stopped by a full drive (the state says what is
// left for the next drive).
Result<BundleExportResult> Conclude(const NodePaths& paths, SyncDb* db, const BundleExportOptions& options,
                                    const ExportRequest& request, const ExportPlan& plan,
                                    const VolumeHeader& header, const VolumeSeries& series, const Status& st,
                                    bool cancelled) {
  if (cancelled) return Cancelled(paths, options, request, plan, header, series);
  if (!st.ok() && st.code() != StatusCode::kNoSpace) {
    if (series.volumes().empty()) return st;
    return Status(st.code(), st.message() + ". The " + std::to_string(series.volumes().size()) +
                                 " volume(s) before it are whole and import as they are; once this is put "
                                 "right, `outpost bundle export --continue` writes the rest");
  }
  BundleExportResult result = ResultOf(plan, header, series);
  if (st.ok()) {
    OUTPOST_RETURN_IF_ERROR(NoteSent(db, plan, header));
    if (Status removed = RemoveExportState(Env::Default(), paths, header.bundle_id); !removed.ok()) {
      return removed.WithContext("the bundle is complete, but the state of its export could not be removed");
    }
    return result;
  }
  if (series.volumes().empty()) {
    return Status(StatusCode::kNoSpace, options.to.string() + " filled up before the bundle's first volume was " +
                                            "whole (" + st.message() + "): use a larger drive or free some space");
  }
  // The drive is full: what is left waits for the next drive.
  const ExportState* earlier = request.earlier ? &*request.earlier : nullptr;
  ExportState state = NextState(earlier, header, request.full, plan, series);
  if (Status saved = SaveExportState(Env::Default(), paths, state); !saved.ok()) {
    return saved.WithContext("the drive is full, and the state to continue on another drive could not be saved "
                             "(the volumes written import on their own; a new export writes the rest)");
  }
  result.complete = false;
  result.remaining_chunks = plan.chunks.size() - result.chunks;
  result.remaining_patches = plan.patches.size() - result.patches;
  result.remaining_bytes = EstimateBytes(plan, series.written(), options.volume_bytes);
  return result;
}

}  // namespace

std::vector<UnfinishedExport> UnfinishedExports(const NodePaths& paths) {
  std::vector<UnfinishedExport> out;
  for (const ExportStateFile& f : ListExportStates(paths)) {
    UnfinishedExport e;
    e.bundle_id = f.id_hex;
    if (!f.state) {
      e.damaged = f.state.error().message();
    } else {
      for (const auto& [key, name] : f.state->recipients) e.recipients.push_back(name);
      e.volumes = f.state->next_volume;
      e.bytes = f.state->bytes_written;
      e.created_at = f.state->created_at;
    }
    out.push_back(std::move(e));
  }
  return out;
}

Status AbandonExport(const NodePaths& paths, const std::string& id) {
  auto lock = StagingLock::Take(ExportsDir(paths), "a bundle export is running on this data folder");
  if (!lock) return lock.error();
  std::string prefix = Lower(id);
  std::vector<ExportStateFile> matches;
  for (auto& f : ListExportStates(paths)) {
    if (!prefix.empty() && f.id_hex.starts_with(prefix)) matches.push_back(std::move(f));
  }
  if (matches.empty()) return NotFound("no unfinished export's id starts with \"" + id + "\"");
  if (matches.size() > 1) {
    return InvalidArgument("several unfinished exports' ids start with \"" + id + "\": give more of it");
  }
  OUTPOST_RETURN_IF_ERROR(Env::Default()->Remove(matches[0].path));
  return Env::Default()->SyncDir(ExportsDir(paths));
}

Result<BundleExportResult> ExportBundle(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                                        SyncDb* db, const BundleExportOptions& options) try {
  auto self = LoadOrCreateIdentity(paths.node_key);
  if (!self) return self.error();
  bool hub = db->OwnRoot().has_value();
  // Two exports at once would both continue the same saved state.
  auto lock = StagingLock::Take(ExportsDir(paths), "another bundle export is running on this data folder");
  if (!lock) return lock.error();
  auto request = RequestOf(paths, options);
  if (!request) return request.error();
  auto plan = PlanExport(paths, store, catalog, db, *self, hub, *request, options.to);
  if (!plan) return plan.error();
  if (!hub) AddSiteReport(paths, catalog, db, *self, options.usage, &*plan);

  const uint64_t batch_limit = std::min<uint64_t>(kChunkBatchBytes, options.volume_bytes / 4);
  const uint64_t estimate = EstimateBytes(*plan, {}, options.volume_bytes);
  FreeBytes free_bytes = options.free_bytes ? options.free_bytes : FreeBytes(StatvfsFreeBytes);
  OUTPOST_RETURN_IF_ERROR(CheckRoom(*plan, options.to, free_bytes(options.to), estimate, batch_limit));

  const ExportState* earlier = request->earlier ? &*request->earlier : nullptr;
  VolumeHeader header = HeaderFor(earlier, *self, *plan);
  VolumeSeries series(options.to, header, *self, options.volume_bytes, options.env, free_bytes);
  // The state after each whole volume: an export cut short by a crash, a power cut or a stick
  // pulled out continues from the last whole volume, as one stopped by a full drive does.
  series.OnClose([&] {
    Status saved = SaveExportState(Env::Default(), paths, NextState(earlier, header, request->full, *plan, series));
    return saved.ok() ? saved : saved.WithContext("saving the state of the export after a whole volume");
  });
  bool cancelled = false;
  Status st = WriteBundle(*plan, store, catalog, batch_limit, &series, [&] {
    if (options.progress) options.progress(series.bytes_so_far(), estimate);
    cancelled = options.cancelled && options.cancelled();
    return !cancelled;
  });
  // Whole volumes stay (an import takes what they hold); a half-written one goes.
  series.Abandon();
  return Conclude(paths, db, options, *request, *plan, header, series, st, cancelled);
} catch (...) {
  return CurrentException("the export stopped");
}

}  // namespace outpost
