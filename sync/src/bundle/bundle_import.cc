// Reading a USB bundle (see bundle_import.h; the format in docs/bundle.md, "Import: what comes
// in"). Each volume is read on its own: its sender is admitted (the signature is checked by the
// volume reader; then who signed it: a site's hub, a hub's enrolled and unrevoked site, or a site
// enrolling by the bundle), the sender's staging is opened, and each record is handled by its
// type, as a sync would handle the same message. When every volume is read, the files being
// built are finished and each version that is complete is served.
#include "outpost/sync/bundle_import.h"
#include "outpost/sync/enrolment.h"
#include "outpost/sync/trust_store.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "assembly.h"
#include "bundle/bundle_records.h"
#include "outpost/sync/site_report.h"
#include "bundle/bundle_volume.h"
#include "catch_all.h"
#include "offer.h"
#include "outpost/base/file.h"
#include "outpost/base/text.h"
#include "protocol.h"
#include "staging.h"
#include "zstd_codec.h"

namespace outpost {

using namespace outpost::sync;
namespace fs = std::filesystem;

namespace {

using ReadProgress = std::function<void(uint64_t read, uint64_t total)>;

// What arrived from one sender, across its volumes.
struct FromSender {
  PeerInfo peer;
  std::unique_ptr<StagingLog> log;
  std::optional<StagingLock> lock;
  bool offered = false;  // an offer for this node came in one of its volumes
  std::vector<AcceptedVersion> versions;
  std::unordered_map<Hash, OfferedFile> files;
  std::unordered_map<Hash, uint32_t> chunk_lengths;  // as the offers said
  std::set<std::pair<std::string, uint64_t>> taken;
  std::unique_ptr<Assembly> assembly;  // builds files as their chunks are staged
  fs::path saved_offers;               // offers kept for volumes imported later, alone
};

// A chunk's bytes (unverified): as long as the sender's offer said, if one described it, and
// never longer than a chunk can be.
Result<std::string> UnpackChunk(const FromSender& s, BundledChunk* c) {
  auto offered = s.chunk_lengths.find(c->hash);
  if (offered != s.chunk_lengths.end() && offered->second != c->length) {
    return InvalidArgument("it claims " + std::to_string(c->length) + " bytes; the offer said " +
                           std::to_string(offered->second));
  }
  if (c->stored) return std::move(c->compressed);
  return ZstdDecompress(c->compressed, c->length, kMaxChunkLength, {});
}

// A patched file's bytes (unverified; `old`: the previous version, for kind 1): of the size
// the offer said, if one described it; an export patches files up to kMaxPatchedFile only.
Result<std::string> UnpackPatch(const FromSender& s, const PatchData& patch, std::string_view old) {
  auto offered = s.files.find(patch.blob);
  if (offered != s.files.end() && offered->second.size != patch.size) {
    return InvalidArgument("the patch claims " + std::to_string(patch.size) +
                           " bytes; the offer said " + std::to_string(offered->second.size));
  }
  return ZstdDecompress(patch.compressed, patch.size, kMaxPatchedFile, patch.kind == 1 ? old : "");
}

// The volumes `path` names: itself, or the *.opb files of a folder in the order of their names.
Result<std::vector<fs::path>> VolumesAt(const fs::path& path) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      if (entry.is_regular_file(ec) && IsVolumeFileName(entry.path())) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) return NotFound("no bundle volume (*.opb) in " + path.string());
  } else if (fs::is_regular_file(path, ec)) {
    files.push_back(path);
  } else {
    return NotFound(path.string() + " is neither a bundle volume nor a folder");
  }
  return files;
}

// Whether `version` is the one this node serves already (a second import).
bool ServedAlready(Catalog* catalog, const OfferedVersion& version) {
  auto unpacked = UnpackEnvelope(catalog, version);
  auto manifest = unpacked ? DecodeEnvelopeManifest(*unpacked) : Result<Manifest>(NotFound(""));
  auto served = catalog->Channel(version.channel_id);
  return manifest && served && served->manifest_hash == manifest->hash;
}

