// SyncDb: what a node remembers for sync beside its catalog, in DATA/sync/sync.db (SQLite, WAL).
//
// The workload is tiny and mostly reads: a hub enrols a few sites a day and touches a peer row
// per session (10,000 sites, a few sessions a month each); a site holds one hub pin. So one
// connection behind a mutex, statements prepared per call, and every write in its own
// transaction. The schema (docs/sync.md) is versioned with PRAGMA user_version like the
// catalog's. The file is created 0600 before SQLite opens it (SQLite gives its -wal and -shm
// files the database's mode): a site's pending enrolment code is a secret.
//
// Enrolment codes are never stored: only BLAKE2b-256("outpost enrol code v1\0" || the 16
// characters), so a copy of sync.db lets nobody enrol.
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <ctime>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>

#include "outpost/base/text.h"
#include "outpost/sync/node.h"

namespace outpost {

namespace {

// Migrations, applied in order; entry i takes the schema from version i to i+1. Never edit a
// migration that has shipped: add a new one.
const char* const kMigrations[] = {
    // 0 -> 1
    R"sql(
CREATE TABLE peers (
  key          BLOB PRIMARY KEY,
  name         TEXT NOT NULL,
  role         TEXT NOT NULL CHECK (role IN ('site', 'hub', 'relay')),
  enrolled_at  INTEGER NOT NULL,
  revoked_at   INTEGER NOT NULL DEFAULT 0,
  last_seen    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX peers_by_name ON peers(name);
CREATE TABLE enrol_codes (
  code_hash     BLOB PRIMARY KEY,
  site_name     TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  used_at       INTEGER NOT NULL DEFAULT 0,
  used_by       BLOB,
  cancelled_at  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE hub (
  id            INTEGER PRIMARY KEY CHECK (id = 1),
  address       TEXT NOT NULL,
  node_key      BLOB NOT NULL,
  root_key      BLOB NOT NULL,
  pending_code  TEXT NOT NULL,
  site_name     TEXT NOT NULL
);
CREATE TABLE self (
  name   TEXT PRIMARY KEY,
  value  BLOB NOT NULL
) WITHOUT ROWID;
)sql",
    // 1 -> 2: channels that sites publish and the hub serves (the upward path).
    R"sql(
CREATE TABLE peer_channels (
  channel_id  TEXT PRIMARY KEY,
  peer_key    BLOB NOT NULL,
  claimed_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX peer_channels_by_peer ON peer_channels(peer_key);
)sql",
    // 2 -> 3: what each peer is known to serve (from its syncs, and later its receipts), so that
    // a USB bundle carries only what it lacks.
    R"sql(
CREATE TABLE peer_versions (
  peer_key    BLOB NOT NULL,
  channel_id  TEXT NOT NULL,
  version     INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (peer_key, channel_id)
) WITHOUT ROWID;
)sql",
};
static_assert(std::size(kMigrations) == SyncDb::kSchemaVersion);

constexpr std::string_view kCodeAlphabet = "abcdefghjkmnpqrstuvwxyz23456789";  // no i l o 0 1
constexpr size_t kCodeChars = 16;
constexpr std::string_view kCodeDomain{"outpost enrol code v1\0", 22};

Status SqlError(sqlite3* db, const std::string& what) {
  int code = sqlite3_extended_errcode(db) & 0xff;
  StatusCode sc = code == SQLITE_FULL                               ? StatusCode::kNoSpace
                  : code == SQLITE_BUSY                             ? StatusCode::kBusy
                  : code == SQLITE_CORRUPT || code == SQLITE_NOTADB ? StatusCode::kCorrupt
                                                                    : StatusCode::kIoError;
  return Status(sc, "sync.db: " + what + ": " + sqlite3_errmsg(db));
}

// A prepared statement, finalized when it goes out of scope; binds are 1-based like SQLite's.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      status_ = SqlError(db, "preparing a statement");
      stmt_ = nullptr;
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& Bind(int i, std::string_view text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int i, std::span<const uint8_t> bytes) {
    sqlite3_bind_blob(stmt_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int i, const PublicKey& key) {
    return Bind(i, std::span<const uint8_t>(key.bytes));
  }
  Statement& Bind(int i, const Hash& hash) { return Bind(i, std::span<const uint8_t>(hash.bytes)); }

  // True if a row is ready; false when done or failed (status() tells which).
  bool Step() {
    if (stmt_ == nullptr) return false;
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) status_ = SqlError(db_, "reading or writing");
    return false;
  }
  Status Run() {
    while (Step()) {
    }
    return status_;
  }
  const Status& status() const { return status_; }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : "";
  }
  // A 32-byte key column; nullopt if the value has another size.
  std::optional<PublicKey> Key(int col) const {
    if (sqlite3_column_bytes(stmt_, col) != static_cast<int>(PublicKey::kSize)) return std::nullopt;
    PublicKey key;
    __builtin_memcpy(key.bytes.data(), sqlite3_column_blob(stmt_, col), PublicKey::kSize);
    return key;
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  Status status_;
};

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) == SQLITE_OK) return Status::Ok();
  std::string msg = err ? err : "unknown error";
  sqlite3_free(err);
  Status st = SqlError(db, "running SQL");
  return Status(st.code(), "sync.db: " + msg);
}

