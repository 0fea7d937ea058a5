// Moving channel versions over a session, in either direction: see exchange.h.
#include "exchange.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "outpost/content/importer.h"
#include "sync_files.h"

namespace outpost::sync {

namespace {

// A file to fetch, and how.
struct Wanted {
  OfferedFile file;
  std::vector<Hash> held;  // chunks handed over in memory for it (Assembly)
  size_t missing = 0;  // chunks not yet here (chunk route)
  bool by_patch = false;
  bool failed = false;
};

// What a request is waiting for.
struct InFlight {
  Hash key;  // a chunk, or the file for a patch
  uint64_t bytes = 0;
  bool patch = false;
};

// Files are built on two threads beside the one receiving, and installed in batches: a page is a
// few KB, and an fsync per file (a journal commit, milliseconds) would hold the link idle. A
// batch is made durable with one syncfs, renamed into the store, and recorded in the chunk
// index in one transaction (BlobStore::InstallBatch).
class Builders {
 public:
  Builders(BlobStore* store, Catalog* catalog, std::function<Result<PendingBlob>(Wanted*)> build)
      : store_(store), catalog_(catalog), build_(std::move(build)) {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { Run(); });
  }
  ~Builders() { Finish(); }

  void Build(Wanted* w) {
    std::lock_guard lock(mu_);
    queue_.push_back(w);
    cv_.notify_one();
  }
  // Waits for every queued file and installs the last batch; returns how many were built, and
  // the failures.
  uint64_t Finish(std::vector<std::string>* failures = nullptr) {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      cv_.notify_all();
    }
    for (auto& t : threads_) t.join();
    threads_.clear();
    Flush(/*all=*/true);
    std::lock_guard lock(mu_);
    if (failures) failures->insert(failures->end(), failures_.begin(), failures_.end());
    failures_.clear();
    return std::exchange(built_, 0);
  }

 private:
  static constexpr size_t kBatchFiles = 256;
  static constexpr uint64_t kBatchBytes = 64u << 20;

  void Run() {
    for (;;) {
      Wanted* w = nullptr;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return closing_ || !queue_.empty(); });
        if (queue_.empty()) return;
        w = queue_.front();
        queue_.pop_front();
      }
      auto pending = build_(w);
      {
        std::lock_guard lock(mu_);
        if (!pending) {
          failures_.push_back(pending.error().message());
          continue;
        }
        batch_bytes_ += pending->info.size;
        batch_.push_back(std::move(*pending));
      }
      Flush(/*all=*/false);
    }
  }

  // Installs the batch if it is full (or, with `all`, whatever it holds). One thread at a time.
  void Flush(bool all) {
    std::lock_guard install(install_mu_);
    std::vector<PendingBlob> batch;
    {
      std::lock_guard lock(mu_);
      if (batch_.empty() || (!all && batch_.size() < kBatchFiles && batch_bytes_ < kBatchBytes)) return;
      batch.swap(batch_);
      batch_bytes_ = 0;
    }
    size_t n = batch.size();
    Status st = Status::Ok();
    auto installed = store_->InstallBatch(std::move(batch));
    if (!installed) st = installed.error();
    if (st.ok()) st = catalog_->RecordBlobs(*installed);
    std::lock_guard lock(mu_);
    if (st.ok()) built_ += n;
    else failures_.push_back(st.message());
  }

  BlobStore* store_;
  Catalog* catalog_;
  std::function<Result<PendingBlob>(Wanted*)> build_;
  std::mutex mu_, install_mu_;
  std::condition_variable cv_;
  std::deque<Wanted*> queue_;
  std::vector<PendingBlob> batch_;
  uint64_t batch_bytes_ = 0;
  std::vector<std::string> failures_;
  uint64_t built_ = 0;
  bool closing_ = false;
  std::vector<std::thread> threads_;
};

Status OtherSideError(std::string_view body) {
  auto error = DecodeError(body);
  if (!error) return error.error();
  return Status(StatusCode::kInvalidArgument, "the other side stopped: " + error->message);
}

}  // namespace

