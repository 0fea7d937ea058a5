// SyncDb: what a node remembers for sync beside its catalog, in DATA/sync/sync.db (node.h):
// the peers it knows (a hub: its sites; a site: the nodes it relays with), the enrolment codes
// a hub gave out, the hub a site is pinned to, the channels sites publish, what each peer is
// known to serve, and a hub's own root key and address. docs/sync.md has the schema and the
// enrolment codes.
//
// Thread-safety: SyncDb is thread-safe (one connection behind a mutex), like Catalog. Several
// processes may open the same file: SQLite's WAL locking serializes their writes.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/base/status.h"
#include "outpost/sync/identity.h"
#include "outpost/sync/link_policy.h"
#include "outpost/sync/node.h"
#include "outpost/sync/noise.h"
#include "outpost/sync/site_report.h"

struct sqlite3;

namespace outpost {

// How long an enrolment code works by default: 7 days.
inline constexpr int64_t kDefaultEnrolCodeTtl = 7 * 24 * 60 * 60;

struct PeerInfo {
  PublicKey key;           // its node key (Ed25519), pinned at enrolment
  std::string name;        // "ecole-karantina"
  std::string role;        // "site", "hub", or "relay" (a node this site syncs from: peer join)
  int64_t enrolled_at = 0;  // unix seconds
  int64_t revoked_at = 0;   // 0: not revoked
  int64_t last_seen = 0;    // last successful session, unix seconds (0: never)
  std::string last_via{};   // how it was last seen: "link", "stick", or "" (never, or before
                            // schema 9)
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

// Every enrolment code, in whatever state (for `bundle export` to a site not enrolled yet).
struct EnrolCodeInfo {
  std::string site_name;
  int64_t created_at = 0, expires_at = 0;  // unix seconds; refused from expires_at on
  int64_t used_at = 0, cancelled_at = 0;   // 0: not used, not cancelled
  bool to_file = false;                    // written into an enrolment file (hub enrol --to)
  std::optional<noise::Psk> psk;           // its Noise pre-shared key (none before schema 5)
};

// A version a hub sent a site by stick that the site is not known to serve yet.
struct SentVersion {
  uint64_t version = 0;
  std::array<uint8_t, 16> bundle_id{};  // the bundle that carried it
  int64_t written_at = 0;               // its volumes' created_at (the hub's clock)
};

// A hub: what it keeps of a site's newest report (site_report.h).
struct StoredSiteReport {
  int64_t reported_at = 0;  // the site's clock
  int64_t received_at = 0;  // this hub's clock: when a report last arrived (newer or not)
  std::string via;          // how that one came: "link" or "stick"
  std::string software;
  uint64_t disk_total = 0, disk_free = 0;
  std::map<std::string, uint64_t> served;
  uint32_t errors_logged = 0;
  std::vector<ReportedError> errors;  // oldest first
};

// A peer and its stored report, as SyncDb::SiteRows reads them in one query.
struct SiteRow {
  PeerInfo peer;
  std::vector<std::string> channels;    // the channels it publishes here, ascending
  std::optional<StoredSiteReport> report;
};

// A site: the newest bundle from its hub it has imported (zeros: none).
struct SeenHubBundle {
  std::array<uint8_t, 16> bundle_id{};
  int64_t written_at = 0;  // its volumes' created_at (the hub's clock)
};

// A hub's review of what sites send up (docs/review.md): one item per resource of a site's
// channel that is new or changed (a new path, or the same path with another file or metadata)
// since the item last recorded at that path. An item keeps its id for ever.
enum class ReviewState { kPending, kAdopted, kDeclined, kSuperseded };
const char* ReviewStateName(ReviewState state);  // "pending", "adopted", ...

struct ReviewItem {
  int64_t id = 0;          // stable: what `hub review adopt|decline ID` names
  std::string channel_id;  // the site's channel
  std::string path;        // the resource's path in it
  PublicKey site;          // the site that owns the channel
  std::string site_name;   // its name (peers.name; "" if the peer row is gone)
  int64_t version = 0;     // the channel's version it was first seen in
  Hash fingerprint;        // of file, thumbnail, kind and metadata: what "changed" compares
  // The preview.
  std::string kind;        // KindName: "document", "video", ...
  std::string title, description, language, grade, subject, license, author;
  uint64_t size = 0;
  std::string mime;
  Hash blob;
  std::optional<Hash> thumbnail;
  std::string excerpt;     // the first ~200 characters of its search text ("" if none)
  int64_t seen_at = 0;     // unix seconds
  // The decision.
  ReviewState state = ReviewState::kPending;
  int64_t decided_at = 0;  // 0 while pending
  std::string reason;      // declined: why (for the site's teachers)
  std::string adopted_channel, adopted_topic, adopted_path;  // adopted: where it went
  int64_t adopted_version = 0;  // the national channel's version that first held it
};

// A decision on an item, as DecideReview records it.
struct ReviewDecision {
  ReviewState state = ReviewState::kDeclined;  // kAdopted or kDeclined
  std::string reason;                          // kDeclined: 1 to kMaxReviewReason bytes
  std::string adopted_channel, adopted_topic, adopted_path;
  int64_t adopted_version = 0;
};
inline constexpr size_t kMaxReviewReason = 2000;  // bytes of UTF-8

// What a hub decided on one of a site's items, as the site receives it (by sync or stick) and
// keeps it for its teachers (docs/review.md). `id` is the hub's ReviewItem id.
struct ReviewOutcome {
  int64_t id = 0;
  std::string channel_id, path;  // the site's channel and the item's path in it
  Hash blob;                     // the file decided on
  ReviewState state = ReviewState::kDeclined;  // kAdopted or kDeclined
  int64_t decided_at = 0;        // unix seconds (the hub's clock)
  std::string reason;            // declined: why
  std::string adopted_channel, adopted_topic;  // adopted: where
  int64_t adopted_version = 0;
  int64_t received_at = 0;       // a site: when it arrived (unix seconds, this node's clock)
  auto operator<=>(const ReviewOutcome&) const = default;
};
// The most outcomes one sync record or stick record carries (the oldest undelivered first).
inline constexpr size_t kMaxOutcomesPerMessage = 1000;

// A channel's newest version as the hub last offered it to this site.
struct HubHead {
  std::string channel_id;
  uint64_t version = 0;
  uint64_t bytes = 0;    // the sizes of the files the offer listed (new since the site's version)
  int64_t noted_at = 0;  // unix seconds, this node's clock (set by NoteHubHeads)
};

// How a sync with the hub ended (`outpost sync`, or the console's sync).
struct SyncRun {
  int64_t started_at = 0, finished_at = 0;  // unix seconds
  bool ok = false;        // it ran to its end (it may still have stopped at a budget)
  bool complete = false;  // every offered version is served
  uint64_t bytes_received = 0;
  std::string message;    // the error, or what stopped it ("" when complete)
};
// The console's last job of one slot (server/src/jobs.h), as it ended: kept so that a restarted
// `outpost serve` still shows it. Written by the server, read back as untrusted text (its
// reader checks the kind and parses `fields` without trusting it).
struct ConsoleJobRecord {
  std::string slot;     // "sync", or "stick" (a stick written or read)
  uint64_t id = 0;      // the job's id in the run of the server that ran it
  std::string kind;     // "sync", "stick_export", "stick_import"
  std::string trigger;  // "console" or "schedule"
  int64_t started_at = 0, ended_at = 0;  // unix seconds
  std::string state;     // "done", "incomplete", "cancelled", "failed"
  std::string sentence;  // the plain English line
  std::string fields;    // a JSON object: the numbers behind it (docs/web-api.md)
};

// Whether the data folder at `paths` is a hub: its sync.db exists and holds a root key of its
// own (`outpost hub init`). It never makes a sync.db; false if one cannot be opened.
bool IsHub(const NodePaths& paths);

class SyncDb {
 public:
  static constexpr int kSchemaVersion = 12;

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
  // `to_file`: the code goes into an enrolment file, not on screen (recorded, see EnrolCodes).
  Result<std::string> NewEnrolCode(const std::string& site_name, int64_t ttl_seconds,
                                   bool to_file = false);
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
  // AdmitSite for the code whose EnrolCodeKeys::id is `code_id` (enrolment over Noise XXpsk3,
  // where the code never travels: the completed handshake proved the site holds its psk).
  Result<PeerInfo> AdmitSiteByCodeId(std::span<const uint8_t, 32> code_id,
                                     const PublicKey& site_key);
  // The psk of the code whose identifier is `code_id`, whatever its state (AdmitSiteByCodeId
  // says why a used, expired or cancelled code is refused, to the site that proved it holds
  // it); nullopt if no code has that identifier.
  std::optional<noise::Psk> EnrolCodePsk(std::span<const uint8_t, 32> code_id);
  // Codes that still work, oldest first.
  std::vector<PendingEnrolment> PendingEnrolments();
  // The codes made for `site_name` ("": for every name), used or not, oldest first.
  std::vector<EnrolCodeInfo> EnrolCodes(const std::string& site_name = "");

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
  // The same, and last_via = `via` ("link" or "stick").
  Status TouchPeer(const PublicKey& key, std::string_view via);