// BEGIN IMMEDIATE; rolled back unless committed.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  ~Transaction() {
    if (active_) (void)Exec(db_, "ROLLBACK");
  }
  Status Begin() {
    Status st = Exec(db_, "BEGIN IMMEDIATE");
    active_ = st.ok();
    return st;
  }
  Status Commit() {
    Status st = Exec(db_, "COMMIT");
    if (st.ok()) active_ = false;
    return st;
  }

 private:
  sqlite3* db_;
  bool active_ = false;
};

// What is stored of a code: the hash of its 16 characters, without the dashes.
Hash CodeHash(const std::string& normalized) {
  std::string message(kCodeDomain);
  for (char c : normalized) {
    if (c != '-') message += c;
  }
  return Hash::Of(message);
}


PeerInfo ReadPeer(const Statement& s) {
  PeerInfo p;
  p.key = s.Key(0).value_or(PublicKey{});
  p.name = s.Text(1);
  p.role = s.Text(2);
  p.enrolled_at = s.Int(3);
  p.revoked_at = s.Int(4);
  p.last_seen = s.Int(5);
  return p;
}

constexpr const char* kPeerColumns =
    "SELECT key, name, role, enrolled_at, revoked_at, last_seen FROM peers ";

}  // namespace

std::optional<std::string> NormalizeEnrolCode(std::string_view typed) {
  std::string bare;
  for (char c : typed) {
    if (c == '-' || c == ' ' || c == '\t') continue;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (kCodeAlphabet.find(c) == std::string_view::npos) return std::nullopt;
    bare += c;
  }
  if (bare.size() != kCodeChars) return std::nullopt;
  std::string grouped;
  for (size_t i = 0; i < bare.size(); i += 4) {
    if (!grouped.empty()) grouped += '-';
    grouped += bare.substr(i, 4);
  }
  return grouped;
}

struct SyncDb::Impl {
  sqlite3* db = nullptr;
  std::mutex mu;
  std::function<int64_t()> clock;

  int64_t Now() const { return clock ? clock() : static_cast<int64_t>(std::time(nullptr)); }
  Status Migrate();
  int SchemaVersion();
  // Checks `code` inside an open transaction; the code's row's site name, or why it is refused.
  Result<std::string> CheckCode(const std::string& code, Hash* hash);
  Status UseCode(const Hash& hash, const PublicKey* by);
};

int SyncDb::Impl::SchemaVersion() {
  Statement s(db, "PRAGMA user_version");
  return s.Step() ? static_cast<int>(s.Int(0)) : -1;
}

Status SyncDb::Impl::Migrate() {
  int current = SchemaVersion();
  if (current > kSchemaVersion) {
    return Corrupt("sync.db has schema version " + std::to_string(current) +
                   ", newer than this outpost understands (" + std::to_string(kSchemaVersion) +
                   "); upgrade outpost");
  }
  for (int v = current; v < kSchemaVersion; ++v) {
    Transaction txn(db);
    OUTPOST_RETURN_IF_ERROR(txn.Begin());
    OUTPOST_RETURN_IF_ERROR(Exec(db, kMigrations[v]));
    OUTPOST_RETURN_IF_ERROR(Exec(db, ("PRAGMA user_version=" + std::to_string(v + 1)).c_str()));
    OUTPOST_RETURN_IF_ERROR(txn.Commit());
  }
  return Status::Ok();
}

