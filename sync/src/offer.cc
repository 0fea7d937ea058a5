// Offers and their checks: see offer.h.
#include "offer.h"

#include <optional>
#include <set>

#include "outpost/sync/trust_store.h"
#include "version_signing.h"
#include "zstd_codec.h"

namespace outpost::sync {

namespace {

void CollectFiles(const DraftNode& node, std::map<std::string, Hash>* out) {
  if (node.blob) (*out)[node.path] = *node.blob;
  for (const auto& child : node.children) CollectFiles(child, out);
}

// path -> blob for every node of the version with a file.
std::map<std::string, Hash> FilesByPath(const VersionDraft& draft) {
  std::map<std::string, Hash> out;
  CollectFiles(draft.root, &out);
  return out;
}

// The peer's version of a channel, as far as this side still has its manifest.
struct PeerVersion {
  std::optional<std::string> envelope;
  std::map<std::string, Hash> files;  // path -> blob
  std::set<Hash> blobs;
};

PeerVersion LoadPeerVersion(Catalog* catalog, const std::string& channel, uint64_t version) {
  PeerVersion peer;
  if (version == 0) return peer;
  auto old = catalog->ManifestEnvelope(channel, static_cast<int64_t>(version));
  if (!old) return peer;
  auto decoded = DecodeEnvelopeManifest(*old);
  if (!decoded) return peer;
  peer.envelope = std::move(*old);
  peer.files = FilesByPath(decoded->draft);
  for (const auto& b : decoded->Blobs()) peer.blobs.insert(b.hash);
  return peer;
}

// Packs version->envelope: against the peer's manifest when there is one. The dictionary is the
// base version's manifest, not its envelope: a version signed again (after a rotation) has the
// same manifest under another signature.
void Pack(OfferedVersion* version, const PeerVersion& peer, uint64_t peer_version) {
  auto old_parts = peer.envelope ? ParseSignedManifest(*peer.envelope)
                                 : Result<SignedManifest>(NotFound(""));
  version->envelope_size = version->envelope.size();
  if (old_parts) {
    version->packing = kZstdAgainstBase;
    version->base_version = peer_version;
    version->packed = ZstdCompress(version->envelope, 19, old_parts->manifest);
  } else {
    version->packing = kZstd;
    version->packed = ZstdCompress(version->envelope, 19, {});
  }
}

// A file of the offered version, with its chunks and, when the peer's version had another file
// at its path, that one.
Result<OfferedFile> DescribeFile(Catalog* catalog, const BlobRef& blob,
                                 const std::map<Hash, std::string>& path_of, const PeerVersion& peer) {
  OfferedFile file;
  file.blob = blob.hash;
  file.size = blob.size;
  for (const Chunk& c : catalog->ChunksOf(blob.hash)) file.chunks.push_back({c.hash, c.length});
  if (file.chunks.empty() && blob.size > 0) {
    return Internal("the chunk index has no chunks for file " + blob.hash.Hex() +
                    " (run `outpost verify`)");
  }
  if (auto p = path_of.find(blob.hash); p != path_of.end()) {
    if (auto o = peer.files.find(p->second); o != peer.files.end() && o->second != blob.hash) {
      file.previous = o->second;
    }
  }
  return file;
}

// What a site's own manifest must be before its signer is looked at, so that the refusal says
// what is wrong with it: an envelope, a manifest under every rule of docs/manifest.md (its
// closed list of kinds included), of the channel the offer names.
Status CheckSiteManifest(std::string_view envelope, const std::string& channel_id) {
  auto parts = ParseSignedManifest(envelope);
  if (!parts) return InvalidArgument("its signed manifest is malformed: " + parts.error().message());
  auto manifest = DecodeManifest(parts->manifest);
  if (!manifest) {
    return InvalidArgument("its manifest breaks the manifest format (docs/manifest.md): " +
                           manifest.error().message());
  }
  if (manifest->channel_id != channel_id) {
    return InvalidArgument("its manifest is of channel " + manifest->channel_id + ", not " +
                           channel_id + " as offered");
  }
  return Status::Ok();
}

}  // namespace

Result<OfferedVersion> OfferVersion(Catalog* catalog, const ChannelInfo& info, uint64_t peer_version) {
  auto envelope = catalog->ManifestEnvelope(info.id, info.served_version);
  if (!envelope) return NotFound("channel " + info.id + " has no signed manifest");
  auto fresh = DecodeEnvelopeManifest(*envelope);
  if (!fresh) return fresh.error();
  PeerVersion peer = LoadPeerVersion(catalog, info.id, peer_version);
  OfferedVersion version;
  version.channel_id = info.id;
  version.envelope = std::move(*envelope);
  Pack(&version, peer, peer_version);
  std::map<Hash, std::string> path_of;
  for (const auto& [path, blob] : FilesByPath(fresh->draft)) path_of.emplace(blob, path);
  for (const BlobRef& blob : fresh->Blobs()) {
    if (peer.blobs.count(blob.hash)) continue;  // the peer has it
    auto file = DescribeFile(catalog, blob, path_of, peer);
    if (!file) return file.error();
    version.files.push_back(std::move(*file));
  }
  return version;
}

Result<std::vector<OfferedVersion>> OfferChannels(Catalog* catalog, const OfferedBy& by,
                                                  const std::map<std::string, uint64_t>& peer_serves,
                                                  bool whatever_the_peer_serves) {
  std::vector<OfferedVersion> out;
  for (const ChannelInfo& info : catalog->Channels()) {
    if (info.served_version == 0 || !info.manifest_hash) continue;
    auto it = peer_serves.find(info.id);
    uint64_t peer_version = it == peer_serves.end() ? 0 : it->second;
    bool newer = static_cast<uint64_t>(info.served_version) > peer_version;
    if (!newer && !whatever_the_peer_serves) continue;
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
  if (version.packing == kZstd) return ZstdDecompress(version.packed, version.envelope_size, kMaxEnvelope, {});
  if (version.packing == kZstdAgainstBase) {
    auto base = catalog->ManifestEnvelope(version.channel_id, static_cast<int64_t>(version.base_version));
    if (!base) {
      return NotFound("this node has no manifest of " + version.channel_id + " version " +
                      std::to_string(version.base_version));
    }
    auto parts = ParseSignedManifest(*base);
    if (!parts) return parts.error();
    return ZstdDecompress(version.packed, version.envelope_size, kMaxEnvelope, parts->manifest);
  }
  return version.packed;
}

TrustList TakeTrustList(const NodePaths& paths, Catalog* catalog, const PublicKey& root,
                        const PublicKey& self, Offer* offer, SyncSummary* summary) {
  for (OfferedVersion& version : offer->versions) {
    auto envelope = UnpackEnvelope(catalog, version);
    if (!envelope) continue;  // its Accept says why
    version.packing = kRaw;
    version.envelope_size = envelope->size();
    version.packed = std::move(*envelope);
  }
  if (!offer->trust_list.empty()) {
    Status stored = StoreTrustList(paths, root, offer->trust_list);
    if (!stored.ok()) summary->refused.push_back("trust list: " + stored.message());
  }
  auto held = LoadTrustList(paths, root);
  if (!held) return TrustList{};
  auto withdrawn = WithdrawUntrustedVersions(catalog, *held, self);
  if (!withdrawn) summary->refused.push_back(withdrawn.error().message());
  for (const Withdrawal& w : withdrawn ? *withdrawn : std::vector<Withdrawal>{}) {
    summary->withdrawn.push_back(w.Describe());
  }
  return *held;
}

Result<AcceptedVersion> AcceptSiteVersion(Catalog* catalog, SyncDb* db, const PublicKey& site,
                                          const OfferedVersion& version) {
  auto envelope = UnpackEnvelope(catalog, version);
  if (!envelope) return envelope.error().WithContext("its manifest could not be unpacked");
  OUTPOST_RETURN_IF_ERROR(CheckSiteManifest(*envelope, version.channel_id));
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
  if (served && served->manifest_hash == manifest->hash) {
    return Status(StatusCode::kAlreadyExists, "channel " + manifest->channel_id + ": version " +
                                                  std::to_string(manifest->version) +
                                                  " is served here already");
  }
  OUTPOST_RETURN_IF_ERROR(
      CheckVersionIsNewer(*manifest, served ? static_cast<uint64_t>(served->served_version) : 0));
  return AcceptedVersion{std::move(*manifest), std::move(*envelope)};
}

}  // namespace outpost::sync
