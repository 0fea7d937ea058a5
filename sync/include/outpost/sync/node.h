// Node: what one installation (a school's site or the hub) keeps for sync, beside the catalog
// and the blob store, and the operations on it that need no network.
//
//   DATA/keys/node.key        this installation's identity: every node (made on first use)
//   DATA/keys/root.key        the hub's root key (hub only; may be moved offline after init)
//   DATA/keys/publisher.key   the hub's publisher key (hub only)
//   DATA/sync/trust.optl      the newest trust list held (the hub: the one it issues; a site:
//                             the newest it has received, verified against the pinned root)
//   DATA/sync/sync.db         SQLite (WAL): peers, enrolment codes, the pinned hub, what the
//                             hub knows of itself (what each peer holds: not yet)
//   DATA/sync/exports/        the state of bundle exports that filled their drive (bundle.h)
//   DATA/staging/             chunks received by sync and not yet assembled into blobs
//
// Every key file is mode 0600 (identity.h), and so is sync.db (a site's pending enrolment code
// is in it). Signed manifests of versions are kept in the catalog, beside the versions they
// sign (Catalog::AttachManifest). docs/sync.md has the schema, the enrolment codes and the
// enrolment file byte for byte.
//
// Thread-safety: SyncDb is thread-safe (one connection behind a mutex), like Catalog. The free
// functions may run in several processes at once: trust list replacements are serialized by a
// lock file (DATA/sync/trust.lock).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/content/importer.h"
#include "outpost/base/status.h"
#include "outpost/sync/identity.h"

struct sqlite3;

namespace outpost {

struct NodePaths {
  explicit NodePaths(const std::filesystem::path& data);
  std::filesystem::path data, keys, node_key, root_key, publisher_key, sync_dir, trust_list,
      sync_db, staging;
  std::filesystem::path trust_lock;  // DATA/sync/trust.lock: flock'd while replacing trust.optl
};

// A peer's name: 1 to 64 characters of a-z, 0-9 and '-', not starting with '-' (the rule of
// channel ids), so that it reads the same in a shell, a log line and a file name.
bool IsValidSiteName(std::string_view name);
// "HOST:PORT" (or "[IPv6]:PORT"): a host of 1 to 253 characters without spaces, '/' or '@',
// and a port from 1 to 65535.
bool IsValidSyncAddress(std::string_view address);

// How long an enrolment code works by default: 7 days.
inline constexpr int64_t kDefaultEnrolCodeTtl = 7 * 24 * 60 * 60;

struct PeerInfo {
  PublicKey key;           // its node key (Ed25519), pinned at enrolment
  std::string name;        // "ecole-karantina"
  std::string role;        // "site", "hub", or "relay" (a node this site syncs from: peer join)
  int64_t enrolled_at = 0;  // unix seconds
  int64_t revoked_at = 0;   // 0: not revoked
  int64_t last_seen = 0;    // last successful session, unix seconds (0: never)
};

// A site's pin of its hub, made by `outpost join`.
struct HubPin {
  std::string address;   // "HOST:PORT" of the hub's sync listener ("" if joined from a file
                         // without one: `outpost sync --hub` must then name it)
  PublicKey node_key;    // the hub's node key: its Noise static key derives from it
  PublicKey root_key;    // the hub's root: signs trust lists
  std::string pending_code;  // joined from a file: the code still to present at first contact
  std::string site_name;     // the name the hub gave this site
};

// An enrolment code not used yet (and not expired or cancelled); the code itself is not kept.
struct PendingEnrolment {
  std::string site_name;
  int64_t created_at = 0;  // unix seconds
  int64_t expires_at = 0;
};

class SyncDb {
 public:
  static constexpr int kSchemaVersion = 3;

  // Opens (creating it, mode 0600, and its folder if needed) and migrates the database.
  // Refuses (kCorrupt) a database newer than this outpost.
  static Result<std::unique_ptr<SyncDb>> Open(const std::filesystem::path& path);
  ~SyncDb();

  int schema_version();
  // The clock every "now" below comes from, in unix seconds; time(nullptr) unless a test sets
  // another. Not thread-safe with concurrent calls: set it before use.
  void set_clock(std::function<int64_t()> now);
  int64_t Now() const;