Result<std::string> SyncDb::Impl::CheckCode(const std::string& code, Hash* hash) {
  auto normalized = NormalizeEnrolCode(code);
  if (!normalized) {
    return InvalidArgument(
        "that is not an enrolment code: a code is 16 letters and digits, "
        "like abcd-efgh-jkmn-pqrs");
  }
  *hash = CodeHash(*normalized);
  Statement s(db,
              "SELECT site_name, expires_at, used_at, cancelled_at FROM enrol_codes "
              "WHERE code_hash = ?");
  s.Bind(1, *hash);
  if (!s.Step()) {
    OUTPOST_RETURN_IF_ERROR(s.status());
    return NotFound("unknown enrolment code: mistyped, or made by another hub");
  }
  const std::string name = s.Text(0);
  if (s.Int(3) != 0) {
    return NotFound("the enrolment code for " + name + " was cancelled when " + name +
                    " was revoked");
  }
  if (s.Int(2) != 0) {
    return NotFound("the enrolment code for " + name + " was already used on " + UtcMinute(s.Int(2)) +
                    "; a code works once: make a new one with outpost hub enrol");
  }
  if (Now() >= s.Int(1)) {
    return NotFound("the enrolment code for " + name + " expired on " + UtcMinute(s.Int(1)) +
                    "; make a new one with outpost hub enrol");
  }
  return name;
}

Status SyncDb::Impl::UseCode(const Hash& hash, const PublicKey* by) {
  Statement s(db, "UPDATE enrol_codes SET used_at = ?, used_by = ? WHERE code_hash = ?");
  s.Bind(1, Now()).Bind(3, hash);
  if (by) s.Bind(2, *by);
  return s.Run();
}

SyncDb::SyncDb(sqlite3* db) : impl_(new Impl) { impl_->db = db; }

SyncDb::~SyncDb() { sqlite3_close(impl_->db); }

Result<std::unique_ptr<SyncDb>> SyncDb::Open(const std::filesystem::path& path) {
  const std::string name = path.string();
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return ErrnoStatus("creating folder " + path.parent_path().string(), ec.value());
  }
  // Created private before SQLite sees it; an existing file keeps its mode.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return ErrnoStatus("opening " + name, errno);
  ::close(fd);
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return IoError("opening " + name + ": " + msg);
  }
  std::unique_ptr<SyncDb> sync(new SyncDb(db));
  sqlite3_busy_timeout(db, 10000);
  Status st = Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  if (st.ok()) st = sync->impl_->Migrate();
  if (!st.ok()) return st.WithContext("opening " + name);
  return sync;
}

int SyncDb::schema_version() {
  std::lock_guard lock(impl_->mu);
  return impl_->SchemaVersion();
}

void SyncDb::set_clock(std::function<int64_t()> now) { impl_->clock = std::move(now); }

int64_t SyncDb::Now() const { return impl_->Now(); }

// ---- enrolment codes ----

Result<std::string> SyncDb::NewEnrolCode(const std::string& site_name, int64_t ttl_seconds) {
  if (!IsValidSiteName(site_name)) {
    return InvalidArgument("site name \"" + EscapeInvalidUtf8(site_name) +
                           "\" must be 1 to 64 characters of a-z, 0-9 and '-', not starting "
                           "with '-'");
  }
  if (ttl_seconds <= 0) return InvalidArgument("an enrolment code must be valid for some time");
  if (!InitCrypto()) return Internal("libsodium could not initialise");
  std::string bare(kCodeChars, ' ');
  for (char& c : bare) c = kCodeAlphabet[randombytes_uniform(kCodeAlphabet.size())];
  std::string code = *NormalizeEnrolCode(bare);
  std::lock_guard lock(impl_->mu);
  int64_t now = impl_->Now();
  Statement s(impl_->db,
              "INSERT INTO enrol_codes (code_hash, site_name, created_at, expires_at) "
              "VALUES (?, ?, ?, ?)");
  s.Bind(1, CodeHash(code)).Bind(2, site_name).Bind(3, now).Bind(4, now + ttl_seconds);
  OUTPOST_RETURN_IF_ERROR(s.Run());
  return code;
}