// An offer is kept until its versions are served (signatures are checked again when it is read).
Status KeepOffer(const FromSender& s, std::string_view body) {
  std::error_code ec;
  fs::path keep = s.saved_offers / (Hash::Of(body).Hex() + ".offer");
  if (fs::exists(keep, ec)) return Status::Ok();
  OUTPOST_RETURN_IF_ERROR(Env::Default()->CreateDirs(s.saved_offers));
  return WriteFileAtomically(Env::Default(), keep, body);
}

// One import: its volumes one by one, then what they brought served.
class BundleImporter {
 public:
  // A hub (`hub`), or a site joined to the hub `pin` names.
  BundleImporter(const NodePaths& paths, BlobStore* store, Catalog* catalog, SyncDb* db, const Identity& self,
                 bool hub, std::optional<HubPin> pin, const ReadProgress& progress,
                 const std::function<bool()>& cancelled)
      : paths_(paths), store_(store), catalog_(catalog), db_(db), self_(self), hub_(hub), pin_(std::move(pin)),
        progress_(progress), cancelled_(cancelled) {
    if (pin_ && !pin_->pending_code.empty()) {
      if (auto seal = EnrolSealIdentityOfCode(pin_->pending_code)) seal_.emplace(std::move(*seal));
    }
  }

  Status ImportAll(const std::vector<fs::path>& files);
  Result<BundleImportResult> Finish();

 private:
  Status ImportVolume(const fs::path& file);
  // Admitting the sender. `*from` is left empty, and result_.skipped says why, for a volume
  // this node does not take.
  Status AdmitSender(const fs::path& file, VolumeReader* reader, std::optional<PeerInfo>* from);
  std::optional<PeerInfo> AdmitSite(const fs::path& file, VolumeReader* reader);
  std::optional<PeerInfo> EnrolByBundle(const fs::path& file, VolumeReader* reader);
  Status AdmitHub(const fs::path& file, const PublicKey& sender, std::optional<PeerInfo>* from);
  // Adds the volume's sender to result_.senders (once per sender).
  void NoteSender(const PeerInfo& from, const PublicKey& key);
  // The sender's staging, opened with its first volume.
  Result<FromSender*> OpenStaging(const PublicKey& sender, const PeerInfo& from);
  Status LoadSavedOffers(FromSender* s);
  // An offer is checked as a sync checks it as soon as it is read, so that files are built on
  // other threads while the rest of the volumes is read. `saved`: an offer kept from an earlier
  // import; one that is out of date now (its versions served, or older than those served) is
  // dropped without a word.
  void Accept(FromSender* s, Offer offer, bool saved = false);
  void AcceptVersion(FromSender* s, const TrustList& trust, OfferedVersion* version, bool saved);
  // The records, one handler per type.
  Status ReadRecords(FromSender* s, VolumeReader* reader, const fs::path& file);
  Status OnRecord(FromSender* s, const VolumeRecord& rec, const fs::path& file);
  // A receipt is held until its volume's end signature verifies: every recipient can make the
  // volume's frames, only the sender can sign its end.
  Status OnReceipt(std::string_view record);
  Status ApplyReceipts(FromSender* s, const VolumeHeader& header);
  // A site: the channels of the next offer packed against what an earlier stick sent.
  void OnBasis(std::string_view record);
  // A site: the offered versions whose base this site lacks, refused, naming the stick that
  // carried it; the others stay.
  bool DropUnbased(Offer* offer);
  // A hub: the newest of its sticks the site had taken when it wrote this one.
  void OnSeen(std::string_view record);
  // A site: the hub's review decisions for it, kept once the volume's end verifies.
  void OnOutcomes(std::string_view record);
  Status OnOffer(FromSender* s, std::string_view record);
  Status OnChunks(FromSender* s, std::string_view record, const fs::path& file);
  Status TakeChunk(FromSender* s, BundledChunk* c, const fs::path& file);
  Status OnPatch(FromSender* s, std::string_view record, const fs::path& file);
  // Finishing: the files built, the complete versions served.
  Status Serve(FromSender* s, bool* complete);

  void Refuse(std::string why) { result_.summary.refused.push_back(std::move(why)); }
  void Skip(std::string why) { result_.skipped.push_back(std::move(why)); }

