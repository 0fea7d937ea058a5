// Encodings of protocol.h's messages, with wire.h's writer and checked reader.
#include "protocol.h"

#include "wire.h"

namespace outpost::sync {

namespace {

constexpr size_t kMaxString = 1 << 20;
constexpr size_t kMaxBlob = 64u << 20;  // an envelope, a trust list, a compressed chunk

void Bytes(wire::Writer& w, std::string_view b) {
  w.U32(static_cast<uint32_t>(b.size()));
  w.Raw(b);
}

Status Bytes(wire::Reader& r, std::string* out, std::string_view what) {
  uint32_t n = 0;
  OUTPOST_RETURN_IF_ERROR(r.U32(&n, what));
  if (n > kMaxBlob) return r.Bad(r.offset(), std::string(what) + " is too large");
  std::string_view b;
  OUTPOST_RETURN_IF_ERROR(r.Raw(n, &b, what));
  out->assign(b);
  return Status::Ok();
}

// A count of at most `max` items that the remaining bytes could hold at `min_each` bytes per
// item (the least an item encodes to): checked before a decoder makes that many items.
Status Count(wire::Reader& r, uint32_t* n, size_t min_each, std::string_view what,
             uint32_t max = UINT32_MAX) {
  OUTPOST_RETURN_IF_ERROR(r.U32(n, what));
  if (*n > max) {
    return r.Bad(r.offset(), std::string(what) + " " + std::to_string(*n) +
                                 " is over the limit of " + std::to_string(max));
  }
  if (static_cast<uint64_t>(*n) * min_each > r.remaining()) {
    return r.Bad(r.offset(), std::string(what) + " " + std::to_string(*n) +
                                 " cannot fit in the bytes left");
  }
  return Status::Ok();
}

void Key(wire::Writer& w, const PublicKey& k) { w.Raw(k.bytes); }
Status Key(wire::Reader& r, PublicKey* k, std::string_view what) { return r.Raw(k->bytes, what); }

}  // namespace

std::string Tagged(uint8_t type, std::string_view body) {
  std::string out(1, static_cast<char>(type));
  out.append(body);
  return out;
}

Status CheckProtocolVersion(uint16_t theirs, std::string_view sender, std::string_view receiver) {
  if (theirs >= kMinProtocolVersion && theirs <= kProtocolVersion) return Status::Ok();
  return InvalidArgument(std::string(sender) + " speaks sync protocol version " +
                         std::to_string(theirs) + "; " + std::string(receiver) +
                         " speaks versions " + std::to_string(kMinProtocolVersion) + " to " +
                         std::to_string(kProtocolVersion) + " only: update the older of the two");
}

Result<uint16_t> HelloVersion(std::string_view body) {
  wire::Reader r(body, "hello");
  uint16_t version = 0;
  OUTPOST_RETURN_IF_ERROR(r.U16(&version, "protocol"));
  return version;
}

std::string EncodeHello(const Hello& m) {
  wire::Writer w;
  w.U16(m.protocol);
  Key(w, m.node_key);
  w.U64(m.trust_sequence);
  w.U32(static_cast<uint32_t>(m.held.size()));
  for (const auto& h : m.held) {
    w.String(h.channel_id);
    w.U64(h.served);
    w.U64(h.staged);
  }
  w.U64(m.counter);
  return w.Take();
}

Result<Hello> DecodeHello(std::string_view b) {
  wire::Reader r(b, "hello");
  Hello m;
  OUTPOST_RETURN_IF_ERROR(r.U16(&m.protocol, "protocol"));
  OUTPOST_RETURN_IF_ERROR(Key(r, &m.node_key, "node key"));
  OUTPOST_RETURN_IF_ERROR(r.U64(&m.trust_sequence, "trust sequence"));
  uint32_t n = 0;
  OUTPOST_RETURN_IF_ERROR(Count(r, &n, 20, "channel count", kMaxOfferedChannels));
  m.held.resize(n);
  for (auto& h : m.held) {
    OUTPOST_RETURN_IF_ERROR(r.String(&h.channel_id, 256, "channel id"));
    OUTPOST_RETURN_IF_ERROR(r.U64(&h.served, "served version"));
    OUTPOST_RETURN_IF_ERROR(r.U64(&h.staged, "staged version"));
  }
  OUTPOST_RETURN_IF_ERROR(r.U64(&m.counter, "counter"));
  OUTPOST_RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

std::string EncodeError(const ErrorMessage& m) {
  wire::Writer w;
  w.U16(m.code);
  w.String(m.message);
  return w.Take();
}

Result<ErrorMessage> DecodeError(std::string_view b) {
  wire::Reader r(b, "error");
  ErrorMessage m;
  OUTPOST_RETURN_IF_ERROR(r.U16(&m.code, "code"));
  OUTPOST_RETURN_IF_ERROR(r.String(&m.message, kMaxString, "message"));
  OUTPOST_RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

std::string EncodeOffer(const Offer& m) {
  wire::Writer w;
  Bytes(w, m.trust_list);
  w.U32(static_cast<uint32_t>(m.versions.size()));
  for (const auto& v : m.versions) {
    w.String(v.channel_id);
    w.U8(v.packing);
    w.U64(v.base_version);
    w.U64(v.envelope_size);
    Bytes(w, v.packed);
    w.U32(static_cast<uint32_t>(v.files.size()));
    for (const auto& f : v.files) {
      w.Raw(f.blob.bytes);
      w.U64(f.size);
      w.OptionalHash(f.previous);
      w.U32(static_cast<uint32_t>(f.chunks.size()));
      for (const auto& c : f.chunks) {
        w.Raw(c.hash.bytes);
        w.U32(c.length);
      }
    }
  }
  w.U8(m.uploads ? 1 : 0);
  w.U32(static_cast<uint32_t>(m.yours.size()));
  for (const auto& h : m.yours) {
    w.String(h.channel_id);
    w.U64(h.served);
  }
  return w.Take();
}

std::string EncodeReceipt(const std::vector<ReceiptEntry>& m) {
  wire::Writer w;
  w.U32(static_cast<uint32_t>(m.size()));
  for (const auto& e : m) {
    w.String(e.channel_id);
    w.U64(e.version);
    w.U8(static_cast<uint8_t>(e.state));
    w.String(e.message);
  }
  return w.Take();
}

Result<std::vector<ReceiptEntry>> DecodeReceipt(std::string_view b) {
  wire::Reader r(b, "receipt");
  uint32_t count = 0;
  OUTPOST_RETURN_IF_ERROR(Count(r, &count, 17, "entry count", kMaxOfferedChannels));
  std::vector<ReceiptEntry> m(count);
  for (auto& e : m) {
    OUTPOST_RETURN_IF_ERROR(r.String(&e.channel_id, 256, "channel id"));
    OUTPOST_RETURN_IF_ERROR(r.U64(&e.version, "version"));
    uint8_t state = 0;
    OUTPOST_RETURN_IF_ERROR(r.U8(&state, "state"));
    if (state < 1 || state > 3) return r.Bad(r.offset(), "unknown receipt state");
    e.state = static_cast<ReceiptState>(state);
    OUTPOST_RETURN_IF_ERROR(r.String(&e.message, 4096, "message"));
  }
  OUTPOST_RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

namespace {

Status DecodeOfferedFile(wire::Reader& r, OfferedFile* f) {
  OUTPOST_RETURN_IF_ERROR(r.HashValue(&f->blob, "file hash"));
  OUTPOST_RETURN_IF_ERROR(r.U64(&f->size, "file size"));
  OUTPOST_RETURN_IF_ERROR(r.OptionalHash(&f->previous, "previous file"));
  uint32_t chunks = 0;
  OUTPOST_RETURN_IF_ERROR(Count(r, &chunks, 36, "chunk count"));
  f->chunks.resize(chunks);
  uint64_t total = 0;
  for (auto& c : f->chunks) {
    OUTPOST_RETURN_IF_ERROR(r.HashValue(&c.hash, "chunk hash"));
    OUTPOST_RETURN_IF_ERROR(r.U32(&c.length, "chunk length"));
    if (c.length > kMaxChunkLength) return r.Bad(r.offset(), "chunk longer than a chunk can be");
    total += c.length;
  }
  if (total != f->size) {
    return r.Bad(r.offset(), "the chunks of file " + f->blob.Hex() + " add up to " +
                                 std::to_string(total) + " bytes, not " + std::to_string(f->size));
  }
  return Status::Ok();
}

// The least a version encodes to: an empty id (4), packing (1), base version (8), size (8), an
// empty envelope (4), no files (4).
constexpr size_t kMinOfferedVersion = 29;

Status DecodeOfferedVersion(wire::Reader& r, OfferedVersion* v) {
  OUTPOST_RETURN_IF_ERROR(r.String(&v->channel_id, 256, "channel id"));
  OUTPOST_RETURN_IF_ERROR(r.U8(&v->packing, "manifest packing"));
  if (v->packing > kZstdAgainstBase) return r.Bad(r.offset(), "unknown manifest packing");
  OUTPOST_RETURN_IF_ERROR(r.U64(&v->base_version, "base version"));
  OUTPOST_RETURN_IF_ERROR(r.U64(&v->envelope_size, "manifest size"));
  if (v->envelope_size > kMaxEnvelope) return r.Bad(r.offset(), "manifest too large");
  OUTPOST_RETURN_IF_ERROR(Bytes(r, &v->packed, "signed manifest"));
  uint32_t files = 0;
  OUTPOST_RETURN_IF_ERROR(Count(r, &files, 45, "file count"));
  v->files.resize(files);
  for (auto& f : v->files) OUTPOST_RETURN_IF_ERROR(DecodeOfferedFile(r, &f));
  return Status::Ok();
}

}  // namespace

Result<Offer> DecodeOffer(std::string_view b) {
  wire::Reader r(b, "offer");
  Offer m;
  OUTPOST_RETURN_IF_ERROR(Bytes(r, &m.trust_list, "trust list"));
  uint32_t versions = 0;
  OUTPOST_RETURN_IF_ERROR(
      Count(r, &versions, kMinOfferedVersion, "version count", kMaxOfferedChannels));
  m.versions.resize(versions);
  for (auto& v : m.versions) OUTPOST_RETURN_IF_ERROR(DecodeOfferedVersion(r, &v));
  uint8_t uploads = 0;
  OUTPOST_RETURN_IF_ERROR(r.U8(&uploads, "uploads flag"));
  if (uploads > 1) return r.Bad(r.offset(), "the uploads flag is not 0 or 1");
  m.uploads = uploads == 1;
  uint32_t yours = 0;
  OUTPOST_RETURN_IF_ERROR(
      Count(r, &yours, 12, "count of the site's channels", kMaxOfferedChannels));
  m.yours.resize(yours);
  for (auto& h : m.yours) {
    OUTPOST_RETURN_IF_ERROR(r.String(&h.channel_id, 256, "channel id"));
    OUTPOST_RETURN_IF_ERROR(r.U64(&h.served, "version"));
  }
  OUTPOST_RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

std::string EncodeAccept(const Accept& m) {
  wire::Writer w;
  w.U16(m.protocol);
  w.U32(m.max_request_chunks);
  return w.Take();
}

Result<Accept> DecodeAccept(std::string_view b) {
  wire::Reader r(b, "accept");
  Accept m;
  OUTPOST_RETURN_IF_ERROR(r.U16(&m.protocol, "protocol"));
  OUTPOST_RETURN_IF_ERROR(r.U32(&m.max_request_chunks, "request limit"));
  OUTPOST_RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

std::string EncodeHashes(const std::vector<Hash>& hashes) {
  wire::Writer w;
  w.U32(static_cast<uint32_t>(hashes.size()));
  for (const auto& h : hashes) w.Raw(h.bytes);
  return w.Take();
}

Result<std::vector<Hash>> DecodeHashes(std::string_view b, size_t max) {
  wire::Reader r(b, "hash list");
  uint32_t n = 0;
  OUTPOST_RETURN_IF_ERROR(Count(r, &n, 32, "hash count"));
  if (n > max) return r.Bad(0, std::to_string(n) + " hashes, over the limit of " + std::to_string(max));
  std::vector<Hash> out(n);
  for (auto& h : out) OUTPOST_RETURN_IF_ERROR(r.HashValue(&h, "hash"));
  OUTPOST_RETURN_IF_ERROR(r.ExpectEnd());
  return out;
}

std::string EncodeChunk(const ChunkData& m) {
  wire::Writer w;
  w.Raw(m.hash.bytes);
  w.U32(m.length);
  w.Raw(m.compressed);
  return w.Take();
}

Result<ChunkData> DecodeChunk(std::string_view b) {
  wire::Reader r(b, "chunk");
  ChunkData m;
  OUTPOST_RETURN_IF_ERROR(r.HashValue(&m.hash, "chunk hash"));
  OUTPOST_RETURN_IF_ERROR(r.U32(&m.length, "chunk length"));
  std::string_view rest;
  OUTPOST_RETURN_IF_ERROR(r.Raw(r.remaining(), &rest, "chunk data"));
  m.compressed.assign(rest);
  return m;
}

std::string EncodeGetPatch(const Hash& blob, const Hash& previous) {
  wire::Writer w;
  w.Raw(blob.bytes);
  w.Raw(previous.bytes);
  return w.Take();
}

Result<std::pair<Hash, Hash>> DecodeGetPatch(std::string_view b) {
  wire::Reader r(b, "patch request");
  std::pair<Hash, Hash> m;
  OUTPOST_RETURN_IF_ERROR(r.HashValue(&m.first, "file hash"));
  OUTPOST_RETURN_IF_ERROR(r.HashValue(&m.second, "previous file hash"));
  OUTPOST_RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

std::string EncodePatch(const PatchData& m) {
  wire::Writer w;
  w.Raw(m.blob.bytes);
  w.Raw(m.previous.bytes);
  w.U8(m.kind);
  w.U64(m.size);
  w.Raw(m.compressed);
  return w.Take();
}

Result<PatchData> DecodePatch(std::string_view b) {
  wire::Reader r(b, "patch");
  PatchData m;
  OUTPOST_RETURN_IF_ERROR(r.HashValue(&m.blob, "file hash"));
  OUTPOST_RETURN_IF_ERROR(r.HashValue(&m.previous, "previous file hash"));
  OUTPOST_RETURN_IF_ERROR(r.U8(&m.kind, "patch kind"));
  if (m.kind != 1 && m.kind != 2) return r.Bad(64, "unknown patch kind " + std::to_string(m.kind));
  OUTPOST_RETURN_IF_ERROR(r.U64(&m.size, "file size"));
  std::string_view rest;
  OUTPOST_RETURN_IF_ERROR(r.Raw(r.remaining(), &rest, "patch data"));
  m.compressed.assign(rest);
  return m;
}

namespace {

// The least an outcome encodes to: id (8), four empty strings (16), hash (32), state (1),
// decided_at (8), an empty reason (4)... : 8 + 4 + 4 + 32 + 1 + 8 + 4 + 4 + 4 + 8.
constexpr size_t kMinOutcome = 77;

Status DecodeOutcome(wire::Reader& r, ReviewOutcome* o) {
  uint64_t id = 0, decided_at = 0, version = 0;
  uint8_t state = 0;
  OUTPOST_RETURN_IF_ERROR(r.U64(&id, "item id"));
  OUTPOST_RETURN_IF_ERROR(r.String(&o->channel_id, 256, "channel id"));
  OUTPOST_RETURN_IF_ERROR(r.String(&o->path, 4096, "path"));
  OUTPOST_RETURN_IF_ERROR(r.HashValue(&o->blob, "file hash"));
  OUTPOST_RETURN_IF_ERROR(r.U8(&state, "state"));
  if (state != 1 && state != 2) return r.Bad(r.offset(), "an outcome's state is not 1 or 2");
  OUTPOST_RETURN_IF_ERROR(r.U64(&decided_at, "decided_at"));
  OUTPOST_RETURN_IF_ERROR(r.String(&o->reason, kMaxReviewReason, "reason"));
  OUTPOST_RETURN_IF_ERROR(r.String(&o->adopted_channel, 256, "adopted channel"));
  OUTPOST_RETURN_IF_ERROR(r.String(&o->adopted_topic, 4096, "adopted topic"));
  OUTPOST_RETURN_IF_ERROR(r.U64(&version, "adopted version"));
  if (id > INT64_MAX || decided_at > INT64_MAX || version > INT64_MAX) {
    return r.Bad(r.offset(), "an outcome's number is over 2^63 - 1");
  }
  o->id = static_cast<int64_t>(id);
  o->state = state == 1 ? ReviewState::kAdopted : ReviewState::kDeclined;
  o->decided_at = static_cast<int64_t>(decided_at);
  o->adopted_version = static_cast<int64_t>(version);
  return Status::Ok();
}

}  // namespace

std::string EncodeOutcomes(const std::vector<ReviewOutcome>& m) {
  wire::Writer w;
  w.U32(static_cast<uint32_t>(m.size()));
  for (const auto& o : m) {
    w.U64(static_cast<uint64_t>(o.id));
    w.String(o.channel_id);
    w.String(o.path);
    w.Raw(o.blob.bytes);
    w.U8(o.state == ReviewState::kAdopted ? 1 : 2);
    w.U64(static_cast<uint64_t>(o.decided_at));
    w.String(o.reason);
    w.String(o.adopted_channel);
    w.String(o.adopted_topic);
    w.U64(static_cast<uint64_t>(o.adopted_version));
  }
  return w.Take();
}

Result<std::vector<ReviewOutcome>> DecodeOutcomes(std::string_view b) {
  wire::Reader r(b, "outcomes");
  uint32_t n = 0;
  OUTPOST_RETURN_IF_ERROR(Count(r, &n, kMinOutcome, "outcome count",
                                static_cast<uint32_t>(kMaxOutcomesPerMessage)));
  std::vector<ReviewOutcome> out(n);
  for (auto& o : out) OUTPOST_RETURN_IF_ERROR(DecodeOutcome(r, &o));
  OUTPOST_RETURN_IF_ERROR(r.ExpectEnd());
  return out;
}

std::string EncodeHubInfo(const PublicKey& hub_key) {
  wire::Writer w;
  w.U16(kEnrolProtocolVersion);
  Key(w, hub_key);
  return w.Take();
}

Result<PublicKey> DecodeHubInfo(std::string_view b) {
  wire::Reader r(b, "hub info");
  uint16_t protocol = 0;
  OUTPOST_RETURN_IF_ERROR(r.U16(&protocol, "protocol"));
  OUTPOST_RETURN_IF_ERROR(CheckProtocolVersion(protocol, "the node that answered", "this site"));
  PublicKey key;
  OUTPOST_RETURN_IF_ERROR(Key(r, &key, "hub key"));
  OUTPOST_RETURN_IF_ERROR(r.ExpectEnd());
  return key;
}

std::string EncodeEnrol(const EnrolRequest& m) {
  wire::Writer w;
  Key(w, m.node_key);
  w.String(m.code);
  w.String(m.name_hint);
  return w.Take();
}

Result<EnrolRequest> DecodeEnrol(std::string_view b) {
  wire::Reader r(b, "enrolment");
  EnrolRequest m;
  OUTPOST_RETURN_IF_ERROR(Key(r, &m.node_key, "node key"));
  OUTPOST_RETURN_IF_ERROR(r.String(&m.code, 256, "code"));
  OUTPOST_RETURN_IF_ERROR(r.String(&m.name_hint, 256, "name"));
  OUTPOST_RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

std::string EncodeEnrolled(const Enrolled& m) {
  wire::Writer w;
  w.String(m.site_name);
  Key(w, m.hub_key);
  Key(w, m.root_key);
  Bytes(w, m.trust_list);
  return w.Take();
}

Result<Enrolled> DecodeEnrolled(std::string_view b) {
  wire::Reader r(b, "enrolment answer");
  Enrolled m;
  OUTPOST_RETURN_IF_ERROR(r.String(&m.site_name, 256, "site name"));
  OUTPOST_RETURN_IF_ERROR(Key(r, &m.hub_key, "hub key"));
  OUTPOST_RETURN_IF_ERROR(Key(r, &m.root_key, "root key"));
  OUTPOST_RETURN_IF_ERROR(Bytes(r, &m.trust_list, "trust list"));
  OUTPOST_RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

}  // namespace outpost::sync