Result<std::string> SyncDb::RedeemEnrolCode(const std::string& code) {
  std::lock_guard lock(impl_->mu);
  Transaction txn(impl_->db);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  Hash hash;
  auto name = impl_->CheckCode(code, &hash);
  if (!name) return name;
  OUTPOST_RETURN_IF_ERROR(impl_->UseCode(hash, nullptr));
  OUTPOST_RETURN_IF_ERROR(txn.Commit());
  return name;
}

Result<PeerInfo> SyncDb::AdmitSite(const std::string& code, const PublicKey& site_key) {
  std::lock_guard lock(impl_->mu);
  Transaction txn(impl_->db);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  // The same site presenting its code again (by a USB bundle, then at its first sync): it is in.
  if (auto normalized = NormalizeEnrolCode(code)) {
    Statement used(impl_->db,
                   "SELECT used_by FROM enrol_codes WHERE code_hash = ? AND used_at != 0 AND "
                   "cancelled_at = 0");
    used.Bind(1, CodeHash(*normalized));
    if (used.Step() && used.Key(0) == site_key) {
      Statement read(impl_->db, (std::string(kPeerColumns) + "WHERE key = ?").c_str());
      read.Bind(1, site_key);
      if (read.Step()) {
        PeerInfo peer = ReadPeer(read);
        if (peer.revoked_at != 0) return InvalidArgument("site key " + site_key.Fingerprint() + "… was revoked");
        return peer;
      }
    }
  }
  Hash hash;
  auto name = impl_->CheckCode(code, &hash);
  if (!name) return name.error();
  Statement known(impl_->db, "SELECT revoked_at FROM peers WHERE key = ?");
  known.Bind(1, site_key);
  if (known.Step() && known.Int(0) != 0) {
    return InvalidArgument("site key " + site_key.Fingerprint() + "… was revoked on " +
                           UtcMinute(known.Int(0)) + "; a revoked site cannot enrol again with it");
  }
  OUTPOST_RETURN_IF_ERROR(known.status());
  OUTPOST_RETURN_IF_ERROR(impl_->UseCode(hash, &site_key));
  int64_t now = impl_->Now();
  Statement add(impl_->db,
                "INSERT INTO peers (key, name, role, enrolled_at) VALUES (?, ?, 'site', ?) "
                "ON CONFLICT (key) DO UPDATE SET name = excluded.name");
  OUTPOST_RETURN_IF_ERROR(add.Bind(1, site_key).Bind(2, *name).Bind(3, now).Run());
  Statement read(impl_->db, (std::string(kPeerColumns) + "WHERE key = ?").c_str());
  read.Bind(1, site_key);
  if (!read.Step()) return read.status().ok() ? Internal("sync.db lost a peer") : read.status();
  PeerInfo peer = ReadPeer(read);
  OUTPOST_RETURN_IF_ERROR(txn.Commit());
  return peer;
}

std::vector<PendingEnrolment> SyncDb::PendingEnrolments() {
  std::lock_guard lock(impl_->mu);
  Statement s(impl_->db,
              "SELECT site_name, created_at, expires_at FROM enrol_codes WHERE used_at = 0 AND "
              "cancelled_at = 0 AND expires_at > ? ORDER BY created_at, site_name");
  s.Bind(1, impl_->Now());
  std::vector<PendingEnrolment> out;
  while (s.Step()) out.push_back({s.Text(0), s.Int(1), s.Int(2)});
  return out;
}

// ---- peers ----

Status SyncDb::AddPeer(const PeerInfo& peer) {
  if (!IsValidSiteName(peer.name)) {
    return InvalidArgument("peer name \"" + EscapeInvalidUtf8(peer.name) + "\" is not valid");
  }
  if (peer.role != "site" && peer.role != "hub" && peer.role != "relay") {
    return InvalidArgument("a peer's role is \"site\", \"hub\" or \"relay\", not \"" +
                           EscapeInvalidUtf8(peer.role) + "\"");
  }
  std::lock_guard lock(impl_->mu);
  Statement s(impl_->db,
              "INSERT INTO peers (key, name, role, enrolled_at, last_seen) VALUES (?, ?, ?, ?, ?) "
              "ON CONFLICT (key) DO UPDATE SET name = excluded.name");
  s.Bind(1, peer.key).Bind(2, peer.name).Bind(3, peer.role);
  s.Bind(4, peer.enrolled_at ? peer.enrolled_at : impl_->Now()).Bind(5, peer.last_seen);
  return s.Run();
}

