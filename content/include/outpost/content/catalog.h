// Catalog: what the box holds, in SQLite (DATA/catalog.db, WAL mode).
//
//   channels          one row per channel; `served_version` is what learners see
//   channel_versions  every version of every channel (a new one is served in one transaction,
//                     and the old one stays until then, and after, until gc prunes it), with
//                     the publisher's signed manifest when it has one (sync's; opaque bytes here)
//   nodes             the topic tree of each version: topics and resources with their metadata
//   search            FTS5 index of titles, descriptions and page text, with Outpost's own
//                     tokenizer "outpost" that folds accents, case and Arabic marks (text.h)
//   blobs, chunks     the chunk index: for every blob its FastCDC chunks (hash, offset, length),
//                     and the reverse lookup "which blob holds chunk X, at which offset"
//   import_cache      (source path, size, mtime, inode) -> blob hash, so re-importing an
//                     unchanged file does not read it again
//
// The schema is versioned with PRAGMA user_version and migrated forward on Open(); see
// docs/storage.md. Hashes are stored as 32-byte BLOBs.
//
// Thread-safety: a Catalog is thread-safe (one connection, serialized by an internal mutex).
// Several processes may open the same catalog: SQLite's WAL locking serializes their writes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "outpost/content/blob_store.h"
#include "outpost/content/chunker.h"
#include "outpost/base/hash.h"
#include "outpost/base/status.h"

struct sqlite3;
namespace outpost::db {
class StmtCache;
}

namespace outpost {

enum class NodeKind { kTopic, kVideo, kAudio, kDocument, kImage, kHtml, kApp, kExercise, kOther };
const char* KindName(NodeKind kind);  // "topic", "video", ..., "other"
std::optional<NodeKind> KindFromName(std::string_view name);

struct NodeMeta {
  std::string title, description, language, grade, subject, license, author;
};

// A channel's own label for one of its metadata values in one language, from the root
// outpost.toml's [labels] table (docs/channel-format.md): subject "Géographie locale" is
// "Local geography" in "en". `field` is "grade", "subject" or "license".
struct ValueLabel {
  std::string field, value, language, label;
  auto operator<=>(const ValueLabel&) const = default;
};
inline constexpr const char* kLabelledFields[] = {"grade", "subject", "license"};

struct Node {
  int64_t id = 0;
  int64_t parent_id = 0;  // 0 for a channel's root topic
  std::string channel_id;
  int64_t version = 0;
  std::string path;       // relative to the channel root, '/'-separated; "" for the root
  NodeKind kind = NodeKind::kOther;
  bool listed = true;     // false for assets (style sheets, scripts, hidden files)
  NodeMeta meta;
  int64_t sort_order = 0;
  std::optional<Hash> thumbnail;
  std::optional<Hash> blob;  // resources only
  uint64_t size = 0;
  std::string mime;
};

// A version being built by an importer (or, later, received by sync).
struct DraftNode {
  std::string path;
  NodeKind kind = NodeKind::kTopic;
  bool listed = true;
  NodeMeta meta;
  std::optional<Hash> thumbnail;
  std::optional<Hash> blob;
  uint64_t size = 0;
  std::string mime;
  std::string body_text;            // visible text, for search (HTML pages, exercises)
  std::vector<DraftNode> children;  // in display order
};

struct VersionDraft {
  std::string channel_id;
  NodeMeta meta;  // the channel's title, description, language, license, author
  std::optional<Hash> thumbnail;
  std::string source;  // where it came from, for people ("/media/usb/science")
  DraftNode root;
  // The channel's own labels, ascending by (field, value, language), each triple once.
  std::vector<ValueLabel> labels;
};

struct ChannelInfo {
  std::string id;
  int64_t served_version = 0;  // 0: nothing served yet
  int64_t latest_version = 0;
  NodeMeta meta;
  std::optional<Hash> thumbnail;
  int64_t root_node = 0;  // of the served version
  int64_t files = 0;      // resources in the served version
  int64_t bytes = 0;      // their total size
  Hash tree_hash;         // of the served version
  int64_t served_at = 0;  // unix seconds
  // The served version's manifest hash, if a signed manifest is attached to it (a hub's
  // published version, or one a site received); nullopt for a version only imported here.
  std::optional<Hash> manifest_hash;
};

struct SearchHit {
  int64_t node_id = 0;
  std::string channel_id, path, title, kind, language;
  std::string snippet;  // with the matches between \x02 and \x03
  double rank = 0;      // lower is better (bm25)
};

struct VersionRef {
  std::string channel_id;
  int64_t version = 0;
  auto operator<=>(const VersionRef&) const = default;
};

// Narrows a search; empty fields do not filter.
struct SearchFilters {
  std::string channel_id, language, kind, grade;
};

// The values the filters can take over what is served (for the search page's menus).
struct SearchFacets {
  std::vector<std::string> languages, kinds, grades;
};

struct ChunkLocation {
  Hash blob;
  uint64_t offset = 0;
  uint32_t length = 0;
};

struct CachedFile {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t inode = 0;
  uint64_t device = 0;
  Hash hash;
};

class Catalog {
 public:
  static constexpr int kSchemaVersion = 5;

