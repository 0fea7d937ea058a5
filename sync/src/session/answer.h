// The holder's half of a fetch: answering one GetChunks or one GetPatch over a SecureChannel
// (docs/sync-protocol.md, "Requests and answers"). The hub answers a site's requests; a site
// answers its hub's when its own channels go up. Only for what the other side may have: the
// files of the versions offered to it in this session (Answerable).
//
// Thread-safety: the session's thread.
#pragma once

#include <functional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "outpost/base/status.h"
#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/session.h"
#include "protocol.h"
#include "session/secure_channel.h"

namespace outpost::sync {

// What one peer may ask for in one session: the chunks of the files offered to it, those files
// as patches, and as a patch's base only the file the offer names for it (the file at the same
// path in the version the peer says it serves of a channel offered to it). Anything else (a
// chunk of another school's upload, of a channel not offered, any file as a dictionary) is
// refused before a byte of it is read. Made once per session from the offer: a set entry (about
// 80 bytes) per chunk offered, so never more than the offer itself holds.
class Answerable {
 public:
  explicit Answerable(const std::vector<OfferedVersion>& offered);
  bool Chunk(const Hash& chunk) const { return chunks_.count(chunk) != 0; }
  bool Patch(const Hash& file, const Hash& previous) const;

 private:
  std::unordered_set<Hash> chunks_;
  std::unordered_multimap<Hash, Hash> bases_;  // an offered file -> the base the offer names
};

// A Chunk or a Missing per hash asked for, in order, then a flush; an Error (code 5) and
// kInvalidArgument if one of them is not `may`'s, before any is read. If `stop` says so before a
// chunk, what is queued is flushed and the result is kBusy: the sender's byte budget is spent
// (it then sends an Error and lingers).
Status AnswerChunks(BlobStore* store, Catalog* catalog, SecureChannel* channel,
                    std::string_view body, const Answerable& may, const SessionLimits& limits,
                    const std::function<bool()>& stop = {});
// A Patch (against the previous file if that is smaller, else the whole file), or a Missing.
// At level 19 for a file up to kMaxPatchedFile (all a site asks a patch for), else at the
// session's level: a peer must not make the holder spend minutes on one request. Refused as
// AnswerChunks does unless `may` allows the file against that base.
Status AnswerPatch(BlobStore* store, SecureChannel* channel, std::string_view body,
                   const Answerable& may, const SessionLimits& limits);

}  // namespace outpost::sync
