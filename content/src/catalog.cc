#include "outpost/content/catalog.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <set>
#include <unordered_map>
#include <utility>
#include <nlohmann/json.hpp>

#include "outpost/base/db.h"
#include "outpost/base/env.h"
#include "outpost/base/text.h"
#include "search_tokenizer.h"

namespace outpost {

namespace {

// Migrations, applied in order; entry i takes the schema from version i to i+1. Never edit a
// migration that has shipped: add a new one.
const char* const kMigrations[] = {
    // 0 -> 1
    R"sql(
CREATE TABLE channels (
  id             TEXT PRIMARY KEY,
  served_version INTEGER,
  created_at     INTEGER NOT NULL
);
CREATE TABLE channel_versions (
  channel_id   TEXT NOT NULL REFERENCES channels(id),
  version      INTEGER NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('staged', 'complete')),
  root_node    INTEGER,
  title        TEXT NOT NULL DEFAULT '',
  description  TEXT NOT NULL DEFAULT '',
  language     TEXT NOT NULL DEFAULT '',
  license      TEXT NOT NULL DEFAULT '',
  author       TEXT NOT NULL DEFAULT '',
  thumbnail    BLOB,
  source       TEXT NOT NULL DEFAULT '',
  tree_hash    BLOB NOT NULL,
  files        INTEGER NOT NULL DEFAULT 0,
  bytes        INTEGER NOT NULL DEFAULT 0,
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (channel_id, version)
);
CREATE TABLE nodes (
  id          INTEGER PRIMARY KEY,
  channel_id  TEXT NOT NULL,
  version     INTEGER NOT NULL,
  parent_id   INTEGER,
  path        TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('topic','video','audio','document','image','html',
                                            'app','exercise','other')),
  listed      INTEGER NOT NULL DEFAULT 1,
  title       TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  language    TEXT NOT NULL DEFAULT '',
  grade       TEXT NOT NULL DEFAULT '',
  subject     TEXT NOT NULL DEFAULT '',
  license     TEXT NOT NULL DEFAULT '',
  author      TEXT NOT NULL DEFAULT '',
  sort_order  INTEGER NOT NULL,
  thumbnail   BLOB,
  blob        BLOB,
  size        INTEGER NOT NULL DEFAULT 0,
  mime        TEXT NOT NULL DEFAULT '',
  FOREIGN KEY (channel_id, version) REFERENCES channel_versions(channel_id, version)
);
CREATE UNIQUE INDEX nodes_by_path ON nodes(channel_id, version, path);
CREATE INDEX nodes_by_parent ON nodes(parent_id, sort_order);
CREATE INDEX nodes_by_blob ON nodes(blob);
CREATE VIRTUAL TABLE search USING fts5(title, description, body, tokenize = 'outpost');
CREATE TABLE blobs (
  hash BLOB PRIMARY KEY,
  size INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE chunks (
  blob   BLOB NOT NULL,
  offset INTEGER NOT NULL,
  length INTEGER NOT NULL,
  hash   BLOB NOT NULL,
  PRIMARY KEY (blob, offset)
) WITHOUT ROWID;
CREATE INDEX chunks_by_hash ON chunks(hash);
CREATE TABLE import_cache (
  path     TEXT PRIMARY KEY,
  size     INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  inode    INTEGER NOT NULL,
  device   INTEGER NOT NULL,
  hash     BLOB NOT NULL
);
)sql",
    // 1 -> 2: the publisher's signed manifest of a version (sync), kept beside it.
    R"sql(
ALTER TABLE channel_versions ADD COLUMN manifest BLOB;
ALTER TABLE channel_versions ADD COLUMN manifest_hash BLOB;
)sql",
    // 2 -> 3: thumbnails found by hash, as files are (IsServedBlob: what /blob/HASH may send).
    R"sql(
CREATE INDEX nodes_by_thumbnail ON nodes(thumbnail) WHERE thumbnail IS NOT NULL;
)sql",
    // 3 -> 4: a channel's own labels for its grade, subject and licence values, per language.
    R"sql(
CREATE TABLE value_labels (
  channel_id TEXT NOT NULL,
  version    INTEGER NOT NULL,
  field      TEXT NOT NULL,
  value      TEXT NOT NULL,
  language   TEXT NOT NULL,
  label      TEXT NOT NULL,
  PRIMARY KEY (channel_id, version, field, value, language),
  FOREIGN KEY (channel_id, version) REFERENCES channel_versions(channel_id, version)
) WITHOUT ROWID;
)sql",
    // 4 -> 5: a topic's listed children a page at a time, and counted, from the index alone
    // (ChildrenPage, CountChildren); a topic may have thousands.
    R"sql(
CREATE INDEX nodes_listed_by_parent ON nodes(parent_id, sort_order) WHERE listed = 1;
)sql",
};
static_assert(std::size(kMigrations) == Catalog::kSchemaVersion);

constexpr const char* kKindNames[] = {"topic", "video", "audio",    "document", "image",
                                      "html",  "app",   "exercise", "other"};

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

// While alive, commits on `db` wait for the disk (synchronous=FULL): for the few writes that
// must survive a power cut once reported (serving a version, forgetting blobs gc deletes).
class DurableWrites {
 public:
  explicit DurableWrites(sqlite3* db) : db_(db) { status_ = db::Exec(db_, "PRAGMA synchronous=FULL"); }
  ~DurableWrites() { (void)db::Exec(db_, "PRAGMA synchronous=NORMAL"); }
  const Status& status() const { return status_; }

 private:
  sqlite3* db_;
  Status status_;
};

nlohmann::json MetaJson(const NodeMeta& m) {
  return {{"title", m.title},     {"description", m.description}, {"language", m.language},
          {"grade", m.grade},     {"subject", m.subject},         {"license", m.license},
          {"author", m.author}};
}

nlohmann::json NodeJson(const DraftNode& n) {
  nlohmann::json j = MetaJson(n.meta);
  j["path"] = n.path;
  j["kind"] = KindName(n.kind);
  j["listed"] = n.listed;
  j["thumbnail"] = n.thumbnail ? n.thumbnail->Hex() : "";
  j["blob"] = n.blob ? n.blob->Hex() : "";
  j["size"] = n.size;
  j["mime"] = n.mime;
  nlohmann::json children = nlohmann::json::array();
  for (const auto& c : n.children) children.push_back(NodeJson(c));
  j["children"] = std::move(children);
  return j;
}

const char* kNodeColumns =
    "id, parent_id, channel_id, version, path, kind, listed, title, description, language, "
    "grade, subject, license, author, sort_order, thumbnail, blob, size, mime";