  static Result<std::unique_ptr<Catalog>> Open(const std::filesystem::path& db_path);
  // Opens an existing catalog for reading only, for checks (verify): it changes nothing and
  // leaves no file behind. In a folder it may write to, the connection is read-write with
  // PRAGMA query_only (so that, as any last connection does, it removes the -wal and -shm files
  // when it closes); in one it may not (a card remounted read-only), it is SQLITE_OPEN_READONLY,
  // read through the write-ahead log if one was left beside it, else opened as immutable
  // (nothing can change it there, and no -shm can be made). No migration: every write call
  // fails. kNotFound if there is no such file; kIoError if SQLite cannot open it. A damaged
  // file still opens: the checks report it.
  static Result<std::unique_ptr<Catalog>> OpenReadOnly(const std::filesystem::path& db_path);
  ~Catalog();

  // Whether this connection may not write (OpenReadOnly, or a read-only file or folder).
  bool read_only();
  // The database file's path (for a second connection: a check that must not hold this one's
  // lock).
  std::filesystem::path path();

  int schema_version();
  // Changes whenever any connection (this process or another, an import, a sync) commits a
  // change to the catalog; cheap: checked at most every 100 ms, so a new version may take up to
  // that long to show. For caches of things derived from the catalog.
  uint64_t Generation();
  // Generation() without waiting: the value if it was checked in the last 100 ms, else nullopt
  // (for event loops, which must not wait for the catalog's lock).
  std::optional<uint64_t> RecentGeneration() const;
  // SQLite's integrity check and the search index's own; the problems found, one per entry.
  // The search index's own check needs a write transaction (it changes nothing): on a
  // read_only() catalog it is skipped, and integrity_check still reads every page of the index.
  std::vector<std::string> CheckIntegrity();
  // SQLite's quick_check (every page read, no index compared with its table: a fraction of
  // integrity_check's time); the problems found, one per entry, empty if none.
  std::vector<std::string> QuickCheck();

