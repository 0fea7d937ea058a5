// Fetching versions: a plan made before the first request, then a pipeline that keeps about a
// window of requests in flight and takes the answers in order. See fetch.h.
#include "session/fetch.h"

#include <algorithm>
#include <deque>
#include <map>

#include "assembly.h"
#include "outpost/base/file.h"
#include "zstd_codec.h"

namespace outpost::sync {

// ---- ChannelSource

Status ChannelSource::AskChunks(const std::vector<Hash>& chunks) {
  return channel_->Send(kGetChunks, EncodeHashes(chunks));
}

Status ChannelSource::AskPatch(const Hash& file, const Hash& previous) {
  return channel_->Send(kGetPatch, EncodeGetPatch(file, previous));
}

Result<Record> ChannelSource::Next() {
  auto record = channel_->Receive();
  if (!record) return record.error();
  if (record->type != kError) return record;
  auto error = DecodeError(record->body);
  if (!error) return error.error();
  return Status(StatusCode::kInvalidArgument, "the other side stopped: " + error->message);
}

uint64_t ChannelSource::bytes_moved() const {
  return channel_->link()->bytes_received() + channel_->link()->bytes_sent();
}

namespace {

// A file to fetch, and how.
struct Wanted {
  OfferedFile file;
  size_t missing = 0;  // chunks not yet here (chunk route)
  bool by_patch = false;
  bool failed = false;
};

// One request, and what its answer will be about.
struct Ask {
  Hash key;            // a chunk, or the file for a patch
  uint64_t bytes = 0;  // what it should bring, for the window
  bool patch = false;
};

// What to ask for, decided before the first request.
struct Plan {
  std::map<Hash, Wanted> wanted;  // node-stable: the lists below and the builders point in
  std::vector<Wanted*> order;     // small files first, then large media
  std::vector<Ask> asks;
  std::unordered_map<Hash, std::vector<Wanted*>> waiting;  // chunk -> files that need it
  bool unobtainable = false;  // a file the offer did not describe
};

// A previous version this side holds and may read whole as a patch's dictionary: at most
// kMaxPatchInput bytes (a larger one is fetched by its chunks instead, whatever the hub would
// answer).
bool PatchBaseHeld(BlobStore* store, const Hash& previous) {
  std::error_code ec;
  uint64_t size = std::filesystem::file_size(store->PathOf(previous), ec);
  return !ec && size <= kMaxPatchInput;
}

// The files of the versions that the store lacks, in the order to fetch them. A small file
// whose previous version is here comes as a patch.
void ChooseFiles(BlobStore* store, const FetchRequest& request, Plan* plan, SyncSummary* summary) {
  for (const auto& a : request.versions) {
    for (const BlobRef& blob : a.manifest.Blobs()) {
      if (store->Contains(blob.hash) || plan->wanted.count(blob.hash)) continue;
      auto it = request.offered.find(blob.hash);
      if (it == request.offered.end() || it->second.size != blob.size) {
        summary->refused.push_back("the offer did not describe file " + blob.hash.Hex() +
                                   " of channel " + a.manifest.channel_id);
        plan->unobtainable = true;
        continue;
      }
      Wanted w;
      w.file = it->second;
      w.by_patch = w.file.size <= kMaxPatchedFile && w.file.previous &&
                   PatchBaseHeld(store, *w.file.previous);
      plan->wanted.emplace(blob.hash, std::move(w));
    }
  }
  for (auto& [hash, w] : plan->wanted) plan->order.push_back(&w);
  std::stable_sort(plan->order.begin(), plan->order.end(),
                   [](const Wanted* a, const Wanted* b) { return a->file.size < b->file.size; });
}

// Whether a chunk is staged already, or in a file this store holds.
bool HeldHere(BlobStore* store, Catalog* catalog, StagingLog* log, const Hash& chunk) {
  if (log->Has(chunk)) return true;
  auto loc = catalog->FindChunk(chunk);
  return loc && store->Contains(loc->blob);
}

// The requests: a patch per file that comes as one, and every chunk not held here, once
// however many files need it.
void ChooseAsks(BlobStore* store, Catalog* catalog, StagingLog* log, Plan* plan,
                SyncProgress* progress, SyncSummary* summary) {
  for (Wanted* w : plan->order) {
    if (w->by_patch) {
      plan->asks.push_back({w->file.blob, w->file.size / 4 + 1, true});
      progress->bytes_wanted += w->file.size;
      continue;
    }
    for (const ChunkRef& c : w->file.chunks) {
      if (HeldHere(store, catalog, log, c.hash)) {
        ++summary->chunks_reused;
        continue;
      }
      ++w->missing;
      auto& list = plan->waiting[c.hash];
      if (list.empty()) {
        plan->asks.push_back({c.hash, c.length, false});
        progress->bytes_wanted += c.length;
      }
      list.push_back(w);
    }
  }
  progress->files_wanted = plan->wanted.size();
}

// The file a Patch answer rebuilds (unverified): of the size the offer said, and a file asked
// for as a patch is at most kMaxPatchedFile.
Result<std::string> ApplyPatch(BlobStore* store, const OfferedFile& file, const PatchData& patch) {
  if (patch.size != file.size) {
    return InvalidArgument("the patch claims " + std::to_string(patch.size) +
                           " bytes; the offer said " + std::to_string(file.size));
  }
  if (patch.kind != 1) return ZstdDecompress(patch.compressed, file.size, kMaxPatchedFile, {});
  auto old = ReadWholeFile(store->PathOf(*file.previous), kMaxPatchInput);
  if (!old) return old.error();
  return ZstdDecompress(patch.compressed, file.size, kMaxPatchedFile, *old);
}

// The bytes of a Chunk answer (unverified): as long as the offer said (`offered`).
Result<std::string> UnpackChunk(const ChunkData& chunk, uint64_t offered) {
  if (chunk.length != offered) {
    return InvalidArgument("it claims " + std::to_string(chunk.length) + " bytes; the offer said " +
                           std::to_string(offered));
  }
  return ZstdDecompress(chunk.compressed, chunk.length, kMaxChunkLength, {});
}

class Pipeline {
 public:
  Pipeline(BlobStore* store, Catalog* catalog, ChunkSource* source, StagingLog* log,
           const FetchRequest& request, Plan* plan, SyncProgress* progress, SyncSummary* summary)
      : store_(store), catalog_(catalog), source_(source), log_(log), request_(request),
        plan_(plan), progress_(progress), summary_(summary), builders_(store, catalog) {}

