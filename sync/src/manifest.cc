// Manifests: a channel version's canonical bytes (docs/manifest.md), the rules a version must
// follow to have them, and the signed envelope. Expected workload: a few manifests per sync,
// from a handful of nodes to some 100,000 (about 20 MB); decoding touches each byte once.
#include "outpost/sync/manifest.h"

#include <algorithm>
#include <limits>
#include <tuple>
#include <map>
#include <unordered_set>

#include "outpost/base/text.h"
#include "wire.h"

namespace outpost {

namespace {

constexpr std::string_view kManifestMagic = "OPMF";
constexpr std::string_view kSignedMagic = "OPSM";
constexpr std::string_view kManifestDomain{"outpost manifest v1\0", 20};
constexpr size_t kMaxChannelIdBytes = 64;
constexpr uint64_t kMaxNumber = std::numeric_limits<int64_t>::max();  // the catalog's int64

// The smallest encoded node: every string empty, no hashes, no children.
constexpr size_t kMinNodeBytes = 4 + 1 + 1 + 7 * 4 + 1 + 1 + 8 + 4 + 4;

// Wire codes of node kinds: fixed by the format, whatever the order of NodeKind.
constexpr NodeKind kKindByCode[] = {NodeKind::kTopic,    NodeKind::kVideo,    NodeKind::kAudio,
                                    NodeKind::kDocument, NodeKind::kImage,    NodeKind::kHtml,
                                    NodeKind::kApp,      NodeKind::kExercise, NodeKind::kOther};

uint8_t KindCode(NodeKind kind) {
  for (uint8_t i = 0; i < std::size(kKindByCode); ++i) {
    if (kKindByCode[i] == kind) return i;
  }
  return static_cast<uint8_t>(std::size(kKindByCode));  // unreachable for a valid NodeKind
}

// The seven node metadata fields, in wire order.
constexpr std::string NodeMeta::*kNodeMetaFields[] = {
    &NodeMeta::title,   &NodeMeta::description, &NodeMeta::language, &NodeMeta::grade,
    &NodeMeta::subject, &NodeMeta::license,     &NodeMeta::author};
constexpr const char* kNodeMetaNames[] = {"title",   "description", "language", "grade",
                                          "subject", "license",     "author"};
// The five channel metadata fields, in wire order.
constexpr std::string NodeMeta::*kChannelMetaFields[] = {&NodeMeta::title, &NodeMeta::description,
                                                         &NodeMeta::language, &NodeMeta::license,
                                                         &NodeMeta::author};
constexpr const char* kChannelMetaNames[] = {"channel title", "channel description",
                                             "channel language", "channel license",
                                             "channel author"};

std::string Quoted(std::string_view s) { return "\"" + EscapeInvalidUtf8(s) + "\""; }

std::string NodeName(const std::string& path) {
  return path.empty() ? "the root topic" : "node " + Quoted(path);
}

// ---- encoding ----

void WriteNode(wire::Writer* w, const DraftNode& n) {
  w->String(n.path);
  w->U8(KindCode(n.kind));
  w->U8(n.listed ? 1 : 0);
  for (auto field : kNodeMetaFields) w->String(n.meta.*field);
  w->OptionalHash(n.thumbnail);
  w->OptionalHash(n.blob);
  w->U64(n.size);
  w->String(n.mime);
  w->U32(static_cast<uint32_t>(n.children.size()));
  for (const auto& child : n.children) WriteNode(w, child);
}

// Format 2's label section: count, then (field, value, language, label) per label.
void WriteLabels(wire::Writer* w, const std::vector<ValueLabel>& labels) {
  w->U32(static_cast<uint32_t>(labels.size()));
  for (const auto& l : labels) {
    for (const std::string* s : {&l.field, &l.value, &l.language, &l.label}) w->String(*s);
  }
}

// ---- the rules (CheckManifestDraft) ----

class DraftChecker {
 public:
  explicit DraftChecker(const VersionDraft& draft) : draft_(draft) {}