  // ---- versions ----
  // The hash of a draft's canonical tree; two imports of the same folder give the same hash.
  static Hash TreeHash(const VersionDraft& draft);
  // In one transaction: stores the draft as the channel's next version and serves it. Returns
  // the new version number, or 0 if the served version already has this exact tree (nothing
  // changes then). With `if_served`, only if the channel still serves that version (0: none,
  // or no such channel): kChanged, changing nothing, if another commit came first, so that an
  // edit of the served version (sync's PublishEdit) never drops another edit made meanwhile.
  Result<int64_t> CommitVersion(const VersionDraft& draft,
                                std::optional<int64_t> if_served = std::nullopt);
  // In one durable transaction, like CommitVersion: stores the draft under the publisher's
  // `version` number with its signed manifest (`envelope`, kept as opaque bytes, and the
  // manifest's hash) and serves it, even if its tree equals the served one's. Versions only
  // grow: kInvalidArgument, naming both numbers, unless `version` is greater than every version
  // of the channel the catalog holds (served or not); nothing changes then. Returns `version`.
  // The caller (sync) has verified the envelope; the catalog does not look inside it.
  // Both this and AttachManifest first keep a copy of the envelope outside the database, in
  // DIR/manifests/CHANNEL/VERSION.opsm (DIR: the catalog's folder; temp file, fsync, rename), so
  // that `outpost repair` can rebuild a lost or damaged catalog from the signed manifests.
  Result<int64_t> CommitVersionAs(const VersionDraft& draft, int64_t version,
                                  std::string_view envelope, const Hash& manifest_hash);
  // Attaches a signed manifest to a stored version (replacing any attached before): how a hub
  // signs what it imported. kNotFound if the channel has no such version.
  Status AttachManifest(const std::string& channel_id, int64_t version, std::string_view envelope,
                        const Hash& manifest_hash);
  // The signed manifest attached to a version; nullopt if there is none or no such version.
  std::optional<std::string> ManifestEnvelope(const std::string& channel_id, int64_t version);
  // The versions PruneVersions(keep) removes: those not served, except the `keep` most recent
  // ones older than the served one, per channel.
  Result<std::vector<VersionRef>> VersionsToPrune(int keep);
  // Removes those versions (nodes, search rows, version rows), durably. Returns how many.
  Result<int> PruneVersions(int keep);
  // The numbers of the channel's complete versions, newest first (empty: no such channel).
  std::vector<int64_t> Versions(const std::string& channel_id);
  // In one durable transaction: removes the channel's `withdrawn` versions (their nodes, search
  // rows and version rows, as PruneVersions does) and serves `serve` instead, a version left,
  // or 0 for none: the channel is then hidden from learners (no page, no search hit) until a
  // version is committed. kInvalidArgument, changing nothing, if `serve` is not a version left.
  // How a node stops serving versions signed by a revoked key (sync's version_signing.h).
  Status WithdrawVersions(const std::string& channel_id, const std::vector<int64_t>& withdrawn,
                          int64_t serve);
  // Rebuilds a stored version (served or not) as the draft it was committed from: the channel's
  // metadata, thumbnail and source, and every node, unlisted ones included, children in display
  // order. body_text is left empty (the search index keeps it, not the tree) unless
  // `with_body_text`: then each listed node gets the text its search row holds, so that a draft
  // edited and committed again (sync's PublishEdit) keeps every page findable without reading
  // the files again; unlisted nodes have no search row and get none. kNotFound if the channel
  // has no such version; kCorrupt if its nodes do not form one tree. Sync uses it to re-encode
  // a version's manifest byte for byte.
  Result<VersionDraft> LoadVersion(const std::string& channel_id, int64_t version,
                                   bool with_body_text = false);

  // ---- reading what is served ----
  std::vector<ChannelInfo> Channels();
  std::optional<ChannelInfo> Channel(const std::string& id);
  std::optional<Node> GetNode(int64_t id);
  // A node of the channel's served version by its relative path.
  std::optional<Node> NodeByPath(const std::string& channel_id, const std::string& path);
  std::vector<Node> Children(int64_t parent_id, bool include_unlisted = false);
  // The channel's own labels of its served version (VersionDraft::labels); empty if none.
  std::vector<ValueLabel> ValueLabels(const std::string& channel_id);
  // One page of a topic's listed children in display order: at most `limit` from the
  // `offset`-th, read from an index (a topic may have thousands). CountChildren: how many.
  std::vector<Node> ChildrenPage(int64_t parent_id, int64_t offset, int64_t limit);
  int64_t CountChildren(int64_t parent_id);
  // Full-text search over served versions; `query` is what a person typed (any case, with or
  // without accents or harakat); the last word matches as a prefix.
  Result<std::vector<SearchHit>> Search(const std::string& query, int limit = 20,
                                        const SearchFilters& filters = {});
  SearchFacets Facets();

