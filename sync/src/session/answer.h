// The holder's half of a fetch: answering one GetChunks or one GetPatch over a SecureChannel
// (docs/sync-protocol.md, "Requests and answers"). The hub answers a site's requests; a site
// answers its hub's when its own channels go up.
//
// Thread-safety: the session's thread.
#pragma once

#include <functional>
#include <string_view>

#include "outpost/base/status.h"
#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/session.h"
#include "session/secure_channel.h"

namespace outpost::sync {

// A Chunk or a Missing per hash asked for, in order, then a flush. If `stop` says so before a
// chunk, what is queued is flushed and the result is kBusy: the sender's byte budget is spent
// (it then sends an Error and lingers).
Status AnswerChunks(BlobStore* store, Catalog* catalog, SecureChannel* channel,
                    std::string_view body, const SessionLimits& limits,
                    const std::function<bool()>& stop = {});
// A Patch (against the previous file if that is smaller, else the whole file), or a Missing.
// At level 19 for a file up to kMaxPatchedFile (all a site asks a patch for), else at the
// session's level: a peer must not make the holder spend minutes on one request.
Status AnswerPatch(BlobStore* store, SecureChannel* channel, std::string_view body,
                   const SessionLimits& limits);

}  // namespace outpost::sync