Result<OfferedVersion> OfferVersion(Catalog* catalog, const ChannelInfo& info, uint64_t peer_version) {
  auto envelope = catalog->ManifestEnvelope(info.id, info.served_version);
  if (!envelope) return NotFound("channel " + info.id + " has no signed manifest");
  auto fresh = DecodeEnvelopeManifest(*envelope);
  if (!fresh) return fresh.error();
  std::map<std::string, Hash> old_files;
  std::set<Hash> old_blobs;
  std::optional<std::string> old_envelope;
  if (peer_version > 0) {
    if (auto old = catalog->ManifestEnvelope(info.id, static_cast<int64_t>(peer_version))) {
      if (auto decoded = DecodeEnvelopeManifest(*old)) {
        old_envelope = std::move(*old);
        old_files = FilesByPath(decoded->draft);
        for (const auto& b : decoded->Blobs()) old_blobs.insert(b.hash);
      }
    }
  }
  OfferedVersion version;
  version.channel_id = info.id;
  version.envelope_size = envelope->size();
  // The dictionary is the base version's manifest, not its envelope: a version signed again
  // (after a rotation) has the same manifest under another signature.
  auto old_parts = old_envelope ? ParseSignedManifest(*old_envelope) : Result<SignedManifest>(NotFound(""));
  if (old_parts) {
    version.packing = kZstdAgainstBase;
    version.base_version = peer_version;
    version.packed = ZstdCompress(*envelope, 19, old_parts->manifest);
  } else {
    version.packing = kZstd;
    version.packed = ZstdCompress(*envelope, 19, {});
  }
  version.envelope = std::move(*envelope);
  std::map<Hash, std::string> path_of;
  for (const auto& [path, blob] : FilesByPath(fresh->draft)) path_of.emplace(blob, path);
  for (const BlobRef& blob : fresh->Blobs()) {
    if (old_blobs.count(blob.hash)) continue;  // the peer has it
    OfferedFile file;
    file.blob = blob.hash;
    file.size = blob.size;
    for (const Chunk& c : catalog->ChunksOf(blob.hash)) file.chunks.push_back({c.hash, c.length});
    if (file.chunks.empty() && blob.size > 0) {
      return Internal("the chunk index has no chunks for file " + blob.hash.Hex() +
                      " (run `outpost verify`)");
    }
    if (auto p = path_of.find(blob.hash); p != path_of.end()) {
      if (auto o = old_files.find(p->second); o != old_files.end() && o->second != blob.hash) {
        file.previous = o->second;
      }
    }
    version.files.push_back(std::move(file));
  }
  return version;
}

Result<std::vector<OfferedVersion>> OfferChannels(Catalog* catalog, const OfferedBy& by,
                                                  const std::map<std::string, uint64_t>& peer_serves) {
  std::vector<OfferedVersion> out;
  for (const ChannelInfo& info : catalog->Channels()) {
    if (info.served_version == 0 || !info.manifest_hash) continue;
    auto it = peer_serves.find(info.id);
    uint64_t peer_version = it == peer_serves.end() ? 0 : it->second;
    if (static_cast<uint64_t>(info.served_version) <= peer_version) continue;
    auto envelope = catalog->ManifestEnvelope(info.id, info.served_version);
    auto parts = envelope ? ParseSignedManifest(*envelope) : Result<SignedManifest>(NotFound(""));
    if (!parts) continue;
    bool selected = (by.publishers && by.publishers->Authorizes(parts->publisher, info.id)) ||
                    (by.self && parts->publisher == *by.self);
    if (!selected) continue;
    auto version = OfferVersion(catalog, info, peer_version);
    if (!version) return version.error();
    out.push_back(std::move(*version));
  }
  return out;
}

Result<std::string> UnpackEnvelope(Catalog* catalog, const OfferedVersion& version) {
  if (version.packing == kZstd) return ZstdDecompress(version.packed, version.envelope_size, {});
  if (version.packing == kZstdAgainstBase) {
    auto base = catalog->ManifestEnvelope(version.channel_id, static_cast<int64_t>(version.base_version));
    if (!base) {
      return NotFound("this node has no manifest of " + version.channel_id + " version " +
                      std::to_string(version.base_version));
    }
    auto parts = ParseSignedManifest(*base);
    if (!parts) return parts.error();
    return ZstdDecompress(version.packed, version.envelope_size, parts->manifest);
  }
  return version.packed;
}

