// Publishing: an import or an edit of the served version, then a signature of the served
// version. A hub signs with its publisher key within what its trust list allows; a site signs
// its own channels with its node key. Both refuse a channel that is another's before anything
// changes when they can (the channel is named: always for an edit), and during the import
// otherwise (the importer asks once it reads the folder's id). NodeSigner holds those rules, so
// that an import and an edit sign alike.
#include "outpost/sync/publish.h"

#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "outpost/base/text.h"
#include "outpost/sync/sync_db.h"
#include "outpost/sync/trust_store.h"
#include "version_signing.h"

namespace outpost {

namespace fs = std::filesystem;

namespace {

std::string NotAllowed(const PublicKey& publisher, const TrustList& trust,
                       const std::string& channel) {
  return "trust list " + std::to_string(trust.sequence) + " does not let publisher key " +
         publisher.Fingerprint() + "… sign " +
         (channel.empty() ? std::string("any channel") : "channel " + channel);
}

// Who signs on this node, and what it may sign: on a hub its publisher key, within its trust
// list, never a site's channel (the site that uploaded it first owns it: decision 22); on a site
// its node key, never a channel that came from the hub (signed by another key).
class NodeSigner {
 public:
  static Result<NodeSigner> OnSite(const NodePaths& paths, Catalog* catalog) {
    auto node = LoadOrCreateIdentity(paths.node_key);
    if (!node) return node.error();
    return NodeSigner(catalog, std::move(*node), nullptr, std::nullopt);
  }
  static NodeSigner OnHub(Catalog* catalog, Identity publisher, std::unique_ptr<SyncDb> db,
                          TrustList trust) {
    return NodeSigner(catalog, std::move(publisher), std::move(db), std::move(trust));
  }

  const Identity& key() const { return key_; }

  // kInvalidArgument if `channel` is not this node's to sign: checked before anything changes.
  Status CheckChannel(const std::string& channel) const {
    if (hub() && db_->ChannelOwner(channel)) {
      return InvalidArgument("channel " + channel +
                             " is a site's own channel, uploaded by it; publish under another id "
                             "(--channel)");
    }
    if (!hub() && Foreign(channel)) {
      return InvalidArgument("channel " + channel +
                             " comes from the hub; publish this site's own material under "
                             "another channel id (--channel)");
    }
    return Status::Ok();
  }

  // kInvalidArgument on a hub whose trust list does not let the publisher key sign `channel`.
  Status Authorizes(const std::string& channel) const {
    if (!hub() || trust_->Authorizes(key_.public_key(), channel)) return Status::Ok();
    return InvalidArgument(NotAllowed(key_.public_key(), *trust_, channel));
  }

  // Signs the served version of `channel` (`new_version`, just committed, or 0: the one served
  // already), unless a key this node accepts signed it already (published again unchanged).
  Result<PublishResult> SignServed(Catalog* catalog, const std::string& channel,
                                   int64_t new_version) const {
    PublishResult result;
    result.channel_id = channel;
    result.new_version = new_version != 0;
    auto info = catalog->Channel(channel);
    if (!info) return Internal("channel " + channel + " vanished after its change");
    result.version = result.new_version ? new_version : info->served_version;
    Status may = Authorizes(channel);
    if (!may.ok()) {
      return InvalidArgument(may.message() + "; version " + std::to_string(result.version) +
                             " is served here unsigned");
    }
    if (info->manifest_hash && info->served_version == result.version &&
        AlreadySigned(channel, result.version)) {
      result.manifest_hash = *info->manifest_hash;  // published before: nothing to do
      return result;
    }
    auto hash = SignServedVersion(catalog, channel, result.version, key_);
    if (!hash) {
      return hash.error().WithContext("signing " + channel + " version " +
                                      std::to_string(result.version));
    }
    result.manifest_hash = *hash;
    return result;
  }

 private:
  NodeSigner(Catalog* catalog, Identity key, std::unique_ptr<SyncDb> db,
             std::optional<TrustList> trust)
      : catalog_(catalog), key_(std::move(key)), db_(std::move(db)), trust_(std::move(trust)) {}

  bool hub() const { return trust_.has_value(); }

  // Site: a channel whose served version another key signed (the hub's).
  bool Foreign(const std::string& channel) const {
    auto info = catalog_->Channel(channel);
    if (!info || !info->manifest_hash) return false;
    auto signer = SignerOf(catalog_, channel, info->served_version);
    return !signer || *signer != key_.public_key();
  }

  bool AlreadySigned(const std::string& channel, int64_t version) const {
    if (hub()) return SignedByATrustedKey(catalog_, channel, version, *trust_);
    auto signer = SignerOf(catalog_, channel, version);
    return signer && *signer == key_.public_key();
  }

