// SyncServer: the hub's side of the sync session (session.h), and a relaying node's: answers
// sites' enrolments (Noise XX) and routine syncs (Noise IK, or XX from a relay's peer). A peer
// whose key is unknown or revoked is refused in the handshake's answer, before any content
// moves.
//
// Thread-safety: Serve() runs one thread per connection (max_handshakes plus max_sessions at most); Stop() may
// be called from any thread. ServeSession() may be called from several threads at once.
#pragma once

#include <memory>
#include <string>

#include "outpost/base/status.h"
#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/node.h"
#include "outpost/sync/session.h"
#include "outpost/sync/sync_db.h"

namespace outpost {

namespace sync {
class Link;  // sync/src/session/link.h: a connection, TCP or in memory
}

class SyncServer {
 public:
  // Everything must outlive the server.
  SyncServer(const NodePaths& paths, BlobStore* store, Catalog* catalog, SyncDb* db,
             SessionLimits limits = {});
  ~SyncServer();
  // "ADDR:PORT"; port 0 picks one (port()). Loads (or makes) this node's key.
  Status Bind(const std::string& listen);
  int port() const;
  // Accepts connections and serves each on its own thread until Stop(); then waits for the
  // sessions to end. Blocks.
  Status Serve();
  void Stop();

  // One session over a link already connected (Serve() calls it for each connection; tests
  // pass an in-memory link). Blocks until the session ends; Stop() closes the link. The
  // result says why the session ended early, if it did.
  Status ServeSession(sync::Link* link);

  // How many offers this server has built since it was made: a replayed first message must not
  // add one (tests count them).
  uint64_t offers_built() const;
  // Blocks until no connection from `address` counts against its cap: a connection its peer has
  // closed is let go by its session's thread a moment later (tests wait for it, not for time).
  void WaitUntilNoConnectionFrom(const std::string& address);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace outpost