namespace {

Result<std::string> ReadChunk(BlobStore* store, Catalog* catalog, const Hash& hash) {
  auto where = catalog->FindChunk(hash);
  if (!where) return NotFound("no such chunk");
  auto data = ReadRange(store->PathOf(where->blob), where->offset, where->length);
  if (!data) return data.error();
  if (Hash::Of(*data) != hash) {
    return Corrupt("file " + where->blob.Hex() + " does not hold chunk " + hash.Hex() +
                   " any more (run `outpost verify`)");
  }
  return data;
}

}  // namespace

Status AnswerChunks(BlobStore* store, Catalog* catalog, SecureChannel* channel,
                    std::string_view body, const SessionLimits& limits,
                    const std::function<bool()>& stop) {
  auto hashes = DecodeHashes(body, limits.max_request_chunks);
  if (!hashes) return hashes.error();
  for (const Hash& hash : *hashes) {
    if (stop && stop()) {
      OUTPOST_RETURN_IF_ERROR(channel->Flush());
      return Status(StatusCode::kBusy, "the byte budget is spent");
    }
    auto data = ReadChunk(store, catalog, hash);
    if (!data) {
      if (data.error().code() != StatusCode::kNotFound) {
        spdlog::error("sync: {}", data.error().message());
      }
      OUTPOST_RETURN_IF_ERROR(channel->Send(kMissing, EncodeHashes({hash})));
      continue;
    }
    ChunkData chunk;
    chunk.hash = hash;
    chunk.length = static_cast<uint32_t>(data->size());
    chunk.compressed = ZstdCompress(*data, limits.zstd_level, {});
    OUTPOST_RETURN_IF_ERROR(channel->Send(kChunk, EncodeChunk(chunk)));
  }
  return channel->Flush();
}

Status AnswerPatch(BlobStore* store, SecureChannel* channel, std::string_view body) {
  auto request = DecodeGetPatch(body);
  if (!request) return request.error();
  auto [blob, previous] = *request;
  PatchData patch;
  patch.blob = blob;
  patch.previous = previous;
  auto fresh = ReadWholeFile(store->PathOf(blob));
  auto old = ReadWholeFile(store->PathOf(previous));
  if (!fresh || fresh->size() > (64u << 20)) {
    OUTPOST_RETURN_IF_ERROR(channel->Send(kMissing, EncodeHashes({blob})));
    return channel->Flush();
  }
  patch.size = fresh->size();
  std::string whole = ZstdCompress(*fresh, 19, {});
  std::string delta = old ? ZstdCompress(*fresh, 19, *old) : std::string();
  if (old && delta.size() < whole.size()) {
    patch.kind = 1;
    patch.compressed = std::move(delta);
  } else {
    patch.kind = 2;
    patch.compressed = std::move(whole);
  }
  OUTPOST_RETURN_IF_ERROR(channel->Send(kPatch, EncodePatch(patch)));
  return channel->Flush();
}

Result<AcceptedVersion> AcceptSiteVersion(Catalog* catalog, SyncDb* db, const PublicKey& site,
                                          const OfferedVersion& version) {
  auto envelope = UnpackEnvelope(catalog, version);
  if (!envelope) return envelope.error().WithContext("its manifest could not be unpacked");
  // A site signs its own channels with its node key, the key pinned at enrolment.
  TrustList only_the_site{site, 1, {{site, {version.channel_id}, KeyState::kActive}}};
  auto manifest = VerifySignedManifest(*envelope, only_the_site);
  if (!manifest) {
    return InvalidArgument("its manifest is not signed by the site's own key for this channel: " +
                           manifest.error().message());
  }
  auto served = catalog->Channel(version.channel_id);
  if (!db->ChannelOwner(version.channel_id) && served) {
    return InvalidArgument("channel " + version.channel_id + " is the hub's own; publish under another id");
  }
  OUTPOST_RETURN_IF_ERROR(db->ClaimChannel(version.channel_id, site));
  OUTPOST_RETURN_IF_ERROR(CheckVersionIsNewer(*manifest, served ? served->served_version : 0));
  return AcceptedVersion{std::move(*manifest), std::move(*envelope)};
}

Result<AcceptedVersion> AcceptPublishedVersion(Catalog* catalog, const TrustList& trust,
                                               const OfferedVersion& version) {
  auto envelope = UnpackEnvelope(catalog, version);
  if (!envelope) {
    return envelope.error().WithContext("a manifest of " + version.channel_id + " could not be unpacked");
  }
  auto manifest = VerifySignedManifest(*envelope, trust);
  if (!manifest) return manifest.error();
  auto served = catalog->Channel(manifest->channel_id);
  OUTPOST_RETURN_IF_ERROR(
      CheckVersionIsNewer(*manifest, served ? static_cast<uint64_t>(served->served_version) : 0));
  return AcceptedVersion{std::move(*manifest), std::move(*envelope)};
}