Node ReadNode(const db::Stmt& s) {
  Node n;
  n.id = s.Int(0);
  n.parent_id = s.IsNull(1) ? 0 : s.Int(1);
  n.channel_id = s.Text(2);
  n.version = s.Int(3);
  n.path = s.Text(4);
  n.kind = KindFromName(s.Text(5)).value_or(NodeKind::kOther);
  n.listed = s.Int(6) != 0;
  n.meta = {s.Text(7), s.Text(8), s.Text(9), s.Text(10), s.Text(11), s.Text(12), s.Text(13)};
  n.sort_order = s.Int(14);
  n.thumbnail = s.HashAt(15);
  n.blob = s.HashAt(16);
  n.size = static_cast<uint64_t>(s.Int(17));
  n.mime = s.Text(18);
  return n;
}

// Moves `n` and, recursively, its children (taken from `children_of`) into a DraftNode;
// counts the nodes it placed in *built.
// `body_text` (may be null) maps node ids to their search text, moved into the nodes.
DraftNode BuildDraftTree(Node n, std::unordered_map<int64_t, std::vector<Node>>* children_of,
                         std::unordered_map<int64_t, std::string>* body_text, size_t* built) {
  ++*built;
  DraftNode d;
  if (body_text) {
    auto text = body_text->find(n.id);
    if (text != body_text->end()) d.body_text = std::move(text->second);
  }
  d.path = std::move(n.path);
  d.kind = n.kind;
  d.listed = n.listed;
  d.meta = std::move(n.meta);
  d.thumbnail = n.thumbnail;
  d.blob = n.blob;
  d.size = n.size;
  d.mime = std::move(n.mime);
  auto it = children_of->find(n.id);
  if (it == children_of->end()) return d;
  std::vector<Node> kids = std::move(it->second);
  children_of->erase(it);
  for (auto& kid : kids) {
    d.children.push_back(BuildDraftTree(std::move(kid), children_of, body_text, built));
  }
  return d;
}

// Turns what a person typed into an FTS5 query: each folded word quoted, all required, the
// last one a prefix ("as you type").
std::string MatchExpression(const std::string& query) {
  std::string expr;
  auto words = SearchWords(query);
  for (size_t i = 0; i < words.size(); ++i) {
    if (!expr.empty()) expr += ' ';
    expr += '"' + words[i] + '"';  // words hold no quotes: IsWordCodePoint excludes them
    if (i + 1 == words.size()) expr += '*';
  }
  return expr;
}

// The first read error of the reads that answer a plain value, per thread, until
// Catalog::TakeReadError() takes it.
thread_local Status t_read_error;

// Keeps `s`'s error (if it failed) as the thread's read error, unless one is kept already.
void NoteReadError(const db::Stmt& s) {
  if (!s.StepStatus().ok() && t_read_error.ok()) t_read_error = s.StepStatus();
}

}  // namespace

Status Catalog::TakeReadError() { return std::exchange(t_read_error, Status::Ok()); }

bool Catalog::ReadFailed() { return !t_read_error.ok(); }

const char* KindName(NodeKind kind) { return kKindNames[static_cast<int>(kind)]; }

std::optional<NodeKind> KindFromName(std::string_view name) {
  for (int i = 0; i < static_cast<int>(std::size(kKindNames)); ++i) {
    if (name == kKindNames[i]) return static_cast<NodeKind>(i);
  }
  return std::nullopt;
}

Result<std::unique_ptr<Catalog>> Catalog::Open(const std::filesystem::path& db_path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(db_path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return IoError("opening catalog " + db_path.string() + ": " + msg);
  }
  std::unique_ptr<Catalog> catalog(new Catalog(db));
  if (db_path != ":memory:") catalog->manifest_dir_ = db_path.parent_path() / "manifests";
  sqlite3_busy_timeout(db, 10000);
  OUTPOST_RETURN_IF_ERROR(RegisterSearchTokenizer(db));
  Status st = db::Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                           "PRAGMA foreign_keys=ON;");
  if (!st.ok()) return st.WithContext("opening catalog " + db_path.string());
  st = catalog->Migrate();
  if (!st.ok()) return st.WithContext("migrating catalog " + db_path.string());
  return catalog;
}

namespace {

// "file:PATH?QUERY" for sqlite3_open_v2 with SQLITE_OPEN_URI; the path's '%', '?' and '#'
// escaped so that they stay part of the name.
std::string FileUri(const std::filesystem::path& path, const std::string& query) {
  std::string uri = "file:";
  for (char c : path.string()) {
    if (c == '%' || c == '?' || c == '#') {
      static const char kHex[] = "0123456789ABCDEF";
      uri += '%';
      uri += kHex[(static_cast<unsigned char>(c) >> 4) & 0xF];
      uri += kHex[c & 0xF];
    } else {
      uri += c;
    }
  }
  return uri + "?" + query;
}

// Whether `rc` says SQLite could not set up a WAL database's -shm: SQLITE_CANTOPEN on a
// read-only mount (EROFS), SQLITE_READONLY (its _CANTINIT, _DIRECTORY, ...) in a folder this
// user may not write (EACCES).
bool CannotMakeShm(int rc) {
  return (rc & 0xFF) == SQLITE_CANTOPEN || (rc & 0xFF) == SQLITE_READONLY;
}

// Opens `uri` to read (read-write with query_only, or read-only) and reads the schema once, so
// that a file whose -shm cannot be made fails here (CannotMakeShm) and not at the first query.
// A damaged schema is not an error here: the checks report it.
int OpenReading(const std::string& uri, bool read_write, sqlite3** db) {
  int flags = (read_write ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_URI |
              SQLITE_OPEN_FULLMUTEX;
  int rc = sqlite3_open_v2(uri.c_str(), db, flags, nullptr);
  if (rc != SQLITE_OK) return rc;
  if (read_write) {
    rc = sqlite3_exec(*db, "PRAGMA query_only=1", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return rc;
  }
  rc = sqlite3_exec(*db, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) rc = sqlite3_extended_errcode(*db);
  return CannotMakeShm(rc) ? rc : SQLITE_OK;
}

bool HasWriteAheadLog(const std::filesystem::path& db_path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(db_path.string() + "-wal", ec);
  return !ec && size > 0;
}

// Whether this process may write the folder of `db_path` and the file itself.
bool MayWrite(const std::filesystem::path& db_path) {
  std::filesystem::path folder = db_path.parent_path().empty() ? "." : db_path.parent_path();
  return ::access(folder.c_str(), W_OK) == 0 && ::access(db_path.c_str(), W_OK) == 0;
}

// The FTS5 index's own check. The command is an INSERT that changes nothing: on a query_only
// connection (OpenReadOnly in a writable folder) writes are allowed for its length.
Status CheckSearchIndex(sqlite3* db) {
  bool query_only = false;
  {
    db::Stmt q(db, "PRAGMA query_only");
    query_only = q.Step() && q.Int(0) != 0;
  }
  if (query_only) (void)db::Exec(db, "PRAGMA query_only=0");
  Status fts = db::Exec(db, "INSERT INTO search(search) VALUES('integrity-check')");
  if (query_only) (void)db::Exec(db, "PRAGMA query_only=1");
  return fts;
}

}  // namespace

Result<std::unique_ptr<Catalog>> Catalog::OpenReadOnly(const std::filesystem::path& db_path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db_path, ec)) {
    return NotFound("no catalog at " + db_path.string());
  }
  sqlite3* db = nullptr;
  bool writable = MayWrite(db_path);
  int rc = OpenReading(FileUri(db_path, writable ? "mode=rw" : "mode=ro"), writable, &db);
  if (!writable && CannotMakeShm(rc) && !HasWriteAheadLog(db_path)) {
    // A read-only folder: no -shm can be made there, and with no log there is nothing in one.
    sqlite3_close(db);
    db = nullptr;
    rc = OpenReading(FileUri(db_path, "mode=ro&immutable=1"), false, &db);
  }
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return IoError("opening catalog " + db_path.string() + " to read: " + msg);
  }
  std::unique_ptr<Catalog> catalog(new Catalog(db));
  sqlite3_busy_timeout(db, 10000);
  OUTPOST_RETURN_IF_ERROR(RegisterSearchTokenizer(db));
  return catalog;
}