std::optional<PeerInfo> SyncDb::Peer(const PublicKey& key) {
  std::lock_guard lock(impl_->mu);
  Statement s(impl_->db, (std::string(kPeerColumns) + "WHERE key = ?").c_str());
  s.Bind(1, key);
  if (!s.Step()) return std::nullopt;
  return ReadPeer(s);
}

std::vector<PeerInfo> SyncDb::Peers() {
  std::lock_guard lock(impl_->mu);
  Statement s(impl_->db, (std::string(kPeerColumns) + "ORDER BY name, key").c_str());
  std::vector<PeerInfo> out;
  while (s.Step()) out.push_back(ReadPeer(s));
  return out;
}

Status SyncDb::RevokePeer(const std::string& name_or_key) {
  std::lock_guard lock(impl_->mu);
  Transaction txn(impl_->db);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  int64_t now = impl_->Now();
  int found = 0;
  if (auto key = PublicKey::FromHex(name_or_key)) {
    Statement count(impl_->db, "SELECT COUNT(*) FROM peers WHERE key = ?");
    count.Bind(1, *key);
    if (count.Step()) found = static_cast<int>(count.Int(0));
    Statement s(impl_->db, "UPDATE peers SET revoked_at = ? WHERE key = ? AND revoked_at = 0");
    OUTPOST_RETURN_IF_ERROR(s.Bind(1, now).Bind(2, *key).Run());
  }
  if (found == 0) {
    Statement count(impl_->db, "SELECT COUNT(*) FROM peers WHERE name = ?");
    count.Bind(1, name_or_key);
    if (count.Step()) found = static_cast<int>(count.Int(0));
    Statement s(impl_->db, "UPDATE peers SET revoked_at = ? WHERE name = ? AND revoked_at = 0");
    OUTPOST_RETURN_IF_ERROR(s.Bind(1, now).Bind(2, name_or_key).Run());
    Statement codes(impl_->db,
                    "UPDATE enrol_codes SET cancelled_at = ?1 WHERE site_name = ?2 AND "
                    "used_at = 0 AND cancelled_at = 0 AND expires_at > ?1");
    OUTPOST_RETURN_IF_ERROR(codes.Bind(1, now).Bind(2, name_or_key).Run());
    found += sqlite3_changes(impl_->db);
  }
  if (found == 0) {
    return NotFound("no site or pending enrolment is named or has the key \"" +
                    EscapeInvalidUtf8(name_or_key) + "\"");
  }
  return txn.Commit();
}

Status SyncDb::ClaimChannel(const std::string& channel_id, const PublicKey& peer) {
  std::lock_guard lock(impl_->mu);
  Statement s(impl_->db,
              "INSERT INTO peer_channels (channel_id, peer_key, claimed_at) VALUES (?, ?, ?) "
              "ON CONFLICT (channel_id) DO NOTHING");
  OUTPOST_RETURN_IF_ERROR(s.Bind(1, channel_id).Bind(2, peer).Bind(3, impl_->Now()).Run());
  Statement owner(impl_->db,
                  "SELECT c.peer_key, p.name FROM peer_channels c LEFT JOIN peers p "
                  "ON p.key = c.peer_key WHERE c.channel_id = ?");
  owner.Bind(1, channel_id);
  if (!owner.Step()) return owner.status().ok() ? Internal("a claimed channel vanished") : owner.status();
  if (owner.Key(0) != peer) {
    return InvalidArgument("channel " + channel_id + " belongs to another site (\"" +
                           owner.Text(1) + "\")");
  }
  return Status::Ok();
}

Status SyncDb::NotePeerVersion(const PublicKey& peer, const std::string& channel_id,
                               uint64_t version) {
  std::lock_guard lock(impl_->mu);
  Statement s(impl_->db,
              "INSERT INTO peer_versions (peer_key, channel_id, version, updated_at) "
              "VALUES (?, ?, ?, ?) ON CONFLICT (peer_key, channel_id) DO UPDATE SET "
              "version = max(version, excluded.version), updated_at = excluded.updated_at");
  return s.Bind(1, peer).Bind(2, channel_id).Bind(3, static_cast<int64_t>(version)).Bind(4, impl_->Now()).Run();
}