  Status Check(uint64_t version) {
    if (!IsValidChannelId(draft_.channel_id)) {
      return InvalidArgument("invalid channel id " + Quoted(draft_.channel_id));
    }
    if (version == 0 || version > kMaxNumber) {
      return Fail("version " + std::to_string(version) + " is outside 1 to 2^63-1");
    }
    if (!draft_.meta.grade.empty() || !draft_.meta.subject.empty()) {
      return Fail("a channel has no grade or subject (topics and resources do)");
    }
    bytes_ = 4 + 2 + 4 + draft_.channel_id.size() + 8 + 1 + (draft_.thumbnail ? 32 : 0);
    for (size_t i = 0; i < std::size(kChannelMetaFields); ++i) {
      OUTPOST_RETURN_IF_ERROR(
          CheckString(draft_.meta.*kChannelMetaFields[i], kChannelMetaNames[i], "this version"));
    }
    if (draft_.thumbnail) thumbnails_.push_back({*draft_.thumbnail, "the channel"});
    if (!draft_.root.path.empty() || draft_.root.kind != NodeKind::kTopic) {
      return Fail("the root must be a topic with the path \"\", not " + Quoted(draft_.root.path));
    }
    OUTPOST_RETURN_IF_ERROR(CheckNode(draft_.root, 0));
    OUTPOST_RETURN_IF_ERROR(CheckLabels());
    return CheckWhole();
  }

 private:
  // What needs the whole tree: thumbnails' files, and the size of the encoding.
  Status CheckWhole() const {
    for (const auto& [hash, owner] : thumbnails_) {
      if (!sizes_.count(hash)) {
        return Fail("the thumbnail of " + owner + " (" + hash.Hex() +
                    ") is not a file of this version; add it to the tree, unlisted if need be");
      }
    }
    if (bytes_ > kMaxManifestBytes) {
      return Fail("the manifest would take " + std::to_string(bytes_) + " bytes, more than " +
                  std::to_string(kMaxManifestBytes));
    }
    return Status::Ok();
  }

  // Labels: known fields, nothing empty, strictly ascending by (field, value, language).
  Status CheckLabels() {
    const auto& labels = draft_.labels;
    if (labels.empty()) return Status::Ok();
    if (labels.size() > kMaxManifestLabels) {
      return Fail(std::to_string(labels.size()) + " labels, more than the " +
                  std::to_string(kMaxManifestLabels) + " allowed");
    }
    bytes_ += 4;
    for (size_t i = 0; i < labels.size(); ++i) {
      const ValueLabel& l = labels[i];
      const std::string name = "the label of " + l.field + " " + Quoted(l.value) + " in " +
                               Quoted(l.language);
      if (std::find(std::begin(kLabelledFields), std::end(kLabelledFields), l.field) ==
          std::end(kLabelledFields)) {
        return Fail(name + ": labels are for grade, subject or license only");
      }
      for (const std::string* s : {&l.value, &l.language, &l.label}) {
        if (s->empty()) return Fail(name + " has an empty value, language or label");
        OUTPOST_RETURN_IF_ERROR(CheckString(*s, "text", name));
      }
      bytes_ += 4 + l.field.size();
      const ValueLabel* prev = i ? &labels[i - 1] : nullptr;
      if (prev && std::tie(prev->field, prev->value, prev->language) >=
                      std::tie(l.field, l.value, l.language)) {
        return Fail(name + " is out of order or repeated; labels ascend by field, value, language");
      }
    }
    return Status::Ok();
  }

  Status Fail(const std::string& problem) const {
    return InvalidArgument("manifest of channel " + draft_.channel_id + ": " + problem);
  }

