// The state of a bundle export that stopped on a full drive (see export_state.h).
#include "bundle/export_state.h"

#include <algorithm>
#include <system_error>

#include "outpost/base/file.h"
#include "wire.h"

namespace outpost::sync {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "OPBS";
constexpr size_t kMaxRecipientName = 256;

Status ReadRecipients(wire::Reader* r, ExportState* state) {
  uint16_t count = 0;
  OUTPOST_RETURN_IF_ERROR(r->U16(&count, "recipient count"));
  if (count == 0 || count > kMaxVolumeRecipients) {
    return r->Bad(r->offset() - 2, std::to_string(count) + " recipients");
  }
  for (uint16_t i = 0; i < count; ++i) {
    PublicKey key;
    std::string name;
    OUTPOST_RETURN_IF_ERROR(r->Raw(key.bytes, "recipient key"));
    OUTPOST_RETURN_IF_ERROR(r->String(&name, kMaxRecipientName, "recipient name"));
    state->recipients.emplace_back(key, std::move(name));
  }
  return Status::Ok();
}

Status ReadPieces(wire::Reader* r, ExportState* state) {
  uint32_t count = 0;
  OUTPOST_RETURN_IF_ERROR(r->U32(&count, "chunk count"));
  if (uint64_t{count} * Hash::kSize > r->remaining()) {
    return r->Bad(r->offset() - 4, "too many chunks for the bytes");
  }
  for (uint32_t i = 0; i < count; ++i) {
    Hash h;
    OUTPOST_RETURN_IF_ERROR(r->HashValue(&h, "chunk hash"));
    state->chunks.insert(h);
  }
  OUTPOST_RETURN_IF_ERROR(r->U32(&count, "patch count"));
  if (uint64_t{count} * 2 * Hash::kSize > r->remaining()) {
    return r->Bad(r->offset() - 4, "too many patches for the bytes");
  }
  for (uint32_t i = 0; i < count; ++i) {
    Hash file, previous;
    OUTPOST_RETURN_IF_ERROR(r->HashValue(&file, "patched file"));
    OUTPOST_RETURN_IF_ERROR(r->HashValue(&previous, "previous file"));
    state->patches.insert({file, previous});
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeExportState(const ExportState& state) {
  wire::Writer w;
  w.Raw(kMagic);
  w.U16(kExportStateFormat);
  w.Raw(state.bundle_id);
  w.U64(state.created_at);
  w.U8(state.full ? 1 : 0);
  w.U32(state.next_volume);
  w.U64(state.bytes_written);
  w.U16(static_cast<uint16_t>(state.recipients.size()));
  for (const auto& [key, name] : state.recipients) {
    w.Raw(key.bytes);
    w.String(name);
  }
  w.U32(static_cast<uint32_t>(state.chunks.size()));
  for (const Hash& h : state.chunks) w.Raw(h.bytes);
  w.U32(static_cast<uint32_t>(state.patches.size()));
  for (const auto& [file, previous] : state.patches) {
    w.Raw(file.bytes);
    w.Raw(previous.bytes);
  }
  Hash sum = Hash::Of(w.bytes());
  w.Raw(sum.bytes);
  return w.Take();
}

Result<ExportState> DecodeExportState(std::string_view bytes) {
  // The checksum first: a damaged file is reported as damaged, not by the first field it breaks.
  if (bytes.size() < kMagic.size() + 2 + Hash::kSize) {
    return Corrupt("export state is truncated: " + std::to_string(bytes.size()) + " bytes");
  }
  std::string_view content = bytes.substr(0, bytes.size() - Hash::kSize);
  Hash sum;
  std::copy_n(bytes.data() + content.size(), Hash::kSize, sum.bytes.begin());
  wire::Reader r(content, "export state");
  OUTPOST_RETURN_IF_ERROR(r.Header(kMagic, kExportStateFormat));
  if (Hash::Of(content) != sum) return Corrupt("export state: its checksum does not match its content");
  ExportState state;
  bool full = false;
  OUTPOST_RETURN_IF_ERROR(r.Raw(state.bundle_id, "bundle id"));
  OUTPOST_RETURN_IF_ERROR(r.U64(&state.created_at, "created_at"));
  OUTPOST_RETURN_IF_ERROR(r.Bool(&full, "full"));
  state.full = full;
  OUTPOST_RETURN_IF_ERROR(r.U32(&state.next_volume, "next volume"));
  OUTPOST_RETURN_IF_ERROR(r.U64(&state.bytes_written, "bytes written"));
  OUTPOST_RETURN_IF_ERROR(ReadRecipients(&r, &state));
  OUTPOST_RETURN_IF_ERROR(ReadPieces(&r, &state));
  OUTPOST_RETURN_IF_ERROR(r.ExpectEnd());
  return state;
}

fs::path ExportsDir(const NodePaths& paths) { return paths.sync_dir / "exports"; }

fs::path ExportStatePath(const NodePaths& paths, const BundleId& id) {
  return ExportsDir(paths) / (BundleIdHex(id) + ".state");
}

Status SaveExportState(Env* env, const NodePaths& paths, const ExportState& state) {
  OUTPOST_RETURN_IF_ERROR(env->CreateDirs(ExportsDir(paths)));
  return WriteFileAtomically(env, ExportStatePath(paths, state.bundle_id), EncodeExportState(state));
}

Status RemoveExportState(Env* env, const NodePaths& paths, const BundleId& id) {
  std::error_code ec;
  if (!fs::exists(ExportStatePath(paths, id), ec)) return Status::Ok();
  OUTPOST_RETURN_IF_ERROR(env->Remove(ExportStatePath(paths, id)));
  return env->SyncDir(ExportsDir(paths));
}

std::vector<ExportStateFile> ListExportStates(const NodePaths& paths) {
  std::vector<ExportStateFile> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(ExportsDir(paths), ec)) {
    if (entry.path().extension() != ".state" || !entry.is_regular_file(ec)) continue;
    ExportStateFile f;
    f.path = entry.path();
    f.id_hex = entry.path().stem().string();
    auto bytes = ReadWholeFile(f.path, kMaxExportStateBytes);
    f.state = bytes ? DecodeExportState(*bytes) : Result<ExportState>(bytes.error());
    if (f.state && BundleIdHex(f.state->bundle_id) != f.id_hex) {
      f.state = Corrupt("it holds the state of bundle " + BundleIdHex(f.state->bundle_id) + ", not of " + f.id_hex);
    }
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return out;
}

}  // namespace outpost::sync
