// USB bundles: export and import (see bundle.h; the format in docs/bundle.md).
#include "outpost/sync/bundle.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <future>
#include <map>
#include <set>
#include <span>

#include "bundle/bundle_volume.h"
#include "assembly.h"
#include "offer.h"
#include "bundle/export_state.h"
#include "protocol.h"
#include "staging.h"
#include "sync_files.h"
#include "wire.h"

namespace outpost {

using namespace outpost::sync;
namespace fs = std::filesystem;

namespace {

// Record types inside a bundle's volumes (docs/bundle.md, "What a bundle carries").
enum BundleRecord : uint8_t {
  kOfferRecord = 1,   // recipient key, then an Offer (sync-protocol.md) for that recipient
  kChunksRecord = 2,  // u32 count, then per chunk: hash, u32 length, u8 packing (0 stored, 1 zstd),
                      // u32 packed length, the bytes
  kPatchRecord = 3,   // a Patch (sync-protocol.md)
  kEnrolRecord = 4,   // a site joined from an enrolment file, to its hub: an Enrol (sync-protocol.md)
  kReceiptRecord = 5, // what the sender serves: u32 count, then per channel: string id, u64 version
};

// The receipt a bundle carries back: a site tells its hub every version it serves (what its
// last bundles and syncs brought); a hub tells each site which of the site's own channels it
// serves. The volume's signature vouches for it.
std::string EncodeReceiptRecord(const std::map<std::string, uint64_t>& served) {
  wire::Writer w;
  w.U32(static_cast<uint32_t>(served.size()));
  for (const auto& [id, version] : served) {
    w.String(id);
    w.U64(version);
  }
  return w.Take();
}

Result<std::map<std::string, uint64_t>> DecodeReceiptRecord(std::string_view body) {
  wire::Reader r(body, "receipt");
  uint32_t count = 0;
  OUTPOST_RETURN_IF_ERROR(r.U32(&count, "count"));
  if (static_cast<uint64_t>(count) * 12 > r.remaining()) return r.Bad(0, "too many channels for the bytes");
  std::map<std::string, uint64_t> out;
  for (uint32_t i = 0; i < count; ++i) {
    std::string id;
    uint64_t version = 0;
    OUTPOST_RETURN_IF_ERROR(r.String(&id, 256, "channel id"));
    OUTPOST_RETURN_IF_ERROR(r.U64(&version, "version"));
    out[id] = version;
  }
  OUTPOST_RETURN_IF_ERROR(r.ExpectEnd());
  return out;
}
// A damaged frame loses its batch: a quarter MiB keeps that loss small, for 22 bytes a frame.
constexpr size_t kChunkBatchBytes = 256 << 10;
// zstd level 1: on the bundle benchmark level 3 made the bundle 0.1% smaller and the export 15%
// slower; a stick is not a paid link.
constexpr int kChunkLevel = 1;
constexpr uint64_t kMaxPatchedFile = 1 << 20;  // as in a sync

struct Recipient {
  PeerInfo peer;
  Offer offer;
};

std::string Mb(uint64_t bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return b;
}

Result<std::vector<Recipient>> ChooseRecipients(SyncDb* db, const std::vector<std::string>& wanted,
                                                bool hub) {
  std::vector<Recipient> out;
  if (!hub) {
    auto pin = db->Hub();
    if (!pin) return InvalidArgument("this node is neither a hub nor joined to one");
    if (!wanted.empty() && !(wanted.size() == 1 && (wanted[0] == "hub" || wanted[0] == pin->node_key.Hex()))) {
      return InvalidArgument("a site writes bundles for its hub only (leave out --for)");
    }
    Recipient r;
    r.peer.key = pin->node_key;
    r.peer.name = "hub";
    r.peer.role = "hub";
    out.push_back(std::move(r));
    return out;
  }
  if (wanted.empty()) return InvalidArgument("name the sites the bundle is for: --for NAME (or --for all)");
  std::set<PublicKey> chosen;
  auto sites = db->Peers();
  for (const std::string& w : wanted) {
    bool found = false;
    for (const PeerInfo& p : sites) {
      if (p.role != "site" || p.revoked_at != 0) continue;
      if (w == "all" || p.name == w || p.key.Hex() == w) {
        found = true;
        if (chosen.insert(p.key).second) out.push_back({p, {}});
      }
    }
    if (!found && w != "all") return NotFound("no enrolled, unrevoked site is called \"" + w + "\"");
  }
  if (out.empty()) return InvalidArgument("this hub has no enrolled site to write a bundle for");
  return out;
}

// The offer a recipient would get from a sync, from what this node knows it serves.
Status BuildOffer(const NodePaths& paths, Catalog* catalog, SyncDb* db, const Identity& self,
                  bool hub, bool full, Recipient* r) {
  std::map<std::string, uint64_t> known = full ? std::map<std::string, uint64_t>{} : db->PeerVersions(r->peer.key);
  std::optional<TrustList> trust;
  if (hub) {
    auto doc = ReadWholeFile(paths.trust_list);
    if (!doc) return doc.error();
    r->offer.trust_list = *doc;
    auto root = TrustListRoot(*doc);
    if (!root) return root.error();
    auto list = VerifyTrustList(*doc, *root);
    if (!list) return list.error();
    trust = std::move(*list);
  }
  // A hub hands out what its root's publishers signed; a site sends up what it signed itself.
  PublicKey me = self.public_key();
  auto versions = OfferChannels(catalog, hub ? OfferedBy{&*trust, nullptr} : OfferedBy{nullptr, &me}, known);
  if (!versions) return versions.error();
  r->offer.versions = std::move(*versions);
  return Status::Ok();
}

// Room on the drive is asked for before each volume and each record, less a margin the file
// system spends on its own: FAT32 rounds a file up to a cluster of up to 64 KiB, and folder
// entries and a journal take a little more.
constexpr uint64_t kDriveMargin = 1 << 20;

// Inside an export, kNoSpace means the drive is full: the export stops there, incomplete.
Status DriveFull() { return Status(StatusCode::kNoSpace, "the drive is full"); }

uint64_t StatvfsFreeBytes(const fs::path& folder) {
  struct statvfs info {};
  if (::statvfs(folder.c_str(), &info) != 0) return UINT64_MAX;  // unknown: the writes will tell
  return static_cast<uint64_t>(info.f_bavail) * info.f_frsize;
}

// What records carry of the bundle's pieces, so that the export knows what closed volumes hold.
struct Carried {
  std::vector<Hash> chunks;
  std::vector<std::pair<Hash, Hash>> patches;  // (file, previous)
  void Take(Carried* other) {
    chunks.insert(chunks.end(), other->chunks.begin(), other->chunks.end());
    patches.insert(patches.end(), other->patches.begin(), other->patches.end());
    *other = {};
  }
};

// Writes records into volumes of at most `limit` bytes, and no larger than the drive's room
// when they are opened: each to a temp name, fsynced, renamed.
class VolumeSeries {
 public:
  VolumeSeries(fs::path dir, VolumeHeader header, const Identity& sender, uint64_t limit, Env* env,
               std::function<uint64_t(const fs::path&)> free_bytes)
      : dir_(std::move(dir)), header_(std::move(header)), sender_(sender), limit_(limit), env_(env),
        free_bytes_(std::move(free_bytes)) {}
  ~VolumeSeries() { Abandon(); }

