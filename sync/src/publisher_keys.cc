// The root's work: each change is trust list N+1, signed by the root key and stored like any
// list (trust_store.h). A rotation is three steps that each survive a crash: the next key is
// made as keys/publisher.next.key and listed; the key files are swapped (durable renames); the
// served versions are signed again. Running it again redoes only what is missing.
#include "outpost/sync/publisher_keys.h"

#include <utility>
#include <vector>

#include "outpost/base/env.h"
#include "outpost/base/text.h"
#include "outpost/sync/sync_db.h"
#include "outpost/sync/trust_store.h"
#include "version_signing.h"

namespace outpost {

namespace fs = std::filesystem;

namespace {

struct RootContext {
  std::unique_ptr<SyncDb> db;
  std::optional<Identity> root;
  TrustList trust;
};

// The hub's root key from `file`, checked against the root sync.db holds (`own`).
Result<Identity> LoadRootKey(const fs::path& file, const PublicKey& own) {
  auto root = LoadIdentity(file);
  if (!root) {
    if (root.error().code() == StatusCode::kNotFound) {
      return NotFound("no root key at " + file.string() +
                      ": give the file it is kept in (--root-key FILE)");
    }
    return root.error();
  }
  if (root->public_key() != own) {
    return InvalidArgument(file.string() + " holds key " + root->public_key().Fingerprint() +
                           "…, not this hub's root " + own.Fingerprint() + "…");
  }
  return root;
}

Result<RootContext> LoadRoot(const NodePaths& paths, const fs::path& root_key_file) {
  RootContext ctx;
  auto db = SyncDb::Open(paths.sync_db);
  if (!db) return db.error();
  ctx.db = std::move(*db);
  auto own = ctx.db->OwnRoot();
  if (!own) return NotAHub(paths);
  auto root = LoadRootKey(root_key_file.empty() ? paths.root_key : root_key_file, *own);
  if (!root) return root.error();
  auto trust = LoadTrustList(paths, *own);
  if (!trust) return trust.error();
  ctx.trust = std::move(*trust);
  ctx.root.emplace(std::move(*root));
  return ctx;
}

Status SignAndStore(const NodePaths& paths, const RootContext& ctx, TrustList next) {
  next.sequence = ctx.trust.sequence + 1;
  auto document = SignTrustList(next, *ctx.root);
  if (!document) return document.error();
  return StoreTrustList(paths, ctx.root->public_key(), *document);
}

Status RenameDurably(const fs::path& from, const fs::path& to) {
  OUTPOST_RETURN_IF_ERROR(Env::Default()->Rename(from, to));
  return Env::Default()->SyncDir(to.parent_path());
}

// `trust` with `current` revoked and `next` active for the channels `current` had ("*" if it
// was not listed).
TrustList RotatedList(const TrustList& trust, const PublicKey& current, const PublicKey& next) {
  const TrustEntry* old = trust.Find(current);
  std::vector<std::string> channels = {std::string(kAllChannels)};
  if (old != nullptr) channels = old->channels;
  TrustList list = trust;
  for (auto& e : list.entries) {
    if (e.publisher == current) e.state = KeyState::kRevoked;
  }
  if (old == nullptr) list.entries.push_back({current, channels, KeyState::kRevoked});
  list.entries.push_back({next, channels, KeyState::kActive});
  return list;
}

// Step 1: the list that makes `next` the publisher; its sequence. A list already making it
// active is one a rotation cut short stored: it is kept.
Result<uint64_t> IssueRotatedList(const NodePaths& paths, const RootContext& ctx,
                                  const Result<Identity>& current, const PublicKey& next) {
  const TrustEntry* listed = ctx.trust.Find(next);
  if (listed != nullptr && listed->state == KeyState::kActive) return ctx.trust.sequence;
  if (!current) return current.error().WithContext("the current publisher key");
  OUTPOST_RETURN_IF_ERROR(
      SignAndStore(paths, ctx, RotatedList(ctx.trust, current->public_key(), next)));
  return ctx.trust.sequence + 1;
}

// Step 2: the new key takes the publisher's place; the old file stays beside it, revoked.
Status SwapKeyFiles(const NodePaths& paths, const Result<Identity>& current,
                    const fs::path& next_file) {
  if (current) {
    OUTPOST_RETURN_IF_ERROR(RenameDurably(
        paths.publisher_key,
        paths.keys / ("publisher-revoked-" + current->public_key().Fingerprint() + ".key")));
  } else if (current.error().code() != StatusCode::kNotFound) {
    return current.error();
  }
  return RenameDurably(next_file, paths.publisher_key);
}

}  // namespace

Result<PublisherChange> RotatePublisher(const NodePaths& paths, Catalog* catalog,
                                        const fs::path& root_key_file) {
  auto ctx = LoadRoot(paths, root_key_file);
  if (!ctx) return ctx.error();
  const fs::path next_file = paths.keys / "publisher.next.key";
  auto next = LoadOrCreateIdentity(next_file);
  if (!next) return next.error();
  PublisherChange change;
  change.added = next->public_key();
  auto current = LoadIdentity(paths.publisher_key);
  auto sequence = IssueRotatedList(paths, *ctx, current, next->public_key());
  if (!sequence) return sequence.error();
  change.trust_sequence = *sequence;
  OUTPOST_RETURN_IF_ERROR(SwapKeyFiles(paths, current, next_file));
  if (current) change.revoked = current->public_key();

  // Step 3: the served versions, signed again with the new key.
  auto trust = LoadTrustList(paths, ctx->root->public_key());
  if (!trust) return trust.error();
  auto resigned = ResignServedVersions(catalog, *trust, *next);
  if (!resigned) return resigned.error();
  change.resigned = *resigned;
  return change;
}

Result<PublisherChange> RevokePublisher(const NodePaths& paths, const std::string& key_hex,
                                        const fs::path& root_key_file) {
  auto key = PublicKey::FromHex(key_hex);
  if (!key) return InvalidArgument("\"" + EscapeInvalidUtf8(key_hex) + "\" is not a key (64 hex digits)");
  auto ctx = LoadRoot(paths, root_key_file);
  if (!ctx) return ctx.error();
  const TrustEntry* entry = ctx->trust.Find(*key);
  if (entry == nullptr) {
    return NotFound("trust list " + std::to_string(ctx->trust.sequence) + " has no publisher key " +
                    key->Fingerprint() + "…");
  }
  if (entry->state == KeyState::kRevoked) {
    return Status(StatusCode::kAlreadyExists,
                  "publisher key " + key->Fingerprint() + "… is revoked already");
  }
  if (auto current = LoadIdentity(paths.publisher_key); current && current->public_key() == *key) {
    return InvalidArgument("key " + key->Fingerprint() +
                           "… is this hub's publisher key: rotate it (outpost hub publisher rotate)");
  }
  TrustList list = ctx->trust;
  for (auto& e : list.entries) {
    if (e.publisher == *key) e.state = KeyState::kRevoked;
  }
  OUTPOST_RETURN_IF_ERROR(SignAndStore(paths, *ctx, std::move(list)));
  PublisherChange change;
  change.trust_sequence = ctx->trust.sequence + 1;
  change.revoked = *key;
  return change;
}

}  // namespace outpost
