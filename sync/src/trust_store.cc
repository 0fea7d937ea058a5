// The trust store: `hub init` and the trust list held in DATA/sync/trust.optl. Each replacement
// of the list is a read-check-replace under an flock, so that two processes (a sync taking the
// hub's new list and a rotation issuing one) cannot interleave and bring back a revoked key.
// Formats: docs/manifest.md (trust lists, key files).
#include "outpost/sync/trust_store.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <utility>

#include "outpost/base/env.h"
#include "outpost/base/file.h"
#include "outpost/sync/sync_db.h"

namespace outpost {

namespace fs = std::filesystem;

namespace {

Status AlreadyExists(std::string message) {
  return Status(StatusCode::kAlreadyExists, std::move(message));
}

Status CreateDir(const fs::path& dir, fs::perms perms) {
  std::error_code ec;
  bool made = fs::create_directories(dir, ec);
  if (ec) return ErrnoStatus("creating folder " + dir.string(), ec.value());
  if (made) fs::permissions(dir, perms, ec);
  if (ec) return ErrnoStatus("setting the mode of " + dir.string(), ec.value());
  return Status::Ok();
}

// An exclusive flock on a lock file, held while alive: read-check-replace of trust.optl must
// not interleave between processes (a lost update could bring back a revoked key).
class FileLock {
 public:
  static Result<FileLock> Exclusive(const fs::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd.valid()) return ErrnoStatus("opening lock file " + path.string(), errno);
    while (::flock(fd.get(), LOCK_EX) != 0) {
      if (errno != EINTR) return ErrnoStatus("locking " + path.string(), errno);
    }
    return FileLock(std::move(fd));
  }

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // closing it releases the lock
};

// The first trust list: sequence 1, `publisher` active for every channel.
Result<std::string> FirstTrustList(const Identity& root, const PublicKey& publisher) {
  TrustList first;
  first.sequence = 1;
  first.entries.push_back({publisher, {std::string(kAllChannels)}, KeyState::kActive});
  return SignTrustList(first, root);
}

// Saves the root key; kAlreadyExists, saying what to do, if another hub init saved one first.
Status SaveRoot(const NodePaths& paths, const Identity& root) {
  Status saved = SaveIdentity(root, paths.root_key);
  if (saved.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists("another hub init on " + paths.data.string() +
                         " finished first; run outpost hub init again to see the result");
  }
  return saved;
}

}  // namespace

Result<HubInitResult> InitHub(const NodePaths& paths) {
  std::error_code ec;
  if (fs::exists(paths.root_key, ec)) {
    return AlreadyExists(paths.data.string() + " is already a hub: its root key " +
                         paths.root_key.string() + " exists (hub init never replaces keys)");
  }
  auto db = SyncDb::Open(paths.sync_db);
  if (!db) return db.error();
  if (auto hub = (*db)->Hub()) {
    return InvalidArgument(paths.data.string() + " is a site joined to the hub with key " +
                           hub->node_key.Fingerprint() + "…; make the hub in another data folder");
  }
  OUTPOST_RETURN_IF_ERROR(CreateDir(paths.keys, fs::perms::owner_all));
  OUTPOST_RETURN_IF_ERROR(CreateDir(paths.sync_dir, fs::perms(0755)));
  auto node = LoadOrCreateIdentity(paths.node_key);
  if (!node) return node.error();
  // A publisher key left by an init that stopped half-way was never trusted by anyone: reuse it.
  auto publisher = LoadOrCreateIdentity(paths.publisher_key);
  if (!publisher) return publisher.error();
  auto root = Identity::Generate();
  if (!root) return root.error();
  auto document = FirstTrustList(*root, publisher->public_key());
  if (!document) return document.error();
  // root.key is written last: once it exists the hub is whole, and until then hub init may run
  // again (replacing the trust list of a root that was never saved).
  OUTPOST_RETURN_IF_ERROR(WriteFileAtomically(Env::Default(), paths.trust_list, *document));
  OUTPOST_RETURN_IF_ERROR((*db)->SetOwnRoot(root->public_key()));
  OUTPOST_RETURN_IF_ERROR(SaveRoot(paths, *root));
  return HubInitResult{node->public_key(), root->public_key(), publisher->public_key()};
}

Result<TrustList> LoadTrustList(const NodePaths& paths, const PublicKey& root) {
  auto document = ReadWholeFile(paths.trust_list, kMaxTrustListBytes);
  if (!document) {
    if (document.error().code() == StatusCode::kNotFound) {
      return NotFound("no trust list at " + paths.trust_list.string());
    }
    return document.error();
  }
  auto list = VerifyTrustList(*document, root);
  if (!list) return list.error().WithContext(paths.trust_list.string());
  return list;
}

Status StoreTrustList(const NodePaths& paths, const PublicKey& root, std::string_view document) {
  auto incoming = VerifyTrustList(document, root);
  if (!incoming) return incoming.error();
  OUTPOST_RETURN_IF_ERROR(CreateDir(paths.sync_dir, fs::perms(0755)));
  auto lock = FileLock::Exclusive(paths.trust_lock);
  if (!lock) return lock.error();
  auto held = LoadTrustList(paths, root);
  if (held) {
    OUTPOST_RETURN_IF_ERROR(CheckTrustListUpdate(*held, *incoming));
    if (held->sequence == incoming->sequence) return Status::Ok();  // the same list
  } else if (held.error().code() != StatusCode::kNotFound) {
    // Without the held list a replayed old one could bring back a revoked key: do not guess.
    const std::string fix = "delete " + paths.trust_list.string() + " and sync again";
    return held.error().WithContext(
        "the trust list held cannot be checked, so no list replaces it (if it is damaged, " + fix +
        ")");
  }
  return WriteFileAtomically(Env::Default(), paths.trust_list, document);
}

}  // namespace outpost