  // ---- read errors ----
  // The reads above that answer a plain value (Channels, Channel, GetNode, NodeByPath,
  // Children, ValueLabels, ChildrenPage, CountChildren, Facets) answer "nothing" when SQLite
  // fails (a damaged page); so that a caller can tell "nothing" from "could not read", each
  // failure of a read (those, Search and IsServedBlob) is also kept for the calling thread.
  // TakeReadError() returns the first one kept since it was last called (ok if none), and
  // forgets it. The server takes it after each request: a damaged catalog is an error page and
  // a log line, never an empty list or a 404.
  static Status TakeReadError();
  // Whether a read failed on this thread since TakeReadError was last called (kept, not taken):
  // what was made from such reads must not be cached.
  static bool ReadFailed();

  // ---- chunk index ----
  // Records a blob and its chunks; recording a blob again changes nothing.
  Status RecordBlobs(const std::vector<BlobInfo>& blobs);
  bool HasBlob(const Hash& hash);
  std::vector<Chunk> ChunksOf(const Hash& blob);
  std::optional<ChunkLocation> FindChunk(const Hash& chunk);

  // Whether `hash` is a file or a thumbnail of a version learners see (a channel's served
  // version): what `/blob/HASH` may send. Older versions kept for a fallback, staged versions,
  // and withdrawn ones (whose rows are gone) are not.
  Result<bool> IsServedBlob(const Hash& hash);

  // ---- garbage collection ----
  // Every blob referenced by any version (resources and thumbnails), leaving out the versions
  // in `ignoring` (what gc would prune).
  Result<std::unordered_set<Hash>> ReferencedBlobs(const std::vector<VersionRef>& ignoring = {});
  // Every blob hash that can still be read from a damaged catalog: the union of what the nodes
  // table, its indexes on files and thumbnails, and the versions' thumbnails each give up to
  // the first page they cannot read. Each read error is added to *problems. Hashes of versions
  // gc would prune are included.
  std::unordered_set<Hash> ReadableBlobReferences(std::vector<std::string>* problems);
  // Drops blobs from the chunk index and the import cache, durably (a power cut must not bring
  // back references to files gc is about to delete).
  Status ForgetBlobs(const std::vector<Hash>& blobs);

  // ---- import cache ----
  std::optional<CachedFile> CachedImport(const std::string& source_path);
  Status RememberImports(const std::vector<std::pair<std::string, CachedFile>>& files);

 private:
  explicit Catalog(sqlite3* db);
  Status Migrate();
  // The body of CommitVersion and CommitVersionAs, inside their transaction: the version row,
  // its nodes and search rows, and the switch of served_version.
  Status InsertVersion(const VersionDraft& draft, int64_t version, const Hash& tree,
                       std::optional<std::string_view> envelope,
                       const std::optional<Hash>& manifest_hash);
  // Writes the copy of a version's envelope kept outside the database (CommitVersionAs).
  Status KeepManifestCopy(const std::string& channel_id, int64_t version,
                          std::string_view envelope);
  // Inside CommitVersion's transaction: kChanged unless the channel serves `expected`.
  Status StillServes(const std::string& channel_id, int64_t expected);
  // The search text of the version's listed nodes, by node id (LoadVersion with_body_text).
  Result<std::unordered_map<int64_t, std::string>> BodyTextOf(const std::string& channel_id,
                                                               int64_t version);
  // Removes one version: its search rows, nodes and version row (inside a transaction).
  Status DeleteVersion(const std::string& channel_id, int64_t version);
  Status InsertLabels(const VersionDraft& draft, int64_t version);
  std::vector<ValueLabel> LabelsOf(const std::string& channel_id, int64_t version);
  Status InsertNode(const DraftNode& node, const std::string& channel_id, int64_t version,
                    int64_t parent_id, int64_t sort_order, int64_t* files, int64_t* bytes);

  sqlite3* db_;
  std::filesystem::path manifest_dir_;  // DIR/manifests; empty: keep no copies (in memory)
  std::recursive_mutex mu_;
  std::unique_ptr<db::StmtCache> stmt_cache_;  // read statements, reused; guarded by mu_
  std::atomic<uint64_t> generation_{0};
  std::atomic<int64_t> generation_checked_ms_{0};
  int64_t data_version_ = -1;   // guarded by mu_
  uint64_t own_commits_ = 0;    // guarded by mu_
};

}  // namespace outpost