  // ---- hub: enrolment codes. A code is 16 random characters from an unambiguous alphabet,
  // grouped "abcd-efgh-jkmn-pqrs" for reading aloud; only its hash is stored; it works once,
  // until it expires.
  Result<std::string> NewEnrolCode(const std::string& site_name, int64_t ttl_seconds);
  // Uses the code up and returns the site name it was made for; kNotFound for an unknown,
  // used or expired code (the message says which).
  Result<std::string> RedeemEnrolCode(const std::string& code);
  // Codes are compared after NormalizeEnrolCode: case, spaces and dashes do not matter. A
  // string that cannot be a code (wrong length, letters outside the alphabet) is
  // kInvalidArgument in both calls above and below.
  //
  // RedeemEnrolCode and AddPeer in one transaction: uses the code up and enrols `site_key` as a
  // site under the code's name (a key already enrolled keeps its row, renamed). The key that
  // used a code may present it again and is answered as the first time (a site enrolled by its
  // USB bundle, then syncing over a link). A key that was
  // revoked is refused (kInvalidArgument) and the code stays unused; the code's errors are
  // RedeemEnrolCode's.
  Result<PeerInfo> AdmitSite(const std::string& code, const PublicKey& site_key);
  // Codes that still work, oldest first.
  std::vector<PendingEnrolment> PendingEnrolments();

  // ---- peers (hub: its sites; site: peers it relays with)
  Status AddPeer(const PeerInfo& peer);  // a key already known keeps its row (name updated)
  std::optional<PeerInfo> Peer(const PublicKey& key);
  std::vector<PeerInfo> Peers();
  // By name or by hex key; kNotFound if no such peer. Revocation is permanent: AddPeer and
  // AdmitSite never make a revoked key active again. A name revokes every peer of that name and
  // cancels the codes still pending for it (then a name with pending codes but no peer is not
  // kNotFound). Revoking a revoked peer changes nothing.
  Status RevokePeer(const std::string& name_or_key);
  Status TouchPeer(const PublicKey& key);  // last_seen = now

  // ---- hub: channels its sites publish (the upward path). The first site to upload a channel
  // id owns it; another site's upload of it is refused (kInvalidArgument, naming the owner).
  // Claiming a channel one owns already changes nothing.
  Status ClaimChannel(const std::string& channel_id, const PublicKey& peer);
  std::optional<PublicKey> ChannelOwner(const std::string& channel_id);
  std::vector<std::string> ChannelsOf(const PublicKey& peer);  // ascending

  // ---- what each peer is known to serve: a hub learns it of its sites at each sync, a site of
  // its hub (for the channels it sends up). A version only grows. USB bundles carry what a peer
  // lacks according to this.
  Status NotePeerVersion(const PublicKey& peer, const std::string& channel_id, uint64_t version);
  std::map<std::string, uint64_t> PeerVersions(const PublicKey& peer);

  // ---- site: the pinned hub
  Status SetHub(const HubPin& pin);
  std::optional<HubPin> Hub();

  // ---- hub: itself
  // The root key `hub init` made. The hub checks its own trust list against it, so it keeps
  // working once root.key has been moved offline. nullopt: this node is not a hub.
  Status SetOwnRoot(const PublicKey& root);
  std::optional<PublicKey> OwnRoot();
  // The "HOST:PORT" sites should reach this hub's sync listener at, as last given (`hub enrol
  // --address`); "" if never given. kInvalidArgument unless IsValidSyncAddress.
  Status SetOwnAddress(const std::string& address);
  std::string OwnAddress();