  // ---- the counter of a sync's Hello (docs/sync-protocol.md), against replays of IK message 1
  // Hub: true, with `counter` recorded, if it is above the last one accepted from `peer`; false
  // if it is not (a replay), if it is over 2^63 - 1, or if `peer` is unknown. One statement, so
  // two sessions cannot both pass with the same counter.
  Result<bool> AcceptHelloCounter(const PublicKey& peer, uint64_t counter);
  // Site: the counter for its next Hello, the larger of one more than the last and the clock in
  // microseconds; recorded before it is returned.
  Result<uint64_t> NextHelloCounter();

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
  // (Noting a version also forgets what was sent of that channel up to it.)
  std::map<std::string, uint64_t> PeerVersions(const PublicKey& peer);

  // ---- hub: what it last sent each site by stick, not yet known to be served there
  // (docs/bundle.md, "Packed against what was sent"). A version the site is known to serve
  // already is not recorded.
  Status NoteSentVersions(const PublicKey& peer, const std::map<std::string, uint64_t>& versions,
                          std::span<const uint8_t, 16> bundle_id, int64_t written_at);
  std::map<std::string, SentVersion> SentVersions(const PublicKey& peer);
  // Forgets what was sent to `peer` in bundles written up to `written_up_to` (INT64_MAX: all):
  // the site has since seen a later stick, or synced, without taking it.
  Status ForgetSentVersions(const PublicKey& peer, int64_t written_up_to);

