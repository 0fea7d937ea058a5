// The bundle's own record bodies and volume names (see bundle_records.h).
#include "bundle/bundle_records.h"

#include <algorithm>

namespace outpost::sync {

std::string AddressedRecord(const PublicKey& to, std::string_view body) {
  return std::string(reinterpret_cast<const char*>(to.bytes.data()), to.bytes.size()) + std::string(body);
}

std::optional<Addressed> ReadAddressed(std::string_view record) {
  if (record.size() < PublicKey::kSize) return std::nullopt;
  Addressed out;
  std::copy_n(record.data(), PublicKey::kSize, out.to.bytes.begin());
  out.body = record.substr(PublicKey::kSize);
  return out;
}

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

std::string EncodeBasisRecord(const std::map<std::string, SentBase>& bases) {
  wire::Writer w;
  w.U32(static_cast<uint32_t>(bases.size()));
  for (const auto& [id, base] : bases) {
    w.String(id);
    w.U64(base.version);
    w.Raw(base.bundle_id);
    w.U64(base.written_at);
  }
  return w.Take();
}

Result<std::map<std::string, SentBase>> DecodeBasisRecord(std::string_view body) {
  wire::Reader r(body, "basis record");
  uint32_t count = 0;
  OUTPOST_RETURN_IF_ERROR(r.U32(&count, "count"));
  // Each entry is at least 4 + 8 + 16 + 8 bytes: no count beyond the bytes is believed.
  if (static_cast<uint64_t>(count) * 36 > r.remaining()) return r.Bad(0, "too many channels for the bytes");
  std::map<std::string, SentBase> out;
  for (uint32_t i = 0; i < count; ++i) {
    std::string id;
    SentBase base;
    OUTPOST_RETURN_IF_ERROR(r.String(&id, 256, "channel id"));
    OUTPOST_RETURN_IF_ERROR(r.U64(&base.version, "base version"));
    OUTPOST_RETURN_IF_ERROR(r.Raw(base.bundle_id, "bundle id"));
    OUTPOST_RETURN_IF_ERROR(r.U64(&base.written_at, "written at"));
    out[id] = base;
  }
  OUTPOST_RETURN_IF_ERROR(r.ExpectEnd());
  return out;
}

std::string EncodeSeenRecord(const SeenBundle& seen) {
  wire::Writer w;
  w.Raw(seen.bundle_id);
  w.U64(seen.written_at);
  return w.Take();
}

Result<SeenBundle> DecodeSeenRecord(std::string_view body) {
  wire::Reader r(body, "seen record");
  SeenBundle seen;
  OUTPOST_RETURN_IF_ERROR(r.Raw(seen.bundle_id, "bundle id"));
  OUTPOST_RETURN_IF_ERROR(r.U64(&seen.written_at, "written at"));
  OUTPOST_RETURN_IF_ERROR(r.ExpectEnd());
  return seen;
}

void AppendBundledChunk(wire::Writer* w, const Hash& hash, std::string_view data,
                        std::optional<std::string_view> zstd) {
  w->Raw(hash.bytes);
  w->U32(static_cast<uint32_t>(data.size()));
  w->U8(zstd ? 1 : 0);
  std::string_view bytes = zstd ? *zstd : data;
  w->U32(static_cast<uint32_t>(bytes.size()));
  w->Raw(bytes);
}

namespace {

Status DecodeBundledChunk(wire::Reader* r, BundledChunk* c) {
  OUTPOST_RETURN_IF_ERROR(r->HashValue(&c->hash, "chunk hash"));
  OUTPOST_RETURN_IF_ERROR(r->U32(&c->length, "chunk length"));
  uint8_t packing = 0;
  OUTPOST_RETURN_IF_ERROR(r->U8(&packing, "chunk packing"));
  if (packing > 1) return r->Bad(r->offset(), "unknown chunk packing");
  uint32_t packed = 0;
  OUTPOST_RETURN_IF_ERROR(r->U32(&packed, "packed length"));
  if (packing == 0 && packed != c->length) return r->Bad(r->offset(), "a stored chunk's lengths differ");
  std::string_view bytes;
  OUTPOST_RETURN_IF_ERROR(r->Raw(packed, &bytes, "packed chunk"));
  c->compressed.assign(bytes);
  c->stored = packing == 0;
  return Status::Ok();
}

}  // namespace

Result<std::vector<BundledChunk>> DecodeChunkBatch(std::string_view body) {
  wire::Reader r(body, "chunk batch");
  uint32_t count = 0;
  OUTPOST_RETURN_IF_ERROR(r.U32(&count, "chunk count"));
  if (static_cast<uint64_t>(count) * 41 > r.remaining()) return r.Bad(0, "too many chunks for the bytes");
  std::vector<BundledChunk> out(count);
  for (auto& c : out) OUTPOST_RETURN_IF_ERROR(DecodeBundledChunk(&r, &c));
  OUTPOST_RETURN_IF_ERROR(r.ExpectEnd());
  return out;
}

std::string VolumeFileName(const BundleId& id, uint32_t volume) {
  return "outpost-" + BundleIdHex(id).substr(0, 8) + "-" + std::to_string(volume) + ".opb";
}

bool IsVolumeFileName(const std::filesystem::path& name) {
  std::string s = name.filename().string();
  return name.extension() == ".opb" && !s.empty() && s[0] != '.';
}

}  // namespace outpost::sync