  // Adds a record to the open volume, or to a new one. kNoSpace when the drive has no room for
  // it (the open volume is closed first, whole) or a write found the drive full.
  Status Add(uint8_t type, std::string_view body, Carried carried = {}) {
    uint64_t need = body.size() + VolumeWriter::kFrameOverhead + kEndReserve;
    if (writer_ && records_in_volume_ > 0 && (writer_->bytes_written() + need > budget_ || Room() < need)) {
      OUTPOST_RETURN_IF_ERROR(Close());
    }
    if (!writer_) OUTPOST_RETURN_IF_ERROR(Open(need));
    ++records_in_volume_;
    OUTPOST_RETURN_IF_ERROR(writer_->Add(type, body));
    in_volume_.Take(&carried);
    return Status::Ok();
  }
  Status Close() {
    if (!writer_) return Status::Ok();
    OUTPOST_RETURN_IF_ERROR(writer_->Finish());
    uint64_t size = writer_->bytes_written();
    OUTPOST_RETURN_IF_ERROR(file_->Sync());
    OUTPOST_RETURN_IF_ERROR(file_->Close());
    fs::path final_path = dir_ / Name(header_.volume);
    OUTPOST_RETURN_IF_ERROR(env_->Rename(temp_, final_path));
    writer_.reset();
    file_.reset();
    temp_.clear();
    OUTPOST_RETURN_IF_ERROR(env_->SyncDir(dir_));
    // Only now is what it carries on the drive for good.
    volumes_.push_back(final_path);
    bytes_ += size;
    written_.Take(&in_volume_);
    ++header_.volume;
    return closed_ ? closed_() : Status::Ok();
  }
  // Called after each volume is closed and renamed.
  void OnClose(std::function<Status()> closed) { closed_ = std::move(closed); }
  // Every volume is closed; at least one is written.
  Status Finish() {
    if (!writer_ && volumes_.empty()) OUTPOST_RETURN_IF_ERROR(Open(kEndReserve));
    return Close();
  }
  // Removes the volume being written, if any: cut short, it would import as damaged.
  void Abandon() {
    writer_.reset();
    if (file_) (void)file_->Close();
    file_.reset();
    if (!temp_.empty()) (void)env_->Remove(temp_);
    temp_.clear();
    in_volume_ = {};
  }
  const std::vector<fs::path>& volumes() const { return volumes_; }
  uint64_t bytes() const { return bytes_; }
  uint64_t bytes_so_far() const { return bytes_ + (writer_ ? writer_->bytes_written() : 0); }
  uint32_t next_volume() const { return header_.volume; }
  const Carried& written() const { return written_; }  // in closed volumes