  // Asks for what the plan says, a window at a time, until every answer is in, the budget is
  // spent, or the conversation stops (then *stopped says why).
  Status Run(Status* stopped);
  // Waits for the builders and counts the files; not Ok if a builder thread stopped (an
  // exception in it): then nothing may be served.
  Status Finish();

 private:
  Status AskMore();
  Status Take(const Ask& ask, const Record& answer);
  Status OnChunk(const Ask& ask, std::string_view body);
  Status OnPatch(const Ask& ask, std::string_view body);
  // No file that needs what `ask` was for can be built in this fetch.
  void Fail(const Ask& ask);
  void Build(Wanted* w) {
    builders_.Build([this, w] { return AssembleFile(store_, catalog_, log_, w->file); });
  }
  void ShowProgress();

  BlobStore* store_;
  Catalog* catalog_;
  ChunkSource* source_;
  StagingLog* log_;
  const FetchRequest& request_;
  Plan* plan_;
  SyncProgress* progress_;
  SyncSummary* summary_;
  std::deque<Ask> in_flight_;
  uint64_t in_flight_bytes_ = 0;
  size_t next_ = 0;  // in plan_->asks
  Clock::time_point last_progress_ = Clock::now();
  FileBuilders builders_;  // last: its threads stop before the rest goes
};

Status Pipeline::Run(Status* stopped) {
  // Files that need nothing from the other side are built now.
  for (Wanted* w : plan_->order) {
    if (!w->by_patch && w->missing == 0) Build(w);
  }
  while (next_ < plan_->asks.size() || !in_flight_.empty()) {
    if (!builders_.Stopped().ok()) break;  // Finish() says why
    if (request_.cancelled && request_.cancelled()) {
      // What arrived is staged. With answers still on their way (a window can be megabytes on
      // a slow link) the conversation cannot go on: the link is closed rather than drained.
      summary_->cancelled = true;
      if (!in_flight_.empty()) *stopped = Status(StatusCode::kBusy, "the sync was cancelled");
      break;
    }
    bool was_idle = in_flight_.empty();
    OUTPOST_RETURN_IF_ERROR(AskMore());
    if (was_idle && !in_flight_.empty()) ++summary_->round_trips;
    OUTPOST_RETURN_IF_ERROR(source_->Flush());
    if (in_flight_.empty()) break;
    auto answer = source_->Next();
    if (!answer) {
      *stopped = answer.error();
      break;
    }
    Ask ask = in_flight_.front();
    in_flight_.pop_front();
    in_flight_bytes_ -= ask.bytes;
    OUTPOST_RETURN_IF_ERROR(Take(ask, *answer));
    ShowProgress();
  }
  return Status::Ok();
}

// Queues requests while they fit the window and the budget. Chunks go in batches of at most
// max_request_chunks; a patch waits until the chunks before it have been asked for.
Status Pipeline::AskMore() {
  std::vector<Hash> batch;
  while (next_ < plan_->asks.size()) {
    const Ask& r = plan_->asks[next_];
    if (!in_flight_.empty() && in_flight_bytes_ + r.bytes > request_.window) break;
    if (request_.budget_bytes &&
        source_->bytes_moved() + in_flight_bytes_ + r.bytes > request_.budget_bytes) {
      summary_->budget_reached = true;
      next_ = plan_->asks.size();
      break;
    }
    if (r.patch) {
      if (!batch.empty()) break;  // send the chunk batch first, in order
      OUTPOST_RETURN_IF_ERROR(source_->AskPatch(r.key, *plan_->wanted.at(r.key).file.previous));
    } else {
      batch.push_back(r.key);
      if (batch.size() >= request_.max_request_chunks) {
        OUTPOST_RETURN_IF_ERROR(source_->AskChunks(batch));
        batch.clear();
      }
    }
    in_flight_.push_back(r);
    in_flight_bytes_ += r.bytes;
    ++next_;
  }
  if (!batch.empty()) OUTPOST_RETURN_IF_ERROR(source_->AskChunks(batch));
  return Status::Ok();
}

Status Pipeline::Take(const Ask& ask, const Record& answer) {
  if (answer.type == kChunk && !ask.patch) return OnChunk(ask, answer.body);
  if (answer.type == kPatch && ask.patch) return OnPatch(ask, answer.body);
  if (answer.type == kMissing) {
    summary_->refused.push_back("the other side no longer has " + ask.key.Hex());
    Fail(ask);
    return Status::Ok();
  }
  return Corrupt("unexpected record " + std::to_string(answer.type) + " in the fetch");
}

Status Pipeline::OnChunk(const Ask& ask, std::string_view body) {
  auto chunk = DecodeChunk(body);
  if (!chunk) return chunk.error();
  if (chunk->hash != ask.key) return Corrupt("the other side answered out of order");
  auto data = UnpackChunk(*chunk, ask.bytes);
  if (!data || Hash::Of(*data) != chunk->hash) {
    // A tampered or damaged chunk: nothing of it is kept; the file cannot be built now.
    std::string why = data ? "" : ": " + data.error().message();
    summary_->refused.push_back("chunk " + chunk->hash.Hex() + " did not verify" + why);
    Fail(ask);
    return Status::Ok();
  }
  OUTPOST_RETURN_IF_ERROR(log_->Append(chunk->hash, *data));
  ++summary_->chunks_received;
  summary_->chunk_bytes += data->size();
  progress_->bytes_done += data->size();
  if (log_->unsynced_bytes() >= (8u << 20)) OUTPOST_RETURN_IF_ERROR(log_->Sync());
  for (Wanted* w : plan_->waiting[chunk->hash]) {
    // The file is durable on its own once built (BlobWriter fsyncs it); the log needs no
    // sync first.
    if (--w->missing == 0 && !w->failed) Build(w);
  }
  return Status::Ok();
}

Status Pipeline::OnPatch(const Ask& ask, std::string_view body) {
  auto patch = DecodePatch(body);
  if (!patch) return patch.error();
  Wanted& w = plan_->wanted.at(ask.key);
  if (patch->blob != w.file.blob) return Corrupt("the other side answered out of order");
  auto bytes = ApplyPatch(store_, w.file, *patch);
  if (!bytes || Hash::Of(*bytes) != w.file.blob) {
    std::string why = bytes ? "" : ": " + bytes.error().message();
    summary_->refused.push_back("file " + w.file.blob.Hex() + " did not verify" + why);
    w.failed = true;
    return Status::Ok();
  }
  auto info = store_->Put(*bytes);
  if (!info) return info.error();
  OUTPOST_RETURN_IF_ERROR(catalog_->RecordBlobs({*info}));
  ++summary_->patches_received;
  summary_->chunk_bytes += bytes->size();
  progress_->bytes_done += bytes->size();
  ++progress_->files_done;
  return Status::Ok();
}

void Pipeline::Fail(const Ask& ask) {
  if (ask.patch) {
    plan_->wanted.at(ask.key).failed = true;
  } else {
    for (Wanted* w : plan_->waiting[ask.key]) w->failed = true;
  }
}

void Pipeline::ShowProgress() {
  if (!request_.progress || Clock::now() - last_progress_ <= std::chrono::milliseconds(250)) return;
  last_progress_ = Clock::now();
  progress_->bytes_received = source_->bytes_received();
  progress_->seconds = std::chrono::duration<double>(last_progress_ - request_.started).count();
  request_.progress(*progress_);
}

Status Pipeline::Finish() {
  std::vector<std::string> failures;
  progress_->files_done += builders_.Finish(&failures);
  for (auto& f : failures) summary_->refused.push_back(f);
  summary_->files_received += progress_->files_done;
  return builders_.Stopped();
}

}  // namespace

Status Fetch(BlobStore* store, Catalog* catalog, ChunkSource* source, StagingLog* log,
             FetchRequest request, SyncSummary* summary, Status* stopped) {
  Plan plan;
  SyncProgress progress;
  ChooseFiles(store, request, &plan, summary);
  ChooseAsks(store, catalog, log, &plan, &progress, summary);
  // Like an import, hold the store's shared lock until the versions are served, so that gc
  // never removes a file built here before the catalog refers to it.
  auto store_lock = store->LockShared();
  if (!store_lock) return store_lock.error();
  Status failure;
  {
    Pipeline pipeline(store, catalog, source, log, request, &plan, &progress, summary);
    OUTPOST_RETURN_IF_ERROR(pipeline.Run(&failure));
    OUTPOST_RETURN_IF_ERROR(log->Sync());
    OUTPOST_RETURN_IF_ERROR(pipeline.Finish());
  }
  bool all_served = failure.ok() && !plan.unobtainable;
  OUTPOST_RETURN_IF_ERROR(ServeVersions(store, catalog, request.versions, summary, &all_served));
  summary->complete = all_served && !summary->budget_reached && !summary->cancelled;
  if (summary->complete) OUTPOST_RETURN_IF_ERROR(log->Clear());
  *stopped = failure;
  return Status::Ok();
}

}  // namespace outpost::sync