  const NodePaths& paths_;
  BlobStore* store_;
  Catalog* catalog_;
  SyncDb* db_;
  const Identity& self_;
  const bool hub_;
  std::optional<HubPin> pin_;  // a site's hub (its pending code cleared once the hub writes to it)
  // A site that joined from an enrolment file and has not been enrolled yet: the key pair its
  // hub seals bundles to until then (EnrolSealIdentity of its pending code).
  std::optional<Identity> seal_;
  bool sealed_to_file_ = false;  // the volume being read was opened with seal_
  bool enrolled_now_ = false;    // the volume being read enrolled its sender (a hub)
  PublicKey me_;                 // the key the volume being read is addressed to
  const ReadProgress& progress_;
  const std::function<bool()>& cancelled_;
  uint64_t total_bytes_ = 0, read_before_ = 0;  // of every volume, and of those read before this one
  BundleImportResult result_;
  std::map<PublicKey, FromSender> senders_;
  std::vector<std::pair<std::string, uint64_t>> receipts_;  // the volume's, until its end verifies
  bool had_receipt_ = false;                                // the volume carried one for this node
  std::optional<SeenBundle> seen_;                          // the volume's Seen record
  std::vector<ReviewOutcome> outcomes_;  // a site: the volume's review decisions for it
  std::map<std::string, SentBase> bases_;                   // the volume's Basis record for this node
};

Status BundleImporter::ImportAll(const std::vector<fs::path>& files) {
  std::error_code ec;
  for (const fs::path& file : files) total_bytes_ += fs::file_size(file, ec);
  for (const fs::path& file : files) {
    uint64_t size = fs::file_size(file, ec);
    Status st = ImportVolume(file);
    read_before_ += size;
    OUTPOST_RETURN_IF_ERROR(st);
    if (result_.cancelled) break;
  }
  return Status::Ok();
}

Status BundleImporter::ImportVolume(const fs::path& file) {
  auto reader = VolumeReader::Open(file, self_);
  sealed_to_file_ = false;
  if (!reader && reader.error().code() == StatusCode::kNotFound && seal_) {
    // A site not enrolled yet: its hub may have sealed this to its enrolment file's key.
    if (auto sealed = VolumeReader::Open(file, *seal_)) {
      reader = std::move(sealed);
      sealed_to_file_ = true;
    }
  }
  me_ = sealed_to_file_ ? seal_->public_key() : self_.public_key();
  if (!reader) {
    if (reader.error().code() == StatusCode::kNotFound) Skip(reader.error().message());
    else result_.damaged.push_back(reader.error().message());
    return Status::Ok();
  }
  std::optional<PeerInfo> from;
  enrolled_now_ = false;
  OUTPOST_RETURN_IF_ERROR(AdmitSender(file, reader->get(), &from));
  if (!from) return Status::Ok();
  NoteSender(*from, (*reader)->header().sender);
  auto s = OpenStaging((*reader)->header().sender, *from);
  if (!s) return s.error();
  return ReadRecords(*s, reader->get(), file);
}

// ---- admitting the sender

Status BundleImporter::AdmitSender(const fs::path& file, VolumeReader* reader, std::optional<PeerInfo>* from) {
  if (!hub_) return AdmitHub(file, reader->header().sender, from);
  *from = AdmitSite(file, reader);
  return Status::Ok();
}

std::optional<PeerInfo> BundleImporter::AdmitSite(const fs::path& file, VolumeReader* reader) {
  const PublicKey& sender = reader->header().sender;
  auto peer = db_->Peer(sender);
  if (!peer) peer = EnrolByBundle(file, reader);
  if (!peer) return std::nullopt;
  if (peer->role != "site" || peer->revoked_at != 0) {
    Skip(file.string() + " is signed by " + sender.Fingerprint() + "…, a site this hub revoked");
    return std::nullopt;
  }
  return peer;
}

// A site never online may enrol by its first bundle: the code it was given, signed, in the
// volume's first record.
std::optional<PeerInfo> BundleImporter::EnrolByBundle(const fs::path& file, VolumeReader* reader) {
  const PublicKey& sender = reader->header().sender;
  auto record = reader->Next();
  if (record && *record && (*record)->type == kEnrolRecord) {
    auto enrol = DecodeEnrol((*record)->body);
    if (enrol && enrol->node_key == sender) {
      auto admitted = db_->AdmitSite(enrol->code, sender);
      if (!admitted) {
        Skip(file.string() + ": the enrolment it carries was refused: " + admitted.error().message());
        return std::nullopt;
      }
      enrolled_now_ = true;
      return admitted.value();
    }
  }
  Skip(file.string() + " is signed by " + sender.Fingerprint() + "…, no site enrolled here");
  return std::nullopt;
}