  Catalog* catalog_;
  Identity key_;
  std::unique_ptr<SyncDb> db_;     // hub only: who owns which channel
  std::optional<TrustList> trust_;  // hub only
};

// The hub's signer, after checking that its trust list lets the publisher key sign at all, and
// `channel` if one is named (kInvalidArgument: not listed, revoked, or not for it).
Result<NodeSigner> HubSigner(const NodePaths& paths, Catalog* catalog, std::unique_ptr<SyncDb> db,
                             Identity publisher, const std::string& channel) {
  auto root = db->OwnRoot();
  if (!root) return NotAHub(paths);
  auto trust = LoadTrustList(paths, *root);
  if (!trust) return trust.error();
  const PublicKey& key = publisher.public_key();
  const TrustEntry* entry = trust->Find(key);
  if (entry == nullptr || entry->state != KeyState::kActive) {
    return InvalidArgument(NotAllowed(key, *trust, "") + " (" + paths.publisher_key.string() +
                           " is not active in it)");
  }
  if (!channel.empty() && !trust->Authorizes(key, channel)) {
    return InvalidArgument(NotAllowed(key, *trust, channel));
  }
  return NodeSigner::OnHub(catalog, std::move(publisher), std::move(db), std::move(*trust));
}

// This node's signer: a hub's (a node with a publisher key), else a site's. With
// `joined_only`, a node that is neither a hub nor joined to one is refused (NotAHub): `publish`
// asks for one, an edit does not.
Result<NodeSigner> SignerFor(const NodePaths& paths, Catalog* catalog, const std::string& channel,
                             bool joined_only) {
  auto db = SyncDb::Open(paths.sync_db);
  if (!db) return db.error();
  auto publisher = LoadIdentity(paths.publisher_key);
  if (publisher) return HubSigner(paths, catalog, std::move(*db), std::move(*publisher), channel);
  if (publisher.error().code() != StatusCode::kNotFound) return publisher.error();
  if (joined_only && !(*db)->Hub()) return NotAHub(paths);
  return NodeSigner::OnSite(paths, catalog);
}

// Imports `folder` and signs the served version of its channel with `signer`, which refuses a
// channel that is not this node's before anything is imported (named in the options) or
// committed (read from the folder). A refusal to sign, once imported, leaves the version served
// unsigned, and is the result.
Result<PublishResult> ImportAndSign(BlobStore* store, Catalog* catalog, const fs::path& folder,
                                    const ImportOptions& options, const NodeSigner& signer) {
  if (!options.channel_id.empty()) {
    OUTPOST_RETURN_IF_ERROR(signer.CheckChannel(options.channel_id));
  }
  ImportOptions checked = options;
  checked.check_channel = [&](const std::string& id) {
    if (options.check_channel) OUTPOST_RETURN_IF_ERROR(options.check_channel(id));
    return signer.CheckChannel(id);
  };
  auto report = Importer(store, catalog).Import(folder, checked);
  if (!report) return report.error();
  return signer.SignServed(catalog, report->channel_id, report->version);
}

// The served version of `channel` as a draft with its search text, edited by `edit`, committed
// if the channel still serves what it was made from (else kChanged). Returns the new version,
// or 0 if the edit changed nothing.
Result<int64_t> CommitEdit(Catalog* catalog, const std::string& channel, const DraftEdit& edit) {
  auto info = catalog->Channel(channel);  // a read that fails is caught by CommitVersion's check
  int64_t served = info ? info->served_version : 0;
  VersionDraft draft;
  if (served != 0) {
    auto loaded = catalog->LoadVersion(channel, served, /*with_body_text=*/true);
    if (!loaded) return loaded.error();
    draft = std::move(*loaded);
  } else {
    draft.channel_id = channel;
    draft.root.kind = NodeKind::kTopic;
  }
  OUTPOST_RETURN_IF_ERROR(edit(&draft));
  if (draft.channel_id != channel) return Internal("an edit of " + channel + " changed its id");
  return catalog->CommitVersion(draft, served);
}

// An edit is made again from the new served version when another commit came first; a few
// times, then the kChanged is the answer.
constexpr int kEditAttempts = 4;

}  // namespace

Result<PublishResult> Publish(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                              const fs::path& folder, const std::string& channel_id) {
  ImportOptions options;
  options.channel_id = channel_id;
  return Publish(paths, store, catalog, folder, options);
}

Result<PublishResult> Publish(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                              const fs::path& folder, const ImportOptions& options) {
  auto signer = SignerFor(paths, catalog, options.channel_id, /*joined_only=*/true);
  if (!signer) {
    if (signer.error().code() != StatusCode::kInvalidArgument) return signer.error();
    return InvalidArgument(signer.error().message() + "; nothing was imported");
  }
  return ImportAndSign(store, catalog, folder, options, *signer);
}

Result<PublishResult> PublishEdit(const NodePaths& paths, Catalog* catalog,
                                  const std::string& channel_id, const DraftEdit& edit) {
  if (!IsValidChannelId(channel_id)) {
    return InvalidArgument("invalid channel id \"" + EscapeInvalidUtf8(channel_id) + "\"");
  }
  auto signer = SignerFor(paths, catalog, channel_id, /*joined_only=*/false);
  Status allowed = signer ? signer->CheckChannel(channel_id) : signer.error();
  if (!allowed.ok()) {
    if (allowed.code() != StatusCode::kInvalidArgument) return allowed;
    return InvalidArgument(allowed.message() + "; nothing was changed");
  }
  static std::mutex edits;  // one edit at a time in this process: no attempt made in vain
  std::lock_guard lock(edits);
  for (int attempt = 1;; ++attempt) {
    auto version = CommitEdit(catalog, channel_id, edit);
    if (version) return signer->SignServed(catalog, channel_id, *version);
    if (version.error().code() != StatusCode::kChanged || attempt == kEditAttempts) {
      return version.error();
    }
  }
}

}  // namespace outpost