  // ---- site: the pinned hub
  Status SetHub(const HubPin& pin);
  std::optional<HubPin> Hub();
  // The newest bundle of its hub this site has imported: kept if `seen` is not newer.
  Status NoteHubBundleSeen(const SeenHubBundle& seen);
  SeenHubBundle HubBundleSeen();

  // ---- site: what its hub last offered, and how its last sync went (the console, `outpost
  // status`: box_status.h)
  // Records the heads of a hub's offer: one per offered channel (a channel the site is up to
  // date with is not offered; its older row stays, at or below the served version). A head
  // replaces the channel's row; bytes are the offered files' sizes.
  Status NoteHubHeads(const std::vector<HubHead>& heads);
  std::vector<HubHead> HubHeads();  // by channel id
  Status NoteSyncRun(const SyncRun& run);  // replaces the last one
  std::optional<SyncRun> LastSyncRun();
  // The console's last job of each slot: one row a slot, replaced by the next.
  Status NoteConsoleJob(const ConsoleJobRecord& job);
  std::vector<ConsoleJobRecord> ConsoleJobs();  // by slot

  // ---- hub: the review of sites' channels (ReviewItem above; review.h fills it)
  // Every channel a site owns here, with its owner.
  std::map<std::string, PublicKey> SiteChannels();
  // The version of `channel_id` whose items were last recorded (0: none yet).
  int64_t ReviewedVersion(const std::string& channel_id);
  // In one transaction, the items of `version` of a site's channel (every listed resource of
  // it, `id`, `version`, `seen_at` and the decision ignored): an item whose path's newest row
  // has the same fingerprint changes nothing; any other is added as pending, and a pending row
  // it replaces becomes superseded, as does a pending row whose path is no longer in `items`.
  // Records `version` as reviewed. A version not above the one recorded changes nothing.
  Status NoteReviewVersion(const std::string& channel_id, int64_t version,
                           const std::vector<ReviewItem>& items);
  // Items, oldest first: pending ones only unless `all`; of one site if `site` is given.
  std::vector<ReviewItem> ReviewItems(bool all, const std::optional<PublicKey>& site = {});
  std::optional<ReviewItem> ReviewItemById(int64_t id);
  // Records a decision on a pending item: kNotFound for an unknown id, kInvalidArgument for an
  // item decided already or superseded (the message says which), or a decline with no reason
  // or a reason over kMaxReviewReason bytes or not UTF-8.
  Status DecideReview(int64_t id, const ReviewDecision& decision);