Status BundleImporter::AdmitHub(const fs::path& file, const PublicKey& sender, std::optional<PeerInfo>* from) {
  if (sender != pin_->node_key) {
    Skip(file.string() + " is signed by " + sender.Fingerprint() + "…, not by this site's hub (" +
         pin_->node_key.Fingerprint() + "…)");
    return Status::Ok();
  }
  PeerInfo hub;
  hub.key = sender;
  hub.name = "hub";
  *from = hub;
  // Sealed to the enrolment file's key, the volume proves nothing of our enrolment: the code
  // stays, and our next stick still carries it (docs/sync.md).
  if (pin_->pending_code.empty() || sealed_to_file_) return Status::Ok();
  // The hub addressed this to our node key: it has enrolled us (by our bundle), the code is spent.
  pin_->pending_code.clear();
  return db_->SetHub(*pin_);
}

void BundleImporter::NoteSender(const PeerInfo& from, const PublicKey& key) {
  std::string fingerprint = key.Fingerprint();
  for (BundleSender& known : result_.senders) {
    if (known.fingerprint != fingerprint) continue;
    known.enrolled = known.enrolled || enrolled_now_;
    return;
  }
  result_.senders.push_back({from.name, fingerprint, enrolled_now_});
}

// ---- the sender's staging

Result<FromSender*> BundleImporter::OpenStaging(const PublicKey& sender, const PeerInfo& from) {
  FromSender& s = senders_[sender];
  if (s.log) return &s;
  s.peer = from;
  fs::path dir = hub_ ? paths_.staging / ("from-" + sender.Hex().substr(0, 16)) : paths_.staging;
  auto lock = StagingLock::Take(dir);
  if (!lock) return lock.error();
  s.lock.emplace(std::move(*lock));
  auto log = StagingLog::Open(dir / "chunks");
  if (!log) return log.error();
  s.log = std::move(*log);
  s.assembly = std::make_unique<Assembly>(store_, catalog_, s.log.get());
  s.saved_offers = dir / "offers";
  OUTPOST_RETURN_IF_ERROR(LoadSavedOffers(&s));
  return &s;
}

// The offers of earlier imports still waiting for chunks: a bundle's later volumes, or the next
// stick, may be imported without the volume that carried them.
Status BundleImporter::LoadSavedOffers(FromSender* s) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(s->saved_offers, ec)) {
    if (entry.path().extension() != ".offer") continue;
    // An offer kept is a record of a volume: at most a frame's plaintext.
    auto body = ReadWholeFile(entry.path(), kMaxFramePlaintext);
    auto offer = body ? DecodeOffer(*body) : Result<Offer>(body.error());
    size_t before = s->versions.size();
    if (offer) Accept(s, std::move(*offer), /*saved=*/true);
    if (s->versions.size() == before) fs::remove(entry.path(), ec);  // out of date
  }
  return Status::Ok();
}

// A site checks published versions against the trust list it holds, replaced first by the
// offer's if that one is newer and verifies (and what it revokes is withdrawn). A hub checks a
// site's versions by the site's key.
void BundleImporter::Accept(FromSender* s, Offer offer, bool saved) {
  s->offered = true;
  TrustList trust = hub_ ? TrustList{}
                         : TakeTrustList(paths_, catalog_, pin_->root_key, self_.public_key(),
                                         &offer, &result_.summary);
  for (auto& version : offer.versions) AcceptVersion(s, trust, &version, saved);
}

