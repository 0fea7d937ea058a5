// USB bundles: export and import (see bundle.h; the format in docs/bundle.md).
#include "outpost/sync/bundle.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <deque>
#include <future>
#include <map>
#include <set>

#include "bundle_volume.h"
#include "exchange.h"
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
constexpr int kChunkLevel = 3;
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

// Writes records into volumes of at most `limit` bytes: each to a temp name, fsynced, renamed.
class VolumeSeries {
 public:
  VolumeSeries(fs::path dir, VolumeHeader header, const Identity& sender, uint64_t limit)
      : dir_(std::move(dir)), header_(std::move(header)), sender_(sender), limit_(limit) {}

  Status Add(uint8_t type, std::string_view body) {
    uint64_t need = body.size() + VolumeWriter::kFrameOverhead;
    if (writer_ && writer_->bytes_written() + need + kEndReserve > limit_ && records_in_volume_ > 0) {
      OUTPOST_RETURN_IF_ERROR(Close());
    }
    if (!writer_) OUTPOST_RETURN_IF_ERROR(Open());
    ++records_in_volume_;
    return writer_->Add(type, body);
  }
  Status Close() {
    if (!writer_) return Status::Ok();
    OUTPOST_RETURN_IF_ERROR(writer_->Finish());
    bytes_ += writer_->bytes_written();
    writer_.reset();
    OUTPOST_RETURN_IF_ERROR(file_->Sync());
    OUTPOST_RETURN_IF_ERROR(file_->Close());
    file_.reset();
    fs::path final_path = dir_ / Name(header_.volume);
    OUTPOST_RETURN_IF_ERROR(Env::Default()->Rename(temp_, final_path));
    OUTPOST_RETURN_IF_ERROR(Env::Default()->SyncDir(dir_));
    volumes_.push_back(final_path);
    ++header_.volume;
    return Status::Ok();
  }
  // Every volume is closed; at least one is written.
  Status Finish() {
    if (!writer_ && volumes_.empty()) OUTPOST_RETURN_IF_ERROR(Open());
    return Close();
  }
  const std::vector<fs::path>& volumes() const { return volumes_; }
  uint64_t bytes() const { return bytes_; }
  uint64_t bytes_so_far() const { return bytes_ + (writer_ ? writer_->bytes_written() : 0); }

 private:
  static constexpr uint64_t kEndReserve = 256;
  std::string Name(uint32_t volume) const {
    return "outpost-" + BundleIdHex(header_.bundle_id).substr(0, 8) + "-" + std::to_string(volume) + ".opb";
  }
  Status Open() {
    temp_ = dir_ / ("." + Name(header_.volume) + ".tmp");
    auto file = Env::Default()->NewWritableFile(temp_);
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
  fs::path temp_;
  std::unique_ptr<WritableFile> file_;
  std::unique_ptr<VolumeWriter> writer_;
  uint64_t records_in_volume_ = 0;
  uint64_t bytes_ = 0;
  std::vector<fs::path> volumes_;
};

}  // namespace

