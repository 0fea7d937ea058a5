// Publishing: an import, then a signature of the served version. A hub signs with its publisher
// key within what its trust list allows; a site signs its own channels with its node key. Both
// refuse a channel that is another's before anything is imported when they can (the channel is
// named), and during the import otherwise (the importer asks once it reads the folder's id).
#include "outpost/sync/publish.h"

#include <functional>
#include <utility>

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

// Imports `folder` and signs the served version of its channel with `signer`. `may_sign` (if
// set) is asked once the channel and version are known: a refusal leaves the version served
// unsigned, and is the result. The signature is skipped when the version already carries a
// manifest that `already_signed` accepts (an unchanged folder published again).
Result<PublishResult> ImportAndSign(
    BlobStore* store, Catalog* catalog, const fs::path& folder, const ImportOptions& options,
    const Identity& signer, const std::function<Status(const std::string&, int64_t)>& may_sign,
    const std::function<bool(const std::string&, int64_t)>& already_signed) {
  auto report = Importer(store, catalog).Import(folder, options);
  if (!report) return report.error();
  PublishResult result;
  result.channel_id = report->channel_id;
  result.new_version = report->version != 0;
  auto channel = catalog->Channel(result.channel_id);
  if (!channel) return Internal("channel " + result.channel_id + " vanished after its import");
  result.version = result.new_version ? report->version : channel->served_version;
  if (may_sign) OUTPOST_RETURN_IF_ERROR(may_sign(result.channel_id, result.version));
  if (channel->manifest_hash && channel->served_version == result.version &&
      already_signed(result.channel_id, result.version)) {
    result.manifest_hash = *channel->manifest_hash;  // published before: nothing to do
    return result;
  }
  auto hash = SignServedVersion(catalog, result.channel_id, result.version, signer);
  if (!hash) {
    return hash.error().WithContext("signing " + result.channel_id + " version " +
                                    std::to_string(result.version));
  }
  result.manifest_hash = *hash;
  return result;
}

// A site publishing its own channel: signed with its node key, which the hub it joined accepts
// for channels this site uploaded first (docs/sync-protocol.md, "Upload").
Result<PublishResult> PublishOnSite(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                                    const fs::path& folder, const ImportOptions& options) {
  auto node = LoadIdentity(paths.node_key);
  if (!node) return node.error();
  const PublicKey& key = node->public_key();
  // A channel that came from the hub (signed by another key) is not this site's to publish.
  auto foreign = [&](const std::string& channel) {
    auto info = catalog->Channel(channel);
    if (!info || !info->manifest_hash) return false;
    auto signer = SignerOf(catalog, channel, info->served_version);
    return !signer || *signer != key;
  };
  auto refuse = [](const std::string& channel) {
    return InvalidArgument("channel " + channel +
                           " comes from the hub; publish this site's own material under another "
                           "channel id (--channel)");
  };
  if (!options.channel_id.empty() && foreign(options.channel_id)) return refuse(options.channel_id);
  ImportOptions checked = options;
  checked.check_channel = [&](const std::string& id) {
    return foreign(id) ? refuse(id) : Status::Ok();
  };
  return ImportAndSign(store, catalog, folder, checked, *node, nullptr,
                       [&](const std::string& id, int64_t) { return !foreign(id); });
}

// kInvalidArgument unless `trust` lets `key` sign: active in it, and for `channel` if one is
// named. Checked before anything is imported.
Status CheckPublisherKey(const NodePaths& paths, const TrustList& trust, const PublicKey& key,
                         const std::string& channel) {
  const TrustEntry* entry = trust.Find(key);
  if (entry == nullptr || entry->state != KeyState::kActive) {
    return InvalidArgument(NotAllowed(key, trust, "") + " (" + paths.publisher_key.string() +
                           " is not active in it); nothing was imported");
  }
  if (!channel.empty() && !trust.Authorizes(key, channel)) {
    return InvalidArgument(NotAllowed(key, trust, channel) + "; nothing was imported");
  }
  return Status::Ok();
}

// The hub publishing with `publisher`, within what `trust` allows.
Result<PublishResult> PublishOnHub(SyncDb* db, BlobStore* store, Catalog* catalog,
                                   const fs::path& folder, const ImportOptions& options,
                                   const Identity& publisher, const TrustList& trust) {
  // A channel a site uploaded is that site's: the hub serves it but does not publish it.
  ImportOptions checked = options;
  checked.check_channel = [db](const std::string& id) {
    if (!db->ChannelOwner(id)) return Status::Ok();
    return InvalidArgument("channel " + id +
                           " is a site's own channel, uploaded by it; publish under another id "
                           "(--channel)");
  };
  const PublicKey& key = publisher.public_key();
  return ImportAndSign(
      store, catalog, folder, checked, publisher,
      [&](const std::string& id, int64_t version) {
        if (trust.Authorizes(key, id)) return Status::Ok();
        return InvalidArgument(NotAllowed(key, trust, id) + "; version " + std::to_string(version) +
                               " is served here unsigned");
      },
      [&](const std::string& id, int64_t version) {
        return SignedByATrustedKey(catalog, id, version, trust);
      });
}

}  // namespace

Result<PublishResult> Publish(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                              const fs::path& folder, const std::string& channel_id) {
  ImportOptions options;
  options.channel_id = channel_id;
  return Publish(paths, store, catalog, folder, options);
}

Result<PublishResult> Publish(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                              const fs::path& folder, const ImportOptions& options) {
  auto db = SyncDb::Open(paths.sync_db);
  if (!db) return db.error();
  auto publisher = LoadIdentity(paths.publisher_key);
  if (!publisher) {
    if (publisher.error().code() != StatusCode::kNotFound) return publisher.error();
    if ((*db)->Hub()) return PublishOnSite(paths, store, catalog, folder, options);
    return NotAHub(paths);
  }
  auto root = (*db)->OwnRoot();
  if (!root) return NotAHub(paths);
  auto trust = LoadTrustList(paths, *root);
  if (!trust) return trust.error();
  OUTPOST_RETURN_IF_ERROR(
      CheckPublisherKey(paths, *trust, publisher->public_key(), options.channel_id));
  return PublishOnHub(db->get(), store, catalog, folder, options, *publisher, *trust);
}

}  // namespace outpost