  // A volume's header, for `recipients` (docs/bundle.md, "Costs"); and room for its end.
  static uint64_t HeaderBytes(size_t recipients) { return 68 + 112 * recipients + 24 + 64; }
  static constexpr uint64_t kEndReserve = 256;

 private:
  std::string Name(uint32_t volume) const {
    return "outpost-" + BundleIdHex(header_.bundle_id).substr(0, 8) + "-" + std::to_string(volume) + ".opb";
  }
  uint64_t Room() const {
    uint64_t free = free_bytes_(dir_);
    return free > kDriveMargin ? free - kDriveMargin : 0;
  }
  Status Open(uint64_t need) {
    uint64_t room = Room();
    if (room < HeaderBytes(header_.recipients.size()) + need) return DriveFull();
    budget_ = std::min(limit_, room);
    temp_ = dir_ / ("." + Name(header_.volume) + ".tmp");
    auto file = env_->NewWritableFile(temp_);
    if (!file) return file.error();
    file_ = std::move(*file);
    auto writer = VolumeWriter::Start(header_, sender_, file_.get());
    if (!writer) return writer.error();
    writer_ = std::move(*writer);
    records_in_volume_ = 0;
    return Status::Ok();
  }

  fs::path dir_;
  VolumeHeader header_;
  const Identity& sender_;
  uint64_t limit_;
  Env* env_;
  std::function<uint64_t(const fs::path&)> free_bytes_;
  uint64_t budget_ = 0;  // the open volume's size limit
  fs::path temp_;
  std::unique_ptr<WritableFile> file_;
  std::unique_ptr<VolumeWriter> writer_;
  uint64_t records_in_volume_ = 0;
  uint64_t bytes_ = 0;
  std::vector<fs::path> volumes_;
  Carried in_volume_, written_;
  std::function<Status()> closed_;
};

struct PlannedPatch {
  Hash blob, previous;
  uint64_t size = 0;
};

// What an export writes. A continuation plans afresh and leaves out what earlier drives carry.
struct ExportPlan {
  std::vector<Recipient> recipients;
  std::vector<std::string> channels;  // "id version"
  // Enrol, Receipts, Offers: the first records on every drive, so that each imports on its own.
  std::vector<std::pair<uint8_t, std::string>> lead;
  std::vector<PlannedPatch> patches;
  std::vector<ChunkRef> chunks;
};

Status PlanOffers(const NodePaths& paths, Catalog* catalog, SyncDb* db, const Identity& self,
                  bool hub, bool full, ExportPlan* plan) {
  std::set<std::string> channels;
  for (Recipient& r : plan->recipients) {
    OUTPOST_RETURN_IF_ERROR(BuildOffer(paths, catalog, db, self, hub, full, &r));
    for (const auto& v : r.offer.versions) {
      auto manifest = DecodeEnvelopeManifest(v.envelope);
      if (manifest) channels.insert(v.channel_id + " " + std::to_string(manifest->version));
    }
  }
  plan->channels.assign(channels.begin(), channels.end());
  return Status::Ok();
}

// What the recipients lack, each piece once: patches of small edited files whose previous
// version the recipient holds, and the chunks of every other new file. Small files first.
// A chunk a recipient holds (in a version it is known to serve) is not sent to it: a moved or
// re-cut file costs only its new chunks, as in a sync. Nor is a piece earlier drives carry.
void PlanPieces(BlobStore* store, Catalog* catalog, SyncDb* db, bool full, const ExportState* earlier,
                ExportPlan* plan) {
  struct Wanted {
    const OfferedFile* file;
    const std::set<Hash>* held;
  };
  std::vector<std::set<Hash>> held(plan->recipients.size());
  std::vector<Wanted> files;
  for (size_t i = 0; i < plan->recipients.size(); ++i) {
    const Recipient& r = plan->recipients[i];
    if (!full) {
      for (const auto& [id, version] : db->PeerVersions(r.peer.key)) {
        auto envelope = catalog->ManifestEnvelope(id, static_cast<int64_t>(version));
        auto manifest = envelope ? DecodeEnvelopeManifest(*envelope) : Result<Manifest>(NotFound(""));
        if (!manifest) continue;
        for (const BlobRef& blob : manifest->Blobs()) {
          for (const Chunk& c : catalog->ChunksOf(blob.hash)) held[i].insert(c.hash);
        }
      }
    }
    for (const auto& v : r.offer.versions) {
      for (const auto& f : v.files) files.push_back({&f, &held[i]});
    }
  }
  std::stable_sort(files.begin(), files.end(),
                   [](const Wanted& a, const Wanted& b) { return a.file->size < b.file->size; });
  std::set<std::pair<Hash, Hash>> patches;
  std::set<Hash> seen_chunks;
  if (earlier) {
    patches = earlier->patches;
    seen_chunks = earlier->chunks;
  }
  for (const auto& [f, holds] : files) {
    if (f->previous && f->size <= kMaxPatchedFile && store->Contains(*f->previous)) {
      if (patches.insert({f->blob, *f->previous}).second) plan->patches.push_back({f->blob, *f->previous, f->size});
      continue;
    }
    for (const ChunkRef& c : f->chunks) {
      if (!holds->count(c.hash) && seen_chunks.insert(c.hash).second) plan->chunks.push_back(c);
    }
  }
}

// The first records: the Enrol (a site that has not met its hub), the Receipts, the Offers.
void PlanLead(Catalog* catalog, SyncDb* db, const Identity& self, bool hub, ExportPlan* plan) {
  auto keyed = [](const PublicKey& key, std::string body) {
    return std::string(reinterpret_cast<const char*>(key.bytes.data()), key.bytes.size()) + body;
  };
  if (!hub) {
    // A site that joined from an enrolment file and was never online presents its code this
    // way: the hub enrols it when it imports the bundle.
    auto pin = db->Hub();
    if (pin && !pin->pending_code.empty()) {
      sync::EnrolRequest enrol{self.public_key(), pin->pending_code, pin->site_name};
      plan->lead.push_back({kEnrolRecord, EncodeEnrol(enrol)});
    }
  }
  if (hub) {
    // Per recipient: its own channels that this hub serves.
    for (const Recipient& r : plan->recipients) {
      std::map<std::string, uint64_t> theirs;
      for (const std::string& id : db->ChannelsOf(r.peer.key)) {
        if (auto info = catalog->Channel(id)) theirs[id] = static_cast<uint64_t>(info->served_version);
      }
      if (!theirs.empty()) plan->lead.push_back({kReceiptRecord, keyed(r.peer.key, EncodeReceiptRecord(theirs))});
    }
  } else {
    std::map<std::string, uint64_t> served;
    for (const ChannelInfo& info : catalog->Channels()) {
      if (info.served_version > 0) served[info.id] = static_cast<uint64_t>(info.served_version);
    }
    plan->lead.push_back({kReceiptRecord, keyed(plan->recipients[0].peer.key, EncodeReceiptRecord(served))});
  }
  for (const Recipient& r : plan->recipients) {
    plan->lead.push_back({kOfferRecord, keyed(r.peer.key, EncodeOffer(r.offer))});
  }
}

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

Status WritePatches(const ExportPlan& plan, BlobStore* store, VolumeSeries* series,
                    const std::function<void()>& progress) {
  for (const PlannedPatch& p : plan.patches) {
    auto fresh = ReadWholeFile(store->PathOf(p.blob));
    auto old = ReadWholeFile(store->PathOf(p.previous));
    if (!fresh || !old) return NotFound("file " + p.blob.Hex() + " is missing here (run `outpost verify`)");
    PatchData patch;
    patch.blob = p.blob;
    patch.previous = p.previous;
    patch.size = fresh->size();
    std::string whole = ZstdCompress(*fresh, 19, {});
    std::string delta = ZstdCompress(*fresh, 19, *old);
    patch.kind = delta.size() < whole.size() ? 1 : 2;
    patch.compressed = patch.kind == 1 ? std::move(delta) : std::move(whole);
    OUTPOST_RETURN_IF_ERROR(series->Add(kPatchRecord, EncodePatch(patch), {{}, {{p.blob, p.previous}}}));
    progress();
  }
  return Status::Ok();
}

// One record of chunks: read, checked against their hashes, compressed if that pays.
Result<std::string> PackChunks(BlobStore* store, Catalog* catalog, std::span<const ChunkRef> chunks) {
  wire::Writer w;
  w.U32(static_cast<uint32_t>(chunks.size()));
  for (const ChunkRef& c : chunks) {
    auto where = catalog->FindChunk(c.hash);
    if (!where) return NotFound("chunk " + c.hash.Hex() + " is not indexed here (run `outpost verify`)");
    auto data = ReadRange(store->PathOf(where->blob), where->offset, where->length);
    if (!data) return data.error();
    if (Hash::Of(*data) != c.hash) {
      return Corrupt("file " + where->blob.Hex() + " does not hold chunk " + c.hash.Hex() +
                     " any more (run `outpost verify`)");
    }
    // Video, JPEG and PNG do not compress: a look at their first 8 KiB saves zstd the rest.
    std::string_view probe = std::string_view(*data).substr(0, 8192);
    bool worth = data->size() < 16384 || ZstdCompress(probe, 1, {}).size() * 100 < probe.size() * 97;
    std::string packed = worth ? ZstdCompress(*data, kChunkLevel, {}) : std::string();
    bool zstd = worth && packed.size() < data->size();
    w.Raw(c.hash.bytes);
    w.U32(static_cast<uint32_t>(data->size()));
    w.U8(zstd ? 1 : 0);
    w.U32(static_cast<uint32_t>(zstd ? packed.size() : data->size()));
    w.Raw(zstd ? std::string_view(packed) : std::string_view(*data));
  }
  return w.Take();
}

// Reading, checking and compressing a record's chunks runs on worker threads, a few records
// ahead of the one being encrypted and written.
Status WriteChunks(const ExportPlan& plan, BlobStore* store, Catalog* catalog, uint64_t batch_limit,
                   VolumeSeries* series, const std::function<void()>& progress) {
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
    progress();
  }
  return Status::Ok();
}

Status WriteBundle(const ExportPlan& plan, BlobStore* store, Catalog* catalog, uint64_t batch_limit,
                   VolumeSeries* series, const std::function<void()>& progress) {
  for (const auto& [type, body] : plan.lead) {
    OUTPOST_RETURN_IF_ERROR(series->Add(type, body));
    progress();
  }
  OUTPOST_RETURN_IF_ERROR(WritePatches(plan, store, series, progress));
  OUTPOST_RETURN_IF_ERROR(WriteChunks(plan, store, catalog, batch_limit, series, progress));
  return series->Finish();
}

std::string Describe(const UnfinishedExport& e) {
  std::string out = e.bundle_id.substr(0, 8);
  if (!e.damaged.empty()) return out + " (its state is damaged)";
  std::string to;
  for (const auto& n : e.recipients) to += (to.empty() ? "" : ", ") + n;
  return out + " (for " + to + ": " + std::to_string(e.volumes) + " volume(s), " + Mb(e.bytes) + " written)";
}

// The state of the unfinished export that `id` names: a prefix of its id, or "" for the only one.
Result<ExportState> FindUnfinishedExport(const NodePaths& paths, const std::string& id) {
  std::string prefix = id;
  std::transform(prefix.begin(), prefix.end(), prefix.begin(), [](unsigned char c) { return std::tolower(c); });
  auto files = ListExportStates(paths);
  if (files.empty()) {
    return NotFound(
        "there is no unfinished export to continue (an export stops unfinished only when its drive fills up)");
  }
  auto listing = [&] {
    std::string all;
    for (const UnfinishedExport& e : UnfinishedExports(paths)) all += (all.empty() ? "" : "; ") + Describe(e);
    return all;
  };
  std::vector<const ExportStateFile*> matches;
  for (const auto& f : files) {
    if (f.id_hex.starts_with(prefix)) matches.push_back(&f);
  }
  if (matches.empty()) {
    return NotFound("no unfinished export's id starts with \"" + id + "\"; unfinished: " + listing());
  }
  if (matches.size() > 1) {
    return InvalidArgument("several exports are unfinished: " + listing() + "; say which to continue: --continue ID");
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
  std::string prefix = id;
  std::transform(prefix.begin(), prefix.end(), prefix.begin(), [](unsigned char c) { return std::tolower(c); });
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
                                        SyncDb* db, const BundleExportOptions& options) {
  auto self = LoadOrCreateIdentity(paths.node_key);
  if (!self) return self.error();
  bool hub = db->OwnRoot().has_value();
  // Two exports at once would both continue the same saved state.
  auto lock = StagingLock::Take(ExportsDir(paths), "another bundle export is running on this data folder");
  if (!lock) return lock.error();
  auto request = RequestOf(paths, options);
  if (!request) return request.error();
  const ExportState* earlier = request->earlier ? &*request->earlier : nullptr;
  ExportPlan plan;
  auto recipients = ChooseRecipients(db, request->for_peers, hub);
  if (!recipients) {
    if (!earlier) return recipients.error();
    return recipients.error().WithContext("continuing bundle " + BundleIdHex(earlier->bundle_id).substr(0, 8));
  }
  plan.recipients = std::move(*recipients);
  std::error_code ec;
  if (!fs::is_directory(options.to, ec)) {
    return InvalidArgument(options.to.string() + " is not a folder (give a drive's mount point or a folder on it)");
  }
  OUTPOST_RETURN_IF_ERROR(PlanOffers(paths, catalog, db, *self, hub, request->full, &plan));
  PlanPieces(store, catalog, db, request->full, earlier, &plan);
  PlanLead(catalog, db, *self, hub, &plan);

  const uint64_t batch_limit = std::min<uint64_t>(kChunkBatchBytes, options.volume_bytes / 4);
  const uint64_t estimate = EstimateBytes(plan, {}, options.volume_bytes);
  std::function<uint64_t(const fs::path&)> free_bytes = StatvfsFreeBytes;
  if (options.free_bytes) free_bytes = options.free_bytes;
  OUTPOST_RETURN_IF_ERROR(CheckRoom(plan, options.to, free_bytes(options.to), estimate, batch_limit));

  VolumeHeader header = HeaderFor(earlier, *self, plan);
  VolumeSeries series(options.to, header, *self, options.volume_bytes, options.env, free_bytes);
  // The state after each whole volume: an export cut short by a crash, a power cut or a stick
  // pulled out continues from the last whole volume, as one stopped by a full drive does.
  series.OnClose([&] {
    Status saved = SaveExportState(Env::Default(), paths, NextState(earlier, header, request->full, plan, series));
    return saved.ok() ? saved : saved.WithContext("saving the state of the export after a whole volume");
  });
  Status st = WriteBundle(plan, store, catalog, batch_limit, &series, [&] {
    if (options.progress) options.progress(series.bytes_so_far(), estimate);
  });
  // Whole volumes stay (an import takes what they hold); a half-written one goes.
  series.Abandon();
  if (!st.ok() && st.code() != StatusCode::kNoSpace) {
    if (series.volumes().empty()) return st;
    return Status(st.code(), st.message() + ". The " + std::to_string(series.volumes().size()) +
                                 " volume(s) before it are whole and import as they are; once this is put "
                                 "right, `outpost bundle export --continue` writes the rest");
  }
  BundleExportResult result;
  result.bundle_id = BundleIdHex(header.bundle_id);
  for (const Recipient& r : plan.recipients) result.recipients.push_back(r.peer.name);
  result.channels = plan.channels;
  result.volumes = series.volumes();
  result.bytes = series.bytes();
  result.chunks = series.written().chunks.size();
  result.patches = series.written().patches.size();
  if (st.ok()) {
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
  ExportState state = NextState(earlier, header, request->full, plan, series);
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

// ---- import

namespace {

// What arrived from one sender, across its volumes.
struct FromSender {
  PeerInfo peer;
  std::unique_ptr<StagingLog> log;
  std::optional<StagingLock> lock;
  bool offered = false;  // an offer for this node came in one of its volumes
  std::vector<AcceptedVersion> versions;
  std::unordered_map<Hash, OfferedFile> files;
  std::set<std::pair<std::string, uint64_t>> taken;
  std::unique_ptr<Assembly> assembly;  // builds files as their chunks are staged
  fs::path saved_offers;               // offers kept for volumes imported later, alone
};

struct BundledChunk : ChunkData {
  bool stored = false;  // the bytes as they are, not a zstd frame
};

Result<std::vector<BundledChunk>> DecodeChunkBatch(std::string_view body) {
  wire::Reader r(body, "chunk batch");
  uint32_t count = 0;
  OUTPOST_RETURN_IF_ERROR(r.U32(&count, "chunk count"));
  if (static_cast<uint64_t>(count) * 41 > r.remaining()) return r.Bad(0, "too many chunks for the bytes");
  std::vector<BundledChunk> out(count);
  for (auto& c : out) {
    OUTPOST_RETURN_IF_ERROR(r.HashValue(&c.hash, "chunk hash"));
    OUTPOST_RETURN_IF_ERROR(r.U32(&c.length, "chunk length"));
    uint8_t packing = 0;
    OUTPOST_RETURN_IF_ERROR(r.U8(&packing, "chunk packing"));
    if (packing > 1) return r.Bad(r.offset(), "unknown chunk packing");
    uint32_t packed = 0;
    OUTPOST_RETURN_IF_ERROR(r.U32(&packed, "packed length"));
    if (packing == 0 && packed != c.length) return r.Bad(r.offset(), "a stored chunk's lengths differ");
    std::string_view bytes;
    OUTPOST_RETURN_IF_ERROR(r.Raw(packed, &bytes, "packed chunk"));
    c.compressed.assign(bytes);
    c.stored = packing == 0;
  }
  OUTPOST_RETURN_IF_ERROR(r.ExpectEnd());
  return out;
}

}  // namespace

Result<BundleImportResult> ImportBundle(
    const NodePaths& paths, BlobStore* store, Catalog* catalog, SyncDb* db, const fs::path& path,
    const std::function<void(uint64_t read, uint64_t total)>& progress) {
  auto self = LoadOrCreateIdentity(paths.node_key);
  if (!self) return self.error();
  bool hub = db->OwnRoot().has_value();
  auto pin = db->Hub();
  if (!hub && !pin) return InvalidArgument("this node is neither a hub nor joined to one: run `outpost join` first");

  std::vector<fs::path> files;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      std::string name = entry.path().filename().string();
      if (entry.is_regular_file(ec) && entry.path().extension() == ".opb" && name[0] != '.') files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) return NotFound("no bundle volume (*.opb) in " + path.string());
  } else if (fs::is_regular_file(path, ec)) {
    files.push_back(path);
  } else {
    return NotFound(path.string() + " is neither a bundle volume nor a folder");
  }

  BundleImportResult result;
  std::map<PublicKey, FromSender> senders;
  uint64_t total_bytes = 0, read_before = 0;
  for (const fs::path& file : files) total_bytes += fs::file_size(file, ec);
  auto store_lock = store->LockShared();
  if (!store_lock) return store_lock.error();
  // An offer is checked as a sync checks it as soon as it is read, so that files are built on
  // other threads while the rest of the volumes is read.
  // `saved`: an offer kept from an earlier import; one that is out of date now (its versions
  // served, or older than those served) is dropped without a word.
  auto Accept = [&](FromSender* s, Offer offer, bool saved = false) -> Status {
    s->offered = true;
    TrustList trust;
    if (!hub) {
      if (!offer.trust_list.empty()) {
        if (Status st = StoreTrustList(paths, pin->root_key, offer.trust_list); !st.ok()) {
          result.summary.refused.push_back("trust list: " + st.message());
        }
      }
      if (auto held = LoadTrustList(paths, pin->root_key)) trust = *held;
    }
    for (auto& version : offer.versions) {
      auto accepted = hub ? AcceptSiteVersion(catalog, db, s->peer.key, version)
                          : AcceptPublishedVersion(catalog, trust, version);
      if (!accepted) {
        // The version this node serves already (a second import) is not an error.
        auto unpacked = UnpackEnvelope(catalog, version);
        auto manifest = unpacked ? DecodeEnvelopeManifest(*unpacked) : Result<Manifest>(NotFound(""));
        auto served = catalog->Channel(version.channel_id);
        bool already = manifest && served && served->manifest_hash == manifest->hash;
        if (!already && !saved) result.summary.refused.push_back(accepted.error().message());
        continue;
      }
      if (!s->taken.insert({accepted->manifest.channel_id, accepted->manifest.version}).second) continue;
      for (auto& f : version.files) s->files.emplace(f.blob, std::move(f));
      s->versions.push_back(std::move(*accepted));
      if (!s->assembly->Want(s->versions.back(), s->files)) {
        result.summary.refused.push_back("the offer did not describe every file of " +
                                         s->versions.back().manifest.channel_id);
      }
    }
    return Status::Ok();
  };
  for (const fs::path& file : files) {
    struct Advance {
      uint64_t* at;
      uint64_t by;
      ~Advance() { *at += by; }
    } advance{&read_before, fs::file_size(file, ec)};
    auto reader = VolumeReader::Open(file, *self);
    if (!reader) {
      if (reader.error().code() == StatusCode::kNotFound) result.skipped.push_back(reader.error().message());
      else result.damaged.push_back(reader.error().message());
      continue;
    }
    const PublicKey& sender = (*reader)->header().sender;
    PeerInfo from;
    std::optional<VolumeRecord> first;  // read ahead to find an enrolment
    if (hub) {
      auto peer = db->Peer(sender);
      if (!peer) {
        // A site never online may enrol by its first bundle: the code it was given, signed.
        auto record = (*reader)->Next();
        if (record && *record && (*record)->type == kEnrolRecord) {
          auto enrol = DecodeEnrol((*record)->body);
          if (enrol && enrol->node_key == sender) {
            auto admitted = db->AdmitSite(enrol->code, sender);
            if (!admitted) {
              result.skipped.push_back(file.string() + ": the enrolment it carries was refused: " +
                                       admitted.error().message());
              continue;
            }
            peer = admitted.value();
          }
        }
        if (!peer) {
          result.skipped.push_back(file.string() + " is signed by " + sender.Fingerprint() +
                                   "…, no site enrolled here");
          continue;
        }
      }
      if (peer->role != "site" || peer->revoked_at != 0) {
        result.skipped.push_back(file.string() + " is signed by " + sender.Fingerprint() +
                                 "…, a site this hub revoked");
        continue;
      }
      from = *peer;
    } else {
      if (sender != pin->node_key) {
        result.skipped.push_back(file.string() + " is signed by " + sender.Fingerprint() +
                                 "…, not by this site's hub (" + pin->node_key.Fingerprint() + "…)");
        continue;
      }
      from.key = sender;
      from.name = "hub";
      if (!pin->pending_code.empty()) {
        // The hub addressed this to our key: it has enrolled us (by our bundle), the code is spent.
        pin->pending_code.clear();
        OUTPOST_RETURN_IF_ERROR(db->SetHub(*pin));
      }
    }
    FromSender& s = senders[sender];
    if (!s.log) {
      s.peer = from;
      fs::path dir = hub ? paths.staging / ("from-" + sender.Hex().substr(0, 16)) : paths.staging;
      auto lock = StagingLock::Take(dir);
      if (!lock) return lock.error();
      s.lock.emplace(std::move(*lock));
      auto log = StagingLog::Open(dir / "chunks");
      if (!log) return log.error();
      s.log = std::move(*log);
      s.assembly = std::make_unique<Assembly>(store, catalog, s.log.get());
      // The offers of earlier imports still waiting for chunks: a bundle's later volumes, or
      // the next stick, may be imported without the volume that carried them.
      s.saved_offers = dir / "offers";
      for (const auto& entry : fs::directory_iterator(s.saved_offers, ec)) {
        if (entry.path().extension() != ".offer") continue;
        auto body = ReadWholeFile(entry.path());
        auto offer = body ? DecodeOffer(*body) : Result<Offer>(body.error());
        size_t before = s.versions.size();
        if (offer) OUTPOST_RETURN_IF_ERROR(Accept(&s, std::move(*offer), /*saved=*/true));
        if (s.versions.size() == before) fs::remove(entry.path(), ec);  // out of date
      }
    }
    for (;;) {
      auto record = (*reader)->Next();
      if (!record) {
        result.damaged.push_back(record.error().message());
        break;
      }
      if (!*record) {
        result.volumes.push_back(file.string());
        break;
      }
      const VolumeRecord& rec = **record;
      if (progress) progress(read_before + (*reader)->offset(), total_bytes);
      if (rec.type == kEnrolRecord) continue;  // handled above
      if (rec.type == kReceiptRecord) {
        if (rec.body.size() < PublicKey::kSize) continue;
        PublicKey to;
        std::copy_n(rec.body.data(), PublicKey::kSize, to.bytes.begin());
        if (to != self->public_key()) continue;
        auto served = DecodeReceiptRecord(std::string_view(rec.body).substr(PublicKey::kSize));
        if (!served) {
          result.summary.refused.push_back(served.error().message());
          continue;
        }
        for (const auto& [id, version] : *served) OUTPOST_RETURN_IF_ERROR(db->NotePeerVersion(sender, id, version));
        continue;
      }
      if (rec.type == kOfferRecord) {
        if (rec.body.size() < PublicKey::kSize) continue;
        PublicKey to;
        std::copy_n(rec.body.data(), PublicKey::kSize, to.bytes.begin());
        if (to != self->public_key()) continue;  // another recipient's
        auto offer = DecodeOffer(std::string_view(rec.body).substr(PublicKey::kSize));
        if (!offer) {
          result.summary.refused.push_back(offer.error().message());
          continue;
        }
        OUTPOST_RETURN_IF_ERROR(Accept(&s, std::move(*offer)));
        // Kept until its versions are served (signatures are checked again when it is read).
        std::string_view body = std::string_view(rec.body).substr(PublicKey::kSize);
        fs::path keep = s.saved_offers / (Hash::Of(body).Hex() + ".offer");
        if (!fs::exists(keep, ec)) {
          OUTPOST_RETURN_IF_ERROR(Env::Default()->CreateDirs(s.saved_offers));
          OUTPOST_RETURN_IF_ERROR(WriteFileAtomically(Env::Default(), keep, body));
        }
      } else if (rec.type == kChunksRecord) {
        auto batch = DecodeChunkBatch(rec.body);
        if (!batch) {
          result.summary.refused.push_back(batch.error().message());
          continue;
        }
        for (BundledChunk& c : *batch) {
          if (s.assembly->Has(c.hash)) continue;
          if (auto loc = catalog->FindChunk(c.hash); loc && store->Contains(loc->blob)) continue;
          auto data = c.stored ? Result<std::string>(std::move(c.compressed)) : ZstdDecompress(c.compressed, c.length, {});
          if (!data || Hash::Of(*data) != c.hash) {
            result.summary.refused.push_back("chunk " + c.hash.Hex() + " in " + file.string() + " did not verify");
            continue;
          }
          ++result.summary.chunks_received;
          result.summary.chunk_bytes += data->size();
          OUTPOST_RETURN_IF_ERROR(s.assembly->Arrived(c.hash, std::move(*data)));
        }
      } else if (rec.type == kPatchRecord) {
        auto patch = DecodePatch(rec.body);
        if (!patch) {
          result.summary.refused.push_back(patch.error().message());
          continue;
        }
        if (store->Contains(patch->blob)) continue;
        Result<std::string> bytes = NotFound("");
        if (patch->kind == 1) {
          auto old = ReadWholeFile(store->PathOf(patch->previous));
          if (!old) continue;  // not a file this node holds: another recipient's patch
          bytes = ZstdDecompress(patch->compressed, patch->size, *old);
        } else {
          bytes = ZstdDecompress(patch->compressed, patch->size, {});
        }
        if (!bytes || Hash::Of(*bytes) != patch->blob) {
          result.summary.refused.push_back("file " + patch->blob.Hex() + " in " + file.string() + " did not verify");
          continue;
        }
        auto info = store->Put(*bytes);
        if (!info) return info.error();
        OUTPOST_RETURN_IF_ERROR(catalog->RecordBlobs({*info}));
        ++result.summary.patches_received;
        ++result.summary.files_received;
      }
    }
  }

  if (senders.empty() && result.damaged.empty()) {
    // Nothing here is for this node: say whom it is for.
    std::string why;
    for (const auto& sk : result.skipped) why += (why.empty() ? "" : "; ") + sk;
    return InvalidArgument(why.empty() ? "no volume to import" : why);
  }
  // Wait for the files being built, then serve each version that is complete.
  bool complete = result.damaged.empty();
  for (auto& [key, s] : senders) {
    OUTPOST_RETURN_IF_ERROR(s.assembly->Finish(&result.summary));
    if (!s.offered) {
      // Volumes without the one that carries the offers: what they brought stays staged.
      complete = false;
      result.summary.refused.push_back("the volumes from " + s.peer.name +
                                       " read so far hold no offer: import the bundle's first "
                                       "volume (…-0.opb) too");
      continue;
    }
    SyncSummary served;
    bool all_served = true;
    OUTPOST_RETURN_IF_ERROR(ServeVersions(store, catalog, s.versions, &served, &all_served));
    complete &= all_served;
    for (auto& u : served.updated) result.summary.updated.push_back(u);
    for (auto& r : served.refused) result.summary.refused.push_back(r);
    // Chunks staged for a version not complete yet wait for the next volume.
    if (all_served && !s.versions.empty()) {
      OUTPOST_RETURN_IF_ERROR(s.log->Clear());
      fs::remove_all(s.saved_offers, ec);
    }
  }
  result.summary.complete = complete && result.summary.refused.empty();
  return result;
}

}  // namespace outpost