void BundleImporter::AcceptVersion(FromSender* s, const TrustList& trust, OfferedVersion* version, bool saved) {
  auto accepted = hub_ ? AcceptSiteVersion(catalog_, db_, s->peer.key, *version)
                       : AcceptPublishedVersion(catalog_, trust, *version);
  if (!accepted) {
    // The version this node serves already (a second import) is not an error.
    bool already = ServedAlready(catalog_, *version);
    if (!already && !saved) Refuse(accepted.error().message());
    return;
  }
  if (!s->taken.insert({accepted->manifest.channel_id, accepted->manifest.version}).second) return;
  for (auto& f : version->files) {
    for (const ChunkRef& c : f.chunks) s->chunk_lengths.emplace(c.hash, c.length);
    s->files.emplace(f.blob, std::move(f));
  }
  s->versions.push_back(std::move(*accepted));
  if (!s->assembly->Want(s->versions.back(), s->files)) {
    Refuse("the offer did not describe every file of " + s->versions.back().manifest.channel_id);
  }
}

// ---- the records

Status BundleImporter::ReadRecords(FromSender* s, VolumeReader* reader, const fs::path& file) {
  receipts_.clear();
  had_receipt_ = false;
  seen_.reset();
  outcomes_.clear();
  bases_.clear();
  for (;;) {
    auto record = reader->Next();
    if (!record) {
      result_.damaged.push_back(record.error().message());
      return Status::Ok();
    }
    if (!*record) {
      result_.volumes.push_back(file.string());
      return ApplyReceipts(s, reader->header());
    }
    if (progress_) progress_(read_before_ + reader->offset(), total_bytes_);
    OUTPOST_RETURN_IF_ERROR(OnRecord(s, **record, file));
    if (cancelled_ && cancelled_()) {
      result_.cancelled = true;  // the volume is not whole here; what it staged stays
      return Status::Ok();
    }
  }
}

Status BundleImporter::OnRecord(FromSender* s, const VolumeRecord& rec, const fs::path& file) {
  switch (rec.type) {
    case kReceiptRecord:
      return OnReceipt(rec.body);
    case kOfferRecord:
      return OnOffer(s, rec.body);
    case kChunksRecord:
      return OnChunks(s, rec.body, file);
    case kPatchRecord:
      return OnPatch(s, rec.body, file);
    case kBasisRecord:
      OnBasis(rec.body);
      return Status::Ok();
    case kSeenRecord:
      OnSeen(rec.body);
      return Status::Ok();
    case kOutcomesRecord:
      OnOutcomes(rec.body);
      return Status::Ok();
    case kReportRecord:  // a hub keeps its site's report; a bad one is logged, the import goes on
      if (hub_) (void)TakeSiteReport(db_, s->peer.key, rec.body, kViaStick);
      return Status::Ok();
    default:  // kEnrolRecord: taken when the sender was admitted
      return Status::Ok();
  }
}

Status BundleImporter::OnReceipt(std::string_view record) {
  auto addressed = ReadAddressed(record);
  if (!addressed || addressed->to != me_) return Status::Ok();
  auto served = DecodeReceiptRecord(addressed->body);
  if (!served) {
    Refuse(served.error().message());
    return Status::Ok();
  }
  receipts_.insert(receipts_.end(), served->begin(), served->end());
  had_receipt_ = true;
  return Status::Ok();
}

// Once the volume's end has verified: what the sender serves; on a hub, what it sent the site
// and the site did not take (docs/bundle.md, "Packed against what was sent"); on a site, the
// newest stick of its hub it has taken.
Status BundleImporter::ApplyReceipts(FromSender* s, const VolumeHeader& header) {
  for (const auto& [id, version] : receipts_) OUTPOST_RETURN_IF_ERROR(db_->NotePeerVersion(s->peer.key, id, version));
  receipts_.clear();
  if (hub_) OUTPOST_RETURN_IF_ERROR(db_->TouchPeer(s->peer.key, kViaStick));  // its verified end: seen now
  if (!hub_) {
    // Taken only now that the volume's end verified: the hub signed them.
    if (!outcomes_.empty()) OUTPOST_RETURN_IF_ERROR(db_->NoteReviewOutcomes(outcomes_));
    result_.summary.review_outcomes += outcomes_.size();
    outcomes_.clear();
    return db_->NoteHubBundleSeen({header.bundle_id, static_cast<int64_t>(header.created_at)});
  }
  if (seen_) {
    int64_t up_to = seen_->written_at > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(seen_->written_at);
    // The decisions a stick it has taken carried have reached it.
    OUTPOST_RETURN_IF_ERROR(db_->NoteHubBundleSeenBySite(s->peer.key, up_to));
    return db_->ForgetSentVersions(s->peer.key, up_to);
  }
  // A receipt from a site that does not say which sticks it took (an older outpost): it is all
  // the hub goes by.
  if (had_receipt_) return db_->ForgetSentVersions(s->peer.key, INT64_MAX);
  return Status::Ok();
}