 private:
  explicit SyncDb(sqlite3* db);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `outpost hub init`: makes the node key, the root key, a publisher key and the first trust list
// (sequence 1: the publisher active for every channel "*"). Refuses (kAlreadyExists) if a
// root key is already there.
struct HubInitResult {
  PublicKey node_key, root_key, publisher_key;
};
Result<HubInitResult> InitHub(const NodePaths& paths);

// The trust list held in DATA/sync/trust.optl, verified against `root`.
Result<TrustList> LoadTrustList(const NodePaths& paths, const PublicKey& root);
// Replaces the held trust list with `document` if it verifies against `root` and passes
// CheckTrustListUpdate against the one held (durably: temp file, fsync, rename). The same list
// again changes nothing. A held file that does not verify blocks every replacement (its error,
// saying to delete the file): without it a replayed old list could re-enable a revoked key.
Status StoreTrustList(const NodePaths& paths, const PublicKey& root, std::string_view document);

// `outpost publish`: imports `folder` (the foundation importer) and signs the served version
// of its channel with the publisher key as a manifest kept in the catalog. Publishing an
// unchanged folder makes no new version (and signs the served one if a crash left it unsigned).
struct PublishResult {
  std::string channel_id;
  int64_t version = 0;
  bool new_version = false;
  Hash manifest_hash;
};
Result<PublishResult> Publish(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                              const std::filesystem::path& folder,
                              const std::string& channel_id /* "" = from the folder */);
// The same with every import option (options.channel_id as above; a progress callback).
// Before importing it checks that this is a hub (kNotFound: no publisher key or root) and that
// the trust list lets the publisher key sign (kInvalidArgument: not listed, revoked, or not
// for options.channel_id). A folder whose channel the key may not sign is imported (served
// unsigned, and said so in the error) but not signed. The served version is also signed again
// when the manifest attached to it was signed by a key the trust list no longer authorizes
// (after a rotation): the same manifest, a new envelope.
Result<PublishResult> Publish(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                              const std::filesystem::path& folder, const ImportOptions& options);

// ---- the root's work: rotating and revoking publisher keys ----
//
// Both sign trust list N+1 with the root key and store it; sites take it at their next sync
// (and a version signed by a revoked key is refused from then on). The root key is
// DATA/keys/root.key, or `root_key_file` when it is kept offline (a USB stick in a safe); it
// must be the root this hub was made with.
struct PublisherChange {
  uint64_t trust_sequence = 0;  // of the new list
  std::optional<PublicKey> added;  // rotate: the new publisher key
  PublicKey revoked;
  int resigned = 0;  // rotate: served versions signed again with the new key
};

// `outpost hub publisher rotate`: a new publisher key, active for the channels the current one
// had, and the current one revoked. The new key becomes DATA/keys/publisher.key; the old file
// is kept as keys/publisher-revoked-<fingerprint>.key. Then every served version whose
// manifest the old key signed is signed again with the new one (the same manifest and hash, a
// new envelope), so that sites which have not synced it yet can still take it. A rotation cut
// short (a crash, a full disk) is finished by running it again: the half-made key is
// keys/publisher.next.key, and it is the one used.
Result<PublisherChange> RotatePublisher(const NodePaths& paths, Catalog* catalog,
                                        const std::filesystem::path& root_key_file = {});
// `outpost hub publisher revoke KEY` (64 hex digits): revokes a publisher key of the trust list
// other than the current one (rotate that instead). Revoking a revoked key changes nothing
// (kAlreadyExists).
Result<PublisherChange> RevokePublisher(const NodePaths& paths, const std::string& key_hex,
                                        const std::filesystem::path& root_key_file = {});

// ---- enrolment ----

// `outpost hub enrol`: a new one-time code for a site, and, with `to_file`, an enrolment file
// carrying it for a site that has never been online.
struct EnrolRequest {
  std::string site_name;
  int64_t ttl_seconds = kDefaultEnrolCodeTtl;
  // The hub's sync address for the site: "" uses the last one given (SyncDb::OwnAddress), if
  // any; a new one is recorded for next time.
  std::string address;
  std::filesystem::path to_file;  // empty: no file
};
struct EnrolResult {
  std::string code;  // the secret: shown to the coordinator once, never logged
  int64_t expires_at = 0;
  std::string address;  // what went into the file ("" if unknown)
};
// kNotFound if this node is not a hub; kInvalidArgument for a bad name, address or ttl.
// Everything the file needs (node key, trust list) is read before the code is made.
Result<EnrolResult> Enrol(const NodePaths& paths, SyncDb* db, const EnrolRequest& request);

// The enrolment file ("OPEF", docs/sync.md): the hub's node and root keys, its sync address
// ("" if unknown), the site's name, the one-time code and the hub's trust list, signed by the
// hub's node key.
inline constexpr uint16_t kEnrolmentFileFormat = 1;
struct Enrolment {
  HubPin pin;              // pending_code: the code; site_name: the name the hub gave the site
  std::string trust_list;  // the signed document, verified against pin.root_key
  TrustList trust;         // the same, parsed
};
// The file's bytes. kInvalidArgument if pin.node_key is not `hub_node`'s key, the name, code or
// address is not valid, or `trust_list` does not verify against pin.root_key.
Result<std::string> EncodeEnrolment(const HubPin& pin, std::string_view trust_list,
                                    const Identity& hub_node);
// Parses the bytes strictly and verifies the signature against the node key they carry (trust
// on first use, like a typed code) and the trust list against the root key they carry. kCorrupt
// for anything malformed, damaged or forged.
Result<Enrolment> DecodeEnrolment(std::string_view bytes);
// EncodeEnrolment, written durably (temp file, fsync, rename) with mode 0600: it holds a secret.
Status WriteEnrolmentFile(const std::filesystem::path& file, const HubPin& pin,
                          std::string_view trust_list, const Identity& hub_node);
// Reads a file (at most 1 MiB and 1 KiB) and decodes it as DecodeEnrolment does, naming the
// file in errors (kNotFound if there is none).
Result<Enrolment> ReadEnrolmentFile(const std::filesystem::path& file);

// The canonical form of a code a person typed: lower case, without spaces and dashes, grouped
// "abcd-efgh-jkmn-pqrs"; nullopt if it cannot be a code.
std::optional<std::string> NormalizeEnrolCode(std::string_view typed);

}  // namespace outpost