Result<PendingBlob> AssembleFile(BlobStore* store, Catalog* catalog, StagingLog* log,
                                 const OfferedFile& file, const HeldChunks& held) {
  auto writer = store->NewWriter();
  if (!writer) return writer.error();
  for (const ChunkRef& c : file.chunks) {
    if (auto in_memory = held ? held(c.hash) : nullptr) {
      OUTPOST_RETURN_IF_ERROR((*writer)->AppendChunk(
          {reinterpret_cast<const uint8_t*>(in_memory->data()), in_memory->size()}, c.hash));
      continue;
    }
    // Staged chunks were verified as they arrived; the file's hash below checks them again.
    Result<std::string> data = log->Has(c.hash) ? log->Read(c.hash, /*verify=*/false)
                                                : Result<std::string>(NotFound(""));
    if (!data) {
      auto loc = catalog->FindChunk(c.hash);
      if (!loc) return NotFound("chunk " + c.hash.Hex() + " is nowhere");
      data = ReadRange(store->PathOf(loc->blob), loc->offset, loc->length);
      if (!data) return data.error();
      if (Hash::Of(*data) != c.hash) return Corrupt("local chunk " + c.hash.Hex() + " is damaged");
    }
    // The chunk list is the offer's: recorded as it is, the chunker need not run again.
    OUTPOST_RETURN_IF_ERROR((*writer)->AppendChunk(
        {reinterpret_cast<const uint8_t*>(data->data()), data->size()}, c.hash));
  }
  auto pending = (*writer)->Finish();
  if (!pending) return pending.error();
  if (pending->info.hash != file.blob) {
    if (!pending->temp.empty()) (void)store->env()->Remove(pending->temp);
    return Corrupt("file " + file.blob.Hex() + " rebuilt from its chunks has hash " +
                   pending->info.hash.Hex() + ": the offer's chunk list was wrong");
  }
  return pending;
}

Status ServeVersions(BlobStore* store, Catalog* catalog, const std::vector<AcceptedVersion>& versions,
                     SyncSummary* summary, bool* all_served) {
  for (const auto& a : versions) {
    bool complete = true;
    for (const BlobRef& blob : a.manifest.Blobs()) {
      if (!store->Contains(blob.hash)) {
        complete = false;
        break;
      }
    }
    if (!complete) {
      *all_served = false;
      continue;
    }
    OUTPOST_RETURN_IF_ERROR(store->SyncDirs());
    VersionDraft draft = a.manifest.draft;
    OUTPOST_RETURN_IF_ERROR(FillBodyText(&draft, store));
    auto before = catalog->Channel(a.manifest.channel_id);
    auto committed = catalog->CommitVersionAs(draft, static_cast<int64_t>(a.manifest.version),
                                              a.envelope, a.manifest.hash);
    if (!committed) {
      summary->refused.push_back(committed.error().message());
      *all_served = false;
      continue;
    }
    summary->updated.push_back({a.manifest.channel_id, before ? before->served_version : 0,
                                static_cast<int64_t>(a.manifest.version)});
  }
  return Status::Ok();
}

// Chunks that files being built here wait for are handed over in memory, up to this many bytes;
// the rest, and what no file waits for yet, go to the staging log.
constexpr uint64_t kHeldBytes = 256u << 20;

struct Assembly::Impl {
  Impl(BlobStore* store, Catalog* catalog, StagingLog* log)
      : store(store), catalog(catalog), log(log),
        builders(store, catalog, [this](Wanted* w) { return Build(w); }) {}

  struct Held {
    std::shared_ptr<const std::string> data;
    size_t users = 0;  // files waiting for it that are not built yet
  };