void BundleImporter::OnBasis(std::string_view record) {
  auto addressed = ReadAddressed(record);
  if (hub_ || !addressed || addressed->to != me_) return;
  auto bases = DecodeBasisRecord(addressed->body);
  if (!bases) return Refuse(bases.error().message());
  bases_ = std::move(*bases);
}

void BundleImporter::OnOutcomes(std::string_view record) {
  auto addressed = ReadAddressed(record);
  if (hub_ || !addressed || addressed->to != me_) return;
  auto outcomes = DecodeOutcomes(addressed->body);
  if (!outcomes) return Refuse(outcomes.error().message());
  outcomes_ = std::move(*outcomes);
}

void BundleImporter::OnSeen(std::string_view record) {
  if (!hub_) return;
  auto seen = DecodeSeenRecord(record);
  if (seen) seen_ = *seen;
}

bool BundleImporter::DropUnbased(Offer* offer) {
  auto& versions = offer->versions;
  size_t before = versions.size();
  std::erase_if(versions, [&](const OfferedVersion& v) {
    auto base = bases_.find(v.channel_id);
    if (base == bases_.end()) return false;
    auto served = catalog_->Channel(v.channel_id);
    uint64_t serves = served ? static_cast<uint64_t>(served->served_version) : 0;
    if (serves >= base->second.version) return false;
    Refuse(v.channel_id + ": this stick brings only what changed since version " +
           std::to_string(base->second.version) + ", which this site does not serve; that version came on stick " +
           VolumeFileName(base->second.bundle_id, 0).substr(0, 16) + " written on " +
           UtcMinute(static_cast<int64_t>(base->second.written_at)) +
           ": import that stick first, or ask the hub for a full one (outpost bundle export --for " +
           (pin_ ? pin_->site_name : std::string("this site")) + " --full)");
    return true;
  });
  return versions.size() != before;
}

Status BundleImporter::OnOffer(FromSender* s, std::string_view record) {
  auto addressed = ReadAddressed(record);
  if (!addressed || addressed->to != me_) return Status::Ok();  // another recipient's
  auto offer = DecodeOffer(addressed->body);
  if (!offer) {
    Refuse(offer.error().message());
    return Status::Ok();
  }
  // What is kept is what was taken: a refused channel must not come back with the saved offer.
  std::string kept = !hub_ && DropUnbased(&*offer) ? EncodeOffer(*offer) : std::string(addressed->body);
  Accept(s, std::move(*offer));
  return KeepOffer(*s, kept);
}

Status BundleImporter::OnChunks(FromSender* s, std::string_view record, const fs::path& file) {
  auto batch = DecodeChunkBatch(record);
  if (!batch) {
    Refuse(batch.error().message());
    return Status::Ok();
  }
  for (BundledChunk& c : *batch) OUTPOST_RETURN_IF_ERROR(TakeChunk(s, &c, file));
  return Status::Ok();
}

// A chunk not held yet, verified, goes to the files waiting for it (or to staging).
Status BundleImporter::TakeChunk(FromSender* s, BundledChunk* c, const fs::path& file) {
  if (s->assembly->Has(c->hash)) return Status::Ok();
  if (auto loc = catalog_->FindChunk(c->hash); loc && store_->Contains(loc->blob)) return Status::Ok();
  auto data = UnpackChunk(*s, c);
  if (!data || Hash::Of(*data) != c->hash) {
    std::string why = data ? "" : ": " + data.error().message();
    Refuse("chunk " + c->hash.Hex() + " in " + file.string() + " did not verify" + why);
    return Status::Ok();
  }
  ++result_.summary.chunks_received;
  result_.summary.chunk_bytes += data->size();
  return s->assembly->Arrived(c->hash, std::move(*data));
}

