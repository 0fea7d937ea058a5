// Answering requests for chunks and patches: see answer.h.
#include "session/answer.h"

#include <spdlog/spdlog.h>

#include "outpost/base/file.h"
#include "protocol.h"
#include "zstd_codec.h"

namespace outpost::sync {

namespace {

Result<std::string> ReadChunk(BlobStore* store, Catalog* catalog, const Hash& hash) {
  auto where = catalog->FindChunk(hash);
  if (!where) return NotFound("no such chunk");
  auto data = ReadFileRange(store->PathOf(where->blob), where->offset, where->length);
  if (!data) return data.error();
  if (Hash::Of(*data) != hash) {
    return Corrupt("file " + where->blob.Hex() + " does not hold chunk " + hash.Hex() +
                   " any more (run `outpost verify`)");
  }
  return data;
}

// The other side asked for something not offered to it: an Error tells it so and ends the
// session. The log (the caller's) says how many, never which.
Status Refuse(SecureChannel* channel, const std::string& why) {
  (void)channel->Send(kError, EncodeError({5, why}));
  (void)channel->Flush();
  channel->link()->Linger();
  return InvalidArgument(why);
}

}  // namespace

Answerable::Answerable(const std::vector<OfferedVersion>& offered) {
  for (const OfferedVersion& v : offered) {
    for (const OfferedFile& f : v.files) {
      for (const ChunkRef& c : f.chunks) chunks_.insert(c.hash);
      if (f.previous) bases_.emplace(f.blob, *f.previous);
    }
  }
}

bool Answerable::Patch(const Hash& file, const Hash& previous) const {
  auto [begin, end] = bases_.equal_range(file);
  for (auto it = begin; it != end; ++it) {
    if (it->second == previous) return true;
  }
  return false;
}

Status AnswerChunks(BlobStore* store, Catalog* catalog, SecureChannel* channel,
                    std::string_view body, const Answerable& may, const SessionLimits& limits,
                    const std::function<bool()>& stop) {
  auto hashes = DecodeHashes(body, limits.max_request_chunks);
  if (!hashes) return hashes.error();
  size_t refused = 0;
  for (const Hash& hash : *hashes) refused += may.Chunk(hash) ? 0 : 1;
  if (refused > 0) {
    return Refuse(channel, "asked for " + std::to_string(refused) + " of " +
                               std::to_string(hashes->size()) +
                               " chunks that were not offered in this session");
  }
  for (const Hash& hash : *hashes) {
    if (stop && stop()) {
      OUTPOST_RETURN_IF_ERROR(channel->Flush());
      return Status(StatusCode::kBusy, "the byte budget is spent");
    }
    auto data = ReadChunk(store, catalog, hash);
    if (!data) {
      if (data.error().code() != StatusCode::kNotFound) {
        spdlog::error("sync: {}", data.error().message());
      }
      OUTPOST_RETURN_IF_ERROR(channel->Send(kMissing, EncodeHashes({hash})));
      continue;
    }
    ChunkData chunk;
    chunk.hash = hash;
    chunk.length = static_cast<uint32_t>(data->size());
    chunk.compressed = ZstdCompress(*data, limits.zstd_level, {});
    OUTPOST_RETURN_IF_ERROR(channel->Send(kChunk, EncodeChunk(chunk)));
  }
  return channel->Flush();
}

Status AnswerPatch(BlobStore* store, SecureChannel* channel, std::string_view body,
                   const Answerable& may, const SessionLimits& limits) {
  auto request = DecodeGetPatch(body);
  if (!request) return request.error();
  auto [blob, previous] = *request;
  if (!may.Patch(blob, previous)) {
    return Refuse(channel, "asked for a patch of a file against a base that were not offered "
                           "in this session");
  }
  PatchData patch;
  patch.blob = blob;
  patch.previous = previous;
  // A file over kMaxPatchInput is refused by the read, and answered as missing like before.
  auto fresh = ReadWholeFile(store->PathOf(blob), kMaxPatchInput);
  auto old = ReadWholeFile(store->PathOf(previous), kMaxPatchInput);
  if (!fresh) {
    OUTPOST_RETURN_IF_ERROR(channel->Send(kMissing, EncodeHashes({blob})));
    return channel->Flush();
  }
  patch.size = fresh->size();
  // Level 19 is worth its cost on the small files a site asks patches for; on a file up to
  // kMaxPatchInput it would cost minutes of CPU per request, so a larger one costs a chunk's.
  int level = patch.size <= kMaxPatchedFile ? 19 : limits.zstd_level;
  std::string whole = ZstdCompress(*fresh, level, {});
  std::string delta = old ? ZstdCompress(*fresh, level, *old) : std::string();
  if (old && delta.size() < whole.size()) {
    patch.kind = 1;
    patch.compressed = std::move(delta);
  } else {
    patch.kind = 2;
    patch.compressed = std::move(whole);
  }
  OUTPOST_RETURN_IF_ERROR(channel->Send(kPatch, EncodePatch(patch)));
  return channel->Flush();
}

}  // namespace outpost::sync