Result<BundleExportResult> ExportBundle(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                                        SyncDb* db, const BundleExportOptions& options) {
  auto self = LoadOrCreateIdentity(paths.node_key);
  if (!self) return self.error();
  bool hub = db->OwnRoot().has_value();
  auto recipients = ChooseRecipients(db, options.for_peers, hub);
  if (!recipients) return recipients.error();
  std::error_code ec;
  if (!fs::is_directory(options.to, ec)) {
    return InvalidArgument(options.to.string() + " is not a folder (give a drive's mount point or a folder on it)");
  }

  BundleExportResult result;
  std::set<std::string> channels;
  for (Recipient& r : *recipients) {
    OUTPOST_RETURN_IF_ERROR(BuildOffer(paths, catalog, db, *self, hub, options.full, &r));
    result.recipients.push_back(r.peer.name);
    for (const auto& v : r.offer.versions) {
      auto manifest = DecodeEnvelopeManifest(v.envelope);
      if (manifest) channels.insert(v.channel_id + " " + std::to_string(manifest->version));
    }
  }
  result.channels.assign(channels.begin(), channels.end());

  // What the recipients lack, each piece once: patches of small edited files whose previous
  // version the recipient holds, and the chunks of every other new file. Small files first.
  // A chunk a recipient holds (in a version it is known to serve) is not sent to it: a moved or
  // re-cut file costs only its new chunks, as in a sync.
  struct Wanted {
    const OfferedFile* file;
    const std::set<Hash>* held;
  };
  std::vector<std::set<Hash>> held(recipients->size());
  std::vector<Wanted> files;
  for (size_t i = 0; i < recipients->size(); ++i) {
    const Recipient& r = (*recipients)[i];
    if (!options.full) {
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
  std::vector<std::pair<Hash, Hash>> patch_order;
  std::set<Hash> seen_chunks;
  std::vector<ChunkRef> chunks;
  uint64_t estimate = 0;
  for (const auto& [f, holds] : files) {
    if (f->previous && f->size <= kMaxPatchedFile && store->Contains(*f->previous)) {
      if (patches.insert({f->blob, *f->previous}).second) {
        patch_order.push_back({f->blob, *f->previous});
        estimate += f->size;
      }
      continue;
    }
    for (const ChunkRef& c : f->chunks) {
      if (holds->count(c.hash)) continue;
      if (seen_chunks.insert(c.hash).second) {
        chunks.push_back(c);
        estimate += c.length + 48;
      }
    }
  }
  for (const Recipient& r : *recipients) estimate += EncodeOffer(r.offer).size() + 64;
  // zstd never grows data by more than a little; volumes add their headers.
  estimate += estimate / 256 + 4096 * (1 + estimate / options.volume_bytes);
  struct statvfs fsinfo {};
  if (::statvfs(options.to.c_str(), &fsinfo) == 0) {
    uint64_t free_bytes = static_cast<uint64_t>(fsinfo.f_bavail) * fsinfo.f_frsize;
    if (free_bytes < estimate) {
      return Status(StatusCode::kNoSpace,
                    "the bundle needs up to " + Mb(estimate) + " (less once compressed), and " +
                        options.to.string() + " has " + Mb(free_bytes) +
                        " free: use a larger drive or free some space");
    }
  }

  VolumeHeader header;
  randombytes_buf(header.bundle_id.data(), header.bundle_id.size());
  header.sender = self->public_key();
  header.created_at = static_cast<uint64_t>(::time(nullptr));
  for (const Recipient& r : *recipients) header.recipients.push_back(r.peer.key);
  VolumeSeries series(options.to, header, *self, options.volume_bytes);
  auto cleanup_on_error = [&](Status st) {
    // Whole volumes stay (an import takes what they hold); a half-written one goes.
    for (const auto& entry : fs::directory_iterator(options.to, ec)) {
      std::string name = entry.path().filename().string();
      if (name.rfind(".outpost-" + BundleIdHex(header.bundle_id).substr(0, 8), 0) == 0) fs::remove(entry.path(), ec);
    }
    return st;
  };

  if (!hub) {
    // A site that joined from an enrolment file and was never online presents its code this
    // way: the hub enrols it when it imports the bundle.
    auto pin = db->Hub();
    if (pin && !pin->pending_code.empty()) {
      sync::EnrolRequest enrol{self->public_key(), pin->pending_code, pin->site_name};
      if (Status st = series.Add(kEnrolRecord, EncodeEnrol(enrol)); !st.ok()) return cleanup_on_error(st);
    }
  }
  {
    std::map<std::string, uint64_t> served;
    if (hub) {
      // Per recipient: its own channels that this hub serves.
      for (const Recipient& r : *recipients) {
        std::map<std::string, uint64_t> theirs;
        for (const std::string& id : db->ChannelsOf(r.peer.key)) {
          if (auto info = catalog->Channel(id)) theirs[id] = static_cast<uint64_t>(info->served_version);
        }
        if (theirs.empty()) continue;
        std::string body(reinterpret_cast<const char*>(r.peer.key.bytes.data()), r.peer.key.bytes.size());
        body += EncodeReceiptRecord(theirs);
        if (Status st = series.Add(kReceiptRecord, body); !st.ok()) return cleanup_on_error(st);
      }
    } else {
      for (const ChannelInfo& info : catalog->Channels()) {
        if (info.served_version > 0) served[info.id] = static_cast<uint64_t>(info.served_version);
      }
      std::string body(reinterpret_cast<const char*>((*recipients)[0].peer.key.bytes.data()), PublicKey::kSize);
      body += EncodeReceiptRecord(served);
      if (Status st = series.Add(kReceiptRecord, body); !st.ok()) return cleanup_on_error(st);
    }
  }
  for (const Recipient& r : *recipients) {
    std::string body(reinterpret_cast<const char*>(r.peer.key.bytes.data()), r.peer.key.bytes.size());
    body += EncodeOffer(r.offer);
    if (Status st = series.Add(kOfferRecord, body); !st.ok()) return cleanup_on_error(st);
  }
  for (const auto& [blob, previous] : patch_order) {
    auto fresh = ReadWholeFile(store->PathOf(blob));
    auto old = ReadWholeFile(store->PathOf(previous));
    if (!fresh || !old) return cleanup_on_error(NotFound("file " + blob.Hex() + " is missing here (run `outpost verify`)"));
    PatchData patch;
    patch.blob = blob;
    patch.previous = previous;
    patch.size = fresh->size();
    std::string whole = ZstdCompress(*fresh, 19, {});
    std::string delta = ZstdCompress(*fresh, 19, *old);
    patch.kind = delta.size() < whole.size() ? 1 : 2;
    patch.compressed = patch.kind == 1 ? std::move(delta) : std::move(whole);
    if (Status st = series.Add(kPatchRecord, EncodePatch(patch)); !st.ok()) return cleanup_on_error(st);
    ++result.patches;
  }
  // Chunks go in records of about a quarter MiB. Reading, checking and compressing a record's
  // chunks runs on worker threads, a few records ahead of the one being encrypted and written.
  const uint64_t batch_limit = std::min<uint64_t>(kChunkBatchBytes, options.volume_bytes / 4);
  std::vector<std::pair<size_t, size_t>> batches;  // [begin, end) in `chunks`
  for (size_t i = 0, raw = 0, begin = 0; i < chunks.size(); ++i) {
    raw += chunks[i].length;
    if (raw >= batch_limit || i + 1 == chunks.size()) {
      batches.push_back({begin, i + 1});
      begin = i + 1;
      raw = 0;
    }
  }
  auto pack = [&](size_t begin, size_t end) -> Result<std::string> {
    wire::Writer w;
    w.U32(static_cast<uint32_t>(end - begin));
    for (size_t i = begin; i < end; ++i) {
      const ChunkRef& c = chunks[i];
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
  };
  constexpr size_t kAhead = 4;
  std::deque<std::future<Result<std::string>>> ready;
  size_t next_batch = 0;
  while (next_batch < batches.size() || !ready.empty()) {
    while (next_batch < batches.size() && ready.size() < kAhead) {
      auto [begin, end] = batches[next_batch++];
      ready.push_back(std::async(std::launch::async, pack, begin, end));
    }
    auto record = ready.front().get();
    ready.pop_front();
    if (!record) {
      for (auto& f : ready) f.wait();
      return cleanup_on_error(record.error());
    }
    if (Status st = series.Add(kChunksRecord, *record); !st.ok()) {
      for (auto& f : ready) f.wait();
      return cleanup_on_error(st);
    }
    if (options.progress) options.progress(series.bytes_so_far(), estimate);
  }
  result.chunks = chunks.size();
  if (Status st = series.Finish(); !st.ok()) return cleanup_on_error(st);
  result.bundle_id = BundleIdHex(header.bundle_id);
  result.volumes = series.volumes();
  result.bytes = series.bytes();
  return result;
}

// ---- import

namespace {

// What arrived from one sender, across its volumes.
struct FromSender {
  PeerInfo peer;
  std::unique_ptr<StagingLog> log;
  std::optional<StagingLock> lock;
  std::vector<Offer> offers;
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
        s.offers.push_back(std::move(*offer));
      } else if (rec.type == kChunksRecord) {
        auto batch = DecodeChunkBatch(rec.body);
        if (!batch) {
          result.summary.refused.push_back(batch.error().message());
          continue;
        }
        for (const BundledChunk& c : *batch) {
          if (s.log->Has(c.hash)) continue;
          if (auto loc = catalog->FindChunk(c.hash); loc && store->Contains(loc->blob)) continue;
          auto data = c.stored ? Result<std::string>(c.compressed) : ZstdDecompress(c.compressed, c.length, {});
          if (!data || Hash::Of(*data) != c.hash) {
            result.summary.refused.push_back("chunk " + c.hash.Hex() + " in " + file.string() + " did not verify");
            continue;
          }
          OUTPOST_RETURN_IF_ERROR(s.log->Append(c.hash, *data));
          ++result.summary.chunks_received;
          result.summary.chunk_bytes += data->size();
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
  // Verify each sender's offers as a sync would, then build and serve what is complete.
  bool complete = result.damaged.empty();
  for (auto& [key, s] : senders) {
    OUTPOST_RETURN_IF_ERROR(s.log->Sync());
    TrustList trust;
    if (!hub) {
      for (const Offer& o : s.offers) {
        if (o.trust_list.empty()) continue;
        if (Status st = StoreTrustList(paths, pin->root_key, o.trust_list); !st.ok()) {
          result.summary.refused.push_back("trust list: " + st.message());
        }
      }
      if (auto held = LoadTrustList(paths, pin->root_key)) trust = *held;
    }
    std::vector<AcceptedVersion> versions;
    std::unordered_map<Hash, OfferedFile> offered;
    std::set<std::pair<std::string, uint64_t>> taken;
    for (Offer& o : s.offers) {
      for (auto& version : o.versions) {
        auto accepted = hub ? AcceptSiteVersion(catalog, db, key, version)
                            : AcceptPublishedVersion(catalog, trust, version);
        if (!accepted) {
          // The version this node serves already (a second import) is not an error.
          auto unpacked = UnpackEnvelope(catalog, version);
          auto manifest = unpacked ? DecodeEnvelopeManifest(*unpacked) : Result<Manifest>(NotFound(""));
          auto served = catalog->Channel(version.channel_id);
          bool already = manifest && served && served->manifest_hash == manifest->hash;
          if (!already) result.summary.refused.push_back(accepted.error().message());
          continue;
        }
        if (!taken.insert({accepted->manifest.channel_id, accepted->manifest.version}).second) continue;
        for (auto& f : version.files) offered.emplace(f.blob, std::move(f));
        versions.push_back(std::move(*accepted));
      }
    }
    if (s.offers.empty()) {
      // Volumes without the one that carries the offers: what they brought stays staged.
      complete = false;
      result.summary.refused.push_back("the volumes from " + s.peer.name +
                                       " read so far hold no offer: import the bundle's first "
                                       "volume (…-0.opb) too");
      continue;
    }
    SyncSummary built;
    OUTPOST_RETURN_IF_ERROR(BuildAndServe(store, catalog, s.log.get(), versions, offered, &built));
    complete &= built.complete;
    result.summary.files_received += built.files_received;
    for (auto& u : built.updated) result.summary.updated.push_back(u);
    for (auto& r : built.refused) result.summary.refused.push_back(r);
  }
  result.summary.complete = complete && result.summary.refused.empty();
  return result;
}

}  // namespace outpost