// A small edited file, whole once the patch is applied to the previous version this node holds.
Status BundleImporter::OnPatch(FromSender* s, std::string_view record, const fs::path& file) {
  auto patch = DecodePatch(record);
  if (!patch) {
    Refuse(patch.error().message());
    return Status::Ok();
  }
  if (store_->Contains(patch->blob)) return Status::Ok();
  std::string old;
  if (patch->kind == 1) {
    auto held = ReadWholeFile(store_->PathOf(patch->previous), kMaxPatchInput);
    if (!held) return Status::Ok();  // not a file this node holds: another recipient's patch
    old = std::move(*held);
  }
  auto bytes = UnpackPatch(*s, *patch, old);
  if (!bytes || Hash::Of(*bytes) != patch->blob) {
    std::string why = bytes ? "" : ": " + bytes.error().message();
    Refuse("file " + patch->blob.Hex() + " in " + file.string() + " did not verify" + why);
    return Status::Ok();
  }
  auto info = store_->Put(*bytes);
  if (!info) return info.error();
  OUTPOST_RETURN_IF_ERROR(catalog_->RecordBlobs({*info}));
  ++result_.summary.patches_received;
  ++result_.summary.files_received;
  return Status::Ok();
}

// ---- finishing

Result<BundleImportResult> BundleImporter::Finish() {
  if (senders_.empty() && result_.cancelled) return std::move(result_);
  if (senders_.empty() && result_.damaged.empty()) {
    // Nothing here is for this node: say whom it is for.
    std::string why;
    for (const auto& sk : result_.skipped) why += (why.empty() ? "" : "; ") + sk;
    return InvalidArgument(why.empty() ? "no volume to import" : why);
  }
  bool complete = result_.damaged.empty() && !result_.cancelled;
  for (auto& [key, s] : senders_) OUTPOST_RETURN_IF_ERROR(Serve(&s, &complete));
  result_.summary.complete = complete && result_.summary.refused.empty();
  return std::move(result_);
}

// Waits for the files being built, then serves each version that is complete.
Status BundleImporter::Serve(FromSender* s, bool* complete) {
  OUTPOST_RETURN_IF_ERROR(s->assembly->Finish(&result_.summary));
  if (!s->offered) {
    // Volumes without the one that carries the offers: what they brought stays staged.
    *complete = false;
    Refuse("the volumes from " + s->peer.name +
           " read so far hold no offer: import the bundle's first volume (…-0.opb) too");
    return Status::Ok();
  }
  SyncSummary served;
  bool all_served = true;
  OUTPOST_RETURN_IF_ERROR(ServeVersions(store_, catalog_, s->versions, &served, &all_served));
  *complete &= all_served;
  for (auto& u : served.updated) result_.summary.updated.push_back(u);
  for (auto& r : served.refused) Refuse(r);
  // Chunks staged for a version not complete yet wait for the next volume.
  if (all_served && !s->versions.empty()) OUTPOST_RETURN_IF_ERROR(s->log->Clear());
  // The offers are kept only for versions still waiting for chunks: none is when every version
  // taken is served, or when none was taken (a stick whose versions are served already).
  if (all_served) {
    std::error_code ec;
    fs::remove_all(s->saved_offers, ec);
  }
  return Status::Ok();
}

}  // namespace

Result<BundleImportResult> ImportBundle(const NodePaths& paths, BlobStore* store, Catalog* catalog, SyncDb* db,
                                        const fs::path& path, const ReadProgress& progress,
                                        const std::function<bool()>& cancelled) try {
  auto self = LoadOrCreateIdentity(paths.node_key);
  if (!self) return self.error();
  bool hub = db->OwnRoot().has_value();
  auto pin = db->Hub();
  if (!hub && !pin) return InvalidArgument("this node is neither a hub nor joined to one: run `outpost join` first");
  auto files = VolumesAt(path);
  if (!files) return files.error();
  // Held until the files being built are done (the importer waits for them when it goes).
  auto store_lock = store->LockShared();
  if (!store_lock) return store_lock.error();
  BundleImporter importer(paths, store, catalog, db, *self, hub, std::move(pin), progress, cancelled);
  OUTPOST_RETURN_IF_ERROR(importer.ImportAll(*files));
  return importer.Finish();
} catch (...) {
  return CurrentException("the import stopped");
}

}  // namespace outpost
