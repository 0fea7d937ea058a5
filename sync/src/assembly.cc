// Building files from chunks and serving versions: see assembly.h.
#include "assembly.h"

#include <algorithm>
#include <map>

#include "catch_all.h"
#include "outpost/base/file.h"
#include "outpost/content/importer.h"

namespace outpost::sync {

// ---- FileBuilders

FileBuilders::FileBuilders(BlobStore* store, Catalog* catalog) : store_(store), catalog_(catalog) {
  for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { Run(); });
}

FileBuilders::~FileBuilders() { Finish(); }

void FileBuilders::Build(Job job) {
  std::lock_guard lock(mu_);
  queue_.push_back(std::move(job));
  cv_.notify_one();
}

uint64_t FileBuilders::Finish(std::vector<std::string>* failures) {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
    cv_.notify_all();
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
  Install(/*all=*/true);
  std::lock_guard lock(mu_);
  if (failures) failures->insert(failures->end(), failures_.begin(), failures_.end());
  failures_.clear();
  return std::exchange(built_, 0);
}

Status FileBuilders::Stopped() {
  std::lock_guard lock(mu_);
  return stopped_;
}

void FileBuilders::Run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      if (!stopped_.ok()) continue;  // a builder stopped: the fetch serves nothing now
    }
    // On a thread of its own, an exception would end the process (catch_all.h).
    Status st = CatchAll("a file builder stopped", [&] { return BuildOne(job); });
    if (!st.ok()) {
      std::lock_guard lock(mu_);
      if (stopped_.ok()) stopped_ = st;
    }
  }
}

Status FileBuilders::BuildOne(const Job& job) {
  auto pending = job();
  {
    std::lock_guard lock(mu_);
    if (!pending) {
      failures_.push_back(pending.error().message());
      return Status::Ok();
    }
    batch_bytes_ += pending->info.size;
    batch_.push_back(std::move(*pending));
  }
  Install(/*all=*/false);
  return Status::Ok();
}

void FileBuilders::Install(bool all) {
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

// ---- files and versions

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
      data = ReadFileRange(store->PathOf(loc->blob), loc->offset, loc->length);
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
      : store(store), catalog(catalog), log(log), builders(store, catalog) {}

  // A file of an accepted version that the store lacks.
  struct Wanted {
    OfferedFile file;
    std::vector<Hash> held;  // chunks handed over in memory for it
    size_t missing = 0;      // chunks not yet here
  };

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
  void Schedule(Wanted* w) {
    builders.Build([this, w] { return Build(w); });
  }

  BlobStore* store;
  Catalog* catalog;
  StagingLog* log;
  std::map<Hash, Wanted> wanted;                           // node-stable: builders hold pointers
  std::unordered_map<Hash, std::vector<Wanted*>> waiting;  // chunk -> files that need it
  std::mutex mu;                                           // guards held, held_bytes
  std::unordered_map<Hash, Held> held;
  uint64_t held_bytes = 0;
  FileBuilders builders;  // last: its threads stop before the rest goes
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
    Impl::Wanted& w = m.wanted[blob.hash];
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
    if (w.missing == 0) m.Schedule(&w);
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
      for (Impl::Wanted* w : it->second) w->held.push_back(chunk);
      in_memory = true;
    }
  }
  if (!in_memory) OUTPOST_RETURN_IF_ERROR(m.log->Append(chunk, data));
  if (it == m.waiting.end()) return Status::Ok();
  for (Impl::Wanted* w : it->second) {
    if (--w->missing == 0) m.Schedule(w);
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
  OUTPOST_RETURN_IF_ERROR(m.builders.Stopped());  // what is held goes with the volume
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

}  // namespace outpost::sync