  // Hub: the decisions on `site`'s items not yet known to have reached it, oldest first, at
  // most kMaxOutcomesPerMessage.
  std::vector<ReviewOutcome> UndeliveredOutcomes(const PublicKey& site);
  // Hub: those decisions reached the site (it ended the sync that carried them with Bye).
  Status NoteOutcomesDelivered(const PublicKey& site, const std::vector<int64_t>& ids);
  // Hub: a complete stick written at `written_at` carried `ids` to `site`; they count as
  // delivered once the site's Seen record names a bundle written at or after it
  // (NoteHubBundleSeenBySite).
  Status NoteOutcomesSent(const PublicKey& site, const std::vector<int64_t>& ids,
                          int64_t written_at);
  Status NoteHubBundleSeenBySite(const PublicKey& site, int64_t written_at);

  // ---- site: what its hub decided on its items (received by sync or stick)
  // Keeps each outcome, once per hub item id (a decision does not change: a copy that comes
  // again, by another stick or sync, changes nothing). kInvalidArgument for a state other than
  // adopted or declined (nothing is kept then).
  Status NoteReviewOutcomes(const std::vector<ReviewOutcome>& outcomes);
  // Newest decision first; of one channel if `channel_id` is not empty. The accessor the
  // teachers' pages use.
  std::vector<ReviewOutcome> ReviewOutcomes(const std::string& channel_id = "");

  // ---- hub: its sites' reports (site_report.h; docs/sync.md, schema 9)
  // Keeps a verified report of an enrolled site, arrived by `via` ("link" or "stick") now: it
  // replaces the site's stored report, and its usage counts replace the site's for the same
  // (day, channel, resource), only if it is newer (reported_at above the stored one's); when and
  // how it arrived is noted either way. True if it replaced. kNotFound for a key no peer has.
  Result<bool> NoteSiteReport(const SiteReport& report, std::string_view via);
  // The site's stored report, as it was kept (usage counts not included); nullopt if none.
  std::optional<StoredSiteReport> SiteReportOf(const PublicKey& site);
  // Every peer, with its stored report if any, by name: one query (the hub's table of 10,000
  // schools; site_list.h adds the hub's own versions).
  std::vector<SiteRow> SiteRows();
  // SQLite's data_version of this connection: it changes when another connection (this
  // process's or another's) commits a change to sync.db, so a reader that keeps one SyncDb open
  // knows when what it read is stale (the hub console's cached table of schools).
  int64_t DataVersion();
  // Views per (day, channel, resource) summed across sites, for days from `first_day` to
  // `last_day` ("YYYY-MM-DD", inclusive), by day then channel then resource.
  std::vector<ReportedUsage> UsageAcrossSites(const std::string& first_day, const std::string& last_day);

  // ---- hub: itself
  // The root key `hub init` made. The hub checks its own trust list against it, so it keeps
  // working once root.key has been moved offline. nullopt: this node is not a hub.
  Status SetOwnRoot(const PublicKey& root);
  std::optional<PublicKey> OwnRoot();
  // The "HOST:PORT" sites should reach this hub's sync listener at, as last given (`hub enrol
  // --address`); "" if never given. kInvalidArgument unless IsValidSyncAddress.
  Status SetOwnAddress(const std::string& address);
  std::string OwnAddress();

  // ---- site: the link policy (link_policy.h, docs/link-policy.md)
  // Stores it; kInvalidArgument (nothing stored) unless ValidateLinkPolicy.
  Status SetLinkPolicy(const LinkPolicy& policy);
  // The stored policy; the default one (no limits, no automatic sync) if none was stored.
  LinkPolicy GetLinkPolicy();
  // Adds `bytes` (on the wire, both directions) to local day `day` ("2026-12-07"). Several
  // processes may add at once: each addition is one statement.
  Status NoteLinkUsage(const std::string& day, uint64_t bytes);
  // The bytes recorded per day, from `first_day` on ("2026-12-01": this month).
  DailyUsage LinkUsageSince(const std::string& first_day);

 private:
  explicit SyncDb(sqlite3* db);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The canonical form of a code a person typed: lower case, without spaces and dashes, grouped
// "abcd-efgh-jkmn-pqrs"; nullopt if it cannot be a code.
std::optional<std::string> NormalizeEnrolCode(std::string_view typed);

// What enrolment over the network derives from a code (docs/sync-protocol.md, "Enrolment"):
// `id` = BLAKE2b-256 keyed with "outpost enrol code id v1" of the 16 bare characters, sent in
// clear so the hub can find the code; `psk` = the same keyed with "outpost enrol code psk v1",
// the Noise XXpsk3 pre-shared key. nullopt if `typed` cannot be a code.
struct EnrolCodeKeys {
  std::array<uint8_t, 32> id{};
  noise::Psk psk{};
};
std::optional<EnrolCodeKeys> DeriveEnrolCodeKeys(std::string_view typed);

}  // namespace outpost