  std::shared_ptr<const std::string> Find(const Hash& chunk) {
    std::lock_guard lock(mu);
    auto it = held.find(chunk);
    return it == held.end() ? nullptr : it->second.data;
  }
  // On a builder thread. A chunk is let go once every file that waited for it is built: the
  // files of an offer are all wanted before its chunks come (offers lead each volume), and a
  // later bundle leaves out only chunks of versions this node serves, which are in the store.
  Result<PendingBlob> Build(Wanted* w) {
    auto built = AssembleFile(store, catalog, log, w->file, [this](const Hash& c) { return Find(c); });
    std::lock_guard lock(mu);
    for (const Hash& c : w->held) {
      auto it = held.find(c);
      if (it != held.end() && --it->second.users == 0) {
        held_bytes -= it->second.data->size();
        held.erase(it);
      }
    }
    return built;
  }

  BlobStore* store;
  Catalog* catalog;
  StagingLog* log;
  std::map<Hash, Wanted> wanted;                           // node-stable: builders hold pointers
  std::unordered_map<Hash, std::vector<Wanted*>> waiting;  // chunk -> files that need it
  std::mutex mu;                                           // guards held, held_bytes
  std::unordered_map<Hash, Held> held;
  uint64_t held_bytes = 0;
  Builders builders;  // last: its threads stop before the rest goes
};

Assembly::Assembly(BlobStore* store, Catalog* catalog, StagingLog* log)
    : impl_(std::make_unique<Impl>(store, catalog, log)) {}

Assembly::~Assembly() = default;

bool Assembly::Want(const AcceptedVersion& version, const std::unordered_map<Hash, OfferedFile>& offered) {
  Impl& m = *impl_;
  bool described = true;
  for (const BlobRef& blob : version.manifest.Blobs()) {
    if (m.wanted.count(blob.hash) || m.store->Contains(blob.hash)) continue;
    auto it = offered.find(blob.hash);
    if (it == offered.end() || it->second.size != blob.size) {
      described = false;
      continue;
    }
    Wanted& w = m.wanted[blob.hash];
    w.file = it->second;
    for (const ChunkRef& c : w.file.chunks) {
      if (m.log->Has(c.hash)) continue;
      {
        std::lock_guard lock(m.mu);
        if (auto h = m.held.find(c.hash); h != m.held.end()) {
          // Handed over already for another file: this one uses it too.
          if (std::find(w.held.begin(), w.held.end(), c.hash) == w.held.end()) {
            ++h->second.users;
            w.held.push_back(c.hash);
          }
          continue;
        }
      }
      if (auto loc = m.catalog->FindChunk(c.hash); loc && m.store->Contains(loc->blob)) continue;
      auto& list = m.waiting[c.hash];
      // A chunk twice in one file is one wait.
      if (list.empty() || list.back() != &w) {
        list.push_back(&w);
        ++w.missing;
      }
    }
    if (w.missing == 0) m.builders.Build(&w);
  }
  return described;
}

Status Assembly::Arrived(const Hash& chunk, std::string data) {
  Impl& m = *impl_;
  auto it = m.waiting.find(chunk);
  bool in_memory = false;
  if (it != m.waiting.end()) {
    std::lock_guard lock(m.mu);
    if (m.held_bytes + data.size() <= kHeldBytes) {
      m.held_bytes += data.size();
      Impl::Held& h = m.held[chunk];
      h.data = std::make_shared<const std::string>(std::move(data));
      h.users = it->second.size();
      for (Wanted* w : it->second) w->held.push_back(chunk);
      in_memory = true;
    }
  }
  if (!in_memory) OUTPOST_RETURN_IF_ERROR(m.log->Append(chunk, data));
  if (it == m.waiting.end()) return Status::Ok();
  for (Wanted* w : it->second) {
    if (--w->missing == 0) m.builders.Build(w);
  }
  m.waiting.erase(it);
  return Status::Ok();
}

bool Assembly::Has(const Hash& chunk) const {
  if (impl_->log->Has(chunk)) return true;
  std::lock_guard lock(impl_->mu);
  return impl_->held.count(chunk) != 0;
}

Status Assembly::Finish(SyncSummary* summary) {
  Impl& m = *impl_;
  std::vector<std::string> failures;
  summary->files_received += m.builders.Finish(&failures);
  for (auto& f : failures) summary->refused.push_back(f);
  // What files still waiting for other chunks hold is staged for the next import.
  std::unordered_map<Hash, Impl::Held> left;
  {
    std::lock_guard lock(m.mu);
    left.swap(m.held);
    m.held_bytes = 0;
  }
  for (const auto& [hash, h] : left) OUTPOST_RETURN_IF_ERROR(m.log->Append(hash, *h.data));
  return m.log->Sync();
}