std::map<std::string, uint64_t> SyncDb::PeerVersions(const PublicKey& peer) {
  std::lock_guard lock(impl_->mu);
  Statement s(impl_->db, "SELECT channel_id, version FROM peer_versions WHERE peer_key = ?");
  s.Bind(1, peer);
  std::map<std::string, uint64_t> out;
  while (s.Step()) out[s.Text(0)] = static_cast<uint64_t>(s.Int(1));
  return out;
}

std::optional<PublicKey> SyncDb::ChannelOwner(const std::string& channel_id) {
  std::lock_guard lock(impl_->mu);
  Statement s(impl_->db, "SELECT peer_key FROM peer_channels WHERE channel_id = ?");
  s.Bind(1, channel_id);
  if (!s.Step()) return std::nullopt;
  return s.Key(0);
}

std::vector<std::string> SyncDb::ChannelsOf(const PublicKey& peer) {
  std::lock_guard lock(impl_->mu);
  Statement s(impl_->db, "SELECT channel_id FROM peer_channels WHERE peer_key = ? ORDER BY channel_id");
  s.Bind(1, peer);
  std::vector<std::string> out;
  while (s.Step()) out.push_back(s.Text(0));
  return out;
}

Status SyncDb::TouchPeer(const PublicKey& key) {
  std::lock_guard lock(impl_->mu);
  Statement s(impl_->db, "UPDATE peers SET last_seen = ? WHERE key = ?");
  OUTPOST_RETURN_IF_ERROR(s.Bind(1, impl_->Now()).Bind(2, key).Run());
  if (sqlite3_changes(impl_->db) == 0)
    return NotFound("no peer has key " + key.Fingerprint() + "…");
  return Status::Ok();
}

// ---- the pinned hub (a site) ----

Status SyncDb::SetHub(const HubPin& pin) {
  if (!pin.address.empty() && !IsValidSyncAddress(pin.address)) {
    return InvalidArgument("\"" + EscapeInvalidUtf8(pin.address) + "\" is not HOST:PORT");
  }
  std::lock_guard lock(impl_->mu);
  Statement s(impl_->db,
              "INSERT OR REPLACE INTO hub (id, address, node_key, root_key, pending_code, "
              "site_name) VALUES (1, ?, ?, ?, ?, ?)");
  s.Bind(1, pin.address).Bind(2, pin.node_key).Bind(3, pin.root_key);
  s.Bind(4, pin.pending_code).Bind(5, pin.site_name);
  return s.Run();
}

std::optional<HubPin> SyncDb::Hub() {
  std::lock_guard lock(impl_->mu);
  Statement s(impl_->db, "SELECT address, node_key, root_key, pending_code, site_name FROM hub");
  if (!s.Step()) return std::nullopt;
  HubPin pin;
  pin.address = s.Text(0);
  pin.node_key = s.Key(1).value_or(PublicKey{});
  pin.root_key = s.Key(2).value_or(PublicKey{});
  pin.pending_code = s.Text(3);
  pin.site_name = s.Text(4);
  return pin;
}

// ---- the hub itself ----

Status SyncDb::SetOwnRoot(const PublicKey& root) {
  std::lock_guard lock(impl_->mu);
  Statement s(impl_->db, "INSERT OR REPLACE INTO self (name, value) VALUES ('root_key', ?)");
  return s.Bind(1, root).Run();
}

std::optional<PublicKey> SyncDb::OwnRoot() {
  std::lock_guard lock(impl_->mu);
  Statement s(impl_->db, "SELECT value FROM self WHERE name = 'root_key'");
  if (!s.Step()) return std::nullopt;
  return s.Key(0);
}

Status SyncDb::SetOwnAddress(const std::string& address) {
  if (!IsValidSyncAddress(address)) {
    return InvalidArgument("\"" + EscapeInvalidUtf8(address) +
                           "\" is not HOST:PORT (a port from 1 to 65535)");
  }
  std::lock_guard lock(impl_->mu);
  Statement s(impl_->db, "INSERT OR REPLACE INTO self (name, value) VALUES ('address', ?)");
  return s.Bind(1, std::string_view(address)).Run();
}

std::string SyncDb::OwnAddress() {
  std::lock_guard lock(impl_->mu);
  Statement s(impl_->db, "SELECT value FROM self WHERE name = 'address'");
  return s.Step() ? s.Text(0) : "";
}

}  // namespace outpost