std::filesystem::path Catalog::path() {
  std::lock_guard lock(mu_);
  const char* file = sqlite3_db_filename(db_, "main");
  return file ? file : "";
}

bool Catalog::read_only() {
  std::lock_guard lock(mu_);
  return sqlite3_db_readonly(db_, "main") == 1;
}

Catalog::Catalog(sqlite3* db) : db_(db), stmt_cache_(new db::StmtCache) {}

Catalog::~Catalog() {
  stmt_cache_.reset();  // finalize the statements before closing
  sqlite3_close(db_);
}

int Catalog::schema_version() {
  std::lock_guard lock(mu_);
  db::Stmt s(db_, "PRAGMA user_version");
  return s.Step() ? static_cast<int>(s.Int(0)) : -1;
}

namespace {
int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

std::optional<uint64_t> Catalog::RecentGeneration() const {
  // Read in the opposite order of Generation()'s writes: a fresh time implies the value stored
  // before it.
  int64_t checked = generation_checked_ms_.load(std::memory_order_acquire);
  if (SteadyMs() - checked >= 100) return std::nullopt;
  return generation_.load(std::memory_order_acquire);
}

uint64_t Catalog::Generation() {
  int64_t now = SteadyMs();
  if (now - generation_checked_ms_.load(std::memory_order_relaxed) < 100) {
    return generation_.load(std::memory_order_relaxed);
  }
  std::lock_guard lock(mu_);
  // data_version changes when another connection commits; our own commits are counted.
  db::Stmt s(db_, "PRAGMA data_version", stmt_cache_.get());
  int64_t version = s.Step() ? s.Int(0) : -1;
  if (version != data_version_) {
    data_version_ = version;
    ++own_commits_;
  }
  generation_.store(own_commits_, std::memory_order_release);
  generation_checked_ms_.store(now, std::memory_order_release);
  return own_commits_;
}

std::vector<std::string> Catalog::CheckIntegrity() {
  std::lock_guard lock(mu_);
  std::vector<std::string> problems;
  db::Stmt s(db_, "PRAGMA integrity_check");
  while (s.Step()) {
    if (s.Text(0) != "ok") problems.push_back(s.Text(0));
  }
  if (!s.StepStatus().ok()) problems.push_back(s.StepStatus().message());
  if (sqlite3_db_readonly(db_, "main") != 1) {  // else skipped: it needs a write transaction
    Status fts = CheckSearchIndex(db_);
    if (!fts.ok()) problems.push_back("search index: " + fts.message());
  }
  db::Stmt orphans(db_,
                   "SELECT COUNT(*) FROM channels c WHERE c.served_version IS NOT NULL AND NOT "
                   "EXISTS (SELECT 1 FROM channel_versions v WHERE v.channel_id = c.id AND "
                   "v.version = c.served_version AND v.state = 'complete')");
  if (orphans.Step() && orphans.Int(0) > 0) {
    problems.push_back("a channel serves a version that is missing or incomplete");
  }
  return problems;
}

std::vector<std::string> Catalog::QuickCheck() {
  std::lock_guard lock(mu_);
  std::vector<std::string> problems;
  db::Stmt s(db_, "PRAGMA quick_check");
  while (s.Step()) {
    if (s.Text(0) != "ok") problems.push_back(s.Text(0));
  }
  if (!s.StepStatus().ok()) problems.push_back(s.StepStatus().message());
  return problems;
}

Status Catalog::Migrate() { return db::Migrate(db_, kMigrations, "the catalog"); }

Hash Catalog::TreeHash(const VersionDraft& d) {
  nlohmann::json j = MetaJson(d.meta);
  j["channel"] = d.channel_id;
  j["thumbnail"] = d.thumbnail ? d.thumbnail->Hex() : "";
  j["root"] = NodeJson(d.root);
  if (!d.labels.empty()) {  // absent when empty: the trees of versions without labels keep their hash
    nlohmann::json labels = nlohmann::json::array();
    for (const auto& l : d.labels) labels.push_back({l.field, l.value, l.language, l.label});
    j["labels"] = labels;
  }
  return Hash::Of(j.dump());
}

Status Catalog::InsertNode(const DraftNode& n, const std::string& channel_id, int64_t version,
                           int64_t parent_id, int64_t sort_order, int64_t* files,
                           int64_t* bytes) {
  {
    // Prepared once per catalog (a version has thousands of nodes), each done before the
    // children reuse it.
    db::Stmt ins(db_,
                 "INSERT INTO nodes (parent_id, channel_id, version, path, kind, listed, title, "
                 "description, language, grade, subject, license, author, sort_order, thumbnail, "
                 "blob, size, mime) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                 stmt_cache_.get());
    if (!ins.ok()) return Internal(ins.error());
    if (parent_id) ins.Bind(1, parent_id); else ins.BindNull(1);
    ins.Bind(2, channel_id).Bind(3, version).Bind(4, n.path).Bind(5, KindName(n.kind));
    ins.Bind(6, int64_t{n.listed}).Bind(7, n.meta.title).Bind(8, n.meta.description);
    ins.Bind(9, n.meta.language).Bind(10, n.meta.grade).Bind(11, n.meta.subject);
    ins.Bind(12, n.meta.license).Bind(13, n.meta.author).Bind(14, sort_order);
    ins.BindOptional(15, n.thumbnail).BindOptional(16, n.blob);
    ins.Bind(17, static_cast<int64_t>(n.size)).Bind(18, n.mime);
    OUTPOST_RETURN_IF_ERROR(ins.Run());
  }
  int64_t id = sqlite3_last_insert_rowid(db_);
  if (n.kind != NodeKind::kTopic) {
    ++*files;
    *bytes += static_cast<int64_t>(n.size);
  }
  if (n.listed) {
    db::Stmt fts(db_, "INSERT INTO search (rowid, title, description, body) VALUES (?,?,?,?)",
                 stmt_cache_.get());
    fts.Bind(1, id).Bind(2, n.meta.title).Bind(3, n.meta.description).Bind(4, n.body_text);
    OUTPOST_RETURN_IF_ERROR(fts.Run());
  }
  int64_t order = 0;
  for (const auto& child : n.children) {
    OUTPOST_RETURN_IF_ERROR(InsertNode(child, channel_id, version, id, order++, files, bytes));
  }
  return Status::Ok();
}

Status Catalog::InsertLabels(const VersionDraft& d, int64_t version) {
  for (const auto& l : d.labels) {
    db::Stmt ins(db_, "INSERT INTO value_labels (channel_id, version, field, value, language, "
                      "label) VALUES (?, ?, ?, ?, ?, ?)", stmt_cache_.get());
    ins.Bind(1, d.channel_id).Bind(2, version).Bind(3, l.field).Bind(4, l.value);
    OUTPOST_RETURN_IF_ERROR(ins.Bind(5, l.language).Bind(6, l.label).Run());
  }
  return Status::Ok();
}

std::vector<ValueLabel> Catalog::LabelsOf(const std::string& channel_id, int64_t version) {
  db::Stmt s(db_, "SELECT field, value, language, label FROM value_labels WHERE channel_id = ? "
                  "AND version = ? ORDER BY field, value, language", stmt_cache_.get());
  s.Bind(1, channel_id).Bind(2, version);
  std::vector<ValueLabel> out;
  while (s.Step()) out.push_back({s.Text(0), s.Text(1), s.Text(2), s.Text(3)});
  NoteReadError(s);
  return out;
}

Status Catalog::InsertVersion(const VersionDraft& d, int64_t version, const Hash& tree,
                              std::optional<std::string_view> envelope,
                              const std::optional<Hash>& manifest_hash) {
  db::Stmt chan(db_, "INSERT OR IGNORE INTO channels (id, created_at) VALUES (?, ?)");
  OUTPOST_RETURN_IF_ERROR(chan.Bind(1, d.channel_id).Bind(2, Now()).Run());
  db::Stmt ver(db_,
               "INSERT INTO channel_versions (channel_id, version, state, title, description, "
               "language, license, author, thumbnail, source, tree_hash, created_at, manifest, "
               "manifest_hash) VALUES (?, ?, 'complete', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  ver.Bind(1, d.channel_id).Bind(2, version).Bind(3, d.meta.title).Bind(4, d.meta.description);
  ver.Bind(5, d.meta.language).Bind(6, d.meta.license).Bind(7, d.meta.author);
  ver.BindOptional(8, d.thumbnail).Bind(9, d.source).Bind(10, tree).Bind(11, Now());
  if (envelope) ver.BindBlob(12, *envelope); else ver.BindNull(12);
  ver.BindOptional(13, manifest_hash);
  OUTPOST_RETURN_IF_ERROR(ver.Run());

  OUTPOST_RETURN_IF_ERROR(InsertLabels(d, version));
  int64_t files = 0, bytes = 0;
  OUTPOST_RETURN_IF_ERROR(InsertNode(d.root, d.channel_id, version, 0, 0, &files, &bytes));
  int64_t root = 0;
  {
    db::Stmt r(db_, "SELECT id FROM nodes WHERE channel_id = ? AND version = ? AND path = ''");
    r.Bind(1, d.channel_id).Bind(2, version);
    if (r.Step()) root = r.Int(0);
  }
  db::Stmt upd(db_, "UPDATE channel_versions SET root_node = ?, files = ?, bytes = ? "
                    "WHERE channel_id = ? AND version = ?");
  OUTPOST_RETURN_IF_ERROR(
      upd.Bind(1, root).Bind(2, files).Bind(3, bytes).Bind(4, d.channel_id).Bind(5, version).Run());
  db::Stmt serve(db_, "UPDATE channels SET served_version = ? WHERE id = ?");
  return serve.Bind(1, version).Bind(2, d.channel_id).Run();
}

Result<int64_t> Catalog::CommitVersion(const VersionDraft& d, std::optional<int64_t> if_served) {
  std::lock_guard lock(mu_);
  if (!IsValidChannelId(d.channel_id)) {
    return InvalidArgument("invalid channel id \"" + d.channel_id + "\"");
  }
  Hash tree = TreeHash(d);
  // Durability matters here: the served version must survive a power cut once reported.
  DurableWrites durable(db_);
  OUTPOST_RETURN_IF_ERROR(durable.status());

  db::Transaction txn(db_);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  if (if_served) OUTPOST_RETURN_IF_ERROR(StillServes(d.channel_id, *if_served));
  db::Stmt served(db_,
                  "SELECT v.tree_hash FROM channels c JOIN channel_versions v "
                  "ON v.channel_id = c.id AND v.version = c.served_version WHERE c.id = ?");
  served.Bind(1, d.channel_id);
  if (served.Step() && served.HashAt(0) == tree) return int64_t{0};

  db::Stmt next(db_, "SELECT COALESCE(MAX(version), 0) + 1 FROM channel_versions "
                     "WHERE channel_id = ?");
  next.Bind(1, d.channel_id);
  if (!next.Step()) return next.StepStatus();
  int64_t version = next.Int(0);
  OUTPOST_RETURN_IF_ERROR(InsertVersion(d, version, tree, std::nullopt, std::nullopt));
  OUTPOST_RETURN_IF_ERROR(txn.Commit());
  ++own_commits_;
  generation_ = own_commits_;
  generation_checked_ms_ = 0;
  return version;
}

Status Catalog::StillServes(const std::string& channel_id, int64_t expected) {
  db::Stmt s(db_, "SELECT COALESCE(served_version, 0) FROM channels WHERE id = ?");
  s.Bind(1, channel_id);
  int64_t served = s.Step() ? s.Int(0) : 0;
  OUTPOST_RETURN_IF_ERROR(s.StepStatus());
  if (served == expected) return Status::Ok();
  return Status(StatusCode::kChanged,
                "channel " + channel_id + " now serves version " + std::to_string(served) +
                    ", not version " + std::to_string(expected) + " this change was made from");
}

Result<int64_t> Catalog::CommitVersionAs(const VersionDraft& d, int64_t version,
                                         std::string_view envelope, const Hash& manifest_hash) {
  std::lock_guard lock(mu_);
  if (!IsValidChannelId(d.channel_id)) {
    return InvalidArgument("invalid channel id \"" + d.channel_id + "\"");
  }
  const std::string offered = d.channel_id + " version " + std::to_string(version);
  if (version < 1) return InvalidArgument(offered + ": version numbers start at 1");
  OUTPOST_RETURN_IF_ERROR(KeepManifestCopy(d.channel_id, version, envelope));
  Hash tree = TreeHash(d);
  DurableWrites durable(db_);
  OUTPOST_RETURN_IF_ERROR(durable.status());

  db::Transaction txn(db_);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  // Checked inside the transaction: a concurrent commit cannot slip a higher version in between.
  db::Stmt newest(db_, "SELECT MAX(version) FROM channel_versions WHERE channel_id = ?");
  newest.Bind(1, d.channel_id);
  if (!newest.Step()) return newest.StepStatus();
  if (!newest.IsNull(0) && newest.Int(0) >= version) {
    return InvalidArgument("refusing " + offered + ": this catalog already holds version " +
                           std::to_string(newest.Int(0)) +
                           " of the channel, and versions only grow");
  }
  OUTPOST_RETURN_IF_ERROR(InsertVersion(d, version, tree, envelope, manifest_hash));
  OUTPOST_RETURN_IF_ERROR(txn.Commit());
  ++own_commits_;
  generation_ = own_commits_;
  generation_checked_ms_ = 0;
  return version;
}

Status Catalog::AttachManifest(const std::string& channel_id, int64_t version,
                               std::string_view envelope, const Hash& manifest_hash) {
  std::lock_guard lock(mu_);
  if (!IsValidChannelId(channel_id)) return NotFound("no channel \"" + channel_id + "\"");
  OUTPOST_RETURN_IF_ERROR(KeepManifestCopy(channel_id, version, envelope));
  db::Stmt s(db_, "UPDATE channel_versions SET manifest = ?, manifest_hash = ? "
                  "WHERE channel_id = ? AND version = ?");
  s.BindBlob(1, envelope).Bind(2, manifest_hash).Bind(3, channel_id).Bind(4, version);
  OUTPOST_RETURN_IF_ERROR(s.Run());
  if (sqlite3_changes(db_) == 0) {
    return NotFound("the catalog has no channel " + channel_id + " version " +
                    std::to_string(version) + " to attach a manifest to");
  }
  ++own_commits_;
  generation_ = own_commits_;
  generation_checked_ms_ = 0;
  return Status::Ok();
}

Status Catalog::KeepManifestCopy(const std::string& channel_id, int64_t version,
                                 std::string_view envelope) {
  if (manifest_dir_.empty()) return Status::Ok();
  // A copy of a version that then fails to commit is harmless: repair checks its signature
  // and serves it only if its files are all here, as a sync would have.
  std::filesystem::path dir = manifest_dir_ / channel_id;
  OUTPOST_RETURN_IF_ERROR(Env::Default()->CreateDirs(dir));
  return WriteFileAtomically(Env::Default(), dir / (std::to_string(version) + ".opsm"), envelope);
}

std::optional<std::string> Catalog::ManifestEnvelope(const std::string& channel_id,
                                                     int64_t version) {
  std::lock_guard lock(mu_);
  db::Stmt s(db_, "SELECT manifest FROM channel_versions WHERE channel_id = ? AND version = ? "
                  "AND manifest IS NOT NULL");
  s.Bind(1, channel_id).Bind(2, version);
  if (!s.Step()) return std::nullopt;
  return s.Blob(0);
}

Result<std::vector<VersionRef>> Catalog::VersionsToPrune(int keep) {
  std::lock_guard lock(mu_);
  // Not served, and not among the `keep` newest versions below the served one.
  db::Stmt list(db_,
                "SELECT v.channel_id, v.version FROM channel_versions v JOIN channels c "
                "ON c.id = v.channel_id WHERE v.version <> COALESCE(c.served_version, -1) AND "
                "v.state = 'complete' AND (SELECT COUNT(*) FROM channel_versions w "
                "WHERE w.channel_id = v.channel_id AND w.version > v.version "
                "AND w.version < COALESCE(c.served_version, 0)) >= ?");
  list.Bind(1, int64_t{keep});
  std::vector<VersionRef> victims;
  while (list.Step()) victims.push_back({list.Text(0), list.Int(1)});
  OUTPOST_RETURN_IF_ERROR(list.StepStatus());
  return victims;
}

Result<int> Catalog::PruneVersions(int keep) {
  std::lock_guard lock(mu_);
  auto victims = VersionsToPrune(keep);
  if (!victims) return victims.error();
  DurableWrites durable(db_);
  OUTPOST_RETURN_IF_ERROR(durable.status());
  db::Transaction txn(db_);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  for (const auto& v : *victims) OUTPOST_RETURN_IF_ERROR(DeleteVersion(v.channel_id, v.version));
  OUTPOST_RETURN_IF_ERROR(txn.Commit());
  // Their manifest copies after the commit: one left behind by a crash is only a few KB, and
  // repair would not serve it (gc removes the version's files too).
  for (const auto& v : *victims) {
    if (manifest_dir_.empty()) break;
    (void)Env::Default()->Remove(manifest_dir_ / v.channel_id /
                                 (std::to_string(v.version) + ".opsm"));
  }
  return static_cast<int>(victims->size());
}

Status Catalog::DeleteVersion(const std::string& channel_id, int64_t version) {
  for (const char* sql :
       {"DELETE FROM search WHERE rowid IN (SELECT id FROM nodes WHERE channel_id = ? AND "
        "version = ?)",
        "DELETE FROM nodes WHERE channel_id = ? AND version = ?",
        "DELETE FROM value_labels WHERE channel_id = ? AND version = ?",
        "DELETE FROM channel_versions WHERE channel_id = ? AND version = ?"}) {
    db::Stmt del(db_, sql);
    OUTPOST_RETURN_IF_ERROR(del.Bind(1, channel_id).Bind(2, version).Run());
  }
  return Status::Ok();
}

std::vector<int64_t> Catalog::Versions(const std::string& channel_id) {
  std::lock_guard lock(mu_);
  db::Stmt s(db_, "SELECT version FROM channel_versions WHERE channel_id = ? AND "
                  "state = 'complete' ORDER BY version DESC");
  s.Bind(1, channel_id);
  std::vector<int64_t> out;
  while (s.Step()) out.push_back(s.Int(0));
  return out;
}

Status Catalog::WithdrawVersions(const std::string& channel_id,
                                 const std::vector<int64_t>& withdrawn, int64_t serve) {
  std::lock_guard lock(mu_);
  DurableWrites durable(db_);
  OUTPOST_RETURN_IF_ERROR(durable.status());
  db::Transaction txn(db_);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  for (int64_t version : withdrawn) OUTPOST_RETURN_IF_ERROR(DeleteVersion(channel_id, version));
  db::Stmt left(db_, "SELECT 1 FROM channel_versions WHERE channel_id = ? AND version = ? AND "
                     "state = 'complete'");
  left.Bind(1, channel_id).Bind(2, serve);
  if (serve != 0 && !left.Step()) {
    OUTPOST_RETURN_IF_ERROR(left.StepStatus());
    return InvalidArgument("channel " + channel_id + " has no version " + std::to_string(serve) +
                           " left to serve");
  }
  db::Stmt upd(db_, "UPDATE channels SET served_version = ? WHERE id = ?");
  if (serve != 0) upd.Bind(1, serve); else upd.BindNull(1);
  OUTPOST_RETURN_IF_ERROR(upd.Bind(2, channel_id).Run());
  OUTPOST_RETURN_IF_ERROR(txn.Commit());
  ++own_commits_;
  generation_ = own_commits_;
  generation_checked_ms_ = 0;
  return Status::Ok();
}

Result<std::unordered_map<int64_t, std::string>> Catalog::BodyTextOf(
    const std::string& channel_id, int64_t version) {
  // The search rows share their node's id (InsertNode): one lookup by rowid per listed node.
  db::Stmt s(db_, "SELECT n.id, search.body FROM nodes n JOIN search ON search.rowid = n.id "
                  "WHERE n.channel_id = ? AND n.version = ? AND n.listed = 1");
  s.Bind(1, channel_id).Bind(2, version);
  std::unordered_map<int64_t, std::string> out;
  while (s.Step()) {
    std::string body = s.Text(1);
    if (!body.empty()) out.emplace(s.Int(0), std::move(body));
  }
  OUTPOST_RETURN_IF_ERROR(s.StepStatus());
  return out;
}

Result<VersionDraft> Catalog::LoadVersion(const std::string& channel_id, int64_t version,
                                          bool with_body_text) {
  std::lock_guard lock(mu_);
  const std::string what = "channel " + channel_id + " version " + std::to_string(version);
  VersionDraft d;
  db::Stmt v(db_, "SELECT title, description, language, license, author, thumbnail, source "
                  "FROM channel_versions WHERE channel_id = ? AND version = ?");
  v.Bind(1, channel_id).Bind(2, version);
  if (!v.Step()) {
    OUTPOST_RETURN_IF_ERROR(v.StepStatus());
    return NotFound("the catalog has no " + what);
  }
  d.channel_id = channel_id;
  d.meta.title = v.Text(0);
  d.meta.description = v.Text(1);
  d.meta.language = v.Text(2);
  d.meta.license = v.Text(3);
  d.meta.author = v.Text(4);
  d.thumbnail = v.HashAt(5);
  d.source = v.Text(6);
  d.labels = LabelsOf(channel_id, version);

  // Every node of the version, grouped by parent in display order (0: the root's "parent").
  db::Stmt s(db_, std::string("SELECT ") + kNodeColumns +
                      " FROM nodes WHERE channel_id = ? AND version = ? ORDER BY sort_order, id");
  s.Bind(1, channel_id).Bind(2, version);
  std::unordered_map<int64_t, std::vector<Node>> children_of;
  size_t rows = 0;
  while (s.Step()) {
    Node n = ReadNode(s);
    children_of[n.parent_id].push_back(std::move(n));
    ++rows;
  }
  OUTPOST_RETURN_IF_ERROR(s.StepStatus());
  auto roots = children_of.find(0);
  if (roots == children_of.end() || roots->second.size() != 1) {
    return Corrupt(what + " does not have exactly one root node");
  }
  std::optional<std::unordered_map<int64_t, std::string>> body_text;
  if (with_body_text) {
    auto text = BodyTextOf(channel_id, version);
    if (!text) return text.error().WithContext("reading the search text of " + what);
    body_text = std::move(*text);
  }
  size_t built = 0;
  d.root = BuildDraftTree(std::move(roots->second.front()), &children_of,
                          body_text ? &*body_text : nullptr, &built);
  if (built != rows) return Corrupt(what + " has nodes outside its tree");
  return d;
}

std::vector<ChannelInfo> Catalog::Channels() {
  std::lock_guard lock(mu_);
  std::vector<ChannelInfo> out;
  db::Stmt s(db_,
             "SELECT c.id, COALESCE(c.served_version, 0), "
             "(SELECT MAX(version) FROM channel_versions WHERE channel_id = c.id), "
             "v.title, v.description, v.language, v.license, v.author, v.thumbnail, "
             "v.root_node, v.files, v.bytes, v.tree_hash, v.created_at, v.manifest_hash "
             "FROM channels c LEFT JOIN channel_versions v "
             "ON v.channel_id = c.id AND v.version = c.served_version ORDER BY c.id", stmt_cache_.get());
  while (s.Step()) {
    ChannelInfo c;
    c.id = s.Text(0);
    c.served_version = s.Int(1);
    c.latest_version = s.Int(2);
    c.meta.title = s.Text(3);
    c.meta.description = s.Text(4);
    c.meta.language = s.Text(5);
    c.meta.license = s.Text(6);
    c.meta.author = s.Text(7);
    c.thumbnail = s.HashAt(8);
    c.root_node = s.Int(9);
    c.files = s.Int(10);
    c.bytes = s.Int(11);
    c.tree_hash = s.HashAt(12).value_or(Hash{});
    c.served_at = s.Int(13);
    c.manifest_hash = s.HashAt(14);
    out.push_back(std::move(c));
  }
  NoteReadError(s);
  return out;
}

std::optional<ChannelInfo> Catalog::Channel(const std::string& id) {
  for (auto& c : Channels()) {
    if (c.id == id) return c;
  }
  return std::nullopt;
}

std::optional<Node> Catalog::GetNode(int64_t id) {
  std::lock_guard lock(mu_);
  db::Stmt s(db_, std::string("SELECT ") + kNodeColumns + " FROM nodes WHERE id = ?", stmt_cache_.get());
  s.Bind(1, id);
  if (!s.Step()) {
    NoteReadError(s);
    return std::nullopt;
  }
  return ReadNode(s);
}

std::optional<Node> Catalog::NodeByPath(const std::string& channel_id, const std::string& path) {
  std::lock_guard lock(mu_);
  db::Stmt s(db_, std::string("SELECT ") + kNodeColumns +
                      " FROM nodes WHERE channel_id = ?1 AND path = ?2 AND version = "
                      "(SELECT served_version FROM channels WHERE id = ?1)", stmt_cache_.get());
  s.Bind(1, channel_id).Bind(2, path);
  if (!s.Step()) {
    NoteReadError(s);
    return std::nullopt;
  }
  return ReadNode(s);
}

std::vector<ValueLabel> Catalog::ValueLabels(const std::string& channel_id) {
  std::lock_guard lock(mu_);
  db::Stmt s(db_, "SELECT served_version FROM channels WHERE id = ?", stmt_cache_.get());
  s.Bind(1, channel_id);
  if (!s.Step() || s.IsNull(0)) {
    NoteReadError(s);
    return {};
  }
  int64_t served = s.Int(0);
  return LabelsOf(channel_id, served);
}

std::vector<Node> Catalog::Children(int64_t parent_id, bool include_unlisted) {
  std::lock_guard lock(mu_);
  db::Stmt s(db_, std::string("SELECT ") + kNodeColumns +
                      " FROM nodes WHERE parent_id = ? AND (listed = 1 OR ?) ORDER BY sort_order", stmt_cache_.get());
  s.Bind(1, parent_id).Bind(2, int64_t{include_unlisted});
  std::vector<Node> out;
  while (s.Step()) out.push_back(ReadNode(s));
  NoteReadError(s);
  return out;
}

std::vector<Node> Catalog::ChildrenPage(int64_t parent_id, int64_t offset, int64_t limit) {
  std::lock_guard lock(mu_);
  db::Stmt s(db_, std::string("SELECT ") + kNodeColumns +
                      " FROM nodes WHERE parent_id = ? AND listed = 1 ORDER BY sort_order, id"
                      " LIMIT ? OFFSET ?", stmt_cache_.get());
  s.Bind(1, parent_id).Bind(2, std::max<int64_t>(limit, 0)).Bind(3, std::max<int64_t>(offset, 0));
  std::vector<Node> out;
  while (s.Step()) out.push_back(ReadNode(s));
  NoteReadError(s);
  return out;
}

int64_t Catalog::CountChildren(int64_t parent_id) {
  std::lock_guard lock(mu_);
  db::Stmt s(db_, "SELECT count(*) FROM nodes WHERE parent_id = ? AND listed = 1",
             stmt_cache_.get());
  s.Bind(1, parent_id);
  if (s.Step()) return s.Int(0);
  NoteReadError(s);
  return 0;
}

Result<std::vector<SearchHit>> Catalog::Search(const std::string& query, int limit,
                                               const SearchFilters& filters) {
  std::string match = MatchExpression(query);
  std::vector<SearchHit> hits;
  if (match.empty()) return hits;
  std::lock_guard lock(mu_);
  db::Stmt s(db_,
             "SELECT n.id, n.channel_id, n.path, n.title, n.kind, n.language, "
             "snippet(search, -1, char(2), char(3), '…', 12), "
             "bm25(search, 10.0, 4.0, 1.0) AS rank "
             "FROM search JOIN nodes n ON n.id = search.rowid "
             "JOIN channels c ON c.id = n.channel_id AND c.served_version = n.version "
             "WHERE search MATCH ?1 AND (?3 = '' OR n.channel_id = ?3) AND "
             "(?4 = '' OR n.language = ?4 OR n.language LIKE ?4 || '-%') AND "
             "(?5 = '' OR n.kind = ?5) AND (?6 = '' OR n.grade = ?6) ORDER BY rank LIMIT ?2", stmt_cache_.get());
  if (!s.ok()) return Internal(s.error());
  s.Bind(1, match).Bind(2, int64_t{limit}).Bind(3, filters.channel_id).Bind(4, filters.language);
  s.Bind(5, filters.kind).Bind(6, filters.grade);
  while (s.Step()) {
    SearchHit h;
    h.node_id = s.Int(0);
    h.channel_id = s.Text(1);
    h.path = s.Text(2);
    h.title = s.Text(3);
    h.kind = s.Text(4);
    h.language = s.Text(5);
    h.snippet = s.Text(6);
    h.rank = s.Double(7);
    hits.push_back(std::move(h));
  }
  NoteReadError(s);
  OUTPOST_RETURN_IF_ERROR(s.StepStatus());
  return hits;
}

SearchFacets Catalog::Facets() {
  std::lock_guard lock(mu_);
  SearchFacets f;
  auto distinct = [&](const char* column, std::vector<std::string>* out) {
    db::Stmt s(db_, std::string("SELECT DISTINCT n.") + column +
                        " FROM nodes n JOIN channels c ON c.id = n.channel_id AND "
                        "c.served_version = n.version WHERE n.listed = 1 AND n." + column +
                        " <> '' ORDER BY 1");
    while (s.Step()) out->push_back(s.Text(0));
    NoteReadError(s);
  };
  distinct("language", &f.languages);
  distinct("kind", &f.kinds);
  distinct("grade", &f.grades);
  return f;
}

Status Catalog::RecordBlobs(const std::vector<BlobInfo>& blobs) {
  if (blobs.empty()) return Status::Ok();
  std::lock_guard lock(mu_);
  db::Transaction txn(db_);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  db::Stmt blob(db_, "INSERT OR IGNORE INTO blobs (hash, size) VALUES (?, ?)");
  db::Stmt chunk(db_,
                 "INSERT OR IGNORE INTO chunks (blob, offset, length, hash) VALUES (?,?,?,?)");
  for (const auto& b : blobs) {
    OUTPOST_RETURN_IF_ERROR(blob.Bind(1, b.hash).Bind(2, static_cast<int64_t>(b.size)).Run());
    if (sqlite3_changes(db_) == 0) continue;  // already indexed
    for (const auto& c : b.chunks) {
      chunk.Bind(1, b.hash).Bind(2, static_cast<int64_t>(c.offset));
      chunk.Bind(3, int64_t{c.length}).Bind(4, c.hash);
      OUTPOST_RETURN_IF_ERROR(chunk.Run());
    }
  }
  return txn.Commit();
}

bool Catalog::HasBlob(const Hash& hash) {
  std::lock_guard lock(mu_);
  db::Stmt s(db_, "SELECT 1 FROM blobs WHERE hash = ?", stmt_cache_.get());
  s.Bind(1, hash);
  return s.Step();
}

std::vector<Chunk> Catalog::ChunksOf(const Hash& blob) {
  std::lock_guard lock(mu_);
  db::Stmt s(db_, "SELECT offset, length, hash FROM chunks WHERE blob = ? ORDER BY offset");
  s.Bind(1, blob);
  std::vector<Chunk> out;
  while (s.Step()) {
    out.push_back({static_cast<uint64_t>(s.Int(0)), static_cast<uint32_t>(s.Int(1)),
                   s.HashAt(2).value_or(Hash{})});
  }
  return out;
}

std::optional<ChunkLocation> Catalog::FindChunk(const Hash& chunk) {
  std::lock_guard lock(mu_);
  db::Stmt s(db_, "SELECT blob, offset, length FROM chunks WHERE hash = ? LIMIT 1", stmt_cache_.get());
  s.Bind(1, chunk);
  if (!s.Step()) return std::nullopt;
  return ChunkLocation{s.HashAt(0).value_or(Hash{}), static_cast<uint64_t>(s.Int(1)),
                       static_cast<uint32_t>(s.Int(2))};
}

Result<bool> Catalog::IsServedBlob(const Hash& hash) {
  std::lock_guard lock(mu_);
  db::Stmt s(db_,
             "SELECT 1 FROM nodes n JOIN channels c ON c.id = n.channel_id "
             "AND c.served_version = n.version WHERE n.blob = ?1 UNION ALL "
             "SELECT 1 FROM nodes n JOIN channels c ON c.id = n.channel_id "
             "AND c.served_version = n.version WHERE n.thumbnail = ?1 UNION ALL "
             "SELECT 1 FROM channel_versions v JOIN channels c ON c.id = v.channel_id "
             "AND c.served_version = v.version WHERE v.thumbnail = ?1 LIMIT 1");
  s.Bind(1, hash);
  bool found = s.Step();
  NoteReadError(s);
  OUTPOST_RETURN_IF_ERROR(s.StepStatus());
  return found;
}

Result<std::unordered_set<Hash>> Catalog::ReferencedBlobs(
    const std::vector<VersionRef>& ignoring) {
  std::lock_guard lock(mu_);
  std::set<VersionRef> skip(ignoring.begin(), ignoring.end());
  std::unordered_set<Hash> out;
  db::Stmt s(db_,
             "SELECT channel_id, version, blob FROM nodes WHERE blob IS NOT NULL UNION ALL "
             "SELECT channel_id, version, thumbnail FROM nodes WHERE thumbnail IS NOT NULL "
             "UNION ALL SELECT channel_id, version, thumbnail FROM channel_versions "
             "WHERE thumbnail IS NOT NULL");
  VersionRef ref;
  while (s.Step()) {
    if (!skip.empty()) {
      ref.channel_id = s.Text(0);
      ref.version = s.Int(1);
      if (skip.count(ref)) continue;
    }
    if (auto h = s.HashAt(2)) out.insert(*h);
  }
  OUTPOST_RETURN_IF_ERROR(s.StepStatus());
  return out;
}

std::unordered_set<Hash> Catalog::ReadableBlobReferences(std::vector<std::string>* problems) {
  // Each source read on its own, so that a damaged page stops only the reads that cross it:
  // the index scans need no page of the table, and the table scan none of the indexes.
  static constexpr const char* kSources[][2] = {
      {"the nodes table", "SELECT blob, thumbnail FROM nodes NOT INDEXED"},
      {"the index of files", "SELECT blob, NULL FROM nodes INDEXED BY nodes_by_blob "
                             "WHERE blob IS NOT NULL"},
      {"the index of thumbnails", "SELECT NULL, thumbnail FROM nodes INDEXED BY "
                                  "nodes_by_thumbnail WHERE thumbnail IS NOT NULL"},
      {"the versions' thumbnails", "SELECT thumbnail, NULL FROM channel_versions"},
  };
  std::lock_guard lock(mu_);
  std::unordered_set<Hash> out;
  for (const auto& [what, sql] : kSources) {
    db::Stmt s(db_, sql);
    while (s.Step()) {
      for (int col : {0, 1}) {
        if (auto h = s.HashAt(col)) out.insert(*h);
      }
    }
    if (!s.StepStatus().ok()) {
      problems->push_back(std::string("reading the files it uses from ") + what + ": " +
                          s.StepStatus().message());
    }
  }
  return out;
}

Status Catalog::ForgetBlobs(const std::vector<Hash>& blobs) {
  std::lock_guard lock(mu_);
  DurableWrites durable(db_);
  OUTPOST_RETURN_IF_ERROR(durable.status());
  db::Transaction txn(db_);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  db::Stmt del_chunks(db_, "DELETE FROM chunks WHERE blob = ?");
  db::Stmt del_blob(db_, "DELETE FROM blobs WHERE hash = ?");
  db::Stmt del_cache(db_, "DELETE FROM import_cache WHERE hash = ?");
  for (const auto& h : blobs) {
    OUTPOST_RETURN_IF_ERROR(del_chunks.Bind(1, h).Run());
    OUTPOST_RETURN_IF_ERROR(del_blob.Bind(1, h).Run());
    OUTPOST_RETURN_IF_ERROR(del_cache.Bind(1, h).Run());
  }
  return txn.Commit();
}

std::optional<CachedFile> Catalog::CachedImport(const std::string& source_path) {
  std::lock_guard lock(mu_);
  db::Stmt s(db_,
             "SELECT size, mtime_ns, inode, device, hash FROM import_cache WHERE path = ?", stmt_cache_.get());
  s.Bind(1, source_path);
  if (!s.Step()) return std::nullopt;
  auto h = s.HashAt(4);
  if (!h) return std::nullopt;
  return CachedFile{static_cast<uint64_t>(s.Int(0)), s.Int(1), static_cast<uint64_t>(s.Int(2)),
                    static_cast<uint64_t>(s.Int(3)), *h};
}

Status Catalog::RememberImports(const std::vector<std::pair<std::string, CachedFile>>& files) {
  if (files.empty()) return Status::Ok();
  std::lock_guard lock(mu_);
  db::Transaction txn(db_);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  db::Stmt s(db_, "INSERT OR REPLACE INTO import_cache (path, size, mtime_ns, inode, device, "
                  "hash) VALUES (?,?,?,?,?,?)");
  for (const auto& [path, f] : files) {
    s.Bind(1, path).Bind(2, static_cast<int64_t>(f.size)).Bind(3, f.mtime_ns);
    s.Bind(4, static_cast<int64_t>(f.inode)).Bind(5, static_cast<int64_t>(f.device));
    s.Bind(6, f.hash);
    OUTPOST_RETURN_IF_ERROR(s.Run());
  }
  return txn.Commit();
}

}  // namespace outpost