Status Fetch(BlobStore* store, Catalog* catalog, SecureChannel* channel, StagingLog* log,
             FetchRequest request, SyncSummary* summary, Status* stopped) {
  Link* link = channel->link();
  // What to fetch: files of the versions that this store lacks.
  std::map<Hash, Wanted> wanted;
  bool unobtainable = false;
  for (const auto& a : request.versions) {
    for (const BlobRef& blob : a.manifest.Blobs()) {
      if (store->Contains(blob.hash) || wanted.count(blob.hash)) continue;
      auto it = request.offered.find(blob.hash);
      if (it == request.offered.end() || it->second.size != blob.size) {
        summary->refused.push_back("the offer did not describe file " + blob.hash.Hex() +
                                   " of channel " + a.manifest.channel_id);
        unobtainable = true;
        continue;
      }
      Wanted w;
      w.file = it->second;
      w.by_patch = w.file.previous && store->Contains(*w.file.previous) && w.file.size <= (1u << 20);
      wanted.emplace(blob.hash, std::move(w));
    }
  }
  // Small files first, then large media.
  std::vector<Wanted*> order;
  for (auto& [hash, w] : wanted) order.push_back(&w);
  std::stable_sort(order.begin(), order.end(),
                   [](const Wanted* a, const Wanted* b) { return a->file.size < b->file.size; });

  std::vector<InFlight> requests;
  std::unordered_map<Hash, std::vector<Wanted*>> waiting;  // chunk -> files that need it
  SyncProgress progress;
  for (Wanted* w : order) {
    if (w->by_patch) {
      requests.push_back({w->file.blob, w->file.size / 4 + 1, true});
      progress.bytes_wanted += w->file.size;
      continue;
    }
    for (const ChunkRef& c : w->file.chunks) {
      bool here = log->Has(c.hash);
      if (!here) {
        if (auto loc = catalog->FindChunk(c.hash); loc && store->Contains(loc->blob)) here = true;
      }
      if (here) {
        ++summary->chunks_reused;
        continue;
      }
      ++w->missing;
      auto& list = waiting[c.hash];
      if (list.empty()) {
        requests.push_back({c.hash, c.length, false});
        progress.bytes_wanted += c.length;
      }
      list.push_back(w);
    }
  }
  progress.files_wanted = wanted.size();

  auto assemble = [&](Wanted* w) { return AssembleFile(store, catalog, log, w->file); };
  // Like an import, hold the store's shared lock until the versions are served, so that gc
  // never removes a file built here before the catalog refers to it.
  auto store_lock = store->LockShared();
  if (!store_lock) return store_lock.error();
  Builders builders(store, catalog, assemble);
  std::vector<std::string> build_failures;
  auto join_builders = [&] { progress.files_done += builders.Finish(&build_failures); };

  // Files that need nothing from the other side are built now.
  for (Wanted* w : order) {
    if (!w->by_patch && w->missing == 0) builders.Build(w);
  }

  // The pipeline: keep about `window` bytes of requests in flight.
  std::deque<InFlight> in_flight;
  uint64_t in_flight_bytes = 0;
  size_t next = 0;
  auto last_progress = Clock::now();
  Status failure;
  auto on_the_wire = [&] { return link->bytes_received() + link->bytes_sent(); };
  while (next < requests.size() || !in_flight.empty()) {
    // Issue more.
    std::vector<Hash> batch;
    bool was_idle = in_flight.empty();
    while (next < requests.size()) {
      const InFlight& r = requests[next];
      if (!in_flight.empty() && in_flight_bytes + r.bytes > request.window) break;
      if (request.budget_bytes && on_the_wire() + in_flight_bytes + r.bytes > request.budget_bytes) {
        summary->budget_reached = true;
        next = requests.size();
        break;
      }
      if (r.patch) {
        if (!batch.empty()) break;  // send the chunk batch first, in order
        auto& w = wanted.at(r.key);
        OUTPOST_RETURN_IF_ERROR(channel->Send(kGetPatch, EncodeGetPatch(r.key, *w.file.previous)));
      } else {
        batch.push_back(r.key);
        if (batch.size() >= request.max_request_chunks) {
          OUTPOST_RETURN_IF_ERROR(channel->Send(kGetChunks, EncodeHashes(batch)));
          batch.clear();
        }
      }
      in_flight.push_back(r);
      in_flight_bytes += r.bytes;
      ++next;
    }
    if (!batch.empty()) OUTPOST_RETURN_IF_ERROR(channel->Send(kGetChunks, EncodeHashes(batch)));
    if (was_idle && !in_flight.empty()) ++summary->round_trips;
    OUTPOST_RETURN_IF_ERROR(channel->Flush());
    if (in_flight.empty()) break;

    // Take one answer.
    auto answer = channel->Receive();
    if (!answer) {
      failure = answer.error();
      break;
    }
    InFlight expected = in_flight.front();
    in_flight.pop_front();
    in_flight_bytes -= expected.bytes;
    if (answer->type == kError) {
      failure = OtherSideError(answer->body);
      break;
    }
    if (answer->type == kChunk && !expected.patch) {
      auto chunk = DecodeChunk(answer->body);
      if (!chunk) return chunk.error();
      if (chunk->hash != expected.key) return Corrupt("the other side answered out of order");
      auto data = ZstdDecompress(chunk->compressed, chunk->length, {});
      if (!data || Hash::Of(*data) != chunk->hash) {
        // A tampered or damaged chunk: nothing of it is kept; the file cannot be built now.
        summary->refused.push_back("chunk " + chunk->hash.Hex() + " did not verify");
        for (Wanted* w : waiting[chunk->hash]) w->failed = true;
        continue;
      }
      OUTPOST_RETURN_IF_ERROR(log->Append(chunk->hash, *data));
      ++summary->chunks_received;
      summary->chunk_bytes += data->size();
      progress.bytes_done += data->size();
      if (log->unsynced_bytes() >= (8u << 20)) OUTPOST_RETURN_IF_ERROR(log->Sync());
      for (Wanted* w : waiting[chunk->hash]) {
        // The file is durable on its own once built (BlobWriter fsyncs it); the log needs no
        // sync first.
        if (--w->missing == 0 && !w->failed) builders.Build(w);
      }
    } else if (answer->type == kPatch && expected.patch) {
      auto patch = DecodePatch(answer->body);
      if (!patch) return patch.error();
      auto& w = wanted.at(expected.key);
      if (patch->blob != w.file.blob) return Corrupt("the other side answered out of order");
      Result<std::string> bytes = Corrupt("no patch");
      if (patch->kind == 1) {
        auto old = ReadWholeFile(store->PathOf(*w.file.previous));
        if (old) bytes = ZstdDecompress(patch->compressed, w.file.size, *old);
      } else {
        bytes = ZstdDecompress(patch->compressed, w.file.size, {});
      }
      if (!bytes || Hash::Of(*bytes) != w.file.blob) {
        summary->refused.push_back("file " + w.file.blob.Hex() + " did not verify");
        w.failed = true;
        continue;
      }
      auto info = store->Put(*bytes);
      if (!info) return info.error();
      OUTPOST_RETURN_IF_ERROR(catalog->RecordBlobs({*info}));
      ++summary->patches_received;
      summary->chunk_bytes += bytes->size();
      progress.bytes_done += bytes->size();
      ++progress.files_done;
    } else if (answer->type == kMissing) {
      summary->refused.push_back("the other side no longer has " + expected.key.Hex());
      if (expected.patch) {
        wanted.at(expected.key).failed = true;
      } else {
        for (Wanted* w : waiting[expected.key]) w->failed = true;
      }
    } else {
      return Corrupt("unexpected record " + std::to_string(answer->type) + " in the fetch");
    }
    if (request.progress && Clock::now() - last_progress > std::chrono::milliseconds(250)) {
      last_progress = Clock::now();
      progress.bytes_received = link->bytes_received();
      progress.seconds = std::chrono::duration<double>(Clock::now() - request.started).count();
      request.progress(progress);
    }
  }
  OUTPOST_RETURN_IF_ERROR(log->Sync());
  join_builders();
  for (auto& f : build_failures) summary->refused.push_back(f);
  summary->files_received += progress.files_done;

  bool all_served = failure.ok() && !unobtainable;
  OUTPOST_RETURN_IF_ERROR(ServeVersions(store, catalog, request.versions, summary, &all_served));
  summary->complete = all_served && !summary->budget_reached;
  if (summary->complete) OUTPOST_RETURN_IF_ERROR(log->Clear());
  *stopped = failure;
  return Status::Ok();
}

}  // namespace outpost::sync
