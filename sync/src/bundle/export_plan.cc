// What an export writes (see export_plan.h).
#include "bundle/export_plan.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "bundle/bundle_records.h"
#include "offer.h"
#include "outpost/base/file.h"
#include "outpost/sync/trust_store.h"

namespace outpost::sync {

namespace {

Result<std::vector<Recipient>> SiteRecipients(SyncDb* db, const std::vector<std::string>& wanted) {
  auto pin = db->Hub();
  if (!pin) return InvalidArgument("this node is neither a hub nor joined to one");
  if (!wanted.empty() && !(wanted.size() == 1 && (wanted[0] == "hub" || wanted[0] == pin->node_key.Hex()))) {
    return InvalidArgument("a site writes bundles for its hub only (leave out --for)");
  }
  Recipient r;
  r.peer.key = pin->node_key;
  r.peer.name = "hub";
  r.peer.role = "hub";
  std::vector<Recipient> out;
  out.push_back(std::move(r));
  return out;
}

// The trust list a hub hands out with its offers, and what it says.
Result<TrustList> HubTrustList(const NodePaths& paths, Offer* offer) {
  auto doc = ReadWholeFile(paths.trust_list, kMaxTrustListBytes);
  if (!doc) return doc.error();
  offer->trust_list = *doc;
  auto root = TrustListRoot(*doc);
  if (!root) return root.error();
  return VerifyTrustList(*doc, *root);
}

// The offer a recipient would get from a sync, from what this node knows it serves.
Status BuildOffer(const NodePaths& paths, Catalog* catalog, SyncDb* db, const Identity& self,
                  bool hub, bool full, Recipient* r) {
  std::map<std::string, uint64_t> known = full ? std::map<std::string, uint64_t>{} : db->PeerVersions(r->peer.key);
  std::optional<TrustList> trust;
  if (hub) {
    auto list = HubTrustList(paths, &r->offer);
    if (!list) return list.error();
    trust = std::move(*list);
  }
  // A hub hands out what its root's publishers signed; a site sends up what it signed itself.
  PublicKey me = self.public_key();
  // A hub's bundle carries its trust list, which may withdraw at the site what it serves: the
  // hub's versions go too whatever the site serves (a manifest patch each when it serves them).
  auto versions = OfferChannels(catalog, hub ? OfferedBy{&*trust, nullptr} : OfferedBy{nullptr, &me}, known, hub);
  if (!versions) return versions.error();
  r->offer.versions = std::move(*versions);
  return Status::Ok();
}

// The chunks of every version `peer` is known to serve.
std::set<Hash> ChunksHeldBy(Catalog* catalog, SyncDb* db, const PublicKey& peer) {
  std::set<Hash> held;
  for (const auto& [id, version] : db->PeerVersions(peer)) {
    auto envelope = catalog->ManifestEnvelope(id, static_cast<int64_t>(version));
    auto manifest = envelope ? DecodeEnvelopeManifest(*envelope) : Result<Manifest>(NotFound(""));
    if (!manifest) continue;
    for (const BlobRef& blob : manifest->Blobs()) {
      for (const Chunk& c : catalog->ChunksOf(blob.hash)) held.insert(c.hash);
    }
  }
  return held;
}

// Per recipient: its own channels that this hub serves.
void HubReceipts(Catalog* catalog, SyncDb* db, ExportPlan* plan) {
  for (const Recipient& r : plan->recipients) {
    std::map<std::string, uint64_t> theirs;
    for (const std::string& id : db->ChannelsOf(r.peer.key)) {
      if (auto info = catalog->Channel(id)) theirs[id] = static_cast<uint64_t>(info->served_version);
    }
    if (theirs.empty()) continue;
    plan->lead.push_back({kReceiptRecord, AddressedRecord(r.peer.key, EncodeReceiptRecord(theirs))});
  }
}

// To its hub: every version this site serves.
void SiteReceipt(Catalog* catalog, ExportPlan* plan) {
  std::map<std::string, uint64_t> served;
  for (const ChannelInfo& info : catalog->Channels()) {
    if (info.served_version > 0) served[info.id] = static_cast<uint64_t>(info.served_version);
  }
  plan->lead.push_back({kReceiptRecord, AddressedRecord(plan->recipients[0].peer.key, EncodeReceiptRecord(served))});
}

}  // namespace

Result<std::vector<Recipient>> ChooseRecipients(SyncDb* db, const std::vector<std::string>& wanted, bool hub) {
  if (!hub) return SiteRecipients(db, wanted);
  if (wanted.empty()) return InvalidArgument("name the sites the bundle is for: --for NAME (or --for all)");
  std::vector<Recipient> out;
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
    if (!full) held[i] = ChunksHeldBy(catalog, db, r.peer.key);
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

void PlanLead(Catalog* catalog, SyncDb* db, const Identity& self, bool hub, ExportPlan* plan) {
  if (!hub) {
    // A site that joined from an enrolment file and was never online presents its code this
    // way: the hub enrols it when it imports the bundle.
    auto pin = db->Hub();
    if (pin && !pin->pending_code.empty()) {
      EnrolRequest enrol{self.public_key(), pin->pending_code, pin->site_name};
      plan->lead.push_back({kEnrolRecord, EncodeEnrol(enrol)});
    }
  }
  if (hub) {
    HubReceipts(catalog, db, plan);
  } else {
    SiteReceipt(catalog, plan);
  }
  for (const Recipient& r : plan->recipients) {
    plan->lead.push_back({kOfferRecord, AddressedRecord(r.peer.key, EncodeOffer(r.offer))});
  }
}

}  // namespace outpost::sync
