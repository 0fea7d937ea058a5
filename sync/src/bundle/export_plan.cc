// What an export writes (see export_plan.h).
#include "bundle/export_plan.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "bundle/bundle_records.h"
#include "offer.h"
#include "outpost/base/file.h"
#include "outpost/base/text.h"
#include "outpost/sync/enrolment.h"
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

// A hub writes against what it last sent a site by stick when that is newer than what the site
// is known to serve and the hub still has that version's manifest (docs/bundle.md, "Packed
// against what was sent").
void AddSentBases(Catalog* catalog, SyncDb* db, Recipient* r) {
  for (const auto& [id, sent] : db->SentVersions(r->peer.key)) {
    auto known = r->against.find(id);
    if (known != r->against.end() && known->second >= sent.version) continue;
    if (!catalog->ManifestEnvelope(id, static_cast<int64_t>(sent.version))) continue;
    r->against[id] = sent.version;
    r->bases[id] = SentBase{sent.version, sent.bundle_id, static_cast<uint64_t>(sent.written_at)};
  }
}

// The offer a recipient would get from a sync, from what this node knows it serves.
Status BuildOffer(const NodePaths& paths, Catalog* catalog, SyncDb* db, const Identity& self,
                  bool hub, bool full, Recipient* r) {
  if (!full) r->against = db->PeerVersions(r->peer.key);
  if (!full && hub && !r->sealed_to_file) AddSentBases(catalog, db, r);
  const std::map<std::string, uint64_t>& known = r->against;
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

// The chunks of every version a recipient's offer is packed against.
std::set<Hash> ChunksHeldBy(Catalog* catalog, const std::map<std::string, uint64_t>& against) {
  std::set<Hash> held;
  for (const auto& [id, version] : against) {
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

// Per enrolled site: the review decisions on its items not yet known to have reached it.
void HubOutcomes(SyncDb* db, ExportPlan* plan) {
  for (Recipient& r : plan->recipients) {
    if (r.sealed_to_file) continue;
    auto outcomes = db->UndeliveredOutcomes(r.peer.key);
    if (outcomes.empty()) continue;
    for (const auto& o : outcomes) r.outcomes.push_back(o.id);
    plan->lead.push_back({kOutcomesRecord, AddressedRecord(r.peer.key, EncodeOutcomes(outcomes))});
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

// True if an enrolled, unrevoked site is called `name`.
bool Enrolled(const std::vector<PeerInfo>& sites, const std::string& name) {
  return std::any_of(sites.begin(), sites.end(),
                     [&](const PeerInfo& p) { return p.role == "site" && p.revoked_at == 0 && p.name == name; });
}

// The recipient a bundle for a site not enrolled yet is sealed to: the key derived from the
// pending code of its enrolment file (docs/sync.md), which only the holder of that file derives.
std::optional<Recipient> SealedToFile(const EnrolCodeInfo& code) {
  if (!code.psk) return std::nullopt;
  auto seal = EnrolSealIdentity(*code.psk);
  if (!seal) return std::nullopt;
  Recipient r;
  r.peer.key = seal->public_key();
  r.peer.name = code.site_name;
  r.peer.role = "site";
  r.sealed_to_file = true;
  return r;
}

// Why no bundle can be sealed for `name`, whose codes are `codes` (none of them usable).
Status WhyNotSealed(const std::string& name, const std::vector<EnrolCodeInfo>& codes, int64_t now) {
  std::string again = "make an enrolment file for it (outpost hub enrol --name " + name +
                      " --to FILE) and send it with the stick";
  if (codes.empty()) return NotFound("no enrolled, unrevoked site is called \"" + name + "\"");
  const EnrolCodeInfo& last = codes.back();
  if (last.cancelled_at != 0) {
    return NotFound(name + " was revoked on " + UtcMinute(last.cancelled_at) + ": no bundle is written for it");
  }
  if (last.used_at != 0) {
    return NotFound("no enrolled, unrevoked site is called \"" + name + "\" (its code was used on " +
                    UtcMinute(last.used_at) + ")");
  }
  if (now >= last.expires_at) {
    return NotFound(name + " has not enrolled yet, and its code expired on " + UtcMinute(last.expires_at) + ": " +
                    again);
  }
  return NotFound(name + " has not enrolled yet; its code was printed, not written to a file, so no bundle can "
                  "be sealed to it: write bundles for it once it has synced or its own stick has come back, or " +
                  again);
}

// A site named `wanted` (or, for "all", every site) that has not enrolled yet but holds the
// enrolment file of a pending code: one recipient per such code.
Result<std::vector<Recipient>> WaitingRecipients(SyncDb* db, const std::vector<PeerInfo>& sites,
                                                 const std::string& wanted) {
  bool all = wanted == "all";
  auto key = PublicKey::FromHex(wanted);
  std::vector<EnrolCodeInfo> codes = db->EnrolCodes(all || key ? "" : wanted);
  std::vector<Recipient> out;
  for (const EnrolCodeInfo& c : codes) {
    bool usable = c.to_file && c.used_at == 0 && c.cancelled_at == 0 && db->Now() < c.expires_at;
    if (!usable || Enrolled(sites, c.site_name)) continue;
    auto r = SealedToFile(c);
    if (r && (all || !key || r->peer.key == *key)) out.push_back(std::move(*r));
  }
  if (!out.empty() || all) return out;
  if (key) return NotFound("no enrolled, unrevoked site is called \"" + wanted + "\"");
  bool revoked = std::any_of(sites.begin(), sites.end(), [&](const PeerInfo& p) {
    return p.name == wanted && p.revoked_at != 0;
  });
  if (revoked) return NotFound(wanted + " was revoked: no bundle is written for it");
  return WhyNotSealed(wanted, codes, db->Now());
}

}  // namespace

Result<std::vector<Recipient>> ChooseRecipients(SyncDb* db, const std::vector<std::string>& wanted, bool hub) {
  if (!hub) return SiteRecipients(db, wanted);
  if (wanted.empty()) return InvalidArgument("name the sites the bundle is for: --for NAME (or --for all)");
  std::vector<Recipient> out;
  std::set<PublicKey> chosen;
  auto sites = db->Peers();
  auto add = [&](Recipient r) {
    if (chosen.insert(r.peer.key).second) out.push_back(std::move(r));
  };
  for (const std::string& w : wanted) {
    bool found = false;
    for (const PeerInfo& p : sites) {
      if (p.role != "site" || p.revoked_at != 0) continue;
      if (w == "all" || p.name == w || p.key.Hex() == w) {
        found = true;
        Recipient r;
        r.peer = p;
        add(std::move(r));
      }
    }
    if (w == "all" || !found) {
      auto waiting = WaitingRecipients(db, sites, w);
      if (!waiting) return waiting.error();
      for (Recipient& r : *waiting) add(std::move(r));
    }
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
      if (!manifest) continue;
      channels.insert(v.channel_id + " " + std::to_string(manifest->version));
      r.offered[v.channel_id] = manifest->version;
    }
  }
  plan->channels.assign(channels.begin(), channels.end());
  return Status::Ok();
}

void PlanPieces(BlobStore* store, Catalog* catalog, bool full, const ExportState* earlier,
                ExportPlan* plan) {
  struct Wanted {
    const OfferedFile* file;
    const std::set<Hash>* held;
  };
  std::vector<std::set<Hash>> held(plan->recipients.size());
  std::vector<Wanted> files;
  for (size_t i = 0; i < plan->recipients.size(); ++i) {
    const Recipient& r = plan->recipients[i];
    if (!full) held[i] = ChunksHeldBy(catalog, r.against);
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
    // The newest stick of its hub this site has taken: what the hub sent before it and this
    // site does not serve was not taken (a lost stick), so the hub stops packing against it.
    SeenHubBundle seen = db->HubBundleSeen();
    plan->lead.push_back({kSeenRecord, EncodeSeenRecord({seen.bundle_id, static_cast<uint64_t>(seen.written_at)})});
  }
  if (hub) {
    HubReceipts(catalog, db, plan);
    HubOutcomes(db, plan);
  } else {
    SiteReceipt(catalog, plan);
  }
  for (const Recipient& r : plan->recipients) {
    if (!r.bases.empty()) plan->lead.push_back({kBasisRecord, AddressedRecord(r.peer.key, EncodeBasisRecord(r.bases))});
    plan->lead.push_back({kOfferRecord, AddressedRecord(r.peer.key, EncodeOffer(r.offer))});
  }
}

bool NeedsBasis(const ExportPlan& plan) {
  return std::any_of(plan.recipients.begin(), plan.recipients.end(),
                     [](const Recipient& r) { return !r.bases.empty(); });
}

}  // namespace outpost::sync