  Status CheckString(const std::string& s, std::string_view field, const std::string& owner) {
    bytes_ += 4 + s.size();
    if (s.size() > kMaxManifestString) {
      return Fail("the " + std::string(field) + " of " + owner + " is longer than " +
                  std::to_string(kMaxManifestString) + " bytes");
    }
    if (!IsValidUtf8(s)) {
      return Fail("the " + std::string(field) + " of " + owner +
                  " is not valid UTF-8: " + Quoted(s));
    }
    return Status::Ok();
  }

  // The last segment of `child`'s path, if it is `parent`'s path and one more segment.
  static std::optional<std::string_view> Segment(const std::string& parent,
                                                 const std::string& child) {
    std::string_view rest = child;
    if (!parent.empty()) {
      if (!child.starts_with(parent) || child.size() <= parent.size() + 1 ||
          child[parent.size()] != '/') {
        return std::nullopt;
      }
      rest.remove_prefix(parent.size() + 1);
    }
    if (rest.empty() || rest == "." || rest == ".." ||
        rest.find_first_of(std::string_view("/\0", 2)) != std::string_view::npos) {
      return std::nullopt;
    }
    return rest;
  }

  Status CheckNode(const DraftNode& n, int depth) {
    const std::string name = NodeName(n.path);
    OUTPOST_RETURN_IF_ERROR(CheckFields(n, name));
    if (!n.children.empty() && depth >= kMaxManifestDepth) {
      return Fail(name + " is at depth " + std::to_string(depth) + "; a tree may be " +
                  std::to_string(kMaxManifestDepth) + " levels deep at most");
    }
    std::unordered_set<std::string_view> seen;
    for (const auto& child : n.children) {
      if (!Segment(n.path, child.path)) {
        return Fail("the path " + Quoted(child.path) + " is not one segment under " + name);
      }
      if (!seen.insert(child.path).second) {
        return Fail(name + " has two children with the path " + Quoted(child.path));
      }
      OUTPOST_RETURN_IF_ERROR(CheckNode(child, depth + 1));
    }
    return Status::Ok();
  }

  // Everything about one node but its children.
  Status CheckFields(const DraftNode& n, const std::string& name) {
    bytes_ += kMinNodeBytes - 4 * 9 + (n.thumbnail ? 32 : 0) + (n.blob ? 32 : 0);
    OUTPOST_RETURN_IF_ERROR(CheckString(n.path, "path", name));
    for (size_t i = 0; i < std::size(kNodeMetaFields); ++i) {
      OUTPOST_RETURN_IF_ERROR(CheckString(n.meta.*kNodeMetaFields[i], kNodeMetaNames[i], name));
    }
    OUTPOST_RETURN_IF_ERROR(CheckString(n.mime, "MIME type", name));
    if (KindCode(n.kind) >= std::size(kKindByCode)) return Fail(name + " has an unknown kind");
    if (n.size > kMaxNumber) return Fail(name + " has a size over 2^63-1");
    if (n.kind == NodeKind::kTopic) {
      if (n.blob || n.size != 0) return Fail(name + " is a topic but has a file or a size");
    } else {
      const std::string what = name + " (" + KindName(n.kind) + ")";
      if (!n.blob) return Fail(what + " has no file");
      if (!n.children.empty()) return Fail(what + " has children; only topics have children");
      auto [it, fresh] = sizes_.emplace(*n.blob, n.size);
      if (!fresh && it->second != n.size) {
        return Fail("the file " + n.blob->Hex() + " has two sizes, " + std::to_string(it->second) +
                    " and " + std::to_string(n.size) + " (at " + name + ")");
      }
    }
    if (n.thumbnail) thumbnails_.push_back({*n.thumbnail, name});
    return Status::Ok();
  }

  const VersionDraft& draft_;
  std::map<Hash, uint64_t> sizes_;                        // every file, with its size
  std::vector<std::pair<Hash, std::string>> thumbnails_;  // every thumbnail, and whose it is
  size_t bytes_ = 0;                                      // the encoding's size so far
};

// ---- decoding ----

// Reads one node and its subtree; `depth` is the node's (the root's is 0).
Status ReadNode(wire::Reader* r, int depth, DraftNode* n) {
  r->set_context("");
  OUTPOST_RETURN_IF_ERROR(r->String(&n->path, kMaxManifestString, "a node's path"));
  r->set_context(" of " + NodeName(n->path));
  size_t at = r->offset();
  uint8_t kind = 0;
  OUTPOST_RETURN_IF_ERROR(r->U8(&kind, "the kind"));
  if (kind >= std::size(kKindByCode)) {
    return r->Bad(at, NodeName(n->path) + " has an unknown kind " + std::to_string(kind));
  }
  n->kind = kKindByCode[kind];
  OUTPOST_RETURN_IF_ERROR(r->Bool(&n->listed, "the listed flag"));
  for (size_t i = 0; i < std::size(kNodeMetaFields); ++i) {
    OUTPOST_RETURN_IF_ERROR(r->String(&(n->meta.*kNodeMetaFields[i]), kMaxManifestString,
                                      std::string("the ") + kNodeMetaNames[i]));
  }
  OUTPOST_RETURN_IF_ERROR(r->OptionalHash(&n->thumbnail, "the thumbnail"));
  OUTPOST_RETURN_IF_ERROR(r->OptionalHash(&n->blob, "the file hash"));
  OUTPOST_RETURN_IF_ERROR(r->U64(&n->size, "the size"));
  OUTPOST_RETURN_IF_ERROR(r->String(&n->mime, kMaxManifestString, "the MIME type"));
  at = r->offset();
  uint32_t count = 0;
  OUTPOST_RETURN_IF_ERROR(r->U32(&count, "the child count"));
  if (count > r->remaining() / kMinNodeBytes) {
    return r->Bad(at, NodeName(n->path) + " claims " + std::to_string(count) +
                          " children, more than the bytes left can hold");
  }
  if (count > 0 && depth >= kMaxManifestDepth) {
    return r->Bad(at, NodeName(n->path) + " has children deeper than the " +
                          std::to_string(kMaxManifestDepth) + " levels allowed");
  }
  n->children.resize(count);
  for (auto& child : n->children) OUTPOST_RETURN_IF_ERROR(ReadNode(r, depth + 1, &child));
  return Status::Ok();
}

// Format 2's label section (its order and contents are checked by CheckManifestDraft).
Status ReadLabels(wire::Reader* r, std::vector<ValueLabel>* labels) {
  constexpr size_t kMinLabelBytes = 4 * 4;
  size_t at = r->offset();
  uint32_t count = 0;
  OUTPOST_RETURN_IF_ERROR(r->U32(&count, "the label count"));
  if (count == 0) return r->Bad(at, "a format 2 manifest has no labels; it must be format 1");
  if (count > kMaxManifestLabels || count > r->remaining() / kMinLabelBytes) {
    return r->Bad(at, "it claims " + std::to_string(count) + " labels, more than the " +
                          std::to_string(kMaxManifestLabels) + " allowed or the bytes left hold");
  }
  labels->resize(count);
  for (auto& l : *labels) {
    for (std::string* s : {&l.field, &l.value, &l.language, &l.label}) {
      OUTPOST_RETURN_IF_ERROR(r->String(s, kMaxManifestString, "a label"));
    }
  }
  return Status::Ok();
}

Status ReadManifest(wire::Reader* r, Manifest* m) {
  uint16_t format = 0;
  OUTPOST_RETURN_IF_ERROR(
      r->Header(kManifestMagic, kManifestFormat, kManifestFormatWithLabels, &format));
  OUTPOST_RETURN_IF_ERROR(r->String(&m->channel_id, kMaxChannelIdBytes, "the channel id"));
  m->draft.channel_id = m->channel_id;
  OUTPOST_RETURN_IF_ERROR(r->U64(&m->version, "the version"));
  for (size_t i = 0; i < std::size(kChannelMetaFields); ++i) {
    OUTPOST_RETURN_IF_ERROR(r->String(&(m->draft.meta.*kChannelMetaFields[i]), kMaxManifestString,
                                      std::string("the ") + kChannelMetaNames[i]));
  }
  OUTPOST_RETURN_IF_ERROR(r->OptionalHash(&m->draft.thumbnail, "the channel thumbnail"));
  OUTPOST_RETURN_IF_ERROR(ReadNode(r, 0, &m->draft.root));
  r->set_context("");
  if (format == kManifestFormatWithLabels) OUTPOST_RETURN_IF_ERROR(ReadLabels(r, &m->draft.labels));
  return r->ExpectEnd();
}

// What a publisher signs: a domain separator, then the manifest hash.
std::string SigningMessage(const Hash& manifest_hash) {
  std::string msg(kManifestDomain);
  msg.append(reinterpret_cast<const char*>(manifest_hash.bytes.data()), Hash::kSize);
  return msg;
}

void CollectBlobs(const DraftNode& n, std::map<Hash, uint64_t>* sizes,
                  std::vector<Hash>* thumbnails) {
  if (n.blob) sizes->emplace(*n.blob, n.size);
  if (n.thumbnail) thumbnails->push_back(*n.thumbnail);
  for (const auto& c : n.children) CollectBlobs(c, sizes, thumbnails);
}

}  // namespace

// ---- Manifest ----

std::vector<BlobRef> Manifest::Blobs() const {
  std::map<Hash, uint64_t> sizes;
  std::vector<Hash> thumbnails;
  if (draft.thumbnail) thumbnails.push_back(*draft.thumbnail);
  CollectBlobs(draft.root, &sizes, &thumbnails);
  for (const auto& t : thumbnails) sizes.emplace(t, 0);  // present already in a valid manifest
  std::vector<BlobRef> out;
  out.reserve(sizes.size());
  for (const auto& [hash, size] : sizes) out.push_back({hash, size});
  return out;
}

uint64_t Manifest::TotalBytes() const {
  uint64_t total = 0;
  for (const auto& b : Blobs()) total += b.size;
  return total;
}

Status CheckManifestDraft(const VersionDraft& draft, uint64_t version) {
  return DraftChecker(draft).Check(version);
}

std::string EncodeManifest(const VersionDraft& draft, uint64_t version) {
  wire::Writer w;
  w.Raw(kManifestMagic);
  w.U16(draft.labels.empty() ? kManifestFormat : kManifestFormatWithLabels);
  w.String(draft.channel_id);
  w.U64(version);
  for (auto field : kChannelMetaFields) w.String(draft.meta.*field);
  w.OptionalHash(draft.thumbnail);
  WriteNode(&w, draft.root);
  if (!draft.labels.empty()) WriteLabels(&w, draft.labels);
  return w.Take();
}

Result<Manifest> DecodeManifest(std::string_view bytes) {
  if (bytes.size() > kMaxManifestBytes) {
    return Corrupt("manifest is " + std::to_string(bytes.size()) + " bytes, more than the " +
                   std::to_string(kMaxManifestBytes) + " allowed");
  }
  if (!InitCrypto()) return Internal("libsodium could not initialise");
  Manifest m;
  wire::Reader r(bytes, "manifest");
  OUTPOST_RETURN_IF_ERROR(ReadManifest(&r, &m));
  Status rules = CheckManifestDraft(m.draft, m.version);
  if (!rules.ok()) return Corrupt(rules.message());
  m.hash = Hash::Of(bytes);
  return m;
}

// ---- signed manifests ----

std::string EncodeSignedManifest(const SignedManifest& envelope) {
  wire::Writer w;
  w.Raw(kSignedMagic);
  w.U16(kSignedManifestFormat);
  w.String(envelope.manifest);
  w.Raw(envelope.publisher.bytes);
  w.Raw(envelope.signature);
  return w.Take();
}

Result<std::string> SignManifest(const VersionDraft& draft, uint64_t version,
                                 const Identity& publisher) {
  OUTPOST_RETURN_IF_ERROR(CheckManifestDraft(draft, version));
  SignedManifest envelope;
  envelope.manifest = EncodeManifest(draft, version);
  envelope.publisher = publisher.public_key();
  envelope.signature = publisher.Sign(SigningMessage(Hash::Of(envelope.manifest)));
  return EncodeSignedManifest(envelope);
}

Result<SignedManifest> ParseSignedManifest(std::string_view bytes) {
  wire::Reader r(bytes, "signed manifest");
  OUTPOST_RETURN_IF_ERROR(r.Header(kSignedMagic, kSignedManifestFormat));
  size_t at = r.offset();
  uint32_t length = 0;
  OUTPOST_RETURN_IF_ERROR(r.U32(&length, "the manifest length"));
  if (length > kMaxManifestBytes) {
    return r.Bad(at, "it claims a manifest of " + std::to_string(length) +
                         " bytes, more than the " + std::to_string(kMaxManifestBytes) + " allowed");
  }
  SignedManifest envelope;
  std::string_view manifest;
  OUTPOST_RETURN_IF_ERROR(r.Raw(length, &manifest, "the manifest"));
  envelope.manifest.assign(manifest);
  OUTPOST_RETURN_IF_ERROR(r.Raw(envelope.publisher.bytes, "the publisher key"));
  OUTPOST_RETURN_IF_ERROR(r.Raw(envelope.signature, "the signature"));
  OUTPOST_RETURN_IF_ERROR(r.ExpectEnd());
  return envelope;
}

Result<Manifest> DecodeEnvelopeManifest(std::string_view envelope) {
  auto signed_manifest = ParseSignedManifest(envelope);
  if (!signed_manifest) return signed_manifest.error();
  return DecodeManifest(signed_manifest->manifest);
}

Result<Manifest> VerifySignedManifest(std::string_view bytes, const TrustList& trust) {
  if (!InitCrypto()) return Internal("libsodium could not initialise");
  auto envelope = ParseSignedManifest(bytes);
  if (!envelope) return envelope.error();
  const PublicKey& key = envelope->publisher;
  if (!VerifySignature(key, SigningMessage(Hash::Of(envelope->manifest)), envelope->signature)) {
    return Corrupt("signed manifest: the signature by key " + key.Fingerprint() +
                   "… does not verify; the manifest is damaged or forged");
  }
  auto m = DecodeManifest(envelope->manifest);
  if (!m) return m.error();
  const std::string what = "manifest for channel " + m->channel_id + " version " +
                           std::to_string(m->version) + " is signed by key " + key.Fingerprint() +
                           "…";
  const std::string list = " (trust list " + std::to_string(trust.sequence) + ")";
  const TrustEntry* entry = trust.Find(key);
  if (entry == nullptr) {
    return InvalidArgument(what + ", which the hub's root has not authorized for this channel" +
                           list);
  }
  if (entry->state == KeyState::kRevoked) {
    return InvalidArgument(what + ", which the hub's root has revoked" + list);
  }
  if (!trust.Authorizes(key, m->channel_id)) {
    std::string allowed;
    for (const auto& c : entry->channels) allowed += (allowed.empty() ? "" : ", ") + c;
    return InvalidArgument(what + ", which the hub's root has not authorized for this channel" +
                           " (only for " + (allowed.empty() ? "none" : allowed) + ")" + list);
  }
  return m;
}

Status CheckVersionIsNewer(const Manifest& incoming, uint64_t held_version) {
  if (incoming.version > held_version) return Status::Ok();
  const std::string in = std::to_string(incoming.version);
  const std::string held = std::to_string(held_version);
  if (incoming.version == held_version) {
    return InvalidArgument("channel " + incoming.channel_id + ": version " + in +
                           " is the version this site already holds");
  }
  return InvalidArgument("channel " + incoming.channel_id + ": refusing version " + in +
                         ", older than version " + held +
                         " which this site holds (versions only grow)");
}

}  // namespace outpost
